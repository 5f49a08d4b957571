/* int4g_sym -- see int4g_sym.h. */
#include "formats/int4g_sym.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/bf16.h"
#include "formats/int4.h"

void int4g_sym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, int64_t K, int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-sym: K=%lld G=%d", (long long)K, G);
    /* Groups never straddle rows (K % G == 0), so nibble g*G+i of this row's q is element g*G+i. */
    for (int64_t g = 0; g < K / G; g++) {
        const float *xg = x + g * G;
        /* amax / 7 maps the largest magnitude onto code +-7; a NaN amax (non-finite group) stays NaN in
         * BF16, so the group decodes to NaN; 0 stays 0 (the all-zero group). */
        scales[g] = bf16_from_float(amax_ref(xg, G) / (float)INT4_MAX);
        /* Quantize with the scale as stored (decoded BF16), so that decode(q) uses the same number. */
        float s = bf16_to_float(scales[g]);
        for (int i = 0; i < G; i++) int4_set(q, g * G + i, s > 0.0f ? int4_from_float(xg[i] / s) : 0);
    }
}

void int4g_sym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, float *y, int64_t K, int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-sym: K=%lld G=%d", (long long)K, G);
    /* A small integer times a BF16 value is exact in FP32. */
    for (int64_t k = 0; k < K; k++) y[k] = (float)int4_get(q, k) * bf16_to_float(scales[k / G]);
}
