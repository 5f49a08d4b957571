/* fastexp -- vectorizable FP32 e^x; see fastexp.h. */
#include "ops/fastexp.h"

#include <string.h>

#include "core/check.h"

/* Constants, each exact as written (hex floats):
 * - FE_LOG2E = log2(e) rounded to FP32. It only picks n, so its error moves r a little past ln2/2, never
 *   into the result.
 * - FE_SHIFTER = 1.5 2^23: t = x log2e + FE_SHIFTER has ulp 1 for |x log2e| < 2^22, so the addition
 *   rounds x log2e to the nearest integer (ties to even) and leaves it in t's low mantissa bits.
 * - FE_LN2_HI + FE_LN2_LO = ln2 (Cody-Waite). FE_LN2_HI = 0xB172 2^-16 has 16 significant bits, so
 *   n FE_LN2_HI is exact for |n| <= 2^8 (we have |n| <= 150), and x - n FE_LN2_HI is exact (Sterbenz: both
 *   sides are within a factor 2 once n != 0). FE_LN2_LO = ln2 - FE_LN2_HI rounded to FP32 leaves
 *   |ln2 - HI - LO| < 2^-44, i.e. |n| 2^-44 < 2^-36 absolute in r: 2^-13 ulp, negligible.
 * - FE_X_MIN, FE_X_MAX: the clamp. e^-104 = 0.48 2^-149 rounds to 0, so every x < -104 gives 0 as it must
 *   (e^x < 2^-150 below x = -103.97, half the smallest subnormal). e^89 > FLT_MAX overflows to inf, as
 *   every x >= 88.72283935546875 must. The clamp keeps |n| <= 150, where the two-factor scaling is exact. */
#define FE_LOG2E 0x1.715476p+0f
#define FE_SHIFTER 0x1.8p+23f
#define FE_LN2_HI 0x1.62e4p-1f
#define FE_LN2_LO 0x1.7f7d1cp-20f
#define FE_X_MIN (-104.0f)
#define FE_X_MAX 89.0f

/* Clamp to [FE_X_MIN, FE_X_MAX] as plain comparisons: a NaN fails both and stays NaN, so r, p and y in
 * fastexp_core are NaN too. Kept out of fastexp_core's loop on purpose: in one loop GCC threads the jump
 * (x = -104 is a constant on one path, it folds the whole formula there) and the branches left behind stop
 * the vectorizer. */
static inline float fastexp_clamp(float x) {
    x = x < FE_X_MIN ? FE_X_MIN : x;
    return x > FE_X_MAX ? FE_X_MAX : x;
}

/* Error budget, in ulps of the exact e^x, for a normal result y = p 2^n (the scaling is then exact, so the
 * error is p's). Worst case is e^r just below 1 (r in [-0.3466, 0), ulp(p) = 2^-24); above 1 the ulp doubles
 * and every term but the last halves.
 *   r rounding: |r| < 0.5 rounds to 2^-26, plus n LO (2^-37) and ln2 - HI - LO (150 2^-45): 0.25
 *   Taylor truncation: |r|^8 / 8! = 5.2e-9 (e^xi <= 1 for r < 0):                           0.09
 *   coefficients 1/6 .. 1/5040 rounded to FP32: 2^-24 sum_{k>=3} |r|^k / k!:                0.01
 *   Horner P (|dP| < 1.33 2^-26) times r^2 <= 0.12:                                         0.04
 *   r^2 and r^2 P roundings (2^-28 x 0.5 and 2^-29):                                        0.06
 *   r + r^2 P, |.| in [0.25, 0.5): 2^-26:                                                   0.25
 *   1 + (...), the final rounding:                                                          0.50
 * Total 1.20 ulp. Since y and the correctly rounded value are both floats and 1.20 + 0.5 < 2, y is at most
 * 1 ulp from the correctly rounded e^x. Subnormal results: the first factor is exact, the second rounds once
 * (0.5 of 2^-149), and p's 0.70 ulp (the budget less its final 0.5) is worth at most 2^-150 each: 1.15
 * subnormal ulps. tests/test_fastexp.c measures 0.994 over [-104, 89]. */

/* e^x for x already clamped; inlined into the block loop, where GCC turns it into SSE2 vector code (the
 * int/float reinterpretations become no-ops, the int arithmetic paddd/psubd/pslld/psrad). */
static inline float fastexp_core(float x) {
    // n = round(x / ln2), read off the shifter's mantissa bits; nf = n as a float (exact).
    const float t = x * FE_LOG2E + FE_SHIFTER;
    uint32_t tb, sh;
    const float shifter = FE_SHIFTER;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sh, &shifter, sizeof sh);
    const int32_t n = (int32_t)(tb - sh);
    const float nf = t - FE_SHIFTER;
    // r = x - n ln2 in two steps; the first is exact (see FE_LN2_HI), the second rounds once.
    const float r = (x - nf * FE_LN2_HI) - nf * FE_LN2_LO;
    // e^r = 1 + (r + r^2 P(r)), P the Taylor tail 1/2 + r/6 + ... + r^5/5040 (Horner). Adding the 1 last
    // keeps the rounding of everything else at the scale of r, a quarter of the result's ulp or less.
    const float s = r * r;
    const float P = 0x1.0p-1f +
                    r * (0x1.555556p-3f +
                         r * (0x1.555556p-5f + r * (0x1.111112p-7f + r * (0x1.6c16c2p-10f + r * 0x1.a01a02p-13f))));
    const float p = 1.0f + (r + s * P);
    // 2^n as 2^n1 2^n2, n1 = n / 2 and n2 = n - n1 in [-75, 75]: both are normal floats, p 2^n1 is exact
    // (p >= 0.7, so p 2^n1 >= 2^-76 is normal), and the second product rounds once, into the subnormals or
    // to inf where e^x lies there.
    const int32_t n1 = n / 2, n2 = n - n1;
    const uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return (p * s1) * s2;
}

/* One block of FASTEXP_BLOCK values through stack buffers: the fixed trip count and the unaliased locals
 * are what lets -O2's cheap vectorizer take the loop (it refuses loops that need a scalar epilogue or a
 * runtime alias check). */
static void fastexp_block(float *y, const float *x) {
    float in[FASTEXP_BLOCK], out[FASTEXP_BLOCK];
    memcpy(in, x, sizeof in);
    for (int i = 0; i < FASTEXP_BLOCK; i++) in[i] = fastexp_clamp(in[i]);
    for (int i = 0; i < FASTEXP_BLOCK; i++) out[i] = fastexp_core(in[i]);
    memcpy(y, out, sizeof out);
}

/* Whole blocks straight from x to y, then the tail (n % FASTEXP_BLOCK values) zero-padded into one block.
 * Every element goes through the same arithmetic, so the result of an element depends on its value only. */
void fastexp_array(float *y, const float *x, int64_t n) {
    CHECK(n >= 0, "n=%lld", (long long)n);
    int64_t i = 0;
    for (; i + FASTEXP_BLOCK <= n; i += FASTEXP_BLOCK) fastexp_block(y + i, x + i);
    if (i < n) {
        float buf[FASTEXP_BLOCK] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        fastexp_block(buf, buf);
        memcpy(y + i, buf, (size_t)(n - i) * sizeof(float));
    }
}

/* Scalar entry point: the same function as the vector lanes (no FMA contraction, same operation order). */
float fastexp(float x) {
    return fastexp_core(fastexp_clamp(x));
}
