/* e5m2 -- see e5m2.h. */
#include "formats/e5m2.h"

#include <math.h>

#include "formats/minifloat.h"

uint8_t e5m2_from_float(float x) {
    uint32_t u = minifloat_f2u(x);
    if (isnan(x)) return E5M2_NAN;
    /* Saturate at 0x7B: a value rounding up to 0x7C (the Inf code) is clamped back to the largest finite. */
    uint32_t mag = minifloat_round_mag(u & 0x7FFFFFFFu, 2, 15, 0x7Bu);
    return (uint8_t)(((u >> 31) << 7) | mag);
}

float e5m2_to_float(uint8_t c) {
    uint32_t mag = c & 0x7Fu;
    if (mag > 0x7Cu) return NAN;
    float v = mag == 0x7Cu ? INFINITY : minifloat_decode_mag(mag, 2, 15);
    return (c & 0x80u) ? -v : v;
}

float e5m2_round(float x) { return e5m2_to_float(e5m2_from_float(x)); }
