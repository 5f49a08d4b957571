/* gguf -- the GGUF v3 container; see gguf.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/gguf.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "formats/ggml_block.h"

// ---- paths ----

int gguf_is_path(const char *path) {
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".gguf") == 0;
}

char *gguf_resolve(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return NULL;
    if (!S_ISDIR(st.st_mode)) return gguf_is_path(path) ? xstrdup(path) : NULL;
    DIR *d = opendir(path);
    if (!d) return NULL;
    char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!gguf_is_path(e->d_name)) continue;
        if (found) {
            closedir(d);
            die("%s: holds more than one .gguf file (%s, %s): name the file", path, strrchr(found, '/') + 1,
                e->d_name);
        }
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        found = xmalloc(n);
        snprintf(found, n, "%s/%s", path, e->d_name);
    }
    closedir(d);
    return found;
}

// ---- reading ----

/* A cursor over the mapping: every read checks the bytes left, so a truncated or lying file dies here. */
struct cur {
    const uint8_t *p;
    uint64_t pos, size;
    const char *path;
};

static const uint8_t *take(struct cur *c, uint64_t n, const char *what) {
    if (n > c->size - c->pos)
        die("%s: truncated: %s needs %llu bytes at offset %llu, the file has %llu", c->path, what,
            (unsigned long long)n, (unsigned long long)c->pos, (unsigned long long)c->size);
    const uint8_t *r = c->p + c->pos;
    c->pos += n;
    return r;
}

static uint64_t rd_u(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}
static uint32_t get_u32(struct cur *c, const char *what) { return (uint32_t)rd_u(take(c, 4, what), 4); }
static uint64_t get_u64(struct cur *c, const char *what) { return rd_u(take(c, 8, what), 8); }

static const char *get_str(struct cur *c, uint64_t *len, const char *what) {
    *len = get_u64(c, what);
    return (const char *)take(c, *len, what);
}

/* a * b, dying on overflow of u64 (sizes from the file are never trusted). */
static uint64_t mul_ck(uint64_t a, uint64_t b, const char *path, const char *what) {
    if (a && b > UINT64_MAX / a) die("%s: %s: size overflows 64 bits", path, what);
    return a * b;
}

