/* serve_attention -- causal GQA attention for the serving path (src/engine/qwen3_cuda.cu), the function of
 * attention_ref (src/ops/attention.h): out[t,h] = sum_j p_j v[j,g], p = softmax_j(q[t,h] . k[j,g] / sqrt(D_h)) over
 * j <= pos0 + t, g = h / (H / H_kv). Two kernels for speed, where kernels/attention.cu is the accuracy path's
 * bit-careful twin (one CTA per (t, h), sequential sums: latency-bound at serving sizes):
 *   decode: B sequences, one query each at the same position pos (cache rows 0 .. pos valid), split-K over the
 *     keys (flash-decoding): CTAs of 64 keys per (sequence, head), each warp loading its 8 keys' K and V rows at
 *     once, write a partial (max, sum, D_h sums), and the CTA that finishes a (sequence, head) last merges the
 *     splits in split order (one kernel; a counter per (sequence, head) in the workspace, left at zero).
 *     FP32 throughout, expf; deterministic. D_h == 128.
 *   prefill: one sequence of T tokens from position 0: scores S = Q K^T per head by cuBLAS strided-batched GEMM
 *     (one call per KV head, its H / H_kv query heads a batch), a causal row softmax in FP32, O = P V the same way.
 *     The GEMMs run in TF32 (CUBLAS_COMPUTE_32F_FAST_TF32: 10-bit mantissas, FP32 accumulation), so scores carry a
 *     relative error of about 2^-11: bounds in tests/check_qwen3_serve.cu.
 * Layout: q, out T x H x D_h; k, v rows of kv_stride floats (row j = position j); sequences seq_stride floats apart. */
#ifndef KERNELS_SERVE_ATTENTION_H
#define KERNELS_SERVE_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SERVE_ATTN_SPLIT 64
#define SERVE_ATTN_COUNTERS 4096   /* the workspace's first floats: merge counters, B * H <= this */

/* Workspace floats of serve_attn_decode_cuda for B sequences, H heads, up to n_ctx keys. The workspace must be
 * zeroed once (cudaMemset) before its first use; every call leaves its counters at zero again, and the counters
 * sit at fixed places, so one workspace serves any (B, H, pos) it is large enough for. */
size_t serve_attn_decode_work(int64_t B, int64_t H, int64_t n_ctx);

/* Sequence b's query q[b] (H x D_h) against its cache (kc + b seq_stride) at position pos. Output FP32 into
 * out, or (out16 != NULL) rounded to FP16 (half = 1) / BF16 into out16: the next Linear's input. */
void serve_attn_decode_cuda(float *out, uint16_t *out16, int half, const float *q, const float *kc, const float *vc,
                            int64_t B, int64_t pos, int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride,
                            int64_t seq_stride, float *work, void *stream);

/* Programmatic dependent launch for serve_attn_decode_cuda while on != 0 (serve_gemv_set_pdl's contract: the
 * kernel loads the cache rows before pos, then waits for the preceding kernel, then reads q and row pos). */
void serve_attn_set_pdl(int on);

/* Floats of the score buffer of serve_attn_prefill_cuda: H T T. */
size_t serve_attn_prefill_work(int64_t H, int64_t T);

/* blas: a cublasHandle_t bound to stream. */
void serve_attn_prefill_cuda(void *blas, float *out, const float *q, const float *k, const float *v, int64_t T,
                             int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride, float *S, void *stream);

#ifdef __cplusplus
}
#endif
#endif
