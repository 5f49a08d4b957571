/* bpe -- byte-pair merges over token ids: the merge table, the merge loop of one word, the byte-level alphabet.
 * A merge (left, right) -> merged has a rank, its index in tokenizer.json's "merges" list; lower ranks are
 * applied first and ties (the same pair twice in a word) go to the leftmost occurrence, which is what HF
 * tokenizers' BPE model does. Nothing here knows the vocabulary size or any Qwen constant. */
#ifndef SRC_MODEL_BPE_H
#define SRC_MODEL_BPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpe_merges; /* opaque: a hash map (left id, right id) -> (rank, merged id) */

/* An empty table sized for about n_hint merges (it grows as needed). */
struct bpe_merges *bpe_merges_new(size_t n_hint);
void bpe_merges_free(struct bpe_merges *m);

/* Adds or replaces the merge of the pair (left, right); ids are >= 0. A later add of the same pair wins, as
 * when HF collects the merges list into a map. */
void bpe_merges_add(struct bpe_merges *m, int32_t left, int32_t right, int32_t rank, int32_t merged);

/* Returns 1 and fills *rank and *merged when the pair has a merge, else 0. */
int bpe_merges_find(const struct bpe_merges *m, int32_t left, int32_t right, int32_t *rank, int32_t *merged);

size_t bpe_merges_count(const struct bpe_merges *m);

/* Merges the n symbol ids of one word in place, lowest rank first, and returns the new count. Short words use
 * a linear scan; long ones a heap, so a 100 kB run of '=' stays O(n log n). */
size_t bpe_merge_word(const struct bpe_merges *m, int32_t *ids, size_t n);

/* GPT-2's byte-to-unicode alphabet: printable bytes (33-126, 161-172, 174-255) stand for themselves, the other
 * 68 bytes map in order to U+0100.. U+0143 (so the space 0x20 is 'Ġ' U+0120, '\n' is 'Ċ' U+010A). */
void bpe_byte_to_unicode(uint32_t map[256]);

#ifdef __cplusplus
}
#endif
#endif
