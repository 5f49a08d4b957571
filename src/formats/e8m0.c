/* e8m0 -- see e8m0.h. */
#include "formats/e8m0.h"

#include <math.h>

#include "formats/minifloat.h"

/* floor(log2 a) and whether a is an exact power of two, for a finite a > 0, from its bits: the biased
 * exponent for normals, the position of the leading mantissa bit for subnormals (a = m * 2^-149). */
static int ilog2_floor(float a, int *is_pow2) {
    uint32_t u = minifloat_f2u(a) & 0x7FFFFFFFu;
    uint32_t fexp = u >> 23, m = u & 0x7FFFFFu;
    if (fexp != 0) {
        *is_pow2 = (m == 0);
        return (int)fexp - 127;
    }
    int msb = 31;
    while (!(m >> msb)) msb--;
    *is_pow2 = (m & (m - 1u)) == 0;
    return msb - 149;
}

static uint8_t clamp_code(int e) {
    if (e < -E8M0_BIAS) e = -E8M0_BIAS;
    if (e > E8M0_BIAS) e = E8M0_BIAS;
    return (uint8_t)(e + E8M0_BIAS);
}

uint8_t e8m0_from_float(float x, enum e8m0_rule rule) {
    if (isnan(x)) return E8M0_NAN;
    float a = fabsf(x);
    if (isinf(a)) return 0xFEu;
    if (a == 0.0f) return 0;
    int pow2, e = ilog2_floor(a, &pow2);
    if (rule == E8M0_RULE_CEIL && !pow2) e++;
    return clamp_code(e);
}

float e8m0_to_float(uint8_t c) {
    if (c == E8M0_NAN) return NAN;
    /* Code 0 is 2^-127: the float subnormal with only mantissa bit 22 set. */
    return c == 0 ? minifloat_u2f(0x00400000u) : minifloat_u2f((uint32_t)c << 23);
}

uint8_t e8m0_mx_scale(float amax, int emax_elem, float max_elem, enum e8m0_rule rule) {
    if (!isfinite(amax)) return E8M0_NAN;
    if (amax == 0.0f) return 0;
    int pow2, e = ilog2_floor(amax, &pow2) - emax_elem;
    (void)pow2;
    /* amax / 2^e lies in [2^emax_elem, 2^(emax_elem+1)) and ldexpf is exact there, so the ceil test is
     * exact: one step up exactly when the block maximum would not fit under max_elem. */
    if (rule == E8M0_RULE_CEIL && ldexpf(amax, -e) > max_elem) e++;
    return clamp_code(e);
}
