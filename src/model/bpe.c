/* bpe -- byte-pair merges over token ids (see bpe.h).
 *
 * The merge table is open addressing keyed by the 64-bit pair (left << 32 | right), multiplicative hashing,
 * load factor at most 1/2. A word is merged by one of two loops with the same result: repeatedly take the
 * adjacent pair of lowest rank (leftmost among equals) and replace it by its merged id, until no adjacent
 * pair has a merge. */
#include "model/bpe.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#define BPE_EMPTY UINT64_MAX /* no valid pair has left = right = -1 */
#define BPE_LINEAR_MAX 64    /* words up to this many symbols use the O(n^2) scan; it wins on short words */

struct bpe_entry {
    uint64_t key;
    int32_t rank;
    int32_t merged;
};

struct bpe_merges {
    struct bpe_entry *slots;
    size_t n_slots; /* a power of two */
    size_t n;
    int shift;      /* 64 - log2(n_slots), for the multiplicative hash */
};

static uint64_t pair_key(int32_t left, int32_t right) {
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

static size_t slot_of(const struct bpe_merges *m, uint64_t key) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);
}

static void table_alloc(struct bpe_merges *m, size_t n_slots) {
    m->slots = xmalloc(n_slots * sizeof *m->slots);
    for (size_t i = 0; i < n_slots; i++) m->slots[i].key = BPE_EMPTY;
    m->n_slots = n_slots;
    m->shift = 64;
    for (size_t s = n_slots; s > 1; s >>= 1) m->shift--;
}

struct bpe_merges *bpe_merges_new(size_t n_hint) {
    struct bpe_merges *m = xcalloc(1, sizeof *m);
    size_t n_slots = 16;
    while (n_slots < 2 * n_hint) n_slots *= 2;
    table_alloc(m, n_slots);
    return m;
}

void bpe_merges_free(struct bpe_merges *m) {
    if (!m) return;
    free(m->slots);
    free(m);
}

static void insert_entry(struct bpe_merges *m, struct bpe_entry e) {
    size_t mask = m->n_slots - 1, i = slot_of(m, e.key);
    while (m->slots[i].key != BPE_EMPTY && m->slots[i].key != e.key) i = (i + 1) & mask;
    if (m->slots[i].key == BPE_EMPTY) m->n++;
    m->slots[i] = e;
}

void bpe_merges_add(struct bpe_merges *m, int32_t left, int32_t right, int32_t rank, int32_t merged) {
    CHECK(left >= 0 && right >= 0 && merged >= 0 && rank >= 0, "bad merge (%d, %d) -> %d", left, right, merged);
    if (2 * (m->n + 1) > m->n_slots) { /* keep the load factor <= 1/2: rehash into twice the slots */
        struct bpe_entry *old = m->slots;
        size_t n_old = m->n_slots;
        table_alloc(m, 2 * n_old);
        m->n = 0;
        for (size_t i = 0; i < n_old; i++)
            if (old[i].key != BPE_EMPTY) insert_entry(m, old[i]);
        free(old);
    }
    insert_entry(m, (struct bpe_entry){pair_key(left, right), rank, merged});
}

int bpe_merges_find(const struct bpe_merges *m, int32_t left, int32_t right, int32_t *rank, int32_t *merged) {
    uint64_t key = pair_key(left, right);
    size_t mask = m->n_slots - 1, i = slot_of(m, key);
    for (;;) {
        const struct bpe_entry *e = &m->slots[i];
        if (e->key == key) {
            *rank = e->rank;
            *merged = e->merged;
            return 1;
        }
        if (e->key == BPE_EMPTY) return 0;
        i = (i + 1) & mask;
    }
}

size_t bpe_merges_count(const struct bpe_merges *m) { return m->n; }

/* The rank of the pair, or INT32_MAX when it has no merge. */
static int32_t rank_of(const struct bpe_merges *m, int32_t left, int32_t right, int32_t *merged) {
    int32_t rank;
    return bpe_merges_find(m, left, right, &rank, merged) ? rank : INT32_MAX;
}

/* Short words: keep the rank of every adjacent pair in an array, scan it for the minimum, merge, and refresh
 * only the two pairs the merge touched. O(n^2) steps but only O(n) hash lookups. */