static size_t type_size(enum gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

static char *dup_n(const char *s, uint64_t n) {
    char *r = xmalloc((size_t)n + 1);
    memcpy(r, s, (size_t)n);
    r[n] = '\0';
    return r;
}

static void read_value(struct cur *c, struct gguf_kv *kv) {
    if (kv->type == GGUF_TYPE_STRING) {
        kv->n = 1;
        kv->strs = xmalloc(sizeof *kv->strs);
        kv->str_lens = xmalloc(sizeof *kv->str_lens);
        kv->strs[0] = get_str(c, &kv->str_lens[0], kv->key);
        return;
    }
    if (kv->type != GGUF_TYPE_ARRAY) {
        size_t sz = type_size(kv->type);
        if (!sz) die("%s: key '%s': unknown value type %u", c->path, kv->key, (unsigned)kv->type);
        kv->n = 1;
        kv->raw = take(c, sz, kv->key);
        return;
    }
    kv->arr_type = (enum gguf_type)get_u32(c, kv->key);
    kv->n = get_u64(c, kv->key);
    if (kv->arr_type == GGUF_TYPE_ARRAY)
        die("%s: key '%s': nested arrays are not supported", c->path, kv->key);
    if (kv->arr_type == GGUF_TYPE_STRING) {
        /* each element takes at least its 8-byte length: bounds n before allocating */
        if (kv->n > (c->size - c->pos) / 8)
            die("%s: truncated: key '%s' claims %llu strings", c->path, kv->key, (unsigned long long)kv->n);
        kv->strs = xmalloc((size_t)(kv->n ? kv->n : 1) * sizeof *kv->strs);
        kv->str_lens = xmalloc((size_t)(kv->n ? kv->n : 1) * sizeof *kv->str_lens);
        for (uint64_t i = 0; i < kv->n; i++) kv->strs[i] = get_str(c, &kv->str_lens[i], kv->key);
        return;
    }
    size_t sz = type_size(kv->arr_type);
    if (!sz) die("%s: key '%s': unknown array element type %u", c->path, kv->key, (unsigned)kv->arr_type);
    kv->raw = take(c, mul_ck(kv->n, sz, c->path, kv->key), kv->key);
}

static int cmp_off(const void *a, const void *b) {
    const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a, *y = *(const struct gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

void gguf_open(struct gguf_file *g, const char *path) {
    memset(g, 0, sizeof *g);
    g->path = xstrdup(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) die("%s: cannot stat", path);
    g->size = (size_t)st.st_size;
    if (g->size < 24) die("%s: %zu bytes, too short for a GGUF header (24)", path, g->size);
    g->map = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (g->map == MAP_FAILED) die("%s: mmap failed", path);
    struct cur c = {.p = g->map, .pos = 0, .size = g->size, .path = path};

    if (memcmp(take(&c, 4, "magic"), GGUF_MAGIC, 4) != 0) die("%s: not a GGUF file (magic is not \"GGUF\")", path);
    g->version = get_u32(&c, "version");
    if (g->version != 2 && g->version != 3)
        die("%s: GGUF version %u, expected 3 (or 2, same layout)", path, (unsigned)g->version);
    uint64_t nt = get_u64(&c, "tensor count"), nkv = get_u64(&c, "metadata count");
    /* a tensor info is at least 8 + 4 + 8 + 4 + 8 bytes and a pair at least 8 + 4 + 1: bound the counts */
    if (nt > g->size / 32 || nkv > g->size / 13)
        die("%s: header claims %llu tensors and %llu metadata pairs, more than %zu bytes can hold", path,
            (unsigned long long)nt, (unsigned long long)nkv, g->size);
    g->n_kv = (int64_t)nkv;
    g->n_tensors = (int64_t)nt;
    g->kv = xcalloc((size_t)(nkv ? nkv : 1), sizeof *g->kv);
    g->tensors = xcalloc((size_t)(nt ? nt : 1), sizeof *g->tensors);

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (int64_t i = 0; i < g->n_kv; i++) {
        struct gguf_kv *kv = &g->kv[i];
        uint64_t len;
        const char *k = get_str(&c, &len, "metadata key");
        kv->key = dup_n(k, len);
        if (strlen(kv->key) != len) die("%s: metadata key %lld holds a NUL byte", path, (long long)i);
        for (int64_t j = 0; j < i; j++)
            if (strcmp(g->kv[j].key, kv->key) == 0) die("%s: duplicate metadata key '%s'", path, kv->key);
        kv->type = (enum gguf_type)get_u32(&c, kv->key);
        if ((unsigned)kv->type >= GGUF_TYPE_COUNT)
            die("%s: key '%s': unknown value type %u", path, kv->key, (unsigned)kv->type);
        read_value(&c, kv);
        if (strcmp(kv->key, "general.alignment") == 0) {
            if (kv->type != GGUF_TYPE_UINT32) die("%s: general.alignment: expected UINT32", path);
            g->alignment = rd_u(kv->raw, 4);
            if (g->alignment == 0 || (g->alignment & (g->alignment - 1)))
                die("%s: general.alignment = %llu, expected a power of two", path, (unsigned long long)g->alignment);
        }
    }

    for (int64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        uint64_t len;
        const char *nm = get_str(&c, &len, "tensor name");
        t->name = dup_n(nm, len);
        uint32_t nd = get_u32(&c, t->name);
        if (nd < 1 || nd > GGUF_MAX_DIMS) die("%s: tensor '%s': n_dims %u, expected 1..4", path, t->name, nd);
        t->n_dims = (int)nd;
        uint64_t n = 1;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t v = get_u64(&c, t->name);
            if (v > INT64_MAX) die("%s: tensor '%s': dimension %u is %llu", path, t->name, d, (unsigned long long)v);
            t->ne[d] = (int64_t)v;
            n = mul_ck(n, v, path, t->name);
        }
        if (n > INT64_MAX) die("%s: tensor '%s': element count overflows", path, t->name);
        t->n_elems = (int64_t)n;
        t->type = get_u32(&c, t->name);
        int64_t bv, bb;
        const char *tn;
        if (!ggml_block_info(t->type, &bv, &bb, &tn))
            die("%s: tensor '%s': ggml type %u is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1, MXFP4, NVFP4)",
                path, t->name, t->type);
        if (t->ne[0] % bv)
            die("%s: tensor '%s': ne[0] = %lld is not a multiple of the %s block (%lld)", path, t->name,
                (long long)t->ne[0], tn, (long long)bv);
        t->bytes = mul_ck(n / (uint64_t)bv, (uint64_t)bb, path, t->name);
        t->offset = get_u64(&c, t->name);
        if (t->offset % g->alignment)
            die("%s: tensor '%s': offset %llu is not a multiple of the alignment %llu", path, t->name,
                (unsigned long long)t->offset, (unsigned long long)g->alignment);
        for (int64_t j = 0; j < i; j++)
            if (strcmp(g->tensors[j].name, t->name) == 0) die("%s: duplicate tensor '%s'", path, t->name);
    }

    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_offset = c.pos + pad;
    if (g->data_offset > g->size && g->n_tensors)
        die("%s: truncated: the data area would start at %llu, the file has %zu bytes", path,
            (unsigned long long)g->data_offset, g->size);
    uint64_t avail = g->data_offset <= g->size ? g->size - g->data_offset : 0;
    struct gguf_tensor **by_off = xmalloc((size_t)(nt ? nt : 1) * sizeof *by_off);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        if (t->offset > avail || t->bytes > avail - t->offset)
            die("%s: truncated: tensor '%s' needs bytes [%llu, %llu) of a %llu-byte data area", path, t->name,
                (unsigned long long)t->offset, (unsigned long long)(t->offset + t->bytes), (unsigned long long)avail);
        t->data = (const uint8_t *)g->map + g->data_offset + t->offset;
        by_off[i] = t;
    }
    qsort(by_off, (size_t)nt, sizeof *by_off, cmp_off);
    for (int64_t i = 1; i < g->n_tensors; i++)
        if (by_off[i - 1]->offset + by_off[i - 1]->bytes > by_off[i]->offset)
            die("%s: tensors '%s' and '%s' overlap", path, by_off[i - 1]->name, by_off[i]->name);
    free(by_off);
}

void gguf_close(struct gguf_file *g) {
    if (g->map && g->map != MAP_FAILED) munmap(g->map, g->size);
    for (int64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].strs);
        free(g->kv[i].str_lens);
    }
    for (int64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->path);
    memset(g, 0, sizeof *g);
}

