/* int4g_asym -- see int4g_asym.h. */
#include "formats/int4g_asym.h"

#include <math.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/int4.h"

void int4g_asym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, uint8_t *zeros, int64_t K,
                                 int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-asym: K=%lld G=%d", (long long)K, G);
    for (int64_t g = 0; g < K / G; g++) {
        const float *xg = x + g * G;
        /* lo <= 0 <= hi by construction: the grid always contains 0 exactly (code z). */
        float lo = 0.0f, hi = 0.0f;
        int finite = 1;
        for (int i = 0; i < G; i++) {
            if (!isfinite(xg[i])) finite = 0;
            if (xg[i] < lo) lo = xg[i];
            if (xg[i] > hi) hi = xg[i];
        }
        /* 15 steps span [lo, hi]; the zero point is computed from the BF16 scale as stored, so that
         * quantization and decoding use the same number. */
        scales[g] = bf16_from_float(finite ? (hi - lo) / (float)INT4_UMAX : NAN);
        float s = bf16_to_float(scales[g]);
        /* !(s > 0): the all-zero group (or a NaN scale) stores zero point 0 and zero codes. */
        int z = s > 0.0f ? int4_from_float_u(-lo / s) : 0;
        zeros[g] = (uint8_t)z;
        for (int i = 0; i < G; i++)
            int4_set(q, g * G + i, s > 0.0f ? int4_from_float_u(rintf(xg[i] / s) + (float)z) : 0);
    }
}

void int4g_asym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, const uint8_t *zeros, float *y,
                                   int64_t K, int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-asym: K=%lld G=%d", (long long)K, G);
    /* (q - z) is an integer in -15..15; times a BF16 scale it is exact in FP32. */
    for (int64_t k = 0; k < K; k++)
        y[k] = (float)(int4_get_u(q, k) - zeros[k / G]) * bf16_to_float(scales[k / G]);
}
