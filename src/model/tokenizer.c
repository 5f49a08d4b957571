/* tokenizer -- Qwen's byte-level BPE tokenizer, loaded from a HF tokenizer.json (see tokenizer.h).
 *
 * The pipeline of HF tokenizers, stage by stage, for the configuration Qwen ships (and only that one):
 *
 *   added tokens   every "added_tokens" entry with normalized=false is cut out of the raw text, leftmost
 *                  match first and the longest of those starting there (Aho-Corasick LeftmostLongest);
 *   normalizer     NFC (utf8proc) on each remaining stretch; entries with normalized=true are cut out next;
 *   pre-tokenizer  the Qwen regex (pretokenize.c), then ByteLevel: every byte becomes one symbol of GPT-2's
 *                  256-character alphabet, so no input is ever unknown;
 *   model          BPE: the symbols of each piece merge by rank (bpe.c); the result is cached per piece;
 *   decoder        ByteLevel: each token's characters map back to bytes.
 *
 * Token strings live in two byte buffers indexed by id: the spelling as tokenizer.json writes it (byte-level
 * characters for vocabulary entries, the literal content for added tokens) and the bytes it decodes to. */
#define _POSIX_C_SOURCE 200809L
#include "model/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "core/check.h"
#include "core/json_io.h"
#include "model/bpe.h"
#include "model/hf_cache.h"
#include "model/pretokenize.h"
#include "model/gguf.h"
#include "model/qwen3_gguf.h"
#include "model/tokenizer_gguf.h"
#include "core/strmap.h"

#define TOK_NONE UINT32_MAX
#define TOK_MAX_ID (1 << 24)                /* ids beyond this are surely a broken file */
#define TOK_CACHE_MAX_PIECE 128             /* longer pieces are merged afresh each time */
#define TOK_CACHE_MAX_ENTRIES (1u << 20)    /* bounds the per-call cache on huge inputs */
#define TOK_BYTE_ALPHABET 324               /* byte-level characters are all below U+0144 */

enum { TOK_ADDED = 1, TOK_SPECIAL = 2 };

/* ---- a growable byte buffer ---- */

struct buf {
    char *p;
    size_t n, cap;
};

/* Appends n bytes and returns the offset they start at. */
static size_t buf_add(struct buf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = b->cap ? b->cap : 4096;
        while (b->n + n > b->cap) b->cap *= 2;
        b->p = xrealloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    return b->n - n;
}

/* ---- the tokenizer ---- */

/* Added tokens of one kind (normalized or not), sorted by first byte and, within one first byte, longest first:
 * those starting with byte b are [first[b], first[b+1]). */
struct added_set {
    size_t n;
    int32_t *ids;
    uint32_t *off, *len; /* content, in tokenizer.strs */
    uint32_t first[257];
};

struct tokenizer {
    char *path;
    size_t n_vocab;
    struct buf strs, bytes;          /* spellings and decoded bytes, indexed through the arrays below */
    uint32_t *str_off, *str_len;     /* per id; str_off == TOK_NONE: no token has this id */
    uint32_t *byte_off, *byte_len;
    uint8_t *flags;                  /* TOK_ADDED, TOK_SPECIAL */
    struct strmap vocab, added;      /* spelling -> id, content -> id (keys in strs) */
    struct added_set raw, normalized;
    int32_t byte_id[256];            /* the token of each single byte */
    uint32_t byte_char[256];         /* byte -> byte-level character */
    int16_t char_byte[TOK_BYTE_ALPHABET]; /* byte-level character -> byte, -1 if none */
    struct bpe_merges *merges;
    int nfc, ignore_merges;
    int32_t eos_id, im_end_id;
};

/* Is key present and not JSON null? */
static int present(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v);
}

static const char *type_of(const cJSON *o) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int bool_is(const cJSON *o, const char *key, int want) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return !v || cJSON_IsNull(v) ? want == 0 : cJSON_IsBool(v) && !!cJSON_IsTrue(v) == want;
}

