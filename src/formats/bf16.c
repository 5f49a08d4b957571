/* bf16 -- see bf16.h. */
#include "formats/bf16.h"

#include <math.h>

#include "formats/minifloat.h"

uint16_t bf16_from_float(float x) {
    uint32_t u = minifloat_f2u(x);
    if (isnan(x)) return (uint16_t)((u >> 16) | 0x0040u);
    /* Adding 0x7FFF plus the lowest kept bit rounds the dropped half to nearest, ties to even; a carry
     * propagates into the exponent (and to Inf at the top), which is the IEEE behaviour. */
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t h) { return minifloat_u2f((uint32_t)h << 16); }

float bf16_round(float x) { return bf16_to_float(bf16_from_float(x)); }

void bf16_quantize_row_ref(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_from_float(src[i]);
}

void bf16_dequantize_row_ref(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_float(src[i]);
}
