/* fp8_tensor -- see fp8_tensor.h. */
#include "formats/fp8_tensor.h"

#include <math.h>

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
