/* linear_w4a16 -- the packed W4A16 decode GEMV shared by the 4-bit weight formats: y (M x N, FP32) =
 * x (M x K, FP16) W^T for M = 1 .. 8 tokens, W read packed (4 bits per weight plus its scales), dequantized in
 * registers, products on the tensor cores (mma.sync m16n8k16, FP16 inputs, FP32 accumulators; the M tokens
 * are the MMA's n = 8 columns), scales applied in FP32 once per scale domain (NVFP4: folded exactly into the
 * FP16 A values). Formats: NVFP4 (linear_nvfp4),
 * MXFP4 (linear_mxfp4), INT4 sym / asym with groups 32, 64, 128 (linear_int4); the kernel engine is
 * linear_w4a16.cuh. The twin of every format is linear_forward (src/ops/linear.c) on a Linear holding the
 * same qtensor and no activation quantization (the *-w4a16 recipes), i.e. the FP32 matmul of
 * qtensor_dequantize(q) with x rounded to FP16 (A16): tests/check_linear_w4a16.cu checks each against it.
 * Exactness: the A values given to the MMA are exact FP16 numbers (an E2M1 value times 2^-14, times its UE4M3
 * scale for NVFP4, or an integer code minus its zero point in -15 .. 15), x is FP16 on both sides, so every product is exact and only FP32
 * additions (and one multiply per scale domain) round: the bound is derived in the check.
 * Device layout, the same for every format (linear_w4a16_pack_host): K is padded to Kp, a multiple of 256
 * (one "step"), N to a multiple of 16 (a "tile"); padding holds zero codes and zero scales, never stored back.
 * A "unit" is one step of one tile (16 rows x 256 columns), numbered step-major, u = step * (N / 16) + tile;
 * every plane keeps each unit's bytes together, so a unit is one contiguous block of each plane and the same
 * step of consecutive tiles is contiguous.
 *   codes: [units][4 spans][32 lanes] 16-byte words. Lane l = 4 g + t owns rows g and g + 8 of the tile;
 *     word u (0..3) of its span s feeds MMA u, which covers the 16 consecutive columns c0 = 64 s + 16 u ..
 *     c0 + 15 of the step (so an MMA never crosses a scale domain of 16 or more). The word holds the 8 codes
 *     of A registers j = 0..3, halves h = 0, 1: register 0 row g, column c0 + 4 t + h; register 1 row g + 8,
 *     same column; register 2 row g, column c0 + 4 t + 2 + h; register 3 row g + 8, same column. The MMA's
 *     k-slots 2t, 2t+1, 2t+8, 2t+9 are thus mapped to the columns 4t .. 4t+3, and the lane's x values for one
 *     MMA are 4 consecutive FP16 numbers (one 8-byte load).
 *     INT4: the code of (j, h) is the nibble at bits 4 j + 16 h; sym codes are stored offset by 8 (c + 8).
 *     E2M1 (NVFP4, MXFP4): the code's magnitude bits (bit 0 mantissa, bits 1-2 exponent) sit at bits
 *     {9, 6, 3, 0}[j] + 16 h .. + 2 and its sign at bit {15, 12, 14, 13}[j] + 16 h (the layout with the
 *     cheapest decode into FP16: linear_w4a16.cuh decode_e2m1).
 *   scales: [units][8 row pairs g][bytes per unit]: per scale domain q of the step the scales of rows g and
 *     g + 8: 2 bytes for NVFP4 (UE4M3) and MXFP4 (E8M0), 4 bytes for INT4 (BF16, row g low).
 *   zeros (INT4 asym only): [units][8][max(4, 256 / G) bytes], byte q = zero(row g) | zero(row g + 8) << 4
 *     for domain q of the step (G = 128: two bytes, padded to 4 for the 4-byte copies).
 * Bytes moved per weight: as the qtensor (0.5 + scale bytes / domain), plus the padding.
 * Work (linear_w4a16.cuh): one wave of CTAs of P warps; CTA c takes the tiles c, c + C, c + 2C, ... and its
 * P warps split each tile's steps into P equal chunks (P divides Kp / 256, chosen per shape so that the grid
 * fills the GPU, at most 16); each warp streams its units through D + 1 register buffers (D units in flight
 * while one is computed; D = 1 by default) across tile boundaries. The P partial sums of a tile are summed in
 * shared memory in warp order: deterministic. M must be 1 .. 8, K a multiple of the format's scale domain
 * (else die). */
#ifndef KERNELS_LINEAR_W4A16_H
#define KERNELS_LINEAR_W4A16_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LINEAR_W4A16_MAX_M 8
#define LINEAR_W4A16_STEP_K 256   /* columns per warp step (K padding) */
#define LINEAR_W4A16_TILE_N 16    /* rows per CTA tile (N padding) */

/* One packed weight on the device: the planes of the layout above (device pointers; codes 16-byte aligned,
 * scales and zeros 8-byte aligned), its format, scale domain size along K (16 NVFP4, 32 MXFP4, the INT4
 * group), shape and the per-tensor scale (NVFP4's g; 1 otherwise). */
struct linear_w4a16 {
    enum qformat format;   /* QFORMAT_NVFP4, QFORMAT_MXFP4, QFORMAT_INT4_SYM or QFORMAT_INT4_ASYM */
    int group;
    int64_t N, K;
    float global_scale;
    const uint8_t *codes, *scales, *zeros;
};

/* The scale domain along K of (f, group): 16 for NVFP4, 32 for MXFP4, group (32, 64, 128) for INT4; dies on
 * any other format. */
int linear_w4a16_domain(enum qformat f, int group);

/* Bytes of the three device planes for an N x K weight in (f, group) (zeros 0 unless INT4 asym). */
void linear_w4a16_layout(enum qformat f, int group, int64_t N, int64_t K, size_t *codes, size_t *scales,
                         size_t *zeros);

/* Host: rearranges q (one of the four formats, N x K) into the device planes (sizes from
 * linear_w4a16_layout with q's format and group), the same bits; INT4 sym codes offset by 8. */
void linear_w4a16_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales, uint8_t *zeros);

/* The device workspace the calls take (kept for the interface: the kernels no longer use it; a small
 * constant). Callers may pass it zeroed or NULL. */
size_t linear_w4a16_workspace_bytes(int64_t N, int64_t K);

/* Launch variant (the bench sweeps it): depth = units in flight per warp while one computes, 1 or 2 (0: the
 * default, 1); ksplit = the most warps sharing one tile's K (0: chosen per shape; the largest divisor of
 * Kp / 256 not above it is taken); max_ctas > 0 caps the grid (tests: many tiles per CTA). NULL: defaults. */
struct linear_w4a16_cfg {
    int depth, ksplit, max_ctas;
};

/* The warps of the last launch's grid (host side, for reports). */
int64_t linear_w4a16_last_warps(void);

/* y: M x N device floats (row-major: token m, row n at y[m N + n]); x: M x K device FP16 values (uint16_t
 * bits, 8-byte aligned rows: K % 4 == 0 holds for every format). Dies when M is outside 1 .. 8 or K is not a
 * multiple of the scale domain. workspace: unused (see linear_w4a16_workspace_bytes). */
void linear_w4a16_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                       void *stream);
void linear_w4a16_cuda_cfg(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                           const struct linear_w4a16_cfg *cfg, void *stream);

#ifdef __cplusplus
}
#endif
#endif
