/* fp8_channel -- see fp8_channel.h. */
#include "formats/fp8_channel.h"

#include "formats/amax.h"
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
