/* int8_channel -- see int8_channel.h. */
#include "formats/int8_channel.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/int8.h"

float int8_channel_quantize_row_ref(const float *x, int8_t *q, int64_t K) {
    /* Symmetric: amax maps to +-127, so RTN never produces -128 (kept as a valid code for decoding). */
    float scale = amax_ref(x, K) / (float)INT8_QMAX;
    for (int64_t k = 0; k < K; k++) q[k] = scale > 0.0f ? int8_from_float(x[k] / scale) : 0;
    return scale;
}

void int8_channel_dequantize_row_ref(const int8_t *q, float scale, float *y, int64_t K) {
    for (int64_t k = 0; k < K; k++) y[k] = (float)q[k] * scale;
}

// ---- registry row ----

static void int8_channel_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                                size_t *zeros) {
    (void)p;
    *data = (size_t)N * (size_t)K;
    *scales = sizeof(float) * (size_t)N;
    *zeros = 0;
}

/* A row spans all of K: chosen from the whole row whatever [k0, k1). */
static void int8_channel_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, 1);
    float *sc = (float *)q->scales;
    for (int64_t n = 0; n < q->N; n++) sc[n] = amax_ref(w + n * q->K, q->K) * p / (float)INT8_QMAX;
}

static void int8_channel_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    int8_channel_shrunk(q, w, k0, k1, 1.0f);
}

static void int8_channel_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const float *sc = (const float *)q->scales;
    int8_t *c = (int8_t *)q->data;
    for (int64_t n = 0; n < q->N; n++) {
        /* As int8_channel_quantize_row_ref: zero codes for a zero or NaN scale. */
        c[n * q->K + k] = sc[n] > 0.0f ? int8_from_float(col[n * cs] / sc[n]) : 0;
        if (deq) deq[n * ds] = (float)c[n * q->K + k] * sc[n];
    }
}

static void int8_channel_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    float *sc = (float *)q->scales;
    for (int64_t n = 0; n < q->N; n++)
        sc[n] = int8_channel_quantize_row_ref(w + n * q->K, (int8_t *)q->data + n * q->K, q->K);
}

static void int8_channel_dequantize(const struct qtensor *q, float *w) {
    const float *sc = (const float *)q->scales;
    for (int64_t n = 0; n < q->N; n++)
        int8_channel_dequantize_row_ref((const int8_t *)q->data + n * q->K, sc[n], w + n * q->K, q->K);
}

static float int8_channel_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    (void)k;
    return ((const float *)q->scales)[n];
}
static float int8_channel_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float int8_channel_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return (float)((const int8_t *)q->data)[n * q->K + k];
}
static int64_t int8_channel_n_domains(const struct qtensor *q) { return q->N; }
static int64_t int8_channel_domain_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)k; return n; }
static void int8_channel_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((float *)dst->scales)[d] = ((const float *)src->scales)[d];
}

const struct qformat_ops int8_channel_ops = {
    .name = "int8-channel", .block_k = 1, .bits = 8.0, .has_global = 0, .desc = "INT8, FP32 scale per row",
    .layout = int8_channel_layout, .choose_scales = int8_channel_choose, .quantize_col = int8_channel_col,
    .quantize = int8_channel_quantize, .dequantize = int8_channel_dequantize, .scale_at = int8_channel_scale_at,
    .zero_at = int8_channel_zero_at, .code_at = int8_channel_code_at, .has_mse = 1,
    .choose_scales_shrunk = int8_channel_shrunk, .n_domains = int8_channel_n_domains,
    .domain_at = int8_channel_domain_at, .copy_domain = int8_channel_copy_domain,
};