const struct gguf_kv *gguf_find_kv(const struct gguf_file *g, const char *key) {
    for (int64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

static int is_int_type(enum gguf_type t) {
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_INT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_INT16 ||
           t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64 ||
           t == GGUF_TYPE_BOOL;
}

static int64_t int_at(enum gguf_type t, const uint8_t *p) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_BOOL: return p[0];
    case GGUF_TYPE_INT8: return (int8_t)p[0];
    case GGUF_TYPE_UINT16: return (int64_t)rd_u(p, 2);
    case GGUF_TYPE_INT16: return (int16_t)rd_u(p, 2);
    case GGUF_TYPE_UINT32: return (int64_t)rd_u(p, 4);
    case GGUF_TYPE_INT32: return (int32_t)rd_u(p, 4);
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: return (int64_t)rd_u(p, 8);
    default: CHECK(0, "not an integer type %d", (int)t);
    }
    return 0;
}

int gguf_get_int(const struct gguf_file *g, const char *key, int64_t *out) {
    const struct gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) return 0;
    if (!is_int_type(kv->type)) die("%s: key '%s': expected an integer, got value type %d", g->path, key, (int)kv->type);
    if (kv->type == GGUF_TYPE_UINT64 && rd_u(kv->raw, 8) > INT64_MAX) die("%s: key '%s': value out of range", g->path, key);
    *out = int_at(kv->type, kv->raw);
    return 1;
}

