/* fp8_group -- see fp8_group.h. */
#include "formats/fp8_group.h"

#include "core/check.h"
#include "formats/amax.h"
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
