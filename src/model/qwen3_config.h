/* src/model/qwen3_config.h -- the Qwen3 / Qwen3-MoE hyper-parameters read from an HF config.json.
 * Every key the forward pass uses is read here and only here (no model constant is hard-coded elsewhere);
 * architectures must be Qwen3ForCausalLM or Qwen3MoeForCausalLM. rope_theta is taken from the top level
 * (transformers 4.x) or from rope_parameters (5.x); a rope type other than "default" is refused. End-of-sequence
 * ids come from config.json and generation_config.json (eos_token_id: a number or a list), merged.
 * Shape letters, used in every shape comment of src/model and src/ops:
 *   T tokens, D hidden (hidden_size), H / H_kv query / key-value heads, D_h head dim (head_dim),
 *   F FFN width (intermediate_size, or moe_intermediate_size inside an expert), V vocabulary,
 *   E experts, K the reduction dimension and N the output features of a Linear (weights are N x K). */
#ifndef SRC_MODEL_QWEN3_CONFIG_H
#define SRC_MODEL_QWEN3_CONFIG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QWEN3_MAX_LAYERS 256
#define QWEN3_MAX_EOS 8

struct qwen3_config {
    char architecture[64];     /* "Qwen3ForCausalLM" or "Qwen3MoeForCausalLM" */
    int is_moe;
    int64_t D;                 /* hidden_size */
    int64_t F;                 /* intermediate_size (dense MLP) */
    int64_t n_layers;          /* num_hidden_layers */
    int64_t H, H_kv, D_h;      /* num_attention_heads, num_key_value_heads, head_dim (default D / H) */
    int64_t V;                 /* vocab_size */
    int64_t max_pos;           /* max_position_embeddings */
    double rms_norm_eps;
    double rope_theta;
    int tie_word_embeddings;
    int attention_bias;        /* q/k/v/o biases (false for every released Qwen3) */
    /* MoE (zero for dense models) */
    int64_t E;                 /* num_experts */
    int64_t top_k;             /* num_experts_per_tok */
    int64_t F_moe;             /* moe_intermediate_size */
    int64_t decoder_sparse_step;
    int norm_topk_prob;
    uint8_t layer_is_moe[QWEN3_MAX_LAYERS];   /* from decoder_sparse_step and mlp_only_layers, as HF decides */
    /* tokens */
    int32_t bos_id;            /* -1 when absent */
    int n_eos;
    int32_t eos_ids[QWEN3_MAX_EOS];
    /* checkpoint quantization accepted on input (dequantized on load) */
    int fp8_block_n, fp8_block_k;             /* Qwen FP8 weight_block_size, 0 when not FP8 */
};

/* Reads path (a config.json, or a directory holding config.json and optionally generation_config.json) into
 * c; a GGUF path (qwen3_gguf_path) is read from its metadata by qwen3_gguf_config instead.
 * Dies with "path: key: expected ..., got ..." for a missing or invalid key, an architecture other than the
 * two above, a rope scaling type, sliding-window attention, an activation other than silu or a quantization
 * method other than Qwen's block FP8. */
void qwen3_config_load(struct qwen3_config *c, const char *path);

/* Parses config.json text; `what` names it in errors. generation_config.json is not consulted. */
void qwen3_config_parse(struct qwen3_config *c, const char *json, const char *what);

/* 1 if token id is one of the end-of-sequence ids. */
int qwen3_config_is_eos(const struct qwen3_config *c, int32_t id);

/* Parameter count of the decoder (embeddings and lm_head included once each, tied counted once), in checked
 * arithmetic: -1 if it does not fit in int64 (qwen3_config_parse refuses such a config). */
int64_t qwen3_config_n_params(const struct qwen3_config *c);

#ifdef __cplusplus
}
#endif
#endif
