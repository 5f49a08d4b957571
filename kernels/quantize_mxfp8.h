/* quantize_mxfp8 -- MXFP8 codec kernels (OCP MX v1.0): FP32 rows -> struct mxfp8_block (E4M3 in blocks of 32
 * along K, E8M0 scale 2^(floor(log2 amax) - 8), or the ceil rule), and back. Bit-exact twin of
 * mxfp8_quantize_row_ref / mxfp8_dequantize_row_ref (src/formats/mxfp8.h: round-to-nearest-even, saturation
 * to +-448, zero block -> code 0, NaN/Inf block -> 0xFF); checked by tests/check_quantize.cu. Device pointers;
 * stream is a cudaStream_t (NULL = default). Quantize: one CTA per tile of 4096 elements, 8 lanes per
 * block (kernels/common.cuh); decode: one thread per block (not on a hot path). Deterministic. */
#ifndef KERNELS_QUANTIZE_MXFP8_H
#define KERNELS_QUANTIZE_MXFP8_H

#include <stdint.h>

#include "formats/e8m0.h"
#include "formats/mxfp8.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x: T x K floats row-major (K % 32 == 0: CHECK) -> y: T * K/32 blocks, with the given scale rule. */
void quantize_mxfp8_cuda(const float *x, struct mxfp8_block *y, int64_t T, int64_t K, enum e8m0_rule rule,
                         void *stream);

/* The inverse: T * K/32 blocks -> T x K floats. */
void quantize_mxfp8_dequantize_cuda(const struct mxfp8_block *x, float *y, int64_t T, int64_t K, void *stream);

#ifdef __cplusplus
}
#endif
#endif