static int empty_string_or_null(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0');
}

/* Refuses, naming the file, every configuration the pipeline above does not implement exactly. */
static void check_pipeline(const cJSON *root, const char *path) {
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm) && strcmp(type_of(norm), "NFC") != 0)
        die("%s: normalizer \"%s\" is not supported (only NFC or none)", path, type_of(norm));

    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
    const cJSON *split = cJSON_GetArrayItem(seq, 0), *bl = cJSON_GetArrayItem(seq, 1);
    if (strcmp(type_of(pre), "Sequence") || cJSON_GetArraySize(seq) != 2 || strcmp(type_of(split), "Split") ||
        strcmp(type_of(bl), "ByteLevel"))
        die("%s: pre_tokenizer is not Sequence[Split, ByteLevel] as in Qwen's tokenizer", path);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex");
    if (!cJSON_IsString(pat) || strcmp(pat->valuestring, PRETOKENIZE_QWEN_PATTERN) != 0)
        die("%s: the Split pre-tokenizer's regex is not Qwen's pattern (got %s)", path,
            cJSON_IsString(pat) ? pat->valuestring : "no Regex");
    const cJSON *beh = cJSON_GetObjectItemCaseSensitive(split, "behavior");
    if (!cJSON_IsString(beh) || strcmp(beh->valuestring, "Isolated") || !bool_is(split, "invert", 0))
        die("%s: the Split pre-tokenizer must have behavior Isolated and invert false", path);
    if (!bool_is(bl, "add_prefix_space", 0) || !bool_is(bl, "use_regex", 0))
        die("%s: the ByteLevel pre-tokenizer must have add_prefix_space and use_regex false", path);

    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (strcmp(type_of(dec), "ByteLevel") != 0) die("%s: decoder must be ByteLevel", path);
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    if (post && !cJSON_IsNull(post) && strcmp(type_of(post), "ByteLevel") != 0)
        die("%s: post_processor \"%s\" is not supported (only ByteLevel or none)", path, type_of(post));

    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) die("%s: no \"model\" object", path);
    if (strcmp(type_of(model), "BPE") != 0) die("%s: model type is \"%s\", not BPE", path, type_of(model));
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(model, "vocab")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(model, "merges")))
        die("%s: the BPE model needs a \"vocab\" object and a \"merges\" list", path);
    if (present(model, "dropout") || !bool_is(model, "byte_fallback", 0) ||
        !empty_string_or_null(model, "continuing_subword_prefix") || !empty_string_or_null(model, "end_of_word_suffix"))
        die("%s: BPE options dropout, byte_fallback, continuing_subword_prefix, end_of_word_suffix are not supported",
            path);
}

/* A JSON number that is an id in [0, TOK_MAX_ID), else -1. */
static int32_t as_id(const cJSON *v) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= TOK_MAX_ID ||
        v->valuedouble != (double)(int32_t)v->valuedouble)
        return -1;
    return (int32_t)v->valuedouble;
}

/* Records what id decodes to: the bytes of its byte-level characters when all of them are in the alphabet,
 * else the spelling's own UTF-8 bytes (HF's ByteLevel decoder does the same, token by token). */
static void set_token(struct tokenizer *t, int32_t id, const char *s, size_t n) {
    t->str_off[id] = (uint32_t)buf_add(&t->strs, s, n);
    t->str_len[id] = (uint32_t)n;
    size_t start = t->bytes.n;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = pretokenize_utf8_decode(u + i, n - i, &cp);
        if (!k || cp >= TOK_BYTE_ALPHABET || t->char_byte[cp] < 0) { /* not byte-level: keep it raw */
            t->bytes.n = start;
            buf_add(&t->bytes, s, n);
            break;
        }
        uint8_t b = (uint8_t)t->char_byte[cp];
        buf_add(&t->bytes, &b, 1);
        i += k;
    }
    t->byte_off[id] = (uint32_t)start;
    t->byte_len[id] = (uint32_t)(t->bytes.n - start);
}

