/* src/model/qwen3_cpu.h -- the Qwen3 forward pass on the CPU, FP32 compute and accumulation (the reference
 * the CUDA path and every quantized recipe are compared with). Per layer, as HF Qwen3DecoderLayer:
 *   x += o_proj(attn(rope(q_norm(q_proj(n))), rope(k_norm(k_proj(n))), v_proj(n))),  n = rmsnorm(x)
 *   x += mlp(rmsnorm(x)),  mlp = down(silu(gate(.)) * up(.)) or the MoE block (ops/moe.h)
 * then logits = lm_head(rmsnorm(x)). Linears go through linear_forward (OpenBLAS sgemm), so quantized
 * weights change no code here. Prefill is batched over T tokens; decode is T = 1 against the KV cache; a
 * long text is scored in chunks by calling qwen3_cpu_forward with pos0 = tokens already in the cache.
 * The stages are exported one by one (embed, layer, final) for calibration that runs layer by layer.
 * API: qwen3_cpu_forward, qwen3_cpu_embed, qwen3_cpu_layer, qwen3_cpu_final, qwen3_cpu_logits, _flops. */
#ifndef SRC_MODEL_QWEN3_CPU_H
#define SRC_MODEL_QWEN3_CPU_H

#include <stdint.h>

#include "model/kv_cache.h"
#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs T tokens ids (positions pos0 .. pos0+T-1) through the model. kv: a cache with at least pos0 + T
 * positions and len >= pos0 (rows from pos0 on are overwritten; len becomes pos0 + T), or NULL for a one-shot
 * pass (then pos0 must be 0 and attention reads each layer's K and V straight from its scratch buffers). logits (T x V) and hidden (T x D, the final
 * normed hidden states) are written when non-NULL. A token id outside [0, V) dies naming it. Example, scoring
 * 2048-token windows: kv_cache_init(&kv, L, H_kv, D_h, 2048, KV_CACHE_F32); for each window:
 * kv_cache_reset(&kv); qwen3_cpu_forward(m, ids + w, 2048, 0, &kv, logits, NULL). */
void qwen3_cpu_forward(const struct qwen3_model *m, const int32_t *ids, int64_t T, int64_t pos0,
                       struct kv_cache *kv, float *logits, float *hidden);

/* x (T x D) = embedding rows of ids. */
void qwen3_cpu_embed(const struct qwen3_model *m, const int32_t *ids, int64_t T, float *x);

/* One decoder layer in place on the residual stream x (T x D) at positions pos0.., storing this layer's keys
 * and values in kv (required here; kv->len is not changed: qwen3_cpu_forward sets it after the last layer). */
void qwen3_cpu_layer(const struct qwen3_model *m, int64_t layer, float *x, int64_t T, int64_t pos0,
                     struct kv_cache *kv);

/* The two halves of a decoder layer, without the residual add (AWQ scores a block's output; GPTQ and
 * calibration run layer by layer). attn: out (T x D) = o_proj(attention(input_layernorm(x))) at positions
 * pos0.., storing the keys and values in kv, or one-shot from position 0 when kv is NULL. mlp: out (T x D) =
 * mlp(post_attention_layernorm(x)) (dense SwiGLU or MoE). x and out must not alias. A layer is exactly
 * x += attn(x); x += mlp(x). */
void qwen3_cpu_attn_block(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, int64_t pos0,
                          struct kv_cache *kv, float *out);
void qwen3_cpu_mlp_block(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, float *out);

/* Final RMSNorm in place on x (T x D), then logits (T x V) if non-NULL. */
void qwen3_cpu_final(const struct qwen3_model *m, float *x, int64_t T, float *logits);

/* logits (T x V) = h (T x D, already normed) lm_head^T. */
void qwen3_cpu_logits(const struct qwen3_model *m, const float *h, int64_t T, float *logits);

/* Makes m->lm_head_bf16, the BF16 copy of lm_head that a packed decode (ops/cpu_exec.h packed_decode, T = 1)
 * reads instead of the FP32 matrix: the same values (returns 0 and makes nothing when some value is not
 * BF16-exact, e.g. an F32 checkpoint), half the bytes; its GEMV differs from the FP32 one by summation order
 * only (ops/qgemv.h). Returns 1 when the copy exists. */
int qwen3_cpu_pack_lm_head(struct qwen3_model *m);

/* FLOPs of a forward of T tokens after pos0 cached ones: the Linears (active experts only, top_k per token),
 * the causal attention products and the lm_head (when with_logits). Norms and elementwise ops not counted. */
double qwen3_cpu_flops(const struct qwen3_model *m, int64_t T, int64_t pos0, int with_logits);

#ifdef __cplusplus
}
#endif
#endif
