/* strmap -- an open-addressing hash map from byte strings to a pair of int32 values.
 * The keys are not copied: each entry records an offset and a length into a byte buffer the caller owns and
 * passes to every call (so the buffer may be reallocated between calls). The tokenizer uses it for its
 * vocabulary (spelling -> id), its added tokens and the per-call piece cache (piece -> run of ids).
 * FNV-1a hashing, linear probing, load factor at most 1/2; entries are never removed. */
#ifndef SRC_CORE_STRMAP_H
#define SRC_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRMAP_EMPTY UINT32_MAX /* the off of an unused slot */

struct strmap_slot {
    uint64_t hash;
    uint32_t off, len; /* the key: keys[off .. off+len) in the caller's buffer */
    int32_t val, val2;
};

struct strmap {
    struct strmap_slot *slots;
    size_t n_slots, n; /* n_slots is a power of two */
};

/* An empty map with room for about n_hint keys before it first grows. */
void strmap_init(struct strmap *m, size_t n_hint);
void strmap_free(struct strmap *m);

/* The entry of key s[0..n), or NULL; keys is the buffer the stored keys point into. */
const struct strmap_slot *strmap_find(const struct strmap *m, const char *keys, const char *s, size_t n);

/* Sets the values of the key stored at keys[off .. off+len), adding it when absent. off and len must be
 * below 4 GiB. */
void strmap_put(struct strmap *m, const char *keys, size_t off, size_t len, int32_t val, int32_t val2);

#ifdef __cplusplus
}
#endif
#endif
