/* e4m3 -- see e4m3.h. */
#include "formats/e4m3.h"

#include <math.h>

#include "formats/minifloat.h"

uint8_t e4m3_from_float(float x) {
    uint32_t u = minifloat_f2u(x);
    if (isnan(x)) return E4M3_NAN;
    /* mbits 3, bias 7, saturating at 0x7E: the code 0x7F above it is NaN, never reached by rounding. */
    uint32_t mag = minifloat_round_mag(u & 0x7FFFFFFFu, 3, 7, 0x7Eu);
    return (uint8_t)(((u >> 31) << 7) | mag);
}

float e4m3_to_float(uint8_t c) {
    if ((c & 0x7Fu) == 0x7Fu) return NAN;
    float v = minifloat_decode_mag(c & 0x7Fu, 3, 7);
    return (c & 0x80u) ? -v : v;
}

float e4m3_round(float x) { return e4m3_to_float(e4m3_from_float(x)); }
