/* strmap -- an open-addressing hash map from byte strings to a pair of int32 values (see strmap.h). */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

/* FNV-1a, 64 bits: short keys (token spellings average a few bytes), so a per-byte hash is cheap enough. */
static uint64_t strmap_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

void strmap_init(struct strmap *m, size_t n_hint) {
    m->n_slots = 16;
    while (m->n_slots < 2 * n_hint) m->n_slots *= 2;
    m->slots = xmalloc(m->n_slots * sizeof *m->slots);
    for (size_t i = 0; i < m->n_slots; i++) m->slots[i].off = STRMAP_EMPTY;
    m->n = 0;
}

void strmap_free(struct strmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->n_slots = m->n = 0;
}

/* The slot holding key s[0..n) (hash h), or the empty slot where it would go. The low bits of FNV-1a are
 * its weakest, so the high bits are folded in before masking. */
static struct strmap_slot *slot_for(const struct strmap *m, const char *keys, const char *s, size_t n,
                                    uint64_t h) {
    size_t mask = m->n_slots - 1, i = (size_t)(h ^ (h >> 29)) & mask;
    for (;;) {
        struct strmap_slot *e = &m->slots[i];
        if (e->off == STRMAP_EMPTY) return e;
        if (e->hash == h && e->len == n && (n == 0 || !memcmp(keys + e->off, s, n))) return e;
        i = (i + 1) & mask;
    }
}

const struct strmap_slot *strmap_find(const struct strmap *m, const char *keys, const char *s, size_t n) {
    const struct strmap_slot *e = slot_for(m, keys, s, n, strmap_hash(s, n));
    return e->off == STRMAP_EMPTY ? NULL : e;
}

void strmap_put(struct strmap *m, const char *keys, size_t off, size_t len, int32_t val, int32_t val2) {
    CHECK(off < STRMAP_EMPTY && len < STRMAP_EMPTY, "strmap key beyond 4 GiB");
    if (2 * (m->n + 1) > m->n_slots) { /* keep the load factor <= 1/2: rehash into twice the slots */
        struct strmap old = *m;
        strmap_init(m, old.n_slots);
        for (size_t i = 0; i < old.n_slots; i++) {
            struct strmap_slot *o = &old.slots[i];
            if (o->off == STRMAP_EMPTY) continue;
            *slot_for(m, keys, o->len ? keys + o->off : "", o->len, o->hash) = *o;
            m->n++;
        }
        free(old.slots);
    }
    // An empty key may come with an empty (NULL) key buffer: NULL + 0 is undefined behaviour in C (found by
    // the tokenizer_load fuzz target under UBSan), so an empty key points at "" instead.
    const char *key = len ? keys + off : "";
    uint64_t h = strmap_hash(key, len);
    struct strmap_slot *e = slot_for(m, keys, key, len, h);
    if (e->off == STRMAP_EMPTY) m->n++;
    *e = (struct strmap_slot){h, (uint32_t)off, (uint32_t)len, val, val2};
}
