/* tokenizer -- Qwen's byte-level BPE tokenizer, loaded from a HF tokenizer.json.
 * encode: added/special tokens are cut out of the raw text first (leftmost, longest first), every other
 * stretch is NFC-normalized, split by the Qwen regex (pretokenize.h), mapped to GPT-2's byte alphabet and
 * merged by rank (bpe.h). decode: ids back to the exact bytes. The ids equal those of HF tokenizers on the
 * real Qwen3 tokenizer.json (tests/test_tokenizer.c checks them on WikiText-2, C4, GSM8K and edge cases).
 * Nothing assumes Qwen3's vocabulary size: a derived tokenizer with fewer merges loads the same way. */
#ifndef SRC_MODEL_TOKENIZER_H
#define SRC_MODEL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tokenizer; /* opaque; immutable once loaded, so one may be shared by threads */

/* Loads path, a tokenizer.json or a folder holding one. Anything but a byte-level BPE with an NFC (or no)
 * normalizer, the Qwen split pattern and a ByteLevel decoder is refused with one error line naming the file
 * (die, exit status 1). If a tokenizer_config.json sits beside it, its eos_token is read (tokenizer_eos_id).
 * A .gguf file (or a folder with one .gguf and no tokenizer.json) gives its tokenizer.ggml.* through
 * tokenizer_gguf.h, with tokenizer.ggml.eos_token_id as the eos. */
struct tokenizer *tokenizer_load(const char *path);
void tokenizer_free(struct tokenizer *t);

/* Encodes len bytes of UTF-8 text; added and special tokens written in the text (e.g. "<|im_start|>") become
 * their ids. Returns a fresh array (caller frees) of *n_out ids. Bytes that are not well-formed UTF-8 are
 * read as U+FFFD (HF tokenizers only accepts valid strings). Thread-safe: the word cache is per call. */
int32_t *tokenizer_encode(const struct tokenizer *t, const char *text, size_t len, size_t *n_out);

/* Decodes n ids into *out (fresh, NUL-terminated, caller frees) and returns its length in bytes. The bytes
 * are exactly those the tokens stand for; HF's decode returns the same string when it is valid UTF-8 (it
 * replaces invalid sequences by U+FFFD). Ids that name no token (out of range, holes) contribute nothing. */
size_t tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n, char **out);

/* The bytes one id stands for (not NUL-terminated) and their count in *len; NULL when id names no token.
 * For streaming output: a multi-byte character may be split over consecutive tokens. */
const char *tokenizer_token_bytes(const struct tokenizer *t, int32_t id, size_t *len);

/* The id of an added token by its content ("<|im_end|>"), else of a vocabulary entry by its byte-level
 * spelling ("Ġthe" is " the"); -1 when there is none. */
int32_t tokenizer_token_id(const struct tokenizer *t, const char *name);

/* One more than the largest id (151669 for Qwen3; the model's embedding table may be larger). */
size_t tokenizer_n_vocab(const struct tokenizer *t);

/* 1 when id is an added token marked "special" in tokenizer.json (<|im_start|>, <|endoftext|>, ...). */
int tokenizer_is_special(const struct tokenizer *t, int32_t id);

/* The eos token: tokenizer_config.json's eos_token when that file is present, else <|endoftext|>; -1 if none. */
int32_t tokenizer_eos_id(const struct tokenizer *t);

/* The id of <|im_end|>, which ends every chat turn; -1 if the vocabulary has none. */
int32_t tokenizer_im_end_id(const struct tokenizer *t);

/* The tokenizer.json path it was loaded from. */
const char *tokenizer_path(const struct tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif
