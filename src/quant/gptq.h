/* gptq -- GPTQ (Frantar et al. 2022, arXiv:2210.17323) on any weight grid of src/formats, one matrix at a time,
 * exactly as IST-DASLab/gptq gptq.py fasterquant (commit 9f2abd32533c83079847435a7c971bb4420285c8) and
 * llm-compressor's quantize_weight (src/llmcompressor/modifiers/quantization/gptq/gptq_quantize.py, commit
 * 00505502f91c73dda8298cf859db7fd79f9d6928):
 *   1. scales (and zeros, and the nvfp4 global scale) chosen once, up front, from the original W by the grid's
 *      own rule (qtensor_choose_scales over [0, K): llm-compressor's observer(W) before the loop); option
 *      dynamic_groups: IST's choice when a group's first column is reached, from the partly updated W (then
 *      act_order must be off: a group must stay contiguous for the packed layout, which has no g_idx);
 *   2. dead columns (H_jj == 0): H_jj = 1, W[:, j] = 0;
 *   3. act-order "static" (llm-compressor ActivationOrdering.WEIGHT): columns processed in descending diag(H)
 *      (ties by index), each keeping its original group's scales, so the packed layout is unchanged;
 *   4. damping lambda = damp * mean(diag H) on the diagonal; U = upper Cholesky factor of H^-1 (H = L L^T,
 *      H^-1 from L, then H^-1 = U^T U), in double (LAPACK dpotrf / dpotri of OpenBLAS; the references use
 *      FP32 here); on a failed factorization the damping fraction is multiplied by 10 (0.01 -> 0.1 -> 1), and
 *      past 1 the matrix falls back to RTN (U = I, llm-compressor's fallback); both are reported in info;
 *   5. columns in blocks of `block` (128): inside a block each column is rounded at its fixed scales
 *      (qtensor_quantize_col), its error e = (w - q) / U_jj is spread over the block's later columns by
 *      W1[:, j:] -= e U[j, j:], and after the block the trailing columns get W[:, i2:] -= E U[i1:i2, i2:]
 *      (the lazy batch update, one sgemm), in FP32 as the references.
 * With H = c I this is RTN at the same scales, code for code (tests/test_gptq.c). API: gptq_quantize. */
#ifndef SRC_QUANT_GPTQ_H
#define SRC_QUANT_GPTQ_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gptq_opts {
    double damp;            /* fraction of mean(diag H) added to the diagonal: 0.01 */
    int block;              /* lazy-batch column block: 128 */
    int act_order;          /* 1: static act-order */
    int dynamic_groups;     /* 1: IST's dynamic per-group scales (act_order must be 0) */
};

struct gptq_info {
    double damp_used;       /* the damping fraction that factorized */
    int damp_raised;        /* 1 when damp_used > opts.damp (or the RTN fallback was taken) */
    int rtn_fallback;       /* 1 when no damping up to 1.0 factorized: RTN at the same scales */
    int64_t n_dead;         /* columns with H_jj == 0 */
    double loss;            /* sum over rows and columns of (w - q)^2 / U_jj^2 / 2, the references' loss */
};

/* The defaults above (IST / llm-compressor): damp 0.01, block 128, act_order 1, dynamic_groups 0. */
struct gptq_opts gptq_defaults(void);

/* Quantizes W (N x K row-major FP32, read only) with Hessian H (K x K doubles, full symmetric, row-major;
 * overwritten) into q, allocated here by qtensor_alloc(q, f, p, N, K) (q's previous content is ignored).
 * The shape must fit (f, p) (qformat_check_shape; CHECK). info may be NULL. */
void gptq_quantize(struct qtensor *q, enum qformat f, const struct qparams *p, const float *W, int64_t N,
                   int64_t K, double *H, const struct gptq_opts *o, struct gptq_info *info);

#ifdef __cplusplus
}
#endif
#endif
