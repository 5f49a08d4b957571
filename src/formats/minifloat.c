/* minifloat -- see minifloat.h. */
#include "formats/minifloat.h"

#include <string.h>

uint32_t minifloat_f2u(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

float minifloat_u2f(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Round-to-nearest-even on the 24-bit significand. The value is m * 2^(e-23) with m = 1.f in [2^23, 2^24).
 * For a normal target the kept bits are the top mbits of f and the exponent field is e + bias; for a
 * subnormal target the value is counted in units of 2^(emin-mbits) (emin = 1 - bias), which means shifting
 * m right by 23 - mbits + (emin - e). The rounded-off bits `rem` are compared with half a unit; a carry out
 * of the mantissa moves into the exponent field, which is exactly the next binade's code. */
uint32_t minifloat_round_mag(uint32_t abits, int mbits, int bias, uint32_t max_code) {
    if (abits >= 0x7F800000u) return max_code;      /* +Inf saturates (NaN is excluded by the caller) */
    int fexp = (int)(abits >> 23);
    if (fexp == 0) return 0;                         /* zero or float subnormal: far below half a unit */
    uint32_t m = (abits & 0x7FFFFFu) | 0x800000u;
    int e = fexp - 127, emin = 1 - bias;
    int shift = 23 - mbits;
    uint32_t code;
    if (e >= emin) {
        code = ((uint32_t)(e + bias) << mbits) | ((m & 0x7FFFFFu) >> shift);
    } else {
        shift += emin - e;
        /* With shift >= 25, half a unit is 2^24 > m: the value is below half the smallest subnormal. */
        if (shift >= 25) return 0;
        code = m >> shift;
    }
    uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (code & 1u))) code++;
    return code > max_code ? max_code : code;
}

float minifloat_decode_mag(uint32_t code, int mbits, int bias) {
    uint32_t e = code >> mbits, m = code & ((1u << mbits) - 1u);
    if (e == 0) {
        /* Subnormal: m * 2^(1-bias-mbits); a small integer times a power of two, so exact. */
        float unit = minifloat_u2f((uint32_t)(1 - bias - mbits + 127) << 23);
        return (float)m * unit;
    }
    return minifloat_u2f(((e + 127u - (uint32_t)bias) << 23) | (m << (23 - mbits)));
}
