/* linear_nvfp4 -- the packed W4A16 decode GEMV (kernels/linear_w4a16.h: layout, engine, contract) for
 * NVFP4 (src/formats/nvfp4.h): E2M1 codes, UE4M3 block scale d per 16, FP32 global g. A = (e2m1 * 2^-14) * d
 * in FP16: the code's bits placed into an FP16 (exact, subnormal 0.5 included), times the block scale by
 * HMUL2, also exact: e2m1 has at most 2 significant bits and d at most 4, the product lies in
 * [2^-24, 6 * 448 * 2^-14 = 0.17] and is a multiple of 2^-24 (FP16's subnormal step), so it is an FP16 number.
 * Every MMA of a row then chains into the FP32 accumulator (no per-block FFMA); y = (acc * 2^14) / g, the
 * division rounding once as the twin's (e2m1 * d) / g does per weight. A NaN scale (0x7F) gives NaN, as in
 * the twin.
 * Twin: linear_forward (src/ops/linear.c) on the same qtensor, i.e. qtensor_dequantize(q) times x in FP32;
 * checked by tests/check_linear_w4a16.cu. */
#ifndef KERNELS_LINEAR_NVFP4_H
#define KERNELS_LINEAR_NVFP4_H

#include "linear_w4a16.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As linear_w4a16_cuda_cfg for a weight of this format (w->format checked: CHECK). */
void linear_nvfp4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                       const struct linear_w4a16_cfg *cfg, void *stream);

#ifdef __cplusplus
}
#endif
#endif
