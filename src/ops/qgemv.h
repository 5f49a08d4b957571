/* src/ops/qgemv.h -- decode GEMV on packed weights: y (N) = W x with W read in its packed scheme, not as FP32.
 * The serving path of ops/cpu_exec.h (packed_decode); the FP32 dequantized GEMV stays the specification.
 * Schemes (qformat.h; their headers give the layouts): bf16 (no scale: the packed lm_head), int8-channel (y_n = s_n sum_k q_nk x_k), int4-gG-sym
 * (y_n = sum_g s_ng sum_{k in g} q_nk x_k), int4-gG-asym (the same with q_nk - z_ng), mxfp4 (E2M1 value times
 * the E8M0 block scale). Every element value c_nk (code, code minus zero point, E2M1 value) is an integer or
 * an E2M1 number, exact in FP32; the products and sums are FP32 (FMA), each block's sum then multiplied by
 * its scale and added to a vector accumulator; lanes are summed at the end. Kernels: AVX-512 (F, BW, VL),
 * AVX2 + FMA, and plain C, chosen at run time by the CPU (qgemv_isa).
 *
 * Bound against the dequantized path (derivation). Let u = 2^-24 (FP32 unit roundoff), gamma_n = n u /
 * (1 - n u), w_nk the dequantized weight the FP32 path uses and y*_n = sum_k w_nk x_k computed exactly.
 *  1. The FP32 path (any BLAS summation order, FMA or not) computes each output as a sum of K products with at
 *     most K roundings on any one term's path: |y_fp32 - y*| <= gamma_K sum_k |w_nk x_k| (Higham, Accuracy and
 *     Stability of Numerical Algorithms, 2nd ed., eq. 3.5, which holds for every order of the additions).
 *  2. The packed path computes w_nk x_k as s (c_nk x_k) with c exact: each term gets at most K + 2 roundings
 *     (its FMA into the block sum, <= K - 1 additions of block sums and lanes in total along its path, the
 *     multiplication by s): |y_packed - y**| <= gamma_{K+2} sum_k |s c_nk x_k|, where y** = sum_k s c x exact.
 *     (bf16 has no scale: s = 1, K + 1 roundings.)
 *  3. For bf16, int4 and mxfp4, s c_nk = w_nk exactly (a 4-bit integer or E2M1 value times a BF16 or power-of-two
 *     scale fits in 24 bits), so y** = y*. For int8-channel, w_nk = fl(q_nk s_n) (the FP32 view rounds the
 *     product of an 8-bit code and an FP32 scale), so |y** - y*| <= u sum_k |w_nk x_k| / (1 - u).
 *  Together: |y_packed - y_fp32| <= (gamma_K + gamma_{K+2} + 2u) sum_k |w_nk x_k| =: qgemv_bound (per output).
 * From GEMV to logits and perplexity: each decode GEMV of a Linear thus moves its outputs by a relative amount
 * of the order of the FP32 reordering between two BLAS kernel families (the same bound 1 holds for both), so
 * the packed path perturbs the model like a change of CPU backend (src/core/verify.c measures what that does:
 * weight-only metrics ~1e-7 relative). For one position, if every logit moves by at most d = max_v |dz_v|, each
 * log-probability moves by at most 2 d (log p_i = z_i - logsumexp z, and logsumexp is 1-Lipschitz in the max
 * norm), so |d ln PPL| <= 2 max_t d_t: tests/test_qgemv.c checks the GEMV bound on every Linear of a quantized
 * model and this perplexity bound on a packed decode against the FP32 decode, where it measures d.
 * x must hold K finite floats; NaN scales (a NaN domain) propagate as NaN, as in the FP32 path. */
#ifndef SRC_OPS_QGEMV_H
#define SRC_OPS_QGEMV_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

enum qgemv_isa {
    QGEMV_ISA_C = 0,
    QGEMV_ISA_AVX2,
    QGEMV_ISA_AVX512,
    QGEMV_ISA_AUTO      /* the best this CPU has (the default) */
};

/* 1 if q's scheme has a packed kernel (bf16, int8-channel, int4-gG-sym, int4-gG-asym, mxfp4 / mxfp4-ceil). */
int qgemv_supported(const struct qtensor *q);

/* y[n] = sum_k W[n][k] x[k] for n < q->N, W read packed; rows split over OpenMP threads (dynamic). */
void qgemv(const struct qtensor *q, const float *x, float *y);

/* y[n] = sum_k w[n ldw + k] x[k], n < N: the same kernels on FP32 rows (the engine's own decode GEMV under
 * CPU_THREADS_OWN; single-threaded OpenBLAS sgemv measured 1.2-1.7 GB/s here). Bound 1 of the header holds
 * against any other FP32 order: twice gamma_K sum |w x| between the two. */
void qgemv_f32(const float *w, int64_t ldw, const float *x, float *y, int64_t N, int64_t K);

/* Selects the kernel family (tests compare all of them); QGEMV_ISA_AUTO restores the default. A family the
 * CPU lacks is refused with 0; returns 1 when set. */
int qgemv_set_isa(enum qgemv_isa isa);

/* The family in use: "avx512", "avx2" or "c". */
const char *qgemv_isa_name(void);

/* The inline scale decoders of the kernels, exported for their test: 2^(c-127) (E8M0) and BF16 -> FP32. */
float qgemv_e8m0_value(uint8_t c);
float qgemv_bf16_value(uint16_t h);

/* The derived bound of the header on |y_packed[n] - y_fp32[n]|: (gamma_K + gamma_{K+2} + 2u) sum_k |w x|,
 * with w the FP32 dequantized row n (K values). */
double qgemv_bound(const float *w_row, const float *x, int64_t K);

#ifdef __cplusplus
}
#endif
#endif
