/* hessian -- the GPTQ Hessian of one Linear input: H = (2 / N) sum_s X_s^T X_s over N calibration samples,
 * X_s the T_s x K input rows of sample s (one calibration sequence), as IST-DASLab gptq.py add_batch and
 * llm-compressor accumulate_hessian do (both count N in samples, i.e. sequences, not tokens; the scale of H
 * cancels in GPTQ's update, so this only fixes the numbers a reader compares). K x K, symmetric, stored full,
 * row-major, in double. Each sample's X^T X is computed by BLAS syrk, in FP32 (sgemm-class, the references'
 * GPTQ_PRECISION) or in FP64 (fp64 = 1, the inputs widened first); tests/test_gptq.c measures what the choice
 * changes. An optional block Hadamard (transform_block > 0) is applied to a copy of each X first, so H is the
 * Hessian of the transformed inputs (MR-GPTQ). API: hessian_init / hessian_add / hessian_finish / hessian_free. */
#ifndef SRC_QUANT_HESSIAN_H
#define SRC_QUANT_HESSIAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hessian {
    int64_t K;
    double *S;               /* K x K: sum_s X_s^T X_s (full symmetric after hessian_finish) */
    int64_t n_samples;       /* N: calls of hessian_add */
    int64_t n_rows;          /* sum of T_s */
    int fp64;                /* 1: X^T X in FP64 */
    int transform_block;     /* > 0: Hadamard block applied to X first (ops/hadamard.h) */
};

/* Zeroes h for inputs of K channels. */
void hessian_init(struct hessian *h, int64_t K, int fp64, int transform_block);

/* Adds one sample: x is T x K row-major (read only). T may be 0 (nothing added, the sample still counts). */
void hessian_add(struct hessian *h, const float *x, int64_t T);

/* Writes H = (2 / N) S into out (K x K doubles, full symmetric, row-major); all zeros when N == 0. */
void hessian_finish(const struct hessian *h, double *out);

void hessian_free(struct hessian *h);

#ifdef __cplusplus
}
#endif
#endif
