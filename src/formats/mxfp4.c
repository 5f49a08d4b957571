/* mxfp4 -- see mxfp4.h. */
#include "formats/mxfp4.h"

#include <stdio.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e2m1.h"

void mxfp4_quantize_row_ref(const float *x, struct mxfp4_block *y, int64_t K, enum e8m0_rule rule) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP4_BLOCK_SIZE; b++) {
        const float *xb = x + b * MXFP4_BLOCK_SIZE;
        /* OCP 6.3: X = 2^(floor(log2 amax) - emax_elem); amax / X lies in [4, 8), so values above 6 saturate
         * under the floor rule (the ceil rule steps X up instead). */
        uint8_t e = e8m0_mx_scale(amax_ref(xb, MXFP4_BLOCK_SIZE), E2M1_EMAX, E2M1_MAX, rule);
        float X = e8m0_to_float(e);
        y[b].e = e;
        for (int i = 0; i < MXFP4_BLOCK_SIZE / 2; i++) {
            /* x / X is exact (X a power of two, the quotient below 8), so the only rounding is E2M1's. */
            uint8_t lo = e == E8M0_NAN ? 0 : e2m1_from_float(xb[2 * i] / X);
            uint8_t hi = e == E8M0_NAN ? 0 : e2m1_from_float(xb[2 * i + 1] / X);
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void mxfp4_dequantize_row_ref(const struct mxfp4_block *x, float *y, int64_t K) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP4_BLOCK_SIZE; b++) {
        /* Code value times a power of two: exact (0xFF gives NaN for the whole block). */
        float X = e8m0_to_float(x[b].e);
        float *yb = y + b * MXFP4_BLOCK_SIZE;
        for (int i = 0; i < MXFP4_BLOCK_SIZE / 2; i++) {
            yb[2 * i] = e2m1_to_float(x[b].qs[i] & 0xF) * X;
            yb[2 * i + 1] = e2m1_to_float(x[b].qs[i] >> 4) * X;
        }
    }
}

// ---- registry rows (mxfp4, mxfp4-ceil) ----

static void mxfp4_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                         size_t *zeros) {
    (void)p;
    *data = sizeof(struct mxfp4_block) * ((size_t)N * (size_t)K / MXFP4_BLOCK_SIZE);
    *scales = *zeros = 0;
}

static void mxfp4_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, MXFP4_BLOCK_SIZE);
    int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    struct mxfp4_block *y = (struct mxfp4_block *)q->data;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t b = k0 / MXFP4_BLOCK_SIZE; b < k1 / MXFP4_BLOCK_SIZE; b++)
            y[n * nb + b].e = e8m0_mx_scale(amax_ref(w + n * q->K + b * MXFP4_BLOCK_SIZE, MXFP4_BLOCK_SIZE) * p,
                                            E2M1_EMAX, E2M1_MAX, q->params.mx_rule);
}

static void mxfp4_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    mxfp4_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t mxfp4_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / MXFP4_BLOCK_SIZE) + k / MXFP4_BLOCK_SIZE;
}

static uint8_t mxfp4_code(const struct mxfp4_block *blk, int64_t i) {
    return (uint8_t)((blk->qs[i / 2] >> ((i & 1) * 4)) & 0xF);
}

static void mxfp4_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    struct mxfp4_block *y = (struct mxfp4_block *)q->data;
    int64_t i = k % MXFP4_BLOCK_SIZE;
    int sh = (int)(i & 1) * 4;
    for (int64_t n = 0; n < q->N; n++) {
        struct mxfp4_block *blk = &y[mxfp4_domain_at(q, n, k)];
        float X = e8m0_to_float(blk->e);
        uint8_t c = blk->e == E8M0_NAN ? 0 : e2m1_from_float(col[n * cs] / X);
        blk->qs[i / 2] = (uint8_t)((blk->qs[i / 2] & ~(0xF << sh)) | (c << sh));
        if (deq) deq[n * ds] = e2m1_to_float(c) * X;
    }
}

static void mxfp4_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        mxfp4_quantize_row_ref(w + n * K, (struct mxfp4_block *)q->data + n * (K / MXFP4_BLOCK_SIZE), K,
                               q->params.mx_rule);
}

static void mxfp4_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        mxfp4_dequantize_row_ref((const struct mxfp4_block *)q->data + n * (K / MXFP4_BLOCK_SIZE), w + n * K, K);
}

static float mxfp4_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e8m0_to_float(((const struct mxfp4_block *)q->data)[mxfp4_domain_at(q, n, k)].e);
}
static float mxfp4_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float mxfp4_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e2m1_to_float(mxfp4_code(&((const struct mxfp4_block *)q->data)[mxfp4_domain_at(q, n, k)],
                                    k % MXFP4_BLOCK_SIZE));
}
static int64_t mxfp4_n_domains(const struct qtensor *q) { return q->N * (q->K / MXFP4_BLOCK_SIZE); }
static void mxfp4_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((struct mxfp4_block *)dst->data)[d].e = ((const struct mxfp4_block *)src->data)[d].e;
}

/* "mxfp4" keeps the rule it is given (its ceil label is "mxfp4-ceil"); "mxfp4-ceil" forces the ceil rule. */
static void mxfp4_resolve(struct qparams *p) {
    enum e8m0_rule rule = p->mx_rule;
    qformat_clear_options(p);
    p->mx_rule = rule;
}

static void mxfp4_ceil_resolve(struct qparams *p) {
    qformat_clear_options(p);
    p->mx_rule = E8M0_RULE_CEIL;
}

static void mxfp4_label(const struct qparams *p, char *buf, size_t n) {
    snprintf(buf, n, "%s", p->mx_rule == E8M0_RULE_CEIL ? "mxfp4-ceil" : "mxfp4");
}

#define MXFP4_OPS_COMMON                                                                                     \
    .block_k = MXFP4_BLOCK_SIZE, .bits = 4.0 + 8.0 / 32.0, .has_global = 0, .layout = mxfp4_layout,           \
    .choose_scales = mxfp4_choose, .quantize_col = mxfp4_col, .quantize = mxfp4_quantize,                     \
    .dequantize = mxfp4_dequantize, .scale_at = mxfp4_scale_at, .zero_at = mxfp4_zero_at,                     \
    .code_at = mxfp4_code_at, .has_mse = 1, .choose_scales_shrunk = mxfp4_shrunk, .n_domains = mxfp4_n_domains, \
    .domain_at = mxfp4_domain_at, .copy_domain = mxfp4_copy_domain, .label = mxfp4_label

const struct qformat_ops mxfp4_ops = {.name = "mxfp4", .desc = "E2M1, E8M0 scale per 32 (OCP MX, floor rule)",
                                      .resolve = mxfp4_resolve, MXFP4_OPS_COMMON};
const struct qformat_ops mxfp4_ceil_ops = {.name = "mxfp4-ceil",
                                           .desc = "E2M1, E8M0 scale per 32 (ModelOpt ceil rule)",
                                           .resolve = mxfp4_ceil_resolve, MXFP4_OPS_COMMON};