static int32_t vocab_id(const struct tokenizer *t, const char *s, size_t n) {
    const struct strmap_slot *e = strmap_find(&t->vocab, t->strs.p, s, n);
    return e ? e->val : -1;
}

static void load_vocab(struct tokenizer *t, const cJSON *vocab, const char *path) {
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab) {
        int32_t id = as_id(item);
        if (id < 0) die("%s: vocab entry \"%s\" has no valid id", path, item->string);
        if (t->str_off[id] != TOK_NONE) die("%s: id %d appears twice in the vocab", path, id);
        set_token(t, id, item->string, strlen(item->string));
        strmap_put(&t->vocab, t->strs.p, t->str_off[id], t->str_len[id], id, 0);
    }
    for (int b = 0; b < 256; b++) {
        char s[4];
        size_t n = (size_t)utf8proc_encode_char((utf8proc_int32_t)t->byte_char[b], (utf8proc_uint8_t *)s);
        t->byte_id[b] = vocab_id(t, s, n);
        if (t->byte_id[b] < 0) die("%s: the vocab lacks the byte-level token of byte 0x%02x", path, b);
    }
}

/* Merges are "a b" strings (older files) or ["a", "b"] pairs; the rank is the position in the list. */
static void load_merges(struct tokenizer *t, const cJSON *merges, const char *path) {
    struct buf ab = {0};
    int32_t rank = 0;
    const cJSON *m;
    t->merges = bpe_merges_new((size_t)cJSON_GetArraySize(merges));
    cJSON_ArrayForEach(m, merges) {
        const char *a = NULL, *b = NULL;
        size_t na = 0;
        if (cJSON_IsString(m)) {
            const char *sp = strchr(m->valuestring, ' ');
            if (sp && !strchr(sp + 1, ' ')) a = m->valuestring, na = (size_t)(sp - a), b = sp + 1;
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
                   cJSON_IsString(m->child->next)) {
            a = m->child->valuestring, na = strlen(a), b = m->child->next->valuestring;
        }
        if (!a) die("%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", path, rank);
        size_t nb = strlen(b);
        ab.n = 0;
        buf_add(&ab, a, na);
        buf_add(&ab, b, nb);
        int32_t ia = vocab_id(t, a, na), ib = vocab_id(t, b, nb), iab = vocab_id(t, ab.p, ab.n);
        if (ia < 0 || ib < 0 || iab < 0) die("%s: merge %d (%.*s %s) names a token not in the vocab", path, rank,
                                             (int)na, a, b);
        bpe_merges_add(t->merges, ia, ib, rank++, iab);
    }
    free(ab.p);
}

/* Does entry a of the (unsorted) set come before entry b: first byte ascending, then longest first, then id? */
static int added_before(const struct added_set *s, const char *keys, size_t a, size_t b) {
    uint8_t fa = (uint8_t)keys[s->off[a]], fb = (uint8_t)keys[s->off[b]];
    if (fa != fb) return fa < fb;
    if (s->len[a] != s->len[b]) return s->len[a] > s->len[b];
    return s->ids[a] < s->ids[b];
}

/* Builds the matcher of n added tokens. With nfc set (the normalized=true tokens under an NFC normalizer),
 * it matches the NFC form of each content, as HF normalizes those tokens before matching them against the
 * normalized text. */
