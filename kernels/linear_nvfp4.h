/* linear_nvfp4 -- the packed W4A16 decode GEMV for NVFP4 weights: y (M x N) = x (M x K) W^T for M = 1 .. 8
 * tokens, W read packed (4.5 bits per weight) and dequantized in registers, FP32 accumulation. Its twin is
 * linear_forward (src/ops/linear.c) on a Linear holding nvfp4-packed weights and no activation quantization
 * (the nvfp4-w4a16 recipe), whose FP32 view is nvfp4_dequantize_row_ref: w = (e2m1 * d) / g.
 * Layout on the device: the qtensor's 9-byte blocks {scale, 8 code bytes} are split once by
 * linear_nvfp4_pack_host into a code plane (N x K/2 bytes, the blocks' code bytes in order, element 2i in the
 * low nibble) and a scale plane (N x K/16 UE4M3 bytes): the same bits and the same 0.5625 bytes per weight,
 * but 16-byte aligned loads (a 9-byte block cannot be loaded aligned). Arithmetic: per block the FP32 sum
 * sum_i e2m1_i x_i over each half block (8 codes decoded to FP16 by bit placement, exact, then to FP32), times d,
 * summed over the row, divided by g once at the end, so the result differs from the twin's (sum of x_i
 * rounded((e2m1_i d) / g)) by FP32 rounding only (bound derived in tests/check_linear_nvfp4.cu). Four rows per
 * warp (the x a lane loads serves four rows), each lane 8 weights of each row (one 4-byte code word) per step;
 * any NVFP4 K (K % 16 == 0, else die); M <= 8. Deterministic (fixed reduction tree). */
#ifndef KERNELS_LINEAR_NVFP4_H
#define KERNELS_LINEAR_NVFP4_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LINEAR_NVFP4_MAX_M 8

/* Host: splits q (QFORMAT_NVFP4, N x K) into codes (N * K/2 bytes) and scales (N * K/16 bytes). */
void linear_nvfp4_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales);

/* y: M x N device floats; x: M x K device floats; codes / scales: the device planes (4-byte aligned codes, 16-byte aligned x);
 * global: q->global_scale. Dies when K % 16 != 0 or M is outside 1 .. 8. */
void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const float *x, float *y,
                       int64_t M, int64_t N, int64_t K, void *stream);

#ifdef __cplusplus
}
#endif
#endif
