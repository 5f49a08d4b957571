/* quantize_nvfp4 -- NVFP4 codec kernels: FP32 rows -> struct nvfp4_block (E2M1 in blocks of 16 along K, UE4M3
 * block scale) given the tensor's FP32 global scale, and back. Bit-exact twin of nvfp4_quantize_row_ref /
 * nvfp4_dequantize_row_ref (src/formats/nvfp4.h, which states the arithmetic: s = ue4m3((amax_b/6) * g),
 * q = e2m1(x * (1 / (d / g))), y = (e2m1 * d) / g, round-to-nearest-even, NaN blocks poisoned); checked by
 * tests/check_quantize.cu. Pointers are device pointers; stream is a cudaStream_t (NULL = default stream).
 * Quantize: one CTA per tile of 4096 elements, 4 lanes per block (kernels/common.cuh); decode: one thread
 * per block (not on a hot path). Deterministic (no atomics). */
#ifndef KERNELS_QUANTIZE_NVFP4_H
#define KERNELS_QUANTIZE_NVFP4_H

#include <stdint.h>

#include "formats/nvfp4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x: T x K floats row-major (K % 16 == 0: CHECK); y: T * K/16 blocks; global: nvfp4_global_scale(amax). */
void quantize_nvfp4_cuda(const float *x, struct nvfp4_block *y, int64_t T, int64_t K, float global, void *stream);

/* The inverse: T * K/16 blocks -> T x K floats. */
void quantize_nvfp4_dequantize_cuda(const struct nvfp4_block *x, float *y, int64_t T, int64_t K, float global,
                                void *stream);

#ifdef __cplusplus
}
#endif
#endif