static size_t merge_linear(const struct bpe_merges *m, int32_t *ids, size_t n) {
    int32_t rank[BPE_LINEAR_MAX], merged[BPE_LINEAR_MAX];
    for (size_t i = 0; i + 1 < n; i++) rank[i] = rank_of(m, ids[i], ids[i + 1], &merged[i]);
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i; /* strict <: the leftmost of equal ranks wins */
        if (rank[best] == INT32_MAX) break;
        ids[best] = merged[best];
        /* drop symbol best+1 and pair best+1 (now pair best covers it) */
        memmove(ids + best + 1, ids + best + 2, (n - best - 2) * sizeof *ids);
        if (best + 2 < n) {
            memmove(rank + best + 1, rank + best + 2, (n - best - 3) * sizeof *rank);
            memmove(merged + best + 1, merged + best + 2, (n - best - 3) * sizeof *merged);
        }
        n--;
        if (best > 0) rank[best - 1] = rank_of(m, ids[best - 1], ids[best], &merged[best - 1]);
        if (best + 1 < n) rank[best] = rank_of(m, ids[best], ids[best + 1], &merged[best]);
    }
    return n;
}

/* A candidate merge in the heap: ordered by (rank, pos), pos being the position of the left symbol, which a
 * merged symbol keeps. Entries go stale when either symbol changes; they are checked when popped. */
struct bpe_cand {
    int32_t rank, pos, left, right, merged;
};

static int cand_less(const struct bpe_cand *a, const struct bpe_cand *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(struct bpe_cand *h, size_t *n, struct bpe_cand c) {
    size_t i = (*n)++;
    while (i > 0 && cand_less(&c, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static struct bpe_cand heap_pop(struct bpe_cand *h, size_t *n) {
    struct bpe_cand top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && cand_less(&h[c + 1], &h[c])) c++;
        if (!cand_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0) h[i] = last;
    return top;
}

static void push_pair(const struct bpe_merges *m, struct bpe_cand *h, size_t *n_h, const int32_t *sym,
                      int32_t left_pos, int32_t right_pos) {
    struct bpe_cand c = {0, left_pos, sym[left_pos], sym[right_pos], 0};
    c.rank = rank_of(m, c.left, c.right, &c.merged);
    if (c.rank != INT32_MAX) heap_push(h, n_h, c);
}

/* Long words: a doubly linked list of symbols (dead ones hold -1) and a min-heap of candidate pairs. A popped
 * candidate is valid when its left symbol still holds the same id (a symbol only grows, so an unchanged id
 * means an unchanged span, hence an unchanged right neighbour position) and the right one does too. */
static size_t merge_heap(const struct bpe_merges *m, int32_t *ids, size_t n) {
    int32_t *sym = xmalloc(n * sizeof *sym), *next = xmalloc(n * sizeof *next), *prev = xmalloc(n * sizeof *prev);
    struct bpe_cand *h = xmalloc(3 * n * sizeof *h); /* n-1 initial pairs + at most 2 per merge */
    size_t n_h = 0;
    for (size_t i = 0; i < n; i++) {
        sym[i] = ids[i];
        next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        prev[i] = (int32_t)i - 1;
    }
    for (size_t i = 0; i + 1 < n; i++) push_pair(m, h, &n_h, sym, (int32_t)i, (int32_t)i + 1);
    while (n_h > 0) {
        struct bpe_cand c = heap_pop(h, &n_h);
        int32_t r = next[c.pos];
        if (sym[c.pos] != c.left || r < 0 || sym[r] != c.right) continue; /* stale */
        sym[c.pos] = c.merged;
        sym[r] = -1;
        next[c.pos] = next[r];
        if (next[r] >= 0) prev[next[r]] = c.pos;
        if (prev[c.pos] >= 0) push_pair(m, h, &n_h, sym, prev[c.pos], c.pos);
        if (next[c.pos] >= 0) push_pair(m, h, &n_h, sym, c.pos, next[c.pos]);
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) ids[k++] = sym[i];
    free(sym);
    free(next);
    free(prev);
    free(h);
    return k;
}

size_t bpe_merge_word(const struct bpe_merges *m, int32_t *ids, size_t n) {
    if (n < 2) return n;
    return n <= BPE_LINEAR_MAX ? merge_linear(m, ids, n) : merge_heap(m, ids, n);
}

void bpe_byte_to_unicode(uint32_t map[256]) {
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        map[b] = printable ? b : 256 + extra++;
    }
}
