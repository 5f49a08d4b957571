/* e2m1 -- see e2m1.h. */
#include "formats/e2m1.h"

#include <math.h>

#include "formats/minifloat.h"

uint8_t e2m1_from_float(float x) {
    if (isnan(x)) return 0x7u;
    uint32_t u = minifloat_f2u(x);
    /* mbits 1, bias 1, every one of the 8 magnitude codes is finite: saturate at 0x7 (6.0). */
    uint32_t mag = minifloat_round_mag(u & 0x7FFFFFFFu, 1, 1, 0x7u);
    return (uint8_t)(((u >> 31) << 3) | mag);
}

float e2m1_to_float(uint8_t c) {
    float v = minifloat_decode_mag(c & 0x7u, 1, 1);
    return (c & 0x8u) ? -v : v;
}

float e2m1_round(float x) { return e2m1_to_float(e2m1_from_float(x)); }
