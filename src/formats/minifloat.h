/* minifloat -- the shared rounding core of the small IEEE-like formats (E4M3, E5M2, E2M1, UE4M3).
 * A format is (mbits mantissa bits, exponent bias, largest finite magnitude code); codes are
 * exponent << mbits | mantissa, exponent field 0 meaning subnormal (m * 2^(1-bias-mbits)). Rounding is
 * round-to-nearest-even computed on the integer bits of the float (no float arithmetic, so no double
 * rounding), and magnitudes above the largest finite code saturate to it. Signs, NaN and Inf are the
 * callers' business: each element codec (e4m3.h, e5m2.h, e2m1.h, ue4m3.h) states its own policy. */
#ifndef SRC_FORMATS_MINIFLOAT_H
#define SRC_FORMATS_MINIFLOAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the bit pattern of the float x, and the float with bit pattern u (memcpy, no aliasing UB). */
uint32_t minifloat_f2u(float x);
float minifloat_u2f(uint32_t u);

/* Rounds the non-negative float with bit pattern abits (sign bit clear; finite or +Inf, not NaN) to the
 * nearest magnitude code of the format (mbits, bias), ties to the even code, and saturates to max_code
 * (+Inf saturates too). Float subnormals (< 2^-126) round to code 0 in every format we use. */
uint32_t minifloat_round_mag(uint32_t abits, int mbits, int bias, uint32_t max_code);

/* Decodes a magnitude code (no sign bit) of the format (mbits, bias) as a non-negative float; exact. The
 * caller filters the codes that mean NaN or Inf. */
float minifloat_decode_mag(uint32_t code, int mbits, int bias);

#ifdef __cplusplus
}
#endif
#endif
