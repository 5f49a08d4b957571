/* int4g_sym -- "int4-gG-sym" (G = 32, 64, 128; default "int4-g128-sym"): group-wise symmetric INT4, the
 * grid of GPTQ W4A16 as GPTQ, compressed-tensors and llm-compressor define it. For each row and group of G
 * consecutive elements along K:
 *   scale s = bf16(amax_g / 7.5)   (= 2 amax / 15: compressed-tensors' calculate_qparams, amax / ((7 - -8) / 2))
 *   code  q = clamp(rint(x / s), -8, 7)    (ties to even)
 *   decode y = q * s               (exact)
 * so +amax lies at +7.5 s and clips to 7 (an error of s/2), and -amax lies exactly on the tie -7.5 between
 * -8 and -7, which round-half-even sends to -8 (exact when s is exact; the BF16 rounding of s moves -amax/s
 * off the tie: s rounded down or exact gives -8, rounded up gives -7; tests/test_formats.c checks all three).
 * Codes are computed with the scale as stored (BF16-rounded), so decode(q) uses the number the codes were
 * rounded against. llm-compressor instead rounds GPTQ's codes against the FP32 scale and casts the scale to
 * BF16 afterwards (gptq_quantize.py: scale.to(dtype=final_dtype)); the packer then re-rounds the BF16
 * weights at the BF16 scale; we keep one consistent rounding. Not replicated: compressed-tensors' floor of
 * the scale at FLT_EPSILON (a group with amax < 7.5 * 2^-23 keeps its exact scale here; all-zero groups get
 * scale 0 and decode to zeros either way).
 * Option INT4_RULE_AWQ ("int4-gG-sym-awq"): AutoAWQ with zero_point off, s = bf16(max(amax, 1e-5) / 7),
 * same codes (RTN then yields -7..7 only).
 * Layout: codes two's complement, two per byte, element 2i in the low nibble (int4.h), N*K/2 bytes;
 * scales uint16 BF16 [N][K/G]. K % G == 0. Zero group (or scale underflowing BF16): zero codes, zeros.
 * NaN/Inf in a group: scale BF16 NaN, zero codes, the group decodes to NaN. */
#ifndef SRC_FORMATS_INT4G_SYM_H
#define SRC_FORMATS_INT4G_SYM_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The BF16 scale of a group with largest magnitude amax under rule (see the header); NaN amax gives NaN. */
uint16_t int4g_sym_scale(float amax, enum int4_rule rule);

/* Quantizes one row of K values with groups of G (K % G == 0, G even: CHECK) into K/2 bytes of packed codes
 * (q, starting at element 0 of the row) and K/G BF16 scales, with the scale rule given. */
void int4g_sym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, int64_t K, int G,
                                enum int4_rule rule);

/* Decodes one row: y[k] = code(k) * scale(k / G). */
void int4g_sym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, float *y, int64_t K, int G);

/* The registry row of "int4-gG-sym" (qformat.h): nibbles[N*K], scales bf16[N][K/G]. */
extern const struct qformat_ops int4g_sym_ops;

#ifdef __cplusplus
}
#endif
#endif
