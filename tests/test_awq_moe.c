/* test_awq_moe -- AWQ on MoE layers (awq.h "MoE") on the tiny random Qwen3-MoE fixture
 * tests/fixtures/qwen3/moe-bf16 (D 128, layer 0 dense, layer 1 MoE with 8 experts of F_moe 48, top-2), with
 * AutoAWQ's parameters on the NVFP4 weight grid (blocks of 16: 48 = 3 x 16; no INT4 group of 32, 64 or 128
 * holds K = 48; the MoE handling does not depend on the grid) and 2 x 64 seeded random calibration tokens:
 *   - the shared gate/up search on the whole MoE block (awq_search_moe_in): the chosen scale's loss is never
 *     above alpha = 0's, and without duo scaling alpha = 0's loss equals the block MSE of plain RTN of every
 *     expert, recomputed here independently (s = 1);
 *   - awq_apply: the router is left bit-identical (AutoAWQ: its input change is not compensated), or with
 *     router_fold its logits on the new normed input match the old ones to FP32 rounding; the routed rows per
 *     expert stay within the tokens; with a row floor above every expert's rows no expert gets a search of its
 *     own, so every down_proj holds exactly RTN's bytes; with the floor 1.0 only those below 48 rows do, and
 *     without a floor none do. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "model/qwen3.h"
#include "ops/rmsnorm.h"
#include "quant/awq.h"
#include "quant/layer_inputs.h"
#include "quant/quantize.h"
#include "quant/recipe.h"
#include "quant/rtn.h"
#include "test.h"

#define FIX "tests/fixtures/qwen3/moe-bf16"
#define SEQS 2
#define LEN 64
#define MOE_LAYER 1

static struct recipe recipe_of(int duo, double min_rows_k, int router_fold) {
    struct recipe r = *recipe_by_name_or_die("awq-nvfp4-w4a16", "test");
    r.awq.duo_scaling = duo;
    r.awq.min_rows_k = min_rows_k;
    r.awq.router_fold = router_fold;
    return r;
}

static void seeded_ids(int32_t *ids, int64_t n, int64_t V, uint64_t seed) {
    struct rng g;
    rng_init(&g, seed);
    for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)rng_below(&g, (uint64_t)V);
}

/* h = the residual stream entering layer MOE_LAYER's MLP half; org = that half's unquantized output. */
static void moe_inputs(const struct qwen3_model *m, const int32_t *ids, struct layer_inputs *h, float **org) {
    layer_inputs_init(h, m, ids, SEQS, LEN);
    const int64_t n = SEQS * LEN * m->cfg.D;
    float *d = xmalloc((size_t)n * sizeof *d);
    for (int l = 0; l < MOE_LAYER; l++) {
        layer_inputs_attn(m, l, h, d), layer_inputs_add(h, d);
        layer_inputs_mlp(m, l, h, d), layer_inputs_add(h, d);
    }
    layer_inputs_attn(m, MOE_LAYER, h, d), layer_inputs_add(h, d);
    layer_inputs_mlp(m, MOE_LAYER, h, d);
    *org = d;
}

static void fake_rtn(struct linear *l, const struct recipe *r) {
    struct qtensor q;
    qtensor_quantize(&q, r->weight, l->w, l->N, l->K, &r->weight_params);
    qtensor_dequantize(&q, l->w);
    qtensor_free(&q);
}

