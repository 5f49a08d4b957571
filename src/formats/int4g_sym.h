/* int4g_sym -- "int4-gG-sym" (G = 32, 64, 128; default "int4-g128-sym"): group-wise symmetric INT4, the
 * grid of GPTQ W4A16 (llm-compressor preset). For each row and group of G consecutive elements along K:
 *   scale s = bf16(amax_g / 7)     (BF16, as compressed-tensors stores scales for BF16 models)
 *   code  q = clamp(rint(x / s), -8, 7)    (ties to even; RTN yields -7..7, GPTQ's error feedback may use -8)
 *   decode y = q * s               (exact)
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

/* Quantizes one row of K values with groups of G (K % G == 0, G even: CHECK) into K/2 bytes of packed codes
 * (q, starting at element 0 of the row) and K/G BF16 scales. */
void int4g_sym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, int64_t K, int G);

/* Decodes one row: y[k] = code(k) * scale(k / G). */
void int4g_sym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, float *y, int64_t K, int G);

/* The registry row of "int4-gG-sym" (qformat.h): nibbles[N*K], scales bf16[N][K/G]. */
extern const struct qformat_ops int4g_sym_ops;

#ifdef __cplusplus
}
#endif
#endif
