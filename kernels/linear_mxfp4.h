/* linear_mxfp4 -- the packed W4A16 decode GEMV (kernels/linear_w4a16.h: layout, engine, contract) for
 * MXFP4 (src/formats/mxfp4.h, OCP MX v1.0): E2M1 codes, E8M0 scale per 32. A = e2m1 * 2^-14 in FP16, two
 * MMAs per block, then * 2^(e-127) (exact, a power of two; 2^-127 for code 0, NaN for 0xFF) into the
 * accumulator; y = acc * 2^14 (exact).
 * Twin: linear_forward (src/ops/linear.c) on the same qtensor, i.e. qtensor_dequantize(q) times x in FP32;
 * checked by tests/check_linear_w4a16.cu. */
#ifndef KERNELS_LINEAR_MXFP4_H
#define KERNELS_LINEAR_MXFP4_H

#include "linear_w4a16.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As linear_w4a16_cuda_cfg for a weight of this format (w->format checked: CHECK). */
void linear_mxfp4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                       const struct linear_w4a16_cfg *cfg, void *stream);

#ifdef __cplusplus
}
#endif
#endif
