/* test_cpu_exec -- the serving execution policy (ops/cpu_exec.h) on qwen3-tiny:
 *  1. CPU_THREADS_OWN gives the same logits run to run (bit for bit), and the logits of the reference split
 *     (CPU_THREADS_BLAS) within 1e-3 (the engine's fidelity tolerance; measured ~1e-6, FP32 reordering only);
 *  2. packed decode (ops/qgemv.h) against the FP32 dequantized decode, for one weight-only recipe per packed
 *     kernel (int8-channel weights with FP32 activations, "int8-w8a16", made here from int8-w8a8's row): each
 *     position's logits move by d_t = max_v |dz_v| <= 1e-3, and the NLL of the next token by at most 2 d_t
 *     (the derived bound of qgemv.h: log-softmax is 2-Lipschitz in the max norm), so |d ln PPL| <= 2 max d_t;
 *  3. a recipe that quantizes activations (int8-w8a8): the GEMV reordering flips some activation roundings
 *     downstream (a grid step each), so its logits move like a change of CPU backend does to such recipes:
 *     the mean NLL within 3e-2 relative, the e02 tolerance of src/core/verify.c for them.
 * Skips (77) without models/qwen3-tiny. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "ops/cpu_exec.h"
#include "quant/recipe.h"
#include "test.h"

#define TINY "models/qwen3-tiny"
enum { T_PRE = 96, T_DEC = 24 };

static double max_diff(const float *a, const float *b, int64_t n) {
    double d = 0;
    for (int64_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

/* -log softmax(z)[id] in double. */
static double nll(const float *z, int64_t V, int32_t id) {
    double mx = z[0], s = 0;
    for (int64_t v = 1; v < V; v++) mx = fmax(mx, z[v]);
    for (int64_t v = 0; v < V; v++) s += exp((double)z[v] - mx);
    return mx + log(s) - z[id];
}

/* Token-by-token decode of ids, every position's logits into out (T x V). */
static void decode(struct engine *e, const int32_t *ids, int64_t T, float *out, int64_t V) {
    struct engine_seq *s = engine_seq_new(e, T, KV_CACHE_F32);
    for (int64_t t = 0; t < T; t++) engine_seq_append(s, ids + t, 1, out + t * V, NULL, 1);
    engine_seq_free(s);
}

int main(void) {
    check_set_progname("test_cpu_exec");
    struct stat st;
    if (stat(TINY "/config.json", &st) != 0) {
        printf("SKIP: %s not found\n", TINY);
        return 77;
    }
    struct harness_opts o;
    harness_defaults(&o);
    o.model = TINY;
    struct harness h;
    harness_init(&h, "test-cpu-exec", &o);
    int32_t ids[T_PRE];
    for (int t = 0; t < T_PRE; t++) ids[t] = (int32_t)((t * 2654435761u) % 8000u);

    // 1. threadings
    {
        struct qwen3_model *m;
        struct engine *e = harness_open_recipe(&h, recipe_by_name("bf16"), &m, NULL);
        const int64_t V = m->cfg.V;
        float *a = xmalloc((size_t)(T_PRE * V) * sizeof(float)), *b = xmalloc((size_t)(T_PRE * V) * sizeof(float)),
              *c = xmalloc((size_t)(T_PRE * V) * sizeof(float));
        cpu_exec_set(&(struct cpu_exec){.threads = CPU_THREADS_BLAS});
        engine_forward(e, ids, T_PRE, a, NULL);
        cpu_exec_set(&(struct cpu_exec){.threads = CPU_THREADS_OWN});
        engine_forward(e, ids, T_PRE, b, NULL);
        engine_forward(e, ids, T_PRE, c, NULL);
        TEST(memcmp(b, c, (size_t)(T_PRE * V) * sizeof(float)) == 0, "own threading: the same logits twice, bit for bit");
        double d = max_diff(a, b, T_PRE * V);
        TEST(d <= 1e-3, "own threading vs OpenBLAS's split: max |d logit| %.2e <= 1e-3 (%s)", d, cpu_exec_desc());
        free(a), free(b), free(c);
        harness_close_recipe(e, m);
    }

    // 2. packed decode
    struct recipe w8a16 = *recipe_by_name("int8-w8a8");
    w8a16.name = "int8-w8a16";
    w8a16.act_mode = RECIPE_ACT_NONE;
    const struct recipe *rs[] = {&w8a16, recipe_by_name("rtn-int4"), recipe_by_name("rtn-int4-asym"),
                                 recipe_by_name("mxfp4-w4a16"), recipe_by_name("int8-w8a8")};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        const char *name = rs[i]->name;
        const int act = rs[i]->act_mode != RECIPE_ACT_NONE;
        struct qwen3_model *m;
        struct engine *e = harness_open_recipe(&h, rs[i], &m, NULL);
        const int64_t V = m->cfg.V;
        TEST(qwen3_cpu_pack_lm_head(m), "%s: lm_head is BF16-exact, packed as BF16 for the packed decode", name);
        float *a = xmalloc((size_t)(T_DEC * V) * sizeof(float)), *b = xmalloc((size_t)(T_DEC * V) * sizeof(float));
        cpu_exec_set(&(struct cpu_exec){.threads = CPU_THREADS_OWN, .packed_decode = 0});
        decode(e, ids, T_DEC, a, V);
        cpu_exec_set(&(struct cpu_exec){.threads = CPU_THREADS_OWN, .packed_decode = 1});
        decode(e, ids, T_DEC, b, V);
        double dmax = 0, dnll = 0, slack = 0, nll_a = 0, nll_b = 0;
        int within = 1;
        for (int64_t t = 0; t + 1 < T_DEC; t++) {
            double d = max_diff(a + t * V, b + t * V, V);
            double dn = fabs(nll(a + t * V, V, ids[t + 1]) - nll(b + t * V, V, ids[t + 1]));
            if (!(dn <= 2 * d + 1e-12)) within = 0;   /* 1e-12: the double evaluation of nll itself */
            dmax = fmax(dmax, d);
            dnll += dn;
            nll_a += nll(a + t * V, V, ids[t + 1]);
            nll_b += nll(b + t * V, V, ids[t + 1]);
            slack = fmax(slack, d > 0 ? dn / (2 * d) : 0);
        }
        TEST(dmax > 0, "packed decode %s: differs from the FP32 path (the packed kernels ran)", name);
        if (act) {
            double rel = fabs(nll_b - nll_a) / nll_a;
            TEST(rel <= 3e-2, "packed decode %s (activations quantized): mean NLL moves %.2e relative <= 3e-2 (max |d logit| %.2e)",
                 name, rel, dmax);
        } else {
            TEST(dmax <= 1e-3, "packed decode %s: max |d logit| %.2e <= 1e-3", name, dmax);
            TEST(within, "packed decode %s: |d NLL| <= 2 max|d logit| at every position (worst %.2f of it; mean |d NLL| %.2e)",
                 name, slack, dnll / (T_DEC - 1));
        }
        free(a), free(b);
        harness_close_recipe(e, m);
    }
    cpu_exec_set(&(struct cpu_exec){.threads = CPU_THREADS_BLAS});
    harness_free(&h, 0);
    return TEST_REPORT();
}
