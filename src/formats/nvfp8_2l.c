/* nvfp8_2l -- see nvfp8_2l.h. */
#include "formats/nvfp8_2l.h"

#include <math.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/ue4m3.h"

float nvfp8_2l_global_scale(float amax) {
    if (!isfinite(amax)) return NAN;
    if (amax == 0.0f) return 1.0f;
    float g = (448.0f * 448.0f) / amax;
    return g > NVFP8_2L_GLOBAL_MAX ? NVFP8_2L_GLOBAL_MAX : g;
}

void nvfp8_2l_quantize_row_ref(const float *x, struct nvfp8_2l_block *y, int64_t K, float global) {
    CHECK(K % NVFP8_2L_BLOCK_SIZE == 0, "nvfp8-2l: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP8_2L_BLOCK_SIZE; b++) {
        const float *xb = x + b * NVFP8_2L_BLOCK_SIZE;
        /* As nvfp4 with E4M3's 448 in place of E2M1's 6: amax_b / 448 * g <= 448 since amax_b <= amax. */
        uint8_t s = ue4m3_from_float((amax_ref(xb, NVFP8_2L_BLOCK_SIZE) / 448.0f) * global);
        float d = ue4m3_to_float(s);
        y[b].s = s;
        /* The applied scale is d / g; its rounded inverse multiplies (the NVIDIA form). Zero or NaN scale:
         * zero codes, so no division by zero and no NaN reaching the element codec. */
        float rs = d > 0.0f ? 1.0f / (d / global) : 0.0f;
        for (int i = 0; i < NVFP8_2L_BLOCK_SIZE; i++) y[b].qs[i] = d > 0.0f ? e4m3_from_float(xb[i] * rs) : 0;
    }
}

void nvfp8_2l_dequantize_row_ref(const struct nvfp8_2l_block *x, float *y, int64_t K, float global) {
    CHECK(K % NVFP8_2L_BLOCK_SIZE == 0, "nvfp8-2l: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP8_2L_BLOCK_SIZE; b++) {
        float d = ue4m3_to_float(x[b].s);
        /* e4m3 * ue4m3: two 4-bit significands, an exact 8-bit product; the division rounds once. */
        for (int i = 0; i < NVFP8_2L_BLOCK_SIZE; i++)
            y[b * NVFP8_2L_BLOCK_SIZE + i] = (e4m3_to_float(x[b].qs[i]) * d) / global;
    }
}
