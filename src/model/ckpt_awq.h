/* ckpt_awq -- the AutoAWQ GEMM checkpoint layout (quant_method "awq", version "gemm"), as defined by
 * casper-hansen/AutoAWQ at commit 88e4c76b20755db275574e6a03c83c84ba3bece5 (2025-05-11):
 * awq/modules/linear/gemm.py WQLinear_GEMM.__init__ / from_linear and awq/utils/packing_utils.py.
 *   qweight I32 [K, N/8]: the integer weights transposed (intweight[k][n] = round(W[n][k]/s + z), 0..15),
 *     word [k][c] holds nibble i (bits 4i..4i+3) = intweight[k][8c + ORDER[i]], ORDER = [0,2,4,6,1,3,5,7]
 *     (AWQ_ORDER; unpacking applies AWQ_REVERSE_ORDER = [0,4,1,5,2,6,3,7]): NOT sequential within a word.
 *   qzeros  I32 [K/G, N/8]: the zero points (0..15) in the same order.
 *   scales  F16 [K/G, N].
 *   dequantize_gemm: W[n][k] = (intweight[k][n] - z[k/G][n]) * s[k/G][n]. Only 4 bits exist (w_bit in [4]);
 *   N % 8 == 0, K % G == 0, group_size -1 means K. The FP32 view is the exact product; our int4 schemes hold
 *   BF16 scales, so the packed tensor is attached only when every FP16 scale is a BF16 number.
 * API: ckpt_awq_pack / ckpt_awq_unpack / ckpt_awq_read_linear. */
#ifndef SRC_MODEL_CKPT_AWQ_H
#define SRC_MODEL_CKPT_AWQ_H

#include <stdint.h>

#include "model/ckpt_quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Packs v (rows x cols values 0..15, one per byte; cols % 8 == 0) into rows x cols/8 little-endian int32 words
 * in AutoAWQ's order. qweight: rows = K, cols = N (v transposed); qzeros: rows = K/G, cols = N. */
void ckpt_awq_pack(const uint8_t *v, int64_t rows, int64_t cols, uint8_t *out);

/* The inverse: rows x cols/8 words -> rows x cols values. */
void ckpt_awq_unpack(const uint8_t *p, int64_t rows, int64_t cols, uint8_t *v);

/* Reads module prefix (N x K) of an AutoAWQ GEMM checkpoint (prefix.qweight present), else returns 0. */
int ckpt_awq_read_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix, int64_t N,
                         int64_t K, struct linear *l);

#ifdef __cplusplus
}
#endif
#endif