static void check_search(const int32_t *ids) {
    for (int duo = 0; duo <= 1; duo++) {
        struct qwen3_model *m = qwen3_load(FIX);
        CHECK(m->layers[MOE_LAYER].is_moe, "fixture layer %d is not MoE", MOE_LAYER);
        struct recipe r = recipe_of(duo, 1.0, 0);
        struct layer_inputs h;
        float *org;
        moe_inputs(m, ids, &h, &org);
        const int64_t D = m->cfg.D, n = SEQS * LEN * D;
        float *best = xmalloc((size_t)D * sizeof *best);
        double losses[20];
        awq_search_moe_in(best, losses, m, MOE_LAYER, &h, org, &r);
        double lmin = losses[0];
        int imin = 0;
        for (int i = 1; i < 20; i++)
            if (losses[i] < lmin) lmin = losses[i], imin = i;
        TEST(lmin <= losses[0] && isfinite(lmin), "moe search duo=%d: best alpha %d/20 loss %.6g <= alpha 0 %.6g",
             duo, imin, lmin, losses[0]);
        if (!duo) {
            /* alpha = 0 without duo scaling is s = 1: plain RTN of every expert's gate and up, block rerun. */
            struct qwen3_layer *L = &m->layers[MOE_LAYER];
            for (int64_t e = 0; e < m->cfg.E; e++) fake_rtn(&L->exp_gate[e], &r), fake_rtn(&L->exp_up[e], &r);
            float *out = xmalloc((size_t)n * sizeof *out);
            layer_inputs_mlp(m, MOE_LAYER, &h, out);
            double mse = 0;
            for (int64_t i = 0; i < n; i++) mse += ((double)out[i] - org[i]) * ((double)out[i] - org[i]);
            mse /= (double)n;
            TEST(fabs(mse - losses[0]) <= 1e-12 + 1e-9 * mse,
                 "moe search duo=0: alpha 0 loss %.9g == plain-RTN block MSE recomputed %.9g", losses[0], mse);
            free(out);
        }
        free(best), free(org);
        layer_inputs_free(&h);
        qwen3_free(m);
    }
}

static int same_bytes(const struct qtensor *a, const struct qtensor *b) {
    return a->data_bytes == b->data_bytes && !memcmp(a->data, b->data, a->data_bytes) &&
           a->scales_bytes == b->scales_bytes && (!a->scales_bytes || !memcmp(a->scales, b->scales, a->scales_bytes)) &&
           a->zeros_bytes == b->zeros_bytes && (!a->zeros_bytes || !memcmp(a->zeros, b->zeros, a->zeros_bytes));
}

/* awq_apply with recipe r on a fresh fixture; returns how many experts' down_proj hold RTN's bytes of the
 * original down weights (ref: the unquantized model). */
static int64_t apply(const struct recipe *r, const int32_t *ids, const struct qwen3_model *ref, struct qwen3_model **out,
                     struct quant_stats *st) {
    struct qwen3_model *m = qwen3_load(FIX);
    struct quant_calib qc = {NULL, ids, SEQS, LEN};
    memset(st, 0, sizeof *st);
    quant_apply(m, r, &qc, st);
    int64_t same = 0;
    for (int64_t e = 0; e < m->cfg.E; e++) {
        struct linear c = ref->layers[MOE_LAYER].exp_down[e];
        c.w = xmalloc((size_t)(c.N * c.K) * sizeof *c.w);
        memcpy(c.w, ref->layers[MOE_LAYER].exp_down[e].w, (size_t)(c.N * c.K) * sizeof *c.w);
        c.packed = NULL;
        rtn_linear(&c, r);
        same += same_bytes(m->layers[MOE_LAYER].exp_down[e].packed, c.packed);
        qtensor_free(c.packed);
        free(c.packed), free(c.w);
    }
    *out = m;
    return same;
}

/* Max relative difference of the router logits: old router on old normed x vs new router on new normed x. */
static double router_logit_diff(const struct qwen3_model *a, const struct qwen3_model *b, const struct layer_inputs *h) {
    const struct qwen3_layer *A = &a->layers[MOE_LAYER], *B = &b->layers[MOE_LAYER];
    const int64_t D = a->cfg.D, E = a->cfg.E, T = h->S * h->L;
    float *xa = xmalloc((size_t)(T * D) * sizeof *xa), *xb = xmalloc((size_t)(T * D) * sizeof *xb);
    float *ya = xmalloc((size_t)(T * E) * sizeof *ya), *yb = xmalloc((size_t)(T * E) * sizeof *yb);
    rmsnorm_ref(xa, h->x, A->mlp_norm, T, D, (float)a->cfg.rms_norm_eps);
    rmsnorm_ref(xb, h->x, B->mlp_norm, T, D, (float)b->cfg.rms_norm_eps);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)E, (int)D, 1.0f, xa, (int)D, A->router, (int)D,
                0.0f, ya, (int)E);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)E, (int)D, 1.0f, xb, (int)D, B->router, (int)D,
                0.0f, yb, (int)E);
    double mx = 0, num = 0;
    for (int64_t i = 0; i < T * E; i++) mx = fmax(mx, fabs(ya[i])), num = fmax(num, fabs((double)ya[i] - yb[i]));
    free(xa), free(xb), free(ya), free(yb);
    return num / (mx > 0 ? mx : 1);
}

