/* cmd_ppl_llamacpp -- `ql ppl-llamacpp`: see cmd_ppl_llamacpp.h. */
#include "cli/cmd_ppl_llamacpp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/cli.h"
#include "core/sha256.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "eval/perplexity_llamacpp.h"
#include "model/qwen3.h"
#include "model/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f, "usage: ql ppl-llamacpp -m MODEL -f FILE [-c N_CTX] [--chunks N]\n"
               "Perplexity of MODEL (HF folder or .gguf, weights as loaded) under llama-perplexity's protocol:\n"
               "chunks of N_CTX tokens, the second half of each scored (src/eval/perplexity_llamacpp.h).\n\n"
               "  -m, --model MODEL   HF checkpoint folder or .gguf file (its tokenizer is used)\n"
               "  -f, --file FILE     the text file given to llama-perplexity -f\n"
               "  -c, --ctx N         chunk length (default 512, llama-perplexity's usual -c)\n"
               "      --chunks N      at most N chunks (default: all)\n"
               "      --act SCHEME    quantize-dequantize every decoder Linear's input dynamically in SCHEME\n"
               "                      (bf16 emulates llama.cpp's BF16 vec_dot; int8-channel is a per-token\n"
               "                      int8 grid, coarser than llama.cpp's Q8_0 / Q8_1 blocks of 32)\n"
               "  -h, --help          this text\n");
}

struct act_ctx {
    enum qformat f;
};

static void set_act(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind, struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    const struct act_ctx *a = ctx;
    l->act.mode = LINEAR_ACT_DYNAMIC;
    l->act.format = a->f;
    l->act.params = qformat_resolve(a->f, NULL);
}

static void logits_fn(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    engine_forward(ctx, ids, T, logits, NULL);
}

int cmd_ppl_llamacpp(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *act = NULL;
    int64_t n_ctx = 512, chunks = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) model = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && v) file = argv[++i];
        else if ((!strcmp(a, "-c") || !strcmp(a, "--ctx")) && v) n_ctx = cli_int(a, argv[++i], 4);
        else if (!strcmp(a, "--chunks") && v) chunks = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--act") && v) act = argv[++i];
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!model || !file) { usage(stderr); die_usage("-m and -f are required"); }
    size_t len;
    char *text = file_read_all(file, &len);
    if (len && text[len - 1] == '\n') len--;   /* as llama.cpp's -f (common/arg.cpp) */
    struct tokenizer *tok = tokenizer_load(model);
    size_t n;
    int32_t *ids = tokenizer_encode(tok, text, len, &n);
    char hex[SHA256_HEX_LEN];
    sha256_buf(ids, n * sizeof *ids, hex);
    double t0 = monotonic_seconds();
    struct qwen3_model *m = qwen3_load(model);
    if (n_ctx > m->cfg.max_pos) die("-c %lld exceeds the model's context %lld", (long long)n_ctx, (long long)m->cfg.max_pos);
    if (act) {
        struct act_ctx ac;
        int f = qformat_by_name(act);
        if (f < 0) die_usage("--act: unknown scheme '%s'", act);
        ac.f = (enum qformat)f;
        qwen3_for_each_linear(m, set_act, &ac);
    }
    struct engine *e = engine_create(m, "cpu");
    struct perplexity_llamacpp_result r;
    perplexity_llamacpp_run(logits_fn, e, m->cfg.V, ids, (int64_t)n, n_ctx, chunks, &r);
    printf("ppl %.10f stderr %.6f mean_nll %.10f tokens %lld chunks %lld ids_sha256 %s\n", r.ppl, r.ppl_stderr,
           log(r.ppl), (long long)r.n_tokens, (long long)r.n_chunks, hex);
    fprintf(stderr, "%s: %s: %zu tokens, %lld chunks of %lld in %.1f s\n", check_progname(), model, n,
            (long long)r.n_chunks, (long long)n_ctx, monotonic_seconds() - t0);
    engine_free(e);
    qwen3_free(m);
    tokenizer_free(tok);
    free(ids);
    free(text);
    return 0;
}
