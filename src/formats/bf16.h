/* bf16 -- the bfloat16 codec: the top 16 bits of an IEEE binary32 (sign, 8 exponent bits, 7 mantissa).
 * Encoding rounds to nearest, ties to even, on the 16 dropped bits (as __float2bfloat16_rn and PyTorch do);
 * finite values too large round to +-Inf as IEEE rounding does (bf16 has float's range, so only values
 * within half an ulp of FLT_MAX can), +-Inf stays +-Inf, NaN becomes a quiet NaN of the same sign (the top
 * 16 bits with the quiet bit set, so a NaN never turns into Inf). Subnormals are kept. Decoding is exact. */
#ifndef SRC_FORMATS_BF16_H
#define SRC_FORMATS_BF16_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes x as bfloat16 bits, round-to-nearest-even. */
uint16_t bf16_from_float(float x);

/* Decodes bfloat16 bits exactly. */
float bf16_to_float(uint16_t h);

/* bf16_to_float(bf16_from_float(x)). */
float bf16_round(float x);

/* Converts n floats to bf16 codes and back: dst[i] = bf16 code of src[i]; and the inverse. */
void bf16_quantize_row_ref(const float *src, uint16_t *dst, int64_t n);
void bf16_dequantize_row_ref(const uint16_t *src, float *dst, int64_t n);

/* The registry row of "bf16" (qformat.h): codes uint16[N*K], no scale. */
extern const struct qformat_ops bf16_ops;

#ifdef __cplusplus
}
#endif
#endif
