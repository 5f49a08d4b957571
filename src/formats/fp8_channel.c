/* fp8_channel -- see fp8_channel.h. */
#include "formats/fp8_channel.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/fp8_tensor.h"

/* One row is one scale domain: the per-tensor codec applied to K elements. */
float fp8_channel_quantize_row_ref(const float *x, uint8_t *q, int64_t K) {
    float scale = fp8_tensor_scale(amax_ref(x, K), FP8_TENSOR_E4M3);
    fp8_tensor_quantize_row_ref(x, q, K, scale, FP8_TENSOR_E4M3);
    return scale;
}

void fp8_channel_dequantize_row_ref(const uint8_t *q, float scale, float *y, int64_t K) {
    fp8_tensor_dequantize_row_ref(q, y, K, scale, FP8_TENSOR_E4M3);
}

void fp8_channel_quantize_ref(const float *w, int64_t N, int64_t K, uint8_t *q, float *scales) {
    for (int64_t n = 0; n < N; n++) scales[n] = fp8_channel_quantize_row_ref(w + n * K, q + n * K, K);
}

void fp8_channel_dequantize_ref(const uint8_t *q, const float *scales, int64_t N, int64_t K, float *w) {
    for (int64_t n = 0; n < N; n++) fp8_channel_dequantize_row_ref(q + n * K, scales[n], w + n * K, K);
}

// ---- registry row ----

static void fp8_channel_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                               size_t *zeros) {
    (void)p;
    *data = (size_t)N * (size_t)K;
    *scales = sizeof(float) * (size_t)N;
    *zeros = 0;
}

/* A row is one domain spanning all of K: it is chosen from the whole row whatever [k0, k1). */
static void fp8_channel_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, 1);
    float *sc = (float *)q->scales;
    for (int64_t n = 0; n < q->N; n++) sc[n] = fp8_tensor_scale(amax_ref(w + n * q->K, q->K) * p, FP8_TENSOR_E4M3);
}

static void fp8_channel_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    fp8_channel_shrunk(q, w, k0, k1, 1.0f);
}

static void fp8_channel_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const float *sc = (const float *)q->scales;
    for (int64_t n = 0; n < q->N; n++) {
        uint8_t c = fp8_tensor_encode(col[n * cs], sc[n], FP8_TENSOR_E4M3);
        q->data[n * q->K + k] = c;
        if (deq) deq[n * ds] = fp8_tensor_decode(c, sc[n], FP8_TENSOR_E4M3);
    }
}

static void fp8_channel_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    fp8_channel_quantize_ref(w, q->N, q->K, q->data, (float *)q->scales);
}

static void fp8_channel_dequantize(const struct qtensor *q, float *w) {
    fp8_channel_dequantize_ref(q->data, (const float *)q->scales, q->N, q->K, w);
}

static float fp8_channel_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    (void)k;
    return ((const float *)q->scales)[n];
}
static float fp8_channel_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float fp8_channel_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e4m3_to_float(q->data[n * q->K + k]);
}
static int64_t fp8_channel_n_domains(const struct qtensor *q) { return q->N; }
static int64_t fp8_channel_domain_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)k; return n; }
static void fp8_channel_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((float *)dst->scales)[d] = ((const float *)src->scales)[d];
}

const struct qformat_ops fp8_channel_ops = {
    .name = "fp8-channel", .block_k = 1, .bits = 8.0, .has_global = 0, .desc = "E4M3, FP32 scale per row",
    .layout = fp8_channel_layout, .choose_scales = fp8_channel_choose, .quantize_col = fp8_channel_col,
    .quantize = fp8_channel_quantize, .dequantize = fp8_channel_dequantize, .scale_at = fp8_channel_scale_at,
    .zero_at = fp8_channel_zero_at, .code_at = fp8_channel_code_at, .has_mse = 1,
    .choose_scales_shrunk = fp8_channel_shrunk, .n_domains = fp8_channel_n_domains,
    .domain_at = fp8_channel_domain_at, .copy_domain = fp8_channel_copy_domain,
};
