/* src/model/qwen3_gguf.h -- a Qwen3 / Qwen3-MoE model read from a GGUF file (model/gguf.h): the file we
 * export (quant/gguf_export.h) or one written by llama.cpp's convert_hf_to_gguf.py (architectures "qwen3"
 * and "qwen3moe"; Qwen3's Q / K weights are not permuted by that converter, so ggml names map one to one to
 * the HF tensors of qwen3.h: token_embd = embed_tokens, output = lm_head, blk.L.attn_q = q_proj, ...).
 * Hyper-parameters come from the <arch>.* keys (qwen3_gguf_config), V from token_embd, tie from the absence
 * of output.weight, MoE layers from the presence of blk.L.ffn_gate_inp, bos / eos from tokenizer.ggml.*.
 * Every tensor is decoded to FP32 (formats/ggml_block.h: exact for F32, F16, BF16, Q8_0, Q4_0, MXFP4, NVFP4
 * sub-blocks; Q4_1 adds its min with one FP32 rounding as ggml does); NVFP4 weights are then multiplied by
 * their "<name>.scale" tensor (one FP32 product: the weight llama.cpp effectively applies). The Linears get
 * these FP32 views with no packed qtensor (format label: the ggml type name, "q4_0"...), so a GGUF model runs
 * in the engine as any checkpoint does; re-quantizing it with a recipe quantizes those values.
 * API: qwen3_gguf_config / qwen3_gguf_load (qwen3_config_load and qwen3_load call them for a .gguf path or
 * a folder holding one .gguf and no config.json). */
#ifndef SRC_MODEL_QWEN3_GGUF_H
#define SRC_MODEL_QWEN3_GGUF_H

#include "model/qwen3.h"
#include "model/qwen3_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The GGUF file a model path names, or NULL when the path is an HF checkpoint: path itself when it ends in
 * .gguf, or the single .gguf of a folder that has no config.json. Caller frees. */
char *qwen3_gguf_path(const char *path);

/* Fills c from the GGUF file at path (dies naming the file and key on a missing or invalid key, or an
 * architecture other than qwen3 / qwen3moe). */
void qwen3_gguf_config(struct qwen3_config *c, const char *path);

/* Loads the model in the GGUF file at path (see the header comment); dies naming the file and tensor. */
struct qwen3_model *qwen3_gguf_load(const char *path);

#ifdef __cplusplus
}
#endif
#endif
