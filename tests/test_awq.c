/* test_awq -- src/quant/awq.c on qwen3-tiny (models/qwen3-tiny; skipped, exit 77, when absent):
 *   - the scale search on layer 1's down_proj with fixed inputs (4 seeded random sequences of 128 tokens):
 *     the loss of the chosen scales, recomputed here independently (sgemm of X against Q(W s) / s), is never
 *     above the loss at alpha = 0, which without duo scaling is plain RTN (s = 1), on int4 asym g128, nvfp4
 *     and mxfp4, with and without duo scaling; and the search's own loss at alpha = 0 equals the recomputed;
 *   - the whole model: awq (INT4 asym g128, 2 x 128 calibration tokens) against rtn-int4-asym on 256 held-out
 *     seeded tokens: the logits' mean squared error to the BF16 model is smaller (the scales fold into the
 *     norms and up_proj correctly: a wrong fold would multiply the error, not shrink it). */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "quant/awq.h"
#include "quant/layer_inputs.h"
#include "quant/quantize.h"
#include "quant/recipe.h"
#include "fixture.h"
#include "test.h"

#define TINY "models/qwen3-tiny"
#define SEQS 4
#define LEN 128
#define LAYER 1

static void down_inputs(struct qwen3_model *m, struct fixture_capture *c) {
    int32_t *ids = xmalloc(SEQS * LEN * sizeof *ids);
    fixture_seeded_ids(ids, SEQS * LEN, m->cfg.V, 10);
    struct layer_inputs li;
    layer_inputs_init(&li, m, ids, SEQS, LEN);
    float *d = xmalloc((size_t)(SEQS * LEN * m->cfg.D) * sizeof *d);
    struct linear *down = &m->layers[LAYER].down;
    fixture_capture_init(c, down->K, SEQS * LEN);
    for (int l = 0; l <= LAYER; l++) {
        layer_inputs_attn(m, l, &li, d);
        layer_inputs_add(&li, d);
        if (l == LAYER) down->observe = fixture_capture_observe, down->observe_ctx = c;
        layer_inputs_mlp(m, l, &li, d);
        layer_inputs_add(&li, d);
    }
    down->observe = NULL;
    free(d), free(ids);
    layer_inputs_free(&li);
}

/* mean over rows x N of (X W^T - X (Q(W s) / s)^T)^2, written independently of awq.c. */
static double loss_of(const float *x, int64_t rows, const struct linear *l, const float *s, const struct recipe *r) {
    const int64_t N = l->N, K = l->K;
    float *ws = xmalloc((size_t)(N * K) * sizeof *ws), *y = xmalloc((size_t)(rows * N) * sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) ws[n * K + k] = l->w[n * K + k] * s[k];
    struct qtensor q;
    qtensor_quantize(&q, r->weight, ws, N, K, &r->weight_params);
    qtensor_dequantize(&q, ws);
    qtensor_free(&q);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) ws[n * K + k] = l->w[n * K + k] - ws[n * K + k] / s[k];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)N, (int)K, 1.0f, x, (int)K, ws, (int)K,
                0.0f, y, (int)N);
    double e = 0;
    for (int64_t i = 0; i < rows * N; i++) e += (double)y[i] * y[i];
    free(ws), free(y);
    return e / (double)(rows * N);
}