static void added_set_build(struct tokenizer *t, struct added_set *s, const int32_t *ids, size_t n, int nfc) {
    size_t cap = n ? n : 1;
    int32_t *id = xmalloc(cap * sizeof *id);
    uint32_t *off = xmalloc(cap * sizeof *off), *len = xmalloc(cap * sizeof *len);
    for (size_t k = 0; k < n; k++) {
        id[k] = ids[k];
        off[k] = t->str_off[ids[k]];
        len[k] = t->str_len[ids[k]];
        if (nfc) {
            utf8proc_uint8_t *norm = NULL;
            utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)t->strs.p + off[k], len[k], &norm,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (m <= 0) die("%s: added token %d is not valid UTF-8", t->path, ids[k]);
            off[k] = (uint32_t)buf_add(&t->strs, norm, (size_t)m);
            len[k] = (uint32_t)m;
            free(norm);
        }
    }
    /* sort an index (insertion sort: added tokens number dozens, and this keeps loading reentrant), then lay
     * the entries out in that order */
    struct added_set unsorted = {n, id, off, len, {0}};
    size_t *order = xmalloc(cap * sizeof *order);
    for (size_t k = 0; k < n; k++) {
        size_t j = k;
        for (; j > 0 && added_before(&unsorted, t->strs.p, k, order[j - 1]); j--) order[j] = order[j - 1];
        order[j] = k;
    }
    s->n = n;
    s->ids = xmalloc(cap * sizeof *s->ids);
    s->off = xmalloc(cap * sizeof *s->off);
    s->len = xmalloc(cap * sizeof *s->len);
    memset(s->first, 0, sizeof s->first);
    for (size_t k = 0; k < n; k++) {
        s->ids[k] = id[order[k]];
        s->off[k] = off[order[k]];
        s->len[k] = len[order[k]];
        s->first[(uint8_t)t->strs.p[s->off[k]] + 1]++;
    }
    for (int b = 0; b < 256; b++) s->first[b + 1] += s->first[b]; /* counts -> start offsets */
    free(order);
    free(id);
    free(off);
    free(len);
}

static void load_added(struct tokenizer *t, const cJSON *added, const char *path) {
    size_t n = (size_t)cJSON_GetArraySize(added), n_raw = 0, n_norm = 0;
    int32_t *raw = xmalloc((n ? n : 1) * sizeof *raw), *norm = xmalloc((n ? n : 1) * sizeof *norm);
    const cJSON *a;
    cJSON_ArrayForEach(a, added) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
        int32_t id = as_id(cJSON_GetObjectItemCaseSensitive(a, "id"));
        if (id < 0 || !cJSON_IsString(content) || !content->valuestring[0])
            die("%s: an added token lacks a valid id or content", path);
        if (!bool_is(a, "lstrip", 0) || !bool_is(a, "rstrip", 0) || !bool_is(a, "single_word", 0))
            die("%s: added token %s uses lstrip/rstrip/single_word, which is not supported", path,
                content->valuestring);
        set_token(t, id, content->valuestring, strlen(content->valuestring)); /* an added token wins its id */
        strmap_put(&t->added, t->strs.p, t->str_off[id], t->str_len[id], id, 0);
        t->flags[id] = TOK_ADDED | (bool_is(a, "special", 1) ? TOK_SPECIAL : 0);
        /* HF's default for a missing "normalized" is !special */
        const cJSON *nz = cJSON_GetObjectItemCaseSensitive(a, "normalized");
        int normalized = cJSON_IsBool(nz) ? cJSON_IsTrue(nz) : !(t->flags[id] & TOK_SPECIAL);
        if (normalized) norm[n_norm++] = id;
        else raw[n_raw++] = id;
    }
    added_set_build(t, &t->raw, raw, n_raw, 0);
    added_set_build(t, &t->normalized, norm, n_norm, t->nfc);
    free(raw);
    free(norm);
}

/* The eos token named by tokenizer_config.json beside the tokenizer, if that file exists. */
static int32_t config_eos(const struct tokenizer *t) {
    const char *slash = strrchr(t->path, '/');
    size_t dir = slash ? (size_t)(slash - t->path + 1) : 0;
    char *cfg = xmalloc(dir + sizeof "tokenizer_config.json");
    memcpy(cfg, t->path, dir);
    strcpy(cfg + dir, "tokenizer_config.json");
    int32_t id = -1;
    if (file_exists(cfg)) {
        cJSON *root = json_read_file(cfg);
        const cJSON *eos = cJSON_GetObjectItemCaseSensitive(root, "eos_token");
        if (cJSON_IsObject(eos)) eos = cJSON_GetObjectItemCaseSensitive(eos, "content");
        if (cJSON_IsString(eos)) id = tokenizer_token_id(t, eos->valuestring);
        cJSON_Delete(root);
    }
    free(cfg);
    return id >= 0 ? id : tokenizer_token_id(t, "<|endoftext|>");
}

