/* quantize_fp8_group -- FP8 E4M3 codec kernels for the dynamic 1 x 128 group activations of the fp8 recipe
 * ("fp8-group128", Qwen FP8 checkpoints' activation_scheme dynamic): per row and group of 128 along K,
 * scale = amax / 448 (FP32), code = e4m3(x / scale), decode code * scale. Bit-exact twin of
 * fp8_group_quantize_row_ref / fp8_group_dequantize_row_ref (src/formats/fp8_group.h: round-to-nearest-even,
 * saturation, zero group -> scale 0 and zero codes, NaN/Inf group -> scale NaN); checked by
 * tests/check_quantize.cu. One CTA per tile of 4096 elements, one warp per group and step (4 elements per
 * lane, max by shuffles: order-free, so deterministic; kernels/common.cuh). Device pointers; stream is a
 * cudaStream_t (NULL = default). */
#ifndef KERNELS_QUANTIZE_FP8_GROUP_H
#define KERNELS_QUANTIZE_FP8_GROUP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x: T x K floats (K % 128 == 0: CHECK) -> q: T x K E4M3 codes, scales: T x K/128 floats. */
void quantize_fp8_group_cuda(const float *x, uint8_t *q, float *scales, int64_t T, int64_t K, void *stream);

/* The inverse: codes and scales -> T x K floats. */
void quantize_fp8_group_dequantize_cuda(const uint8_t *q, const float *scales, float *y, int64_t T, int64_t K,
                              void *stream);

#ifdef __cplusplus
}
#endif
#endif
