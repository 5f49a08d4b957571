/* e5m2 -- the FP8 E5M2 element codec (OCP 8-bit floating point v1.0; NVIDIA __NV_E5M2), IEEE-like.
 * Layout: sign | 5 exponent bits (bias 15) | 2 mantissa bits. 0x7C / 0xFC are +-Inf, 0x7D-0x7F and
 * 0xFD-0xFF NaN; the largest finite magnitude is 0x7B = 57344, the smallest subnormal 2^-16. Encoding rounds
 * to nearest, ties to even, and saturates: |x| >= 61440 (the midpoint towards Inf) and +-Inf give +-57344,
 * as __NV_SATFINITE does, so the encoder never writes an Inf code. NaN encodes to 0x7F. -0.0 and negative
 * values that round to zero keep their sign (0x80). Decoding is exact; the Inf codes decode to +-Inf. */
#ifndef SRC_FORMATS_E5M2_H
#define SRC_FORMATS_E5M2_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define E5M2_MAX 57344.0f
#define E5M2_NAN 0x7Fu
#define E5M2_EMAX 15 /* exponent of the largest finite binade */

/* Encodes x as E5M2: round-to-nearest-even, saturating to +-57344, NaN -> 0x7F. */
uint8_t e5m2_from_float(float x);

/* Decodes an E5M2 code exactly (Inf codes to +-Inf, NaN codes to NaN). */
float e5m2_to_float(uint8_t c);

/* e5m2_to_float(e5m2_from_float(x)). */
float e5m2_round(float x);

#ifdef __cplusplus
}
#endif
#endif