int gguf_get_float(const struct gguf_file *g, const char *key, double *out) {
    const struct gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type == GGUF_TYPE_FLOAT32) {
        uint32_t u = (uint32_t)rd_u(kv->raw, 4);
        float f;
        memcpy(&f, &u, 4);
        *out = f;
    } else if (kv->type == GGUF_TYPE_FLOAT64) {
        uint64_t u = rd_u(kv->raw, 8);
        memcpy(out, &u, 8);
    } else die("%s: key '%s': expected FLOAT32 or FLOAT64, got value type %d", g->path, key, (int)kv->type);
    return 1;
}

int gguf_get_bool(const struct gguf_file *g, const char *key, int *out) {
    const struct gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_BOOL) die("%s: key '%s': expected BOOL, got value type %d", g->path, key, (int)kv->type);
    if (kv->raw[0] > 1) die("%s: key '%s': BOOL byte is %u, expected 0 or 1", g->path, key, kv->raw[0]);
    *out = kv->raw[0];
    return 1;
}

char *gguf_get_string(const struct gguf_file *g, const char *key) {
    const struct gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) return NULL;
    if (kv->type != GGUF_TYPE_STRING) die("%s: key '%s': expected STRING, got value type %d", g->path, key, (int)kv->type);
    return dup_n(kv->strs[0], kv->str_lens[0]);
}

int64_t gguf_array_int(const struct gguf_kv *kv, uint64_t i) {
    CHECK(kv->type == GGUF_TYPE_ARRAY && is_int_type(kv->arr_type) && i < kv->n, "gguf_array_int %s", kv->key);
    return int_at(kv->arr_type, kv->raw + i * type_size(kv->arr_type));
}

struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name) {
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

// ---- writing ----

/* A pair serialised at set time into its own little-endian bytes (value type onwards). */
struct wkv {
    char *key;
    uint8_t *bytes;
    size_t n;
};

struct wtensor {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    const void *data;
    uint64_t bytes, offset;
    int own;
};

struct gguf_writer {
    struct wkv *kv;
    int64_t n_kv, cap_kv;
    struct wtensor *t;
    int64_t n_t, cap_t;
};

struct bbuf {
    uint8_t *p;
    size_t n, cap;
};

static void bput(struct bbuf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void bput_u(struct bbuf *b, uint64_t v, int n) {
    uint8_t t[8];
    for (int i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    bput(b, t, (size_t)n);
}
static void bput_str(struct bbuf *b, const char *s) {
    size_t n = strlen(s);
    bput_u(b, n, 8);
    bput(b, s, n);
}

struct gguf_writer *gguf_writer_init(void) { return xcalloc(1, sizeof(struct gguf_writer)); }

static void add_kv(struct gguf_writer *w, const char *key, struct bbuf *b) {
    for (int64_t i = 0; i < w->n_kv; i++) CHECK(strcmp(w->kv[i].key, key) != 0, "gguf key '%s' set twice", key);
    if (w->n_kv == w->cap_kv) {
        w->cap_kv = w->cap_kv ? 2 * w->cap_kv : 64;
        w->kv = xrealloc(w->kv, (size_t)w->cap_kv * sizeof *w->kv);
    }
    w->kv[w->n_kv++] = (struct wkv){.key = xstrdup(key), .bytes = b->p, .n = b->n};
}

void gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_UINT32, 4);
    bput_u(&b, v, 4);
    add_kv(w, key, &b);
}
void gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_INT32, 4);
    bput_u(&b, (uint32_t)v, 4);
    add_kv(w, key, &b);
}
void gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v) {
    struct bbuf b = {0};
    uint32_t u;
    memcpy(&u, &v, 4);
    bput_u(&b, GGUF_TYPE_FLOAT32, 4);
    bput_u(&b, u, 4);
    add_kv(w, key, &b);
}
void gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_BOOL, 4);
    bput_u(&b, v ? 1 : 0, 1);
    add_kv(w, key, &b);
}
void gguf_writer_set_str(struct gguf_writer *w, const char *key, const char *v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_STRING, 4);
    bput_str(&b, v);
    add_kv(w, key, &b);
}
void gguf_writer_set_arr_str(struct gguf_writer *w, const char *key, int64_t n, const char *const *v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_ARRAY, 4);
    bput_u(&b, GGUF_TYPE_STRING, 4);
    bput_u(&b, (uint64_t)n, 8);
    for (int64_t i = 0; i < n; i++) bput_str(&b, v[i]);
    add_kv(w, key, &b);
}
void gguf_writer_set_arr_i32(struct gguf_writer *w, const char *key, int64_t n, const int32_t *v) {
    struct bbuf b = {0};
    bput_u(&b, GGUF_TYPE_ARRAY, 4);
    bput_u(&b, GGUF_TYPE_INT32, 4);
    bput_u(&b, (uint64_t)n, 8);
    for (int64_t i = 0; i < n; i++) bput_u(&b, (uint32_t)v[i], 4);
    add_kv(w, key, &b);
}

