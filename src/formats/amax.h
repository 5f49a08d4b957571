/* amax -- the largest magnitude of a block, the statistic every scale rule starts from.
 * amax is max |x| over the block, exact (no arithmetic beyond fabsf). A block holding any NaN or +-Inf has
 * amax NaN: that is how the block schemes carry the policy "a scale computed from non-finite data is NaN"
 * (the block then decodes to NaN) without a second flag. An empty or all-zero block has amax 0. */
#ifndef SRC_FORMATS_AMAX_H
#define SRC_FORMATS_AMAX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* max |x[i]| for i < n, or NaN if some x[i] is NaN or infinite. */
float amax_ref(const float *x, int64_t n);

/* max |x[r*ld + c]| over r < rows, c < cols (a 2-D block of a row-major matrix with leading dimension
 * ld), or NaN if some element is NaN or infinite. */
float amax_block_ref(const float *x, int64_t rows, int64_t cols, int64_t ld);

#ifdef __cplusplus
}
#endif
#endif
