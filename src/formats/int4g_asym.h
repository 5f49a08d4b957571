/* int4g_asym -- "int4-gG-asym" (G = 32, 64, 128; default 128): group-wise asymmetric INT4, w = (q - z) * s
 * with q in 0..15. Per row and group, with lo = min(min x, 0) and hi = max(max x, 0) (0 always in range, as
 * GPTQ's quantizer and compressed-tensors' calculate_qparams force it): s = bf16((hi - lo) / 15),
 * z = clamp(rint(-lo / s), 0, 15), q = clamp(rint(x / s) + z, 0, 15), decode (q - z) * s (exact). The zero
 * point and the codes use the BF16-rounded scale as stored (see int4g_sym.h for how llm-compressor differs).
 * Option INT4_RULE_AWQ ("int4-gG-asym-awq"): AutoAWQ's pseudo_quantize_tensor (casper-hansen/AutoAWQ
 * awq/quantize/quantizer.py @93d7e8e0): lo = min x, hi = max x raw (0 not forced into the range), the range
 * floored at 1e-5, s = bf16(max(hi - lo, 1e-5) / 15), z = clamp(-rint(lo / s), 0, 15) (= rint(-lo / s)),
 * same codes. (AutoAWQ computes in FP16 and stores FP16 scales; ours are BF16 like the model's weights.)
 * Layout: codes two per byte, element 2i in the low nibble; scales BF16 [N][K/G]; zero points as nibbles over
 * the flattened [N][K/G] index (the row functions take one byte per group). Zero group: s 0 (AWQ rule: the
 * floored s), z 0, zeros. NaN/Inf in a group: s NaN, the group decodes to NaN. Rounding: rint, ties to even. */
#ifndef SRC_FORMATS_INT4G_ASYM_H
#define SRC_FORMATS_INT4G_ASYM_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scale and zero point of one group of G values x under rule, with the range [lo, hi] multiplied by p
 * first (p = 1: the rule itself; p < 1: a candidate of the MSE observer). */
void int4g_asym_group_params(const float *x, int G, enum int4_rule rule, float p, uint16_t *scale, int *zero);

/* Quantizes one row of K values with groups of G (K % G == 0, G even: CHECK) into K/2 bytes of packed codes,
 * K/G BF16 scales and K/G zero points (one byte each, 0..15), with the scale rule given. */
void int4g_asym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, uint8_t *zeros, int64_t K,
                                 int G, enum int4_rule rule);

/* Decodes one row: y[k] = (code(k) - zero(k/G)) * scale(k/G). */
void int4g_asym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, const uint8_t *zeros, float *y,
                                   int64_t K, int G);

/* The registry row of "int4-gG-asym" (qformat.h): nibbles[N*K], scales bf16[N][K/G], zero points as
 * nibbles over the flattened [N][K/G] index. */
extern const struct qformat_ops int4g_asym_ops;

#ifdef __cplusplus
}
#endif
#endif