struct tokenizer *tokenizer_load(const char *path_or_id) {
    struct stat st;
    struct tokenizer *t = xcalloc(1, sizeof *t);
    char *resolved = hf_cache_resolve(path_or_id);   /* a Hugging Face model id in the local cache */
    const char *path = resolved;
    size_t np = strlen(path);
    t->path = xmalloc(np + sizeof "/tokenizer.json");
    strcpy(t->path, path);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) strcpy(t->path + np, "/tokenizer.json");
    /* a GGUF file (or a folder holding one and no tokenizer.json): its tokenizer.ggml.* as tokenizer.json */
    char *gguf = gguf_is_path(path) || !file_exists(t->path) ? qwen3_gguf_path(path) : NULL;
    int32_t gguf_eos = -1;
    cJSON *root;
    if (gguf) {
        free(t->path);
        t->path = gguf;
        root = tokenizer_gguf_json(gguf, &gguf_eos);
    } else root = json_read_file(t->path);
    free(resolved);
    path = t->path;
    check_pipeline(root, path);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added)) die("%s: \"added_tokens\" is not a list", path);
    t->nfc = present(root, "normalizer");
    t->ignore_merges = bool_is(model, "ignore_merges", 1);

    /* ids may have holes: size the per-id arrays by the largest id */
    int32_t max_id = -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab) if (as_id(item) > max_id) max_id = as_id(item);
    cJSON_ArrayForEach(item, added) {
        int32_t id = as_id(cJSON_GetObjectItemCaseSensitive(item, "id"));
        if (id > max_id) max_id = id;
    }
    t->n_vocab = (size_t)max_id + 1;
    t->str_off = xmalloc(t->n_vocab * sizeof *t->str_off);
    t->str_len = xcalloc(t->n_vocab, sizeof *t->str_len);
    t->byte_off = xcalloc(t->n_vocab, sizeof *t->byte_off);
    t->byte_len = xcalloc(t->n_vocab, sizeof *t->byte_len);
    t->flags = xcalloc(t->n_vocab, sizeof *t->flags);
    for (size_t i = 0; i < t->n_vocab; i++) t->str_off[i] = TOK_NONE;

    bpe_byte_to_unicode(t->byte_char);
    for (int c = 0; c < TOK_BYTE_ALPHABET; c++) t->char_byte[c] = -1;
    for (int b = 0; b < 256; b++) t->char_byte[t->byte_char[b]] = (int16_t)b;

    strmap_init(&t->vocab, (size_t)cJSON_GetArraySize(vocab));
    strmap_init(&t->added, 16);
    load_vocab(t, vocab, path);
    load_merges(t, cJSON_GetObjectItemCaseSensitive(model, "merges"), path);
    load_added(t, added, path);
    cJSON_Delete(root);

    t->eos_id = gguf ? (gguf_eos >= 0 ? gguf_eos : tokenizer_token_id(t, "<|endoftext|>")) : config_eos(t);
    t->im_end_id = tokenizer_token_id(t, "<|im_end|>");
    return t;
}

void tokenizer_free(struct tokenizer *t) {
    if (!t) return;
    free(t->path);
    free(t->strs.p);
    free(t->bytes.p);
    free(t->str_off);
    free(t->str_len);
    free(t->byte_off);
    free(t->byte_len);
    free(t->flags);
    strmap_free(&t->vocab);
    strmap_free(&t->added);
    struct added_set *sets[2] = {&t->raw, &t->normalized};
    for (int i = 0; i < 2; i++) {
        free(sets[i]->ids);
        free(sets[i]->off);
        free(sets[i]->len);
    }
    bpe_merges_free(t->merges);
    free(t);
}

