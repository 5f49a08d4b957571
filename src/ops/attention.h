/* src/ops/attention.h -- causal grouped-query attention (GQA) over a key/value history, FP32.
 * out[t,h] = sum_j softmax_j(q[t,h] . k[j,g] / sqrt(D_h)) v[j,g] over j <= pos0 + t, with kv head
 * g = h / (H / H_kv) (HF repeat_kv: each kv head serves H/H_kv consecutive query heads). Keys and values are
 * the first pos0 + T rows of a cache laid out n_ctx x H_kv x D_h (kv_stride floats between rows), so prefill
 * (pos0 = 0, T > 1), decode (T = 1) and chunked prefill are one function. The score and value products are
 * cblas_sgemm calls per kv head and block of 32 queries (the items run in parallel, each call single-threaded,
 * under CPU_THREADS_OWN: ops/cpu_exec.h), the H/H_kv query heads of a kv head stacked into
 * one matrix (a block sees keys up to its last query, so prefill does a little over half the full T x n_ctx
 * work); decode uses GEMVs per head. The softmax is FP32 (fastexp: within 1 ulp, vectorizable; ops/fastexp.h) with the row maximum subtracted and a double
 * sum in a fixed order. Under CPU_THREADS_BLAS single-threaded outside BLAS (OpenMP threads spinning beside
 * OpenBLAS's would halve speed). Keeps a per-thread scratch buffer (the stacked queries, scores and outputs of one block). */
#ifndef SRC_OPS_ATTENTION_H
#define SRC_OPS_ATTENTION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out: T x H x D_h. q: T x H x D_h (RoPE applied). k, v: at least pos0 + T rows of kv_stride floats, row j
 * holding H_kv heads of D_h (RoPE applied to k). Requires H % H_kv == 0 and kv_stride >= H_kv * D_h. */
void attention_ref(float *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0,
                   int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride);

/* FLOPs of one call (QK^T and PV on the causal triangle only): 4 H D_h sum_t (pos0 + t + 1). */
double attention_flops(int64_t T, int64_t pos0, int64_t H, int64_t D_h);

#ifdef __cplusplus
}
#endif
#endif
