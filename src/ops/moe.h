/* src/ops/moe.h -- the sparse mixture-of-experts MLP of Qwen3-MoE (Qwen3MoeSparseMoeBlock in HF):
 * router logits r = x R^T (R: E x D, full precision, not a Linear for quantization), p = softmax(r) in FP32,
 * the top-k experts by p (ties to the lower expert id), weights p_top / sum(p_top) when norm_topk_prob, then
 * y = sum over the chosen experts e, in increasing e, of w_e * down_e(silu(gate_e(x)) * up_e(x)).
 * Experts are struct linear (gate/up: F x D, down: D x F with F = moe_intermediate_size), so quantized experts
 * plug in like any Linear. Each expert runs once per call on the rows routed to it (gathered, batched). */
#ifndef SRC_OPS_MOE_H
#define SRC_OPS_MOE_H

#include <stdint.h>

#include "ops/linear.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (T x D) = MoE(x (T x D)). router: E x D. gate, up, down: arrays of E linears. top_k <= E. y must not
 * alias x. expert_counts (E entries, or NULL) is incremented by the number of rows routed to each expert. */
void moe_forward_ref(float *y, const float *x, int64_t T, int64_t D, const float *router, int64_t E,
                     int64_t top_k, int norm_topk_prob, const struct linear *gate, const struct linear *up,
                     const struct linear *down, int64_t *expert_counts);

/* Routing alone: for each of T rows of router logits (T x E, overwritten with the softmax), writes the top_k
 * expert ids (ascending probability order not guaranteed: descending p, ties to lower id) and their weights. */
void moe_route_ref(float *logits, int64_t T, int64_t E, int64_t top_k, int norm_topk_prob, int32_t *ids,
                   float *weights);

#ifdef __cplusplus
}
#endif
#endif
