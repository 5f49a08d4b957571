/* src/model/tokenizer_gguf.h -- the tokenizer carried by a GGUF file (tokenizer.ggml.*), given to
 * tokenizer.c as the tokenizer.json it stands for, so both paths share one implementation.
 * Accepted: tokenizer.ggml.model "gpt2" with tokenizer.ggml.pre "qwen2" (llama.cpp's name for Qwen's split
 * regex; convert_hf_to_gguf.py writes it for Qwen2 / Qwen3), which becomes HF's pipeline for Qwen: NFC
 * normalizer, Split(PRETOKENIZE_QWEN_PATTERN, Isolated) + ByteLevel, BPE (ignore_merges false, no byte
 * fallback), ByteLevel decoder. Tokens of type NORMAL (1) are the vocabulary (their byte-level spellings);
 * CONTROL (3) become added tokens with special true, USER_DEFINED (4) added tokens with special false, both
 * normalized false (GGUF does not carry HF's flag; Qwen's added tokens all have normalized false); UNUSED
 * (5) are holes; UNKNOWN (2) and BYTE (6) are refused (a byte-level BPE has neither). Merges "a b" as
 * written. What is lost: HF's special flag of added tokens that look special ("<|fim_prefix|>" is CONTROL in
 * GGUF, special false in Qwen's tokenizer.json); ids are unaffected, as added tokens match either way.
 * API: tokenizer_gguf_json. */
#ifndef SRC_MODEL_TOKENIZER_GGUF_H
#define SRC_MODEL_TOKENIZER_GGUF_H

#include <cjson/cJSON.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tokenizer.json tree of the GGUF file at path (caller deletes), and in *eos_id its
 * tokenizer.ggml.eos_token_id (-1 when absent). Dies naming the file on anything the header refuses. */
cJSON *tokenizer_gguf_json(const char *path, int32_t *eos_id);

#ifdef __cplusplus
}
#endif
#endif
