/* mxfp8 -- see mxfp8.h. */
#include "formats/mxfp8.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"

void mxfp8_quantize_row_ref(const float *x, struct mxfp8_block *y, int64_t K, enum e8m0_rule rule) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP8_BLOCK_SIZE; b++) {
        const float *xb = x + b * MXFP8_BLOCK_SIZE;
        uint8_t e = e8m0_mx_scale(amax_ref(xb, MXFP8_BLOCK_SIZE), E4M3_EMAX, E4M3_MAX, rule);
        float X = e8m0_to_float(e);
        y[b].e = e;
        /* Zero blocks (code 0 with amax 0) and NaN blocks (0xFF) both store zero codes; dividing a zero
         * block by 2^-127 would be harmless, but NaN must not reach the element codec. */
        int skip = (e == E8M0_NAN);
        for (int i = 0; i < MXFP8_BLOCK_SIZE; i++)
            y[b].qs[i] = skip ? 0 : e4m3_from_float(xb[i] / X); /* exact: X is a power of two */
    }
}

void mxfp8_dequantize_row_ref(const struct mxfp8_block *x, float *y, int64_t K) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP8_BLOCK_SIZE; b++) {
        float X = e8m0_to_float(x[b].e);
        for (int i = 0; i < MXFP8_BLOCK_SIZE; i++)
            y[b * MXFP8_BLOCK_SIZE + i] = e4m3_to_float(x[b].qs[i]) * X;
    }
}

// ---- registry row ----

static void mxfp8_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                         size_t *zeros) {
    (void)p;
    *data = sizeof(struct mxfp8_block) * ((size_t)N * (size_t)K / MXFP8_BLOCK_SIZE);
    *scales = *zeros = 0;
}

static void mxfp8_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, MXFP8_BLOCK_SIZE);
    int64_t nb = q->K / MXFP8_BLOCK_SIZE;
    struct mxfp8_block *y = (struct mxfp8_block *)q->data;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t b = k0 / MXFP8_BLOCK_SIZE; b < k1 / MXFP8_BLOCK_SIZE; b++)
            y[n * nb + b].e = e8m0_mx_scale(amax_ref(w + n * q->K + b * MXFP8_BLOCK_SIZE, MXFP8_BLOCK_SIZE) * p,
                                            E4M3_EMAX, E4M3_MAX, q->params.mx_rule);
}

static void mxfp8_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    mxfp8_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t mxfp8_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / MXFP8_BLOCK_SIZE) + k / MXFP8_BLOCK_SIZE;
}

static void mxfp8_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    struct mxfp8_block *y = (struct mxfp8_block *)q->data;
    for (int64_t n = 0; n < q->N; n++) {
        struct mxfp8_block *blk = &y[mxfp8_domain_at(q, n, k)];
        float X = e8m0_to_float(blk->e);
        /* As the row codec: a NaN scale stores zero codes. */
        uint8_t c = blk->e == E8M0_NAN ? 0 : e4m3_from_float(col[n * cs] / X);
        blk->qs[k % MXFP8_BLOCK_SIZE] = c;
        if (deq) deq[n * ds] = e4m3_to_float(c) * X;
    }
}

static void mxfp8_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        mxfp8_quantize_row_ref(w + n * K, (struct mxfp8_block *)q->data + n * (K / MXFP8_BLOCK_SIZE), K,
                               q->params.mx_rule);
}

static void mxfp8_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        mxfp8_dequantize_row_ref((const struct mxfp8_block *)q->data + n * (K / MXFP8_BLOCK_SIZE), w + n * K, K);
}

static float mxfp8_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e8m0_to_float(((const struct mxfp8_block *)q->data)[mxfp8_domain_at(q, n, k)].e);
}
static float mxfp8_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float mxfp8_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e4m3_to_float(((const struct mxfp8_block *)q->data)[mxfp8_domain_at(q, n, k)].qs[k % MXFP8_BLOCK_SIZE]);
}
static int64_t mxfp8_n_domains(const struct qtensor *q) { return q->N * (q->K / MXFP8_BLOCK_SIZE); }
static void mxfp8_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((struct mxfp8_block *)dst->data)[d].e = ((const struct mxfp8_block *)src->data)[d].e;
}

/* mxfp8 owns the MX rule option: "mxfp8-ceil" is its label with E8M0_RULE_CEIL. */
static void mxfp8_resolve(struct qparams *p) {
    enum e8m0_rule rule = p->mx_rule;
    qformat_clear_options(p);
    p->mx_rule = rule;
}

static int mxfp8_parse(const char *name, struct qparams *p) {
    if (strcmp(name, "mxfp8-ceil") != 0) return 0;
    p->mx_rule = E8M0_RULE_CEIL;
    return 1;
}

static void mxfp8_label(const struct qparams *p, char *buf, size_t n) {
    snprintf(buf, n, "%s", p->mx_rule == E8M0_RULE_CEIL ? "mxfp8-ceil" : "mxfp8");
}

const struct qformat_ops mxfp8_ops = {
    .name = "mxfp8", .block_k = MXFP8_BLOCK_SIZE, .bits = 8.0 + 8.0 / 32.0, .has_global = 0,
    .desc = "E4M3, E8M0 scale per 32 (OCP MX, floor rule)", .layout = mxfp8_layout, .choose_scales = mxfp8_choose,
    .quantize_col = mxfp8_col, .quantize = mxfp8_quantize, .dequantize = mxfp8_dequantize,
    .scale_at = mxfp8_scale_at, .zero_at = mxfp8_zero_at, .code_at = mxfp8_code_at, .has_mse = 1,
    .choose_scales_shrunk = mxfp8_shrunk, .n_domains = mxfp8_n_domains, .domain_at = mxfp8_domain_at,
    .copy_domain = mxfp8_copy_domain, .resolve = mxfp8_resolve, .parse = mxfp8_parse, .label = mxfp8_label,
};