/* ---- encoding ---- */

/* State of one tokenizer_encode call: the output, the piece cache (piece bytes -> a run of ids in cache_ids),
 * and scratch space. */
struct enc {
    const struct tokenizer *t;
    int32_t *out;
    size_t n_out, cap_out;
    struct strmap cache;
    struct buf cache_keys;
    int32_t *cache_ids;
    size_t n_cache_ids, cap_cache_ids;
    int32_t *word;
    size_t cap_word;
    struct buf spelling;
};

static void push_ids(int32_t **a, size_t *n, size_t *cap, const int32_t *ids, size_t k) {
    if (*n + k > *cap) {
        *cap = *cap ? *cap : 256;
        while (*n + k > *cap) *cap *= 2;
        *a = xrealloc(*a, *cap * sizeof **a);
    }
    memcpy(*a + *n, ids, k * sizeof *ids);
    *n += k;
}

/* The first match of an added token of set s in text[from..n): its offset in *at and its index in *which. */
static int find_added(const struct tokenizer *t, const struct added_set *s, const char *text, size_t n,
                      size_t from, size_t *at, size_t *which) {
    if (s->n == 0) return 0;
    const unsigned char *u = (const unsigned char *)text;
    for (size_t p = from; p < n; p++) {
        for (uint32_t k = s->first[u[p]]; k < s->first[u[p] + 1]; k++) { /* longest first */
            if (s->len[k] <= n - p && !memcmp(text + p, t->strs.p + s->off[k], s->len[k])) {
                *at = p;
                *which = k;
                return 1;
            }
        }
    }
    return 0;
}

/* One pre-tokenized piece: byte symbols, merged; from the cache when seen before in this call. */
static void encode_piece(void *ctx, const char *p, size_t len) {
    struct enc *e = ctx;
    const struct tokenizer *t = e->t;
    const struct strmap_slot *hit = NULL;
    int cacheable = len <= TOK_CACHE_MAX_PIECE;
    if (cacheable && (hit = strmap_find(&e->cache, e->cache_keys.p, p, len)) != NULL) {
        push_ids(&e->out, &e->n_out, &e->cap_out, e->cache_ids + hit->val, (size_t)hit->val2);
        return;
    }
    if (e->cap_word < len) {
        e->cap_word = 2 * len;
        e->word = xrealloc(e->word, e->cap_word * sizeof *e->word);
    }
    size_t n = 0;
    if (t->ignore_merges) { /* a piece that is a whole vocab entry skips the merges */
        e->spelling.n = 0;
        for (size_t i = 0; i < len; i++) {
            char c[4];
            buf_add(&e->spelling, c,
                    (size_t)utf8proc_encode_char((utf8proc_int32_t)t->byte_char[(uint8_t)p[i]], (utf8proc_uint8_t *)c));
        }
        int32_t id = vocab_id(t, e->spelling.p, e->spelling.n);
        if (id >= 0) e->word[n++] = id;
    }
    if (n == 0) {
        for (size_t i = 0; i < len; i++) e->word[i] = t->byte_id[(uint8_t)p[i]];
        n = bpe_merge_word(t->merges, e->word, len);
    }
    push_ids(&e->out, &e->n_out, &e->cap_out, e->word, n);
    if (cacheable && e->cache.n < TOK_CACHE_MAX_ENTRIES) {
        size_t off = buf_add(&e->cache_keys, p, len);
        strmap_put(&e->cache, e->cache_keys.p, off, len, (int32_t)e->n_cache_ids, (int32_t)n);
        push_ids(&e->cache_ids, &e->n_cache_ids, &e->cap_cache_ids, e->word, n);
    }
}

