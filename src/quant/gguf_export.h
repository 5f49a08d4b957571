/* gguf_export -- writes the model in memory (quantized or not) as a GGUF v3 file llama.cpp loads
 * (model/gguf.h for the container, formats/ggml_block.h for the block maps). Like qcheckpoint, it writes
 * from memory, never by copying the source tensors (AWQ folds scales into norms).
 * Metadata: general.architecture "qwen3" or "qwen3moe", general.name, general.alignment 32,
 * general.quantization_version 2, general.file_type (the llama_ftype of the Linears' type: 0 f32, 32 bf16,
 * 7 q8_0, 2 q4_0, 3 q4_1, 38 mxfp4, 39 nvfp4); <arch>.context_length, embedding_length, block_count, feed_forward_length,
 * attention.head_count, attention.head_count_kv, attention.key_length, attention.value_length,
 * attention.layer_norm_rms_epsilon (F32: our engine casts eps to float too), rope.dimension_count (D_h),
 * rope.freq_base (F32; rope_theta
 * is read back as that float, exact for the 1e4 / 1e6 of every Qwen3), and for qwen3moe expert_count,
 * expert_used_count, expert_feed_forward_length, expert_weights_norm. The tokenizer, when tokenizer.json sits
 * in the model's folder, as llama.cpp's convert_hf_to_gguf.py writes it for Qwen (get_vocab_base): model
 * "gpt2", pre "qwen2", tokens 0..V-1 (byte-level spellings; holes "[PAD<i>]" of type UNUSED), token_type
 * (NORMAL 1, CONTROL 3 for special added tokens and for ones that look special "<|...|>", USER_DEFINED 4 for
 * the other added tokens), merges "a b", eos (tokenizer_config.json's eos_token, else <|endoftext|>), bos
 * (config.json's bos_token_id, when present), padding (tokenizer_config.json's pad_token), add_bos_token
 * false, chat_template (when tokenizer_config.json has one). Without tokenizer.json no tokenizer keys are
 * written (a warning: llama.cpp refuses such a file; our loader accepts it for logits).
 * Tensors (ggml names, ne = {K, N}): token_embd, output_norm, output (untied only), blk.L.attn_norm,
 * attn_q / attn_k / attn_v / attn_output, attn_q_norm, attn_k_norm, ffn_norm, ffn_gate / ffn_up / ffn_down,
 * or for MoE layers ffn_gate_inp (router) and ffn_{gate,up,down}_exps ({K, N, E}, experts stacked).
 * Embeddings, norms and the router are F32. Each decoder Linear in the ggml type that holds its values:
 *   not packed or packed bf16: F32 (default, exact, and llama.cpp then computes in F32) or BF16 with
 *     opts.float_type (exact only when every value is BF16, else refused; llama.cpp's CPU vec_dot then
 *     rounds the activations to BF16), or Q8_0 with opts.q8_0 (a baseline that re-quantizes w);
 *   int4-gG-sym -> Q4_0, int4-gG-asym -> Q4_1, mxfp4 / mxfp4-ceil -> MXFP4, nvfp4 -> NVFP4 + "<name>.scale"
 *     (see ggml_block.h for what is exact and what is not);
 * anything else (fp8, mxfp8, int8, nvfp8-2l, nvfp4-clamp's NaN blocks...), activation quantization, an input
 * channel scale or a Hadamard transform is refused with one line naming the tensor.
 * A qwen3moe model whose layers are not all MoE (mlp_only_layers / decoder_sparse_step) is written with dense
 * ffn_* tensors in those layers: our loader reads it, llama.cpp's qwen3moe does not.
 * API: gguf_export_write; its two metadata parts, gguf_export_config_keys and gguf_export_tokenizer, are public
 * for writers of GGUF files that hold no qwen3_model (src/cli/cmd_gguf_random.c: random weights). */
#ifndef SRC_QUANT_GGUF_EXPORT_H
#define SRC_QUANT_GGUF_EXPORT_H

#include <stdint.h>

#include "model/gguf.h"
#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gguf_export_opts {
    uint32_t float_type;   /* GGML_BLOCK_F32 (0, default) or GGML_BLOCK_BF16 for unquantized Linears */
    int q8_0;              /* 1: unquantized Linears as Q8_0 (our rule, ggml_block.h) */
};

/* Writes m as path (GGUF v3, atomically). Dies with one line naming the tensor when a Linear cannot be
 * represented. Returns the file size in bytes. */
uint64_t gguf_export_write(const struct qwen3_model *m, const struct gguf_export_opts *o, const char *path);

/* The general.* and <arch>.* keys of the header comment for config c, general.name = name, general.file_type =
 * ftype (llama.cpp's enum llama_ftype). */
void gguf_export_config_keys(struct gguf_writer *w, const struct qwen3_config *c, const char *name, uint32_t ftype);

/* The tokenizer.* keys of the header comment from dir/tokenizer.json (and dir/tokenizer_config.json when
 * present), for c->V tokens. Returns 1, or 0 with a warning when dir has no tokenizer.json (no keys written). */
int gguf_export_tokenizer(struct gguf_writer *w, const char *dir, const struct qwen3_config *c);

#ifdef __cplusplus
}
#endif
#endif
