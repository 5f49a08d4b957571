/* test_harness -- the shared driver plumbing (src/harness): a checkpoint another tool quantized is recognised
 * and evaluated as it is, under one recipe named after its folder, with the same logits as the in-memory
 * recipe that produced it; an unquantized checkpoint takes the recipe table; the common flags parse. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "quant/ckpt_write.h"
#include "quant/quantize.h"
#include "test.h"

#define FIXDIR "tests/fixtures/qwen3/dense-bf16"

static double max_diff(const float *a, const float *b, int64_t n) {
    double d = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        if (e > d) d = e;
    }
    return d;
}

int main(void) {
    check_set_progname("test_harness");
    char tmp[] = "/tmp/test_harness.XXXXXX";
    CHECK(mkdtemp(tmp), "mkdtemp");
    char out[256];
    snprintf(out, sizeof out, "%s/ct-nvfp4", tmp);

    // The in-memory recipe, and the same model written as compressed-tensors.
    const struct recipe *r = recipe_by_name("nvfp4-w4a16");
    struct qwen3_model *m = qwen3_load(FIXDIR);
    quant_apply(m, r, NULL, NULL);
    ckpt_write(m, r, CKPT_WRITE_CT, out);
    const int32_t ids[6] = {1, 5, 9, 2, 7, 3};
    const int64_t V = m->cfg.V;
    float *a = xmalloc((size_t)(6 * V) * sizeof(float)), *b = xmalloc((size_t)(6 * V) * sizeof(float));
    struct engine *e = engine_create(m, "cpu");
    engine_forward(e, ids, 6, a, NULL);
    engine_free(e);
    qwen3_free(m);

    struct harness_opts o;
    harness_defaults(&o);
    struct harness h;
    o.model = FIXDIR;
    harness_init(&h, "test-harness", &o);
    TEST(!h.is_checkpoint, "an unquantized checkpoint takes the recipe table");
    harness_free(&h, 0);

    o.model = out;
    harness_init(&h, "test-harness", &o);
    TEST(h.is_checkpoint && !strcmp(h.ckpt_recipe.name, "ct-nvfp4") && h.ckpt_recipe.algo == RECIPE_ALGO_CHECKPOINT &&
             h.ckpt_recipe.family == RECIPE_FAMILY_FP4,
         "a compressed-tensors checkpoint is one recipe named after its folder (%s), family FP4", h.ckpt_recipe.name);
    struct qwen3_model *mq;
    struct quant_stats st;
    e = harness_open_recipe(&h, &h.ckpt_recipe, &mq, &st);
    engine_forward(e, ids, 6, b, NULL);
    double d = max_diff(a, b, 6 * V);
    TEST(d == 0, "the checkpoint as loaded gives the in-memory recipe's logits bit for bit (max |d| %.2e)", d);
    TEST(st.n_linears > 0 && st.bits_per_weight > 4.4 && st.bits_per_weight < 4.6,
         "checkpoint recipe: %lld Linears counted, %.3f bits per weight (NVFP4: 4.5)", (long long)st.n_linears,
         st.bits_per_weight);
    harness_close_recipe(e, mq);
    harness_free(&h, 0);

    // GPTQ with its chosen scales: written as compressed-tensors, read back, the same logits (the packed
    // checkpoint keeps what the algorithm chose; ql eval on it then gives the in-memory perplexity).
    {
        const struct recipe *g = recipe_by_name("gptq");
        struct qwen3_model *mg = qwen3_load(FIXDIR);
        int32_t cids[4 * 32];
        for (int i = 0; i < 4 * 32; i++) cids[i] = (int32_t)((i * 37 + 11) % mg->cfg.V);
        struct quant_calib qc = {NULL, cids, 4, 32};
        quant_apply(mg, g, &qc, NULL);
        char gout[256];
        snprintf(gout, sizeof gout, "%s/ct-gptq", tmp);
        ckpt_write(mg, g, CKPT_WRITE_CT, gout);
        e = engine_create(mg, "cpu");
        engine_forward(e, ids, 6, a, NULL);
        engine_free(e);
        qwen3_free(mg);
        struct harness_opts go;
        harness_defaults(&go);
        go.model = gout;
        harness_init(&h, "test-harness", &go);
        e = harness_open_recipe(&h, &h.ckpt_recipe, &mq, &st);
        engine_forward(e, ids, 6, b, NULL);
        double dg = max_diff(a, b, 6 * V);
        TEST(h.is_checkpoint && h.ckpt_recipe.family == RECIPE_FAMILY_INT4 && dg == 0,
             "gptq written as compressed-tensors and read back: the in-memory logits bit for bit (max |d| %.2e)", dg);
        harness_close_recipe(e, mq);
        harness_free(&h, 0);
    }

    // --results-model places the row beside the base model's recipes.
    o.results_model = "dense-bf16";
    harness_init(&h, "test-harness", &o);
    TEST(!strcmp(h.model, "dense-bf16"), "--results-model names the results folder");
    harness_free(&h, 0);

    // The common flags.
    char *argv[] = {"x", "--windows", "0", "--backend", "cpu", "--seed", "7", "--bogus"};
    struct harness_opts p;
    harness_defaults(&p);
    int used = 0;
    for (int i = 1; i < 7; i++) used += harness_parse_common(&p, 8, argv, &i);
    int i = 7;
    TEST(used == 3 && p.windows == 0 && p.seed == 7 && !harness_parse_common(&p, 8, argv, &i),
         "common flags parse; an unknown flag is left to the driver");
    // --data-dir must name a folder (a usage error, exit 2, never a silent fall-back to ../shared/data).
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        struct harness_opts bad;
        harness_defaults(&bad);
        bad.model = FIXDIR;
        bad.data_dir = "/does/not/exist";
        harness_init(&h, "test-harness", &bad);
        _exit(0);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    TEST(WIFEXITED(ws) && WEXITSTATUS(ws) == 2, "--data-dir /does/not/exist is a usage error (exit %d)", WEXITSTATUS(ws));
    free(a), free(b);
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) warn("could not remove %s", tmp);
    return TEST_REPORT();
}