/* Normalized text: cut out the normalized added tokens, pre-tokenize and merge the rest. */
static void encode_normalized(struct enc *e, const char *s, size_t n) {
    size_t pos = 0, at, k;
    while (find_added(e->t, &e->t->normalized, s, n, pos, &at, &k)) {
        pretokenize_split(s + pos, at - pos, encode_piece, e);
        push_ids(&e->out, &e->n_out, &e->cap_out, &e->t->normalized.ids[k], 1);
        pos = at + e->t->normalized.len[k];
    }
    pretokenize_split(s + pos, n - pos, encode_piece, e);
}

/* A stretch of raw text between added tokens: repair invalid UTF-8, NFC-normalize (ASCII is already NFC). */
static void encode_stretch(struct enc *e, const char *s, size_t n) {
    char *fixed = NULL;
    if (n == 0) return;
    if (!pretokenize_utf8_valid(s, n)) s = fixed = pretokenize_utf8_repair(s, n, &n);
    int ascii = 1;
    for (size_t i = 0; i < n && ascii; i++) ascii = (uint8_t)s[i] < 0x80;
    if (e->t->nfc && !ascii) {
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfc,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        CHECK(m >= 0, "utf8proc_map: %s", utf8proc_errmsg(m));
        encode_normalized(e, (const char *)nfc, (size_t)m);
        free(nfc);
    } else {
        encode_normalized(e, s, n);
    }
    free(fixed);
}

int32_t *tokenizer_encode(const struct tokenizer *t, const char *text, size_t len, size_t *n_out) {
    struct enc e = {0};
    e.t = t;
    strmap_init(&e.cache, len < 4096 ? 64 : 4096);
    e.out = xmalloc((len / 3 + 16) * sizeof *e.out); /* about 4 bytes per token in English */
    e.cap_out = len / 3 + 16;
    size_t pos = 0, at, k;
    while (find_added(t, &t->raw, text, len, pos, &at, &k)) {
        encode_stretch(&e, text + pos, at - pos);
        push_ids(&e.out, &e.n_out, &e.cap_out, &t->raw.ids[k], 1);
        pos = at + t->raw.len[k];
    }
    encode_stretch(&e, text + pos, len - pos);
    strmap_free(&e.cache);
    free(e.cache_keys.p);
    free(e.cache_ids);
    free(e.word);
    free(e.spelling.p);
    *n_out = e.n_out;
    return e.out;
}

/* ---- decoding and lookups ---- */

const char *tokenizer_token_bytes(const struct tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || (size_t)id >= t->n_vocab || t->str_off[id] == TOK_NONE) {
        *len = 0;
        return NULL;
    }
    *len = t->byte_len[id];
    return t->bytes.p + t->byte_off[id];
}

size_t tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n, char **out) {
    size_t total = 0, len;
    for (size_t i = 0; i < n; i++) {
        tokenizer_token_bytes(t, ids[i], &len);
        total += len;
    }
    char *s = xmalloc(total + 1);
    total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *b = tokenizer_token_bytes(t, ids[i], &len);
        if (len) memcpy(s + total, b, len);
        total += len;
    }
    s[total] = '\0';
    *out = s;
    return total;
}

int32_t tokenizer_token_id(const struct tokenizer *t, const char *name) {
    size_t n = strlen(name);
    const struct strmap_slot *e = strmap_find(&t->added, t->strs.p, name, n);
    if (e) return e->val;
    return vocab_id(t, name, n);
}

size_t tokenizer_n_vocab(const struct tokenizer *t) { return t->n_vocab; }

int tokenizer_is_special(const struct tokenizer *t, int32_t id) {
    return id >= 0 && (size_t)id < t->n_vocab && (t->flags[id] & TOK_SPECIAL);
}

int32_t tokenizer_eos_id(const struct tokenizer *t) { return t->eos_id; }
int32_t tokenizer_im_end_id(const struct tokenizer *t) { return t->im_end_id; }
const char *tokenizer_path(const struct tokenizer *t) { return t->path; }
