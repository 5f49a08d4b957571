/* attention -- causal GQA attention on the GPU, the twin of attention_ref (src/ops/attention.h):
 * out[t,h] = sum_j p_j v[j,g], p = softmax_j(scale * q[t,h] . k[j,g]) over j <= pos0 + t, g = h / (H / H_kv),
 * scale = (float)(1 / sqrt(D_h)). The softmax is the twin's: the row maximum subtracted in FP32, e^x by the
 * same fastexp bits (kernels/fastexp.cuh), the sum in double, inv = (float)(1 / sum), p_j = e_j * inv. What
 * differs is only the FP32 summation order of the two products (q . k and sum_j p_j v_j: lane-split and
 * shuffle-reduced here, OpenBLAS's blocking on the CPU) and FMA contraction in them, so the kernel matches
 * within FP32 dot-product rounding (bound derived in tests/check_attention.cu), not bit for bit.
 * Layout as the twin: q, out T x H x D_h; k, v rows of kv_stride floats, row j = position j, first pos0 + T
 * rows valid. One CTA of 128 threads per (t, h): warps take keys in turn (lanes split D_h, butterfly sum),
 * the scores of the row live in shared memory (n_ctx floats: n_ctx <= ATTENTION_MAX_CTX, else die), then
 * thread d accumulates out[d] over the keys in increasing j. Deterministic (fixed reduction trees). */
#ifndef KERNELS_ATTENTION_H
#define KERNELS_ATTENTION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest context one row's scores may have (dynamic shared memory of 4 bytes per key, under the
 * 227 KiB a Hopper / Ampere CTA may use, leaving room for the query and the reduction scratch). */
#define ATTENTION_MAX_CTX 50000

void attention_cuda(float *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0, int64_t H,
                    int64_t H_kv, int64_t D_h, int64_t kv_stride, void *stream);

#ifdef __cplusplus
}
#endif
#endif