void gguf_writer_add_tensor(struct gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                            const void *data, uint64_t bytes, int own) {
    CHECK(n_dims >= 1 && n_dims <= GGUF_MAX_DIMS, "n_dims %d", n_dims);
    for (int64_t i = 0; i < w->n_t; i++) CHECK(strcmp(w->t[i].name, name) != 0, "gguf tensor '%s' added twice", name);
    int64_t bv, bb;
    CHECK(ggml_block_info(type, &bv, &bb, NULL), "ggml type %u", type);
    uint64_t n = 1;
    for (int d = 0; d < n_dims; d++) n *= (uint64_t)ne[d];
    CHECK(ne[0] % bv == 0 && n / (uint64_t)bv * (uint64_t)bb == bytes, "tensor '%s': %llu bytes for its shape", name,
          (unsigned long long)bytes);
    if (w->n_t == w->cap_t) {
        w->cap_t = w->cap_t ? 2 * w->cap_t : 256;
        w->t = xrealloc(w->t, (size_t)w->cap_t * sizeof *w->t);
    }
    struct wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->data = data;
    t->bytes = bytes;
    t->own = own;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

uint64_t gguf_writer_write(const struct gguf_writer *w, const char *path) {
    struct bbuf h = {0};
    bput(&h, GGUF_MAGIC, 4);
    bput_u(&h, GGUF_VERSION, 4);
    bput_u(&h, (uint64_t)w->n_t, 8);
    bput_u(&h, (uint64_t)w->n_kv, 8);
    for (int64_t i = 0; i < w->n_kv; i++) {
        bput_str(&h, w->kv[i].key);
        bput(&h, w->kv[i].bytes, w->kv[i].n);
    }
    uint64_t off = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        struct wtensor *t = &w->t[i];
        t->offset = off;
        off = align_up(off + t->bytes, GGUF_DEFAULT_ALIGNMENT);
        bput_str(&h, t->name);
        bput_u(&h, (uint64_t)t->n_dims, 4);
        for (int d = 0; d < t->n_dims; d++) bput_u(&h, (uint64_t)t->ne[d], 8);
        bput_u(&h, t->type, 4);
        bput_u(&h, t->offset, 8);
    }
    static const uint8_t zeros[GGUF_DEFAULT_ALIGNMENT];
    bput(&h, zeros, (size_t)(align_up(h.n, GGUF_DEFAULT_ALIGNMENT) - h.n));

    size_t n_tmp = strlen(path) + 32;
    char *tmp = xmalloc(n_tmp);
    snprintf(tmp, n_tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = xfopen(tmp, "wb");
    xfwrite(h.p, 1, h.n, f, tmp);
    uint64_t total = h.n;
    for (int64_t i = 0; i < w->n_t; i++) {
        const struct wtensor *t = &w->t[i];
        if (t->bytes) xfwrite(t->data, 1, (size_t)t->bytes, f, tmp);
        uint64_t pad = align_up(t->bytes, GGUF_DEFAULT_ALIGNMENT) - t->bytes;
        if (pad) xfwrite(zeros, 1, (size_t)pad, f, tmp);
        total += t->bytes + pad;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) die("%s: cannot flush", tmp);
    xfclose(f, tmp);
    if (rename(tmp, path) != 0) die("%s: cannot rename %s over it", path, tmp);
    free(tmp);
    free(h.p);
    return total;
}

void gguf_writer_free(struct gguf_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].bytes);
    }
    for (int64_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        if (w->t[i].own) free((void *)w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}
