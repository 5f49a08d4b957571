/* e2m1 -- the FP4 E2M1 element codec (OCP MX v1.0 section 5.3.3; NVIDIA __NV_E2M1), used by mxfp4, nvfp4.
 * Layout (4 bits, in the low nibble of the byte the functions take and return): sign | 2 exponent bits
 * (bias 1) | 1 mantissa bit. Magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; no Inf and no NaN. Encoding rounds to
 * nearest, ties to even code: the midpoints 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5 go to 0, 1, 1, 2, 2, 4, 4.
 * |x| > 6 and +-Inf saturate to +-6; NaN encodes to +6 (0x7), as CUDA's __nv_cvt_float_to_fp4 does: the
 * block schemes never pass NaN here (they poison the block scale instead). Sign of zero is kept (0x8). */
#ifndef SRC_FORMATS_E2M1_H
#define SRC_FORMATS_E2M1_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define E2M1_MAX 6.0f
#define E2M1_EMAX 2 /* exponent of the largest binade, the emax_elem of the OCP MX scale rule */

/* Encodes x as E2M1 (returned in the low nibble): round-to-nearest-even, saturating, NaN -> 0x7. */
uint8_t e2m1_from_float(float x);

/* Decodes the low nibble of c exactly (the high nibble is ignored). */
float e2m1_to_float(uint8_t c);

/* e2m1_to_float(e2m1_from_float(x)). */
float e2m1_round(float x);

#ifdef __cplusplus
}
#endif
#endif
