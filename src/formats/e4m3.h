/* e4m3 -- the FP8 E4M3 element codec (OCP 8-bit floating point v1.0, "E4M3FN"; NVIDIA __NV_E4M3).
 * Layout: sign | 4 exponent bits (bias 7) | 3 mantissa bits. No infinities; 0x7F and 0xFF are NaN; the
 * largest finite magnitude is 0x7E = 448, the smallest subnormal 2^-9. Encoding rounds to nearest, ties to
 * even, and saturates: |x| > 448 (and +-Inf) gives +-448, as cvt.rn.satfinite / __NV_SATFINITE do. NaN of
 * either sign encodes to 0x7F (CUDA canonicalises NaN the same way); -0.0 and negative values that round to
 * zero keep their sign (0x80). Decoding is exact into float; both NaN codes decode to a quiet NaN. */
#ifndef SRC_FORMATS_E4M3_H
#define SRC_FORMATS_E4M3_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define E4M3_MAX 448.0f
#define E4M3_NAN 0x7Fu
#define E4M3_EMAX 8 /* exponent of the largest binade, the emax_elem of the OCP MX scale rule */

/* Encodes x as E4M3: round-to-nearest-even, saturating, NaN -> 0x7F (see the header comment). */
uint8_t e4m3_from_float(float x);

/* Decodes an E4M3 code exactly; 0x7F / 0xFF give NaN. */
float e4m3_to_float(uint8_t c);

/* e4m3_to_float(e4m3_from_float(x)): x rounded onto the E4M3 grid. */
float e4m3_round(float x);

#ifdef __cplusplus
}
#endif
#endif
