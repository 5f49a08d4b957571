/* linear_nvfp4 -- the packed W4A16 decode GEMV for NVFP4 weights: y (M x N, FP32) = x (M x K, FP16) W^T for
 * M = 1 .. 8 tokens, W read packed (4.5 bits per weight), dequantized in registers, FP32 accumulation on the
 * tensor cores (mma.sync m16n8k16, FP16 inputs, FP32 accumulators; the M tokens are the MMA's n = 8 columns).
 * Its twin is linear_forward (src/ops/linear.c) on a Linear holding nvfp4-packed weights and no activation
 * quantization (the nvfp4-w4a16 recipe) with x rounded to FP16 (A16): the FP32 view is
 * nvfp4_dequantize_row_ref, w = (e2m1 * d) / g.
 * Exactness of the inputs: e2m1 * d has at most 6 significant bits and lies in [2^-10, 2688], so e2m1 * d * 2^-14
 * (the FP16 bit placement of the code, kernels/linear_nvfp4.cu, times d in FP16) is exact in FP16, subnormals
 * included; the 2^14 and 1 / g are applied once to the FP32 result. Products of two FP16 values are exact in the
 * MMA; only its FP32 accumulation rounds (bound derived in tests/check_linear_nvfp4.cu).
 * Device layout (linear_nvfp4_pack_host): the qtensor's 9-byte blocks are rearranged, same bits, into tiles of
 * 16 rows x 64 k; within a tile, lane l of a warp finds in one 16-byte word group exactly the codes of its A
 * fragments for the tile's four MMAs (the MMA's k-slots are mapped to columns so that a lane's weights lie in one
 * NVFP4 block per row and its x values are contiguous), and in 2 bytes the block scales of its two rows. N is
 * padded to a multiple of 16 and K to 64 (zero codes and scales, never stored back). Bytes: 0.5 + 1/16 per
 * weight, as the qtensor (plus the padding).
 * Work: one CTA per 16-row tile, its 8 warps splitting K (group q to warp q mod 8), partial sums reduced in
 * shared memory in a fixed order: deterministic. K % 16 == 0 (else die); M <= 8. */
#ifndef KERNELS_LINEAR_NVFP4_H
#define KERNELS_LINEAR_NVFP4_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LINEAR_NVFP4_MAX_M 8

/* Bytes of the device planes for an N x K tensor (N padded to a multiple of 16). */
void linear_nvfp4_packed_bytes(int64_t N, int64_t K, size_t *codes_bytes, size_t *scales_bytes);

/* Host: rearranges q (QFORMAT_NVFP4, N x K) into the tiled code and scale planes (sizes above). */
void linear_nvfp4_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales);

/* y: M x N device floats; x: M x K device FP16 values (uint16_t bits, 16-byte aligned); codes (16-byte
 * aligned) / scales: the
 * device planes; global: q->global_scale. Dies when K % 16 != 0 or M is outside 1 .. 8. */
void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const uint16_t *x, float *y,
                       int64_t M, int64_t N, int64_t K, void *stream);

/* The same with the launch shape chosen (warps per tile, groups per step; the variants built are (8, 4) -- the
 * default --, (4, 8), (8, 2), (16, 2)): the benchmark's sweep. */
void linear_nvfp4_cuda_cfg(const uint8_t *codes, const uint8_t *scales, float global, const uint16_t *x, float *y,
                           int64_t M, int64_t N, int64_t K, int warps, int unroll, void *stream);

#ifdef __cplusplus
}
#endif
#endif
