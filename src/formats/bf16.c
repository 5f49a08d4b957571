/* bf16 -- see bf16.h. */
#include "formats/bf16.h"

#include <math.h>

#include "formats/minifloat.h"

uint16_t bf16_from_float(float x) {
    uint32_t u = minifloat_f2u(x);
    if (isnan(x)) return (uint16_t)((u >> 16) | 0x0040u);
    /* Adding 0x7FFF plus the lowest kept bit rounds the dropped half to nearest, ties to even; a carry
     * propagates into the exponent (and to Inf at the top), which is the IEEE behaviour. */
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t h) { return minifloat_u2f((uint32_t)h << 16); }

float bf16_round(float x) { return bf16_to_float(bf16_from_float(x)); }

void bf16_quantize_row_ref(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_from_float(src[i]);
}

void bf16_dequantize_row_ref(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_float(src[i]);
}

// ---- registry row ----

static void bf16_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                        size_t *zeros) {
    (void)p;
    *data = 2 * (size_t)N * (size_t)K;
    *scales = *zeros = 0;
}

/* No scales: nothing to choose. */
static void bf16_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    (void)w;
    qformat_check_cols(q, k0, k1, 1);
}

static void bf16_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    uint16_t *c = (uint16_t *)q->data;
    for (int64_t n = 0; n < q->N; n++) {
        c[n * q->K + k] = bf16_from_float(col[n * cs]);
        if (deq) deq[n * ds] = bf16_to_float(c[n * q->K + k]);
    }
}

static void bf16_quantize(struct qtensor *q, const float *w) {
    bf16_quantize_row_ref(w, (uint16_t *)q->data, q->N * q->K);
}

static void bf16_dequantize(const struct qtensor *q, float *w) {
    bf16_dequantize_row_ref((const uint16_t *)q->data, w, q->N * q->K);
}

static float bf16_scale_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 1.0f; }
static float bf16_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float bf16_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return bf16_to_float(((const uint16_t *)q->data)[n * q->K + k]);
}

const struct qformat_ops bf16_ops = {
    .name = "bf16", .block_k = 1, .bits = 16.0, .has_global = 0, .desc = "BF16, no scale",
    .layout = bf16_layout, .choose_scales = bf16_choose, .quantize_col = bf16_col, .quantize = bf16_quantize,
    .dequantize = bf16_dequantize, .scale_at = bf16_scale_at, .zero_at = bf16_zero_at, .code_at = bf16_code_at,
    .has_mse = 0,
};
