/* quantize_mxfp4 -- MXFP4 codec kernels (OCP MX v1.0): FP32 rows -> struct mxfp4_block (E2M1 in blocks of 32
 * along K, E8M0 scale 2^(floor(log2 amax) - 2), or ModelOpt's ceil rule), and back. Bit-exact twin of
 * mxfp4_quantize_row_ref / mxfp4_dequantize_row_ref (src/formats/mxfp4.h: round-to-nearest-even, saturation
 * to +-6, zero block -> scale code 0, NaN/Inf block -> scale 0xFF); checked by tests/check_quantize.cu.
 * Device pointers; stream is a cudaStream_t (NULL = default). Quantize: one CTA per tile of 4096 elements,
 * 8 lanes per block (kernels/common.cuh); decode: one thread per block (not on a hot path). Deterministic. */
#ifndef KERNELS_QUANTIZE_MXFP4_H
#define KERNELS_QUANTIZE_MXFP4_H

#include <stdint.h>

#include "formats/e8m0.h"
#include "formats/mxfp4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x: T x K floats row-major (K % 32 == 0: CHECK) -> y: T * K/32 blocks, with the given scale rule. */
void quantize_mxfp4_cuda(const float *x, struct mxfp4_block *y, int64_t T, int64_t K, enum e8m0_rule rule,
                         void *stream);

/* The inverse: T * K/32 blocks -> T x K floats. */
void quantize_mxfp4_dequantize_cuda(const struct mxfp4_block *x, float *y, int64_t T, int64_t K, void *stream);

#ifdef __cplusplus
}
#endif
#endif
