/* fp8_group -- see fp8_group.h. */
#include "formats/fp8_group.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/fp8_tensor.h"

void fp8_group_quantize_row_ref(const float *x, uint8_t *q, float *scales, int64_t K) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld", (long long)K);
    /* Each group of 128 is its own scale domain (amax NaN poisons only that group). */
    for (int64_t g = 0; g < K / FP8_GROUP_SIZE; g++) {
        const float *xg = x + g * FP8_GROUP_SIZE;
        scales[g] = fp8_tensor_scale(amax_ref(xg, FP8_GROUP_SIZE), FP8_TENSOR_E4M3);
        fp8_tensor_quantize_row_ref(xg, q + g * FP8_GROUP_SIZE, FP8_GROUP_SIZE, scales[g], FP8_TENSOR_E4M3);
    }
}

void fp8_group_dequantize_row_ref(const uint8_t *q, const float *scales, float *y, int64_t K) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld", (long long)K);
    for (int64_t g = 0; g < K / FP8_GROUP_SIZE; g++)
        fp8_tensor_dequantize_row_ref(q + g * FP8_GROUP_SIZE, y + g * FP8_GROUP_SIZE, FP8_GROUP_SIZE,
                                      scales[g], FP8_TENSOR_E4M3);
}

// ---- registry row ----

static void fp8_group_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                             size_t *zeros) {
    (void)p;
    *data = (size_t)N * (size_t)K;
    *scales = sizeof(float) * (size_t)N * (size_t)K / FP8_GROUP_SIZE;
    *zeros = 0;
}

static void fp8_group_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, FP8_GROUP_SIZE);
    int64_t ng = q->K / FP8_GROUP_SIZE;
    float *sc = (float *)q->scales;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t g = k0 / FP8_GROUP_SIZE; g < k1 / FP8_GROUP_SIZE; g++)
            sc[n * ng + g] = fp8_tensor_scale(amax_ref(w + n * q->K + g * FP8_GROUP_SIZE, FP8_GROUP_SIZE) * p,
                                              FP8_TENSOR_E4M3);
}

static void fp8_group_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    fp8_group_shrunk(q, w, k0, k1, 1.0f);
}

static void fp8_group_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const float *sc = (const float *)q->scales;
    int64_t ng = q->K / FP8_GROUP_SIZE;
    for (int64_t n = 0; n < q->N; n++) {
        float s = sc[n * ng + k / FP8_GROUP_SIZE];
        uint8_t c = fp8_tensor_encode(col[n * cs], s, FP8_TENSOR_E4M3);
        q->data[n * q->K + k] = c;
        if (deq) deq[n * ds] = fp8_tensor_decode(c, s, FP8_TENSOR_E4M3);
    }
}

static void fp8_group_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        fp8_group_quantize_row_ref(w + n * K, q->data + n * K, (float *)q->scales + n * (K / FP8_GROUP_SIZE), K);
}

static void fp8_group_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        fp8_group_dequantize_row_ref(q->data + n * K, (const float *)q->scales + n * (K / FP8_GROUP_SIZE),
                                     w + n * K, K);
}

static int64_t fp8_group_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / FP8_GROUP_SIZE) + k / FP8_GROUP_SIZE;
}
static float fp8_group_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return ((const float *)q->scales)[fp8_group_domain_at(q, n, k)];
}
static float fp8_group_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float fp8_group_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e4m3_to_float(q->data[n * q->K + k]);
}
static int64_t fp8_group_n_domains(const struct qtensor *q) { return q->N * (q->K / FP8_GROUP_SIZE); }
static void fp8_group_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((float *)dst->scales)[d] = ((const float *)src->scales)[d];
}

const struct qformat_ops fp8_group_ops = {
    .name = "fp8-group128", .block_k = FP8_GROUP_SIZE, .bits = 8.0 + 32.0 / 128.0, .has_global = 0,
    .desc = "E4M3, FP32 scale per 1x128 group along K", .layout = fp8_group_layout,
    .choose_scales = fp8_group_choose, .quantize_col = fp8_group_col, .quantize = fp8_group_quantize,
    .dequantize = fp8_group_dequantize, .scale_at = fp8_group_scale_at, .zero_at = fp8_group_zero_at,
    .code_at = fp8_group_code_at, .has_mse = 1, .choose_scales_shrunk = fp8_group_shrunk,
    .n_domains = fp8_group_n_domains, .domain_at = fp8_group_domain_at, .copy_domain = fp8_group_copy_domain,
};
