/* moe -- the router of the Qwen3-MoE block on the GPU, the twin of moe_route_ref (src/ops/moe.h): per token,
 * p = softmax(logits) with the row maximum subtracted, each e^(l - max) computed in double and rounded to FP32,
 * the sum in double in increasing expert order, p_e = (float)(p_e / sum); the top_k experts by repeated
 * arg-max (ties to the lower id), their weights renormalised in double when norm_topk_prob. One thread per
 * token, the twin's loops in the twin's order, so the only possible difference is the double exp (CUDA's is
 * within 1 ulp in double, glibc's within 1 ulp too): after rounding to FP32 the probabilities agree except in
 * the rare case that a double result straddles an FP32 rounding boundary. Checked by tests/check_moe.cu.
 * The expert GEMMs themselves are cuBLAS calls of the engine (src/engine/qwen3_cuda.cu). E <= MOE_MAX_E. */
#ifndef KERNELS_MOE_H
#define KERNELS_MOE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOE_MAX_E 512

/* logits: T x E device floats (overwritten with the softmax); ids, weights: T x top_k device arrays. */
void moe_route_cuda(float *logits, int64_t T, int64_t E, int64_t top_k, int norm_topk_prob, int32_t *ids,
                    float *weights, void *stream);

#ifdef __cplusplus
}
#endif
#endif
