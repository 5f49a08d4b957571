/* f16 -- the IEEE 754 binary16 decoder (1 sign bit, 5 exponent bits with bias 15, 10 mantissa bits), used to
 * read F16 checkpoints (and, later, FP16 scales of GGUF / GPTQ files). Decoding is exact: every binary16 value,
 * subnormals included, is a binary32 value; +-Inf stays +-Inf, every NaN payload decodes to a quiet NaN of the
 * same sign. API: f16_to_float. */
#ifndef SRC_FORMATS_F16_H
#define SRC_FORMATS_F16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The binary32 value of the binary16 bits h (exact). */
float f16_to_float(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
