/* fp8_tensor -- see fp8_tensor.h. */
#include "formats/fp8_tensor.h"

#include <math.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/e5m2.h"

float fp8_tensor_elem_max(enum fp8_tensor_elem elem) {
    return elem == FP8_TENSOR_E5M2 ? E5M2_MAX : E4M3_MAX;
}

float fp8_tensor_scale(float amax, enum fp8_tensor_elem elem) {
    return amax / fp8_tensor_elem_max(elem);
}

void fp8_tensor_quantize_row_ref(const float *x, uint8_t *q, int64_t n, float scale,
                                 enum fp8_tensor_elem elem) {
    /* !(scale > 0) catches both the zero scale of an all-zero domain and the NaN of a poisoned one. */
    if (!(scale > 0.0f)) {
        for (int64_t i = 0; i < n; i++) q[i] = 0;
        return;
    }
    /* Division, not multiplication by 1/scale: one correctly rounded operation, the same on the GPU
     * (__fdiv_rn), and the form of Qwen's FP8 checkpoints (weight_scale_inv = amax/448, w = q * scale). */
    if (elem == FP8_TENSOR_E5M2)
        for (int64_t i = 0; i < n; i++) q[i] = e5m2_from_float(x[i] / scale);
    else
        for (int64_t i = 0; i < n; i++) q[i] = e4m3_from_float(x[i] / scale);
}

void fp8_tensor_dequantize_row_ref(const uint8_t *q, float *y, int64_t n, float scale,
                                   enum fp8_tensor_elem elem) {
    if (elem == FP8_TENSOR_E5M2)
        for (int64_t i = 0; i < n; i++) y[i] = e5m2_to_float(q[i]) * scale;
    else
        for (int64_t i = 0; i < n; i++) y[i] = e4m3_to_float(q[i]) * scale;
}

float fp8_tensor_quantize_ref(const float *x, uint8_t *q, int64_t n, float amax,
                              enum fp8_tensor_elem elem) {
    if (!(amax > 0.0f)) amax = amax_ref(x, n);
    float scale = fp8_tensor_scale(amax, elem);
    fp8_tensor_quantize_row_ref(x, q, n, scale, elem);
    return scale;
}

// ---- registry rows (fp8-tensor, e5m2-tensor) ----

static enum fp8_tensor_elem elem_of(const struct qtensor *q) {
    return q->format == QFORMAT_E5M2_TENSOR ? FP8_TENSOR_E5M2 : FP8_TENSOR_E4M3;
}

static void fp8_tensor_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                              size_t *zeros) {
    (void)p;
    *data = (size_t)N * (size_t)K;
    *scales = *zeros = 0;
}

/* The one domain is the tensor: its scale is chosen over [0, K) (or from a static amax, never shrunk). */
static void fp8_tensor_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, 1);
    if (!qformat_global_due(q, k0, k1)) return;
    float amax = q->params.amax > 0.0f ? q->params.amax : amax_ref(w, q->N * q->K) * p;
    q->global_scale = fp8_tensor_scale(amax, elem_of(q));
    q->global_set = 1;
}

static void fp8_tensor_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    fp8_tensor_shrunk(q, w, k0, k1, 1.0f);
}

uint8_t fp8_tensor_encode(float x, float scale, enum fp8_tensor_elem elem) {
    /* The same expression as fp8_tensor_quantize_row_ref, element by element. */
    if (!(scale > 0.0f)) return 0;
    return elem == FP8_TENSOR_E5M2 ? e5m2_from_float(x / scale) : e4m3_from_float(x / scale);
}

float fp8_tensor_decode(uint8_t c, float scale, enum fp8_tensor_elem elem) {
    return (elem == FP8_TENSOR_E5M2 ? e5m2_to_float(c) : e4m3_to_float(c)) * scale;
}

static void fp8_tensor_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    CHECK(q->global_set, "%s: quantize_col before the per-tensor scale was chosen", qformat_name(q->format));
    enum fp8_tensor_elem e = elem_of(q);
    for (int64_t n = 0; n < q->N; n++) {
        uint8_t c = fp8_tensor_encode(col[n * cs], q->global_scale, e);
        q->data[n * q->K + k] = c;
        if (deq) deq[n * ds] = fp8_tensor_decode(c, q->global_scale, e);
    }
}

static void fp8_tensor_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    float amax = q->params.amax > 0.0f ? q->params.amax : 0.0f;
    q->global_scale = fp8_tensor_quantize_ref(w, q->data, q->N * q->K, amax, elem_of(q));
    q->global_set = 1;
}

static void fp8_tensor_dequantize(const struct qtensor *q, float *w) {
    fp8_tensor_dequantize_row_ref(q->data, w, q->N * q->K, q->global_scale, elem_of(q));
}

static float fp8_tensor_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    (void)n, (void)k;
    return q->global_scale;
}
static float fp8_tensor_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float fp8_tensor_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return fp8_tensor_decode(q->data[n * q->K + k], 1.0f, elem_of(q));
}
static int64_t fp8_tensor_n_domains(const struct qtensor *q) { (void)q; return 1; }
static int64_t fp8_tensor_domain_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0; }
static void fp8_tensor_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    (void)d;
    dst->global_scale = src->global_scale;
    dst->global_set = src->global_set;
}

#define FP8_TENSOR_OPS_COMMON                                                                                   \
    .block_k = 1, .bits = 8.0, .has_global = 1, .layout = fp8_tensor_layout, .choose_scales = fp8_tensor_choose, \
    .quantize_col = fp8_tensor_col, .quantize = fp8_tensor_quantize, .dequantize = fp8_tensor_dequantize,        \
    .scale_at = fp8_tensor_scale_at, .zero_at = fp8_tensor_zero_at, .code_at = fp8_tensor_code_at,               \
    .has_mse = 1, .choose_scales_shrunk = fp8_tensor_shrunk, .n_domains = fp8_tensor_n_domains,                  \
    .domain_at = fp8_tensor_domain_at, .copy_domain = fp8_tensor_copy_domain

const struct qformat_ops fp8_tensor_ops = {.name = "fp8-tensor", .desc = "E4M3, FP32 scale per tensor",
                                           FP8_TENSOR_OPS_COMMON};
const struct qformat_ops e5m2_tensor_ops = {.name = "e5m2-tensor", .desc = "E5M2, FP32 scale per tensor",
                                            FP8_TENSOR_OPS_COMMON};
