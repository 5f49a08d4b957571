/* ckpt_gptq -- the GPTQ checkpoint layout (quant_method "gptq") of AutoGPTQ and GPTQModel, as defined by
 * ModelCloud/GPTQModel at commit f4c327a17eb3e24524d5a97a3d682e3696ae6a28: gptqmodel/nn_modules/qlinear/
 * __init__.py (pack_block: _pack_rows_2_4_8 and the qzeros numpy loop; dequantize_weight) and
 * gptqmodel/utils/model.py (convert_gptq_v1_to_v2_format_module / v2_to_v1).
 *   qweight I32 [K/pf, N] (pf = 32/b): packed along K, word [j][n] bits b*i = q[8j+i][n] for b = 4 (sequential).
 *   qzeros  I32 [n_g, N/pf]: packed along N, word [g][c] bits b*i = stored zero of (g, pf*c + i).
 *   scales  F16 [n_g, N]; g_idx I32 [K]: the group of input column k (k / G without act-order; desc_act=true
 *     checkpoints permute it, so the groups are not contiguous along K).
 *   dequantize: W[n][k] = (q[k][n] - z[g_idx[k]][n]) * s[g_idx[k]][n], where z = stored + 1 for the v1 format
 *   (checkpoint_format "gptq" or absent: AutoGPTQ wrote zeros - 1, which for a zero point of 0 stores -1, whose
 *   OR into the packed word corrupts the neighbouring nibbles: the v1 trap; the kernels add 1 to each unpacked
 *   nibble) and z = stored for "gptq_v2". Bits 4 and 8 are read (2/3 are refused with one line).
 * The FP32 view is the exact product; the packed tensor (int4 with BF16 scales) is attached only when g_idx is
 * k / G and every FP16 scale is a BF16 number. API: ckpt_gptq_pack_* / ckpt_gptq_unpack_* / ckpt_gptq_read_linear. */
#ifndef SRC_MODEL_CKPT_GPTQ_H
#define SRC_MODEL_CKPT_GPTQ_H

#include <stdint.h>

#include "model/ckpt_quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* qweight packing: v is rows x cols values (0..2^b-1, one per byte), rows % (32/b) == 0; out is
 * rows/(32/b) x cols words, value r of column c in word [r / pf][c] at bits b * (r % pf). */
void ckpt_gptq_pack_rows(const uint8_t *v, int64_t rows, int64_t cols, int b, uint8_t *out);
void ckpt_gptq_unpack_rows(const uint8_t *p, int64_t rows, int64_t cols, int b, uint8_t *v);

/* qzeros packing: v is rows x cols values, cols % (32/b) == 0; out is rows x cols/(32/b) words, value c of row
 * r in word [r][c / pf] at bits b * (c % pf). Values are masked to b bits (the caller subtracts the v1 one). */
void ckpt_gptq_pack_cols(const uint8_t *v, int64_t rows, int64_t cols, int b, uint8_t *out);
void ckpt_gptq_unpack_cols(const uint8_t *p, int64_t rows, int64_t cols, int b, uint8_t *v);

/* Reads module prefix (N x K) of a GPTQ checkpoint (prefix.qweight present), else returns 0. */
int ckpt_gptq_read_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix, int64_t N,
                          int64_t K, struct linear *l);

#ifdef __cplusplus
}
#endif
#endif
