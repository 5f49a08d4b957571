/* int8 -- the 8-bit integer element codec used by int8_channel. Codes are two's complement -128..127.
 * Encoding takes a value already divided by its scale, rounds to nearest with ties to even (rintf in the
 * default rounding mode; CUDA __float2int_rn) and clamps to -128..127; NaN encodes to 0 (schemes poison the
 * scale instead). With the symmetric scale amax/127 that int8_channel uses, RTN produces -127..127 only. */
#ifndef SRC_FORMATS_INT8_H
#define SRC_FORMATS_INT8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INT8_QMAX 127

/* Rounds v to the nearest integer (ties to even), clamped to -128..127; NaN -> 0. */
int8_t int8_from_float(float v);

#ifdef __cplusplus
}
#endif
#endif
