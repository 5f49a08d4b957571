/* nvfp4 -- see nvfp4.h. */
#include "formats/nvfp4.h"

#include <math.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e2m1.h"
#include "formats/ue4m3.h"

float nvfp4_global_scale(float amax) {
    if (!isfinite(amax)) return NAN;
    if (amax == 0.0f) return 1.0f;
    float g = (448.0f * 6.0f) / amax;
    return g > NVFP4_GLOBAL_MAX ? NVFP4_GLOBAL_MAX : g;
}

void nvfp4_quantize_row_ref(const float *x, struct nvfp4_block *y, int64_t K, float global) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP4_BLOCK_SIZE; b++) {
        const float *xb = x + b * NVFP4_BLOCK_SIZE;
        /* amax_b / 6 maps the block maximum onto E2M1's 6; times g puts it in UE4M3's range (<= 448
         * because amax_b <= amax). A NaN amax_b or global becomes the NaN scale code. */
        uint8_t s = ue4m3_from_float((amax_ref(xb, NVFP4_BLOCK_SIZE) / 6.0f) * global);
        float d = ue4m3_to_float(s);
        y[b].s = s;
        /* d / g is the scale actually applied; !(d > 0) is the zero or NaN scale: store zero codes. */
        float rs = d > 0.0f ? 1.0f / (d / global) : 0.0f;
        for (int i = 0; i < NVFP4_BLOCK_SIZE / 2; i++) {
            uint8_t lo = d > 0.0f ? e2m1_from_float(xb[2 * i] * rs) : 0;
            uint8_t hi = d > 0.0f ? e2m1_from_float(xb[2 * i + 1] * rs) : 0;
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void nvfp4_dequantize_row_ref(const struct nvfp4_block *x, float *y, int64_t K, float global) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP4_BLOCK_SIZE; b++) {
        float d = ue4m3_to_float(x[b].s);
        float *yb = y + b * NVFP4_BLOCK_SIZE;
        /* e2m1 (2 significant bits) times ue4m3 (4 bits) is exact in FP32; the division rounds once. */
        for (int i = 0; i < NVFP4_BLOCK_SIZE / 2; i++) {
            yb[2 * i] = (e2m1_to_float(x[b].qs[i] & 0xF) * d) / global;
            yb[2 * i + 1] = (e2m1_to_float(x[b].qs[i] >> 4) * d) / global;
        }
    }
}
