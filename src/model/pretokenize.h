/* pretokenize -- the Qwen2/Qwen3 split pattern, by hand, over UTF-8 text.
 * HF tokenizers splits normalized text with the regex PRETOKENIZE_QWEN_PATTERN (Oniguruma semantics,
 * "Isolated" behaviour) before byte-level BPE; this module reproduces its leftmost-first matches without a
 * regex engine: \p{L} / \p{N} are Unicode general categories (utf8proc), \s is Unicode White_Space, and the
 * case-insensitive contractions fold as Oniguruma does (so "'ſ" counts as "'s"). Also holds the UTF-8 decoder
 * the tokenizer uses to validate and repair its input. */
#ifndef SRC_MODEL_PRETOKENIZE_H
#define SRC_MODEL_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The regex text as it appears in Qwen3's tokenizer.json (pre_tokenizer.pretokenizers[0].pattern.Regex). */
#define PRETOKENIZE_QWEN_PATTERN \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Called once per piece, in order; the pieces tile the input exactly. */
typedef void (*pretokenize_emit_fn)(void *ctx, const char *piece, size_t len);

/* Splits n bytes of valid UTF-8 (see pretokenize_utf8_valid) into the pieces the Qwen pattern matches and
 * calls emit for each. Every character is covered by some alternative, so no gap pieces ever appear.
 * Scratch memory is allocated per call; the function keeps no state and is thread-safe. */
void pretokenize_split(const char *s, size_t n, pretokenize_emit_fn emit, void *ctx);

/* Decodes one code point at s[0..n) (n >= 1). Returns its length in bytes (1-4) and stores it in *cp, or
 * returns 0 when the bytes there are not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, truncated). */
size_t pretokenize_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Returns 1 when all n bytes are well-formed UTF-8. */
int pretokenize_utf8_valid(const char *s, size_t n);

/* Returns a fresh NUL-terminated copy of s[0..n) in which every byte that does not start a well-formed
 * sequence is replaced by U+FFFD (3 bytes); *n_out gets the new length. Caller frees. */
char *pretokenize_utf8_repair(const char *s, size_t n, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