static void check_apply(const int32_t *ids) {
    struct qwen3_model *ref = qwen3_load(FIX);
    const int64_t E = ref->cfg.E, D = ref->cfg.D;
    struct layer_inputs h;
    float *org;
    moe_inputs(ref, ids, &h, &org);
    struct quant_stats st;
    struct qwen3_model *m;
    // AutoAWQ: the router untouched, the norm changed
    struct recipe r = recipe_of(1, 1.0, 0);
    int64_t same = apply(&r, ids, ref, &m, &st);
    TEST(!memcmp(m->layers[MOE_LAYER].router, ref->layers[MOE_LAYER].router, (size_t)(E * D) * sizeof(float)),
         "awq_apply: the router is left bit-identical (AutoAWQ: not compensated)");
    TEST(memcmp(m->layers[MOE_LAYER].mlp_norm, ref->layers[MOE_LAYER].mlp_norm, (size_t)D * sizeof(float)) != 0,
         "awq_apply: the shared gate/up scale is folded into post_attention_layernorm");
    TEST(st.n_expert_hessians == E && st.expert_rows_max <= SEQS * LEN && st.expert_rows_min <= st.expert_rows_median,
         "awq_apply: %lld experts counted, routed rows min %lld median %lld max %lld", (long long)st.n_expert_hessians,
         (long long)st.expert_rows_min, (long long)st.expert_rows_median, (long long)st.expert_rows_max);
    TEST(st.expert_rows_max < D && st.n_experts_below_floor == E && same > 0 && same < E,
         "floor 1.0: %lld experts below the gate/up floor %lld (max rows %lld); %lld of %lld down_proj hold RTN's "
         "bytes (those below 48 rows)", (long long)st.n_experts_below_floor, (long long)D,
         (long long)st.expert_rows_max, (long long)same, (long long)E);
    TEST(router_logit_diff(ref, m, &h) > 1e-3, "AutoAWQ fold: the router's logits move (max rel diff %.3g)",
         router_logit_diff(ref, m, &h));
    qwen3_free(m);
    // a floor above every expert's rows (10 x 48 = 480 > 128 tokens): no expert gets a search of its own
    r = recipe_of(1, 10.0, 0);
    same = apply(&r, ids, ref, &m, &st);
    TEST(st.n_experts_below_floor == E && same == E && st.n_expert_rtn == 3 * E,
         "floor 10: all %lld experts below it, %lld down_proj hold RTN's bytes, %lld expert Linears without a "
         "search of their own", (long long)E, (long long)same, (long long)st.n_expert_rtn);
    qwen3_free(m);
    // no floor: the experts that saw rows get their own down search
    r = recipe_of(1, 0.0, 0);
    same = apply(&r, ids, ref, &m, &st);
    TEST(st.n_experts_below_floor == 0 && same < E, "no floor: %lld of %lld down_proj equal RTN's bytes",
         (long long)same, (long long)E);
    qwen3_free(m);
    // router_fold: the logits are preserved
    r = recipe_of(1, 1.0, 1);
    (void)apply(&r, ids, ref, &m, &st);
    const double dr = router_logit_diff(ref, m, &h);
    /* Each logit is a D = 128 term FP32 dot product of rescaled factors: a few ulps of the largest term. */
    TEST(dr < 1e-5, "router_fold: router logits preserved (max rel diff %.3g < 1e-5)", dr);
    qwen3_free(m);
    free(org);
    layer_inputs_free(&h);
    qwen3_free(ref);
}

int main(void) {
    check_set_progname("test_awq_moe");
    if (!file_exists(FIX "/model.safetensors")) {
        printf("SKIP: %s not found\n", FIX);
        return 77;
    }
    int32_t ids[SEQS * LEN];
    struct qwen3_model *m = qwen3_load(FIX);
    seeded_ids(ids, SEQS * LEN, m->cfg.V, 5);
    qwen3_free(m);
    check_search(ids);
    check_apply(ids);
    return TEST_REPORT();
}
