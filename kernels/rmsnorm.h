/* rmsnorm -- RMSNorm rows on the GPU, the bit-exact twin of rmsnorm_ref (src/ops/rmsnorm.h): y = w * (x * inv),
 * inv = (float)(1 / sqrt((double)(float)(ss / n) + eps)), ss the sum of squares in double accumulated in the
 * twin's exact order (four interleaved partial sums s_j over i = j mod 4, the n % 4 tail into s0, combined as
 * (s0 + s1) + (s2 + s3)). Each (double)x * x is exact (a 24-bit significand squared fits in 53 bits), double
 * add, divide and sqrt are correctly rounded on the GPU as on the CPU, and the two FP32 products are explicit
 * __fmul_rn, so every output bit equals the CPU's; checked by tests/check_rmsnorm.cu. One warp per row: lanes
 * 0-3 own the four partial sums (the twin's order is sequential, so only 4 lanes can share it; a row of
 * D = 4096 is 1024 dependent double adds, ~4 us, not a hot spot of the accuracy path), all 32 lanes write y.
 * y may equal x. Deterministic. Device pointers; stream is a cudaStream_t (NULL = default). */
#ifndef KERNELS_RMSNORM_H
#define KERNELS_RMSNORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y, x: n_rows x n floats; w: n floats; eps from config.json (rms_norm_eps). */
void rmsnorm_cuda(float *y, const float *x, const float *w, int64_t n_rows, int64_t n, float eps, void *stream);

#ifdef __cplusplus
}
#endif
#endif