static void check_search(struct linear *down, const struct fixture_capture *c, const char *rname, int duo) {
    struct recipe r = *recipe_by_name_or_die(rname, "test");
    r.awq.duo_scaling = duo;
    const int64_t K = down->K;
    float *best = xmalloc((size_t)K * sizeof *best), *s0 = xmalloc((size_t)K * sizeof *s0);
    double losses[64];
    awq_search_linear(best, losses, down, c->x, c->rows, &r);
    /* alpha = 0, as the search builds it: x_mean^0 / (w_mean + 1e-4), or 1 without duo scaling */
    if (duo) {
        /* Rebuild w_mean here: |w| / (domain max + 1e-6), averaged over rows. */
        int64_t gk = qformat_info(r.weight)->block_k ? qformat_info(r.weight)->block_k
                                                      : qformat_resolve(r.weight, &r.weight_params).group_size;
        double *acc = xcalloc((size_t)K, sizeof *acc);
        float *xm = xmalloc((size_t)K * sizeof *xm), *wm = xmalloc((size_t)K * sizeof *wm);
        for (int64_t n = 0; n < down->N; n++)
            for (int64_t g = 0; g < K; g += gk) {
                float a = 0;
                for (int64_t k = 0; k < gk; k++) a = fmaxf(a, fabsf(down->w[n * K + g + k]));
                for (int64_t k = 0; k < gk; k++) acc[g + k] += fabsf(down->w[n * K + g + k]) / (a + 1e-6f);
            }
        for (int64_t k = 0; k < K; k++) wm[k] = (float)(acc[k] / (double)down->N), xm[k] = 1;
        awq_scales(s0, xm, wm, K, 0.0, 1);
        free(acc), free(xm), free(wm);
    } else {
        for (int64_t k = 0; k < K; k++) s0[k] = 1;
    }
    double lb = loss_of(c->x, c->rows, down, best, &r), l0 = loss_of(c->x, c->rows, down, s0, &r);
    /* 1e-6 relative: the same quantized weights give the same loss up to the FP32 GEMM's summation order. */
    TEST(lb <= l0 * (1 + 1e-6), "%s duo %d: chosen loss %.6g <= alpha-0 loss %.6g%s (ratio %.3f)", rname, duo, lb,
         l0, duo ? "" : " (plain RTN)", lb / l0);
    TEST(fabs(losses[0] - l0) <= 1e-4 * l0, "%s duo %d: the search's alpha-0 loss %.6g == recomputed %.6g", rname,
         duo, losses[0], l0);
    free(best), free(s0);
}

static double logits_mse(const struct qwen3_model *m, const float *ref, const int32_t *ids, int64_t T) {
    float *lg = xmalloc((size_t)(T * m->cfg.V) * sizeof *lg);
    qwen3_cpu_forward(m, ids, T, 0, NULL, lg, NULL);
    double e = 0;
    for (int64_t i = 0; i < T * m->cfg.V; i++) e += ((double)lg[i] - ref[i]) * ((double)lg[i] - ref[i]);
    free(lg);
    return e / (double)(T * m->cfg.V);
}

static void check_model(void) {
    const int64_t T = 256;
    struct qwen3_model *m = qwen3_load(TINY);
    int32_t *eval = xmalloc(T * sizeof *eval), *cal = xmalloc(2 * 128 * sizeof *cal);
    fixture_seeded_ids(eval, T, m->cfg.V, 77);
    fixture_seeded_ids(cal, 2 * 128, m->cfg.V, 78);
    float *ref = xmalloc((size_t)(T * m->cfg.V) * sizeof *ref);
    qwen3_cpu_forward(m, eval, T, 0, NULL, ref, NULL);
    qwen3_free(m);
    double e[2];
    const char *names[2] = {"rtn-int4-asym", "awq"};
    for (int i = 0; i < 2; i++) {
        m = qwen3_load(TINY);
        struct quant_calib qc = {NULL, cal, 2, 128};
        quant_apply(m, recipe_by_name_or_die(names[i], "test"), &qc, NULL);
        e[i] = logits_mse(m, ref, eval, T);
        qwen3_free(m);
    }
    TEST(e[1] < e[0], "model: awq logits MSE to BF16 %.5g < rtn-int4-asym %.5g (ratio %.3f)", e[1], e[0], e[1] / e[0]);
    free(eval), free(cal), free(ref);
}

int main(void) {
    check_set_progname("test_awq");
    if (!file_exists(TINY "/model.safetensors")) {
        printf("SKIP: %s not found\n", TINY);
        return 77;
    }
    struct qwen3_model *m = qwen3_load(TINY);
    struct fixture_capture c;
    down_inputs(m, &c);
    struct linear *down = &m->layers[LAYER].down;
    const char *rs[3] = {"awq", "awq-nvfp4-w4a16", "gptq-mxfp4-w4a16"};
    for (int i = 0; i < 3; i++)
        for (int duo = 0; duo <= 1; duo++) check_search(down, &c, rs[i], duo);
    free(c.x);
    qwen3_free(m);
    check_model();
    return TEST_REPORT();
}
