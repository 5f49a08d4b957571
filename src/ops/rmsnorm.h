/* src/ops/rmsnorm.h -- RMSNorm over the last dimension, as Qwen3RMSNorm in HF transformers:
 * y = w * (x * 1/sqrt(mean(x^2) + eps)), eps read from config.json (rms_norm_eps), never hard-coded.
 * Used for the block norms (rows of D) and for the per-head QK-norm (rows of D_h). FP32 in and out; the sum
 * of squares is accumulated in double so the result does not depend on the row length's summation order.
 * The product is formed in HF's order: normalise first, then scale by the weight. */
#ifndef SRC_OPS_RMSNORM_H
#define SRC_OPS_RMSNORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Normalises n_rows rows of length n: y[r] = w * x[r] / rms(x[r]). y may equal x (in place). w has n
 * entries. An all-zero row gives zeros (eps > 0 keeps the divisor finite); a NaN propagates to its row. */
void rmsnorm_ref(float *y, const float *x, const float *w, int64_t n_rows, int64_t n, float eps);

#ifdef __cplusplus
}
#endif
#endif
