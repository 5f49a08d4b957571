/* safetensors -- mmap reader, validator and writer for safetensors checkpoints; see safetensors.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "formats/bf16.h"  /* the element codecs live in src/formats (exhaustively tested there) */
#include "formats/e4m3.h"
#include "formats/f16.h"
#include "formats/e5m2.h"

// The reference implementation refuses headers over 100 MB; a real 30B-A3B index header is ~2 MB.
#define SAFETENSORS_MAX_HEADER ((uint64_t)100 * 1000 * 1000)
// The largest integer a JSON number (a double) holds exactly: shapes and offsets must lie in [0, 2^53].
#define SAFETENSORS_MAX_JSON_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} DTYPES[SAFETENSORS_DTYPE_COUNT] = {
    [SAFETENSORS_DTYPE_F64] = {"F64", 8},     [SAFETENSORS_DTYPE_F32] = {"F32", 4},
    [SAFETENSORS_DTYPE_F16] = {"F16", 2},     [SAFETENSORS_DTYPE_BF16] = {"BF16", 2},
    [SAFETENSORS_DTYPE_F8_E4M3] = {"F8_E4M3", 1}, [SAFETENSORS_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
    [SAFETENSORS_DTYPE_I64] = {"I64", 8},     [SAFETENSORS_DTYPE_I32] = {"I32", 4},
    [SAFETENSORS_DTYPE_I16] = {"I16", 2},     [SAFETENSORS_DTYPE_I8] = {"I8", 1},
    [SAFETENSORS_DTYPE_U64] = {"U64", 8},     [SAFETENSORS_DTYPE_U32] = {"U32", 4},
    [SAFETENSORS_DTYPE_U16] = {"U16", 2},     [SAFETENSORS_DTYPE_U8] = {"U8", 1},
    [SAFETENSORS_DTYPE_BOOL] = {"BOOL", 1},
};

size_t safetensors_dtype_size(enum safetensors_dtype dt) {
    CHECK(dt >= 0 && dt < SAFETENSORS_DTYPE_COUNT, "dtype %d", (int)dt);
    return DTYPES[dt].size;
}

const char *safetensors_dtype_name(enum safetensors_dtype dt) {
    CHECK(dt >= 0 && dt < SAFETENSORS_DTYPE_COUNT, "dtype %d", (int)dt);
    return DTYPES[dt].name;
}

// ---- element codecs ----

/* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits; every value is exact in FP32. */
// ---- reading ----

static int parse_dtype(const char *s) {
    for (int i = 0; i < SAFETENSORS_DTYPE_COUNT; i++)
        if (!strcmp(s, DTYPES[i].name)) return i;
    return -1;
}

static int cmp_begin(const void *a, const void *b) {
    const struct safetensors_tensor *x = *(struct safetensors_tensor *const *)a;
    const struct safetensors_tensor *y = *(struct safetensors_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(struct safetensors_tensor *const *)a)->name, (*(struct safetensors_tensor *const *)b)->name);
}

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n) return 0;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

/* Maps one file and validates its header against the file size; the checks are those of the reference
 * implementation (huggingface/safetensors), so a file it accepts we accept, and conversely. */
static void parse_file(struct safetensors_file *f, const char *path);
static void json_delete_cb(void *j) { cJSON_Delete(j); }

static void open_file(struct safetensors_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) die("%s: cannot stat: %s", path, strerror(errno));
    f->size = (size_t)sb.st_size;
    if (f->size < 8) die("%s: file of %zu bytes is too short for a safetensors header (8 bytes)", path, f->size);
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (f->map == MAP_FAILED) die("%s: cannot mmap %zu bytes: %s", path, f->size, strerror(errno));
    close(fd);
    parse_file(f, path);
}

/* Validates the header of the file mapped at f->map (f->size bytes) and fills f->tensors. */
static void parse_file(struct safetensors_file *f, const char *path) {
    const unsigned char *base = f->map;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | base[i];          /* little-endian u64 */
    if (n > f->size - 8)
        die("%s: header length %llu runs past the end of the file (%zu bytes): truncated or not safetensors",
            path, (unsigned long long)n, f->size);
    if (n > SAFETENSORS_MAX_HEADER) die("%s: header length %llu exceeds 100 MB", path, (unsigned long long)n);
    f->header_len = n;
    const char *hdr = (const char *)base + 8;
    if (!utf8_valid((const unsigned char *)hdr, (size_t)n))
        die("%s: header is not valid UTF-8 (the reference implementation rejects it)", path);
    const char *err_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &err_end, 0);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        die("%s: header is not a JSON object (parse error near byte %ld of the header)", path,
            err_end ? (long)(err_end - hdr) : -1L);
    }
    check_on_die(json_delete_cb, root);

    const uint64_t data_size = f->size - 8 - n;
    const unsigned char *data = base + 8 + n;
    int cap = cJSON_GetArraySize(root);
    f->tensors = xcalloc((size_t)(cap > 0 ? cap : 1), sizeof *f->tensors);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (!strcmp(it->string, "__metadata__")) {
            const cJSON *mv;
            if (!cJSON_IsObject(it)) die("%s: __metadata__ must be an object of strings", path);
            cJSON_ArrayForEach(mv, it) if (!cJSON_IsString(mv))
                die("%s: __metadata__['%s'] must be a string", path, mv->string);
            continue;
        }
        if (!cJSON_IsObject(it)) die("%s: '%s': header entry must be an object", path, it->string);
        struct safetensors_tensor *t = &f->tensors[f->n_tensors];
        t->name = xstrdup(it->string);
        t->path = f->path;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
            die("%s: '%s': header entry needs dtype (string), shape (array), data_offsets ([begin, end])", path,
                t->name);
        int d = parse_dtype(dt->valuestring);
        if (d < 0) die("%s: '%s': unknown dtype '%s'", path, t->name, dt->valuestring);
        t->dtype = (enum safetensors_dtype)d;
        t->n_dims = cJSON_GetArraySize(sh);
        if (t->n_dims > SAFETENSORS_MAX_DIMS) die("%s: '%s': %d dimensions (at most %d)", path, t->name, t->n_dims,
                                                  SAFETENSORS_MAX_DIMS);
        /* Checked arithmetic, as the reference's Metadata::validate: the element count is a checked product of
         * the shape in u64 and the byte count a checked multiple of it (ValidationOverflow); a [2^32, 2^32]
         * tensor is rejected even with 0 bytes of data. JSON numbers are doubles: an entry must be an integer
         * in [0, 2^53] before any cast (a cast of 1e30 to an integer type is undefined behaviour). */
        uint64_t elems = 1;
        for (int i = 0; i < t->n_dims; i++) {
            const cJSON *v = cJSON_GetArrayItem(sh, i);
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= SAFETENSORS_MAX_JSON_INT) ||
                v->valuedouble != floor(v->valuedouble))
                die("%s: '%s': shape entry %d is not an integer in [0, 2^53]", path, t->name, i);
            t->shape[i] = (int64_t)v->valuedouble;
            if (__builtin_mul_overflow(elems, (uint64_t)t->shape[i], &elems))
                die("%s: '%s': the shape's element count overflows 64 bits (rejected, as by the reference "
                    "implementation)", path, t->name);
        }
        uint64_t need;
        if (__builtin_mul_overflow(elems, (uint64_t)DTYPES[t->dtype].size, &need) || need > (uint64_t)INT64_MAX)
            die("%s: '%s': the shape's byte count overflows 64 bits (rejected, as by the reference implementation)",
                path, t->name);
        t->n_elems = (int64_t)elems;
        const cJSON *b0 = cJSON_GetArrayItem(off, 0), *b1 = cJSON_GetArrayItem(off, 1);
        if (!cJSON_IsNumber(b0) || !cJSON_IsNumber(b1) ||
            !(b0->valuedouble >= 0 && b0->valuedouble <= SAFETENSORS_MAX_JSON_INT) ||
            !(b1->valuedouble >= b0->valuedouble && b1->valuedouble <= SAFETENSORS_MAX_JSON_INT) ||
            b0->valuedouble != floor(b0->valuedouble) || b1->valuedouble != floor(b1->valuedouble))
            die("%s: '%s': data_offsets must be integers [begin, end] with 0 <= begin <= end <= 2^53", path,
                t->name);
        t->begin = (uint64_t)b0->valuedouble;
        t->end = (uint64_t)b1->valuedouble;
        if (t->end - t->begin != need)
            die("%s: '%s': shape and dtype %s need %llu bytes but data_offsets [%llu, %llu) give %llu", path,
                t->name, DTYPES[t->dtype].name, (unsigned long long)need, (unsigned long long)t->begin,
                (unsigned long long)t->end, (unsigned long long)(t->end - t->begin));
        if (t->end > data_size)
            die("%s: '%s': data ends at byte %llu of the data area but the file holds only %llu bytes of data: "
                "truncated", path, t->name, (unsigned long long)t->end, (unsigned long long)data_size);
        t->data = data + t->begin;
        f->n_tensors++;
    }
    check_on_die_remove(json_delete_cb, root);
    cJSON_Delete(root);

    // Overlaps and holes: with the tensors sorted by begin, each must start exactly where the last ended.
    struct safetensors_tensor **by = xmalloc((size_t)(f->n_tensors ? f->n_tensors : 1) * sizeof *by);
    for (int i = 0; i < f->n_tensors; i++) by[i] = &f->tensors[i];
    qsort(by, (size_t)f->n_tensors, sizeof *by, cmp_begin);
    uint64_t pos = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        if (by[i]->begin < pos)
            die("%s: '%s': data_offsets [%llu, %llu) overlap tensor '%s'", path, by[i]->name,
                (unsigned long long)by[i]->begin, (unsigned long long)by[i]->end, by[i - 1]->name);
        if (by[i]->begin > pos)
            die("%s: '%s': data_offsets start at %llu, leaving a hole after byte %llu", path, by[i]->name,
                (unsigned long long)by[i]->begin, (unsigned long long)pos);
        pos = by[i]->end;
    }
    free(by);
    // The reference requires the data area to be covered exactly (MetadataIncompleteBuffer).
    if (pos != data_size)
        die("%s: the tensors cover %llu bytes of data but the file holds %llu after the header: trailing bytes "
            "or a wrong header length", path, (unsigned long long)pos, (unsigned long long)data_size);
}

static void build_index(struct safetensors *st) {
    st->n_tensors = 0;
    for (int i = 0; i < st->n_files; i++) st->n_tensors += st->files[i].n_tensors;
    st->sorted = xmalloc((size_t)(st->n_tensors ? st->n_tensors : 1) * sizeof *st->sorted);
    int k = 0;
    for (int i = 0; i < st->n_files; i++)
        for (int j = 0; j < st->files[i].n_tensors; j++) st->sorted[k++] = &st->files[i].tensors[j];
    qsort(st->sorted, (size_t)st->n_tensors, sizeof *st->sorted, cmp_name);
    for (int i = 1; i < st->n_tensors; i++)
        if (!strcmp(st->sorted[i]->name, st->sorted[i - 1]->name))
            die("%s: '%s': tensor defined twice (also in %s)", st->sorted[i]->path, st->sorted[i]->name,
                st->sorted[i - 1]->path);
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static void open_index(struct safetensors *st, const char *dir, const char *index_path) {
    char *text = file_read_all(index_path, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) die("%s: not valid JSON", index_path);
    check_on_die(json_delete_cb, root);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) die("%s: no \"weight_map\" object", index_path);
    // Distinct shard names in order of first appearance.
    int n_map = cJSON_GetArraySize(wm);
    char **shards = xcalloc((size_t)(n_map ? n_map : 1), sizeof *shards);
    int n_shards = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, wm) {
        if (!cJSON_IsString(it)) die("%s: weight_map['%s'] is not a file name", index_path, it->string);
        if (strchr(it->valuestring, '/')) die("%s: weight_map['%s']: shard '%s' is not a plain file name",
                                              index_path, it->string, it->valuestring);
        int seen = 0;
        for (int i = 0; i < n_shards && !seen; i++) seen = !strcmp(shards[i], it->valuestring);
        if (!seen) shards[n_shards++] = it->valuestring;
    }
    if (n_shards == 0) die("%s: weight_map is empty", index_path);
    st->n_files = n_shards;
    st->files = xcalloc((size_t)n_shards, sizeof *st->files);
    for (int i = 0; i < n_shards; i++) {
        char *p = join(dir, shards[i]);
        open_file(&st->files[i], p);
        free(p);
    }
    build_index(st);
    cJSON_ArrayForEach(it, wm) {
        struct safetensors_tensor *t = safetensors_find(st, it->string);
        if (!t) die("%s: '%s': listed in the index but absent from shard %s", index_path, it->string,
                    it->valuestring);
        const char *base = strrchr(t->path, '/');
        base = base ? base + 1 : t->path;
        if (strcmp(base, it->valuestring) != 0)
            die("%s: '%s': the index says shard %s but it is in %s", index_path, it->string, it->valuestring, base);
    }
    free(shards);
    check_on_die_remove(json_delete_cb, root);
    cJSON_Delete(root);
}

/* A directory prefers the sharded index when both layouts are present, as transformers does. */
void safetensors_open(struct safetensors *st, const char *path) {
    memset(st, 0, sizeof *st);
    if (!is_dir(path)) {
        if (!file_exists(path)) die("%s: no such file or directory", path);
        st->n_files = 1;
        st->files = xcalloc(1, sizeof *st->files);
        open_file(&st->files[0], path);
        build_index(st);
        return;
    }
    char *single = join(path, "model.safetensors");
    char *index = join(path, "model.safetensors.index.json");
    if (file_exists(index)) {
        open_index(st, path, index);
    } else if (file_exists(single)) {
        st->n_files = 1;
        st->files = xcalloc(1, sizeof *st->files);
        open_file(&st->files[0], single);
        build_index(st);
    } else {
        die("%s: neither model.safetensors nor model.safetensors.index.json found", path);
    }
    free(single);
    free(index);
}

void safetensors_open_buffer(struct safetensors *st, const char *what, const void *buf, size_t size) {
    memset(st, 0, sizeof *st);
    st->n_files = 1;
    st->files = xcalloc(1, sizeof *st->files);
    struct safetensors_file *f = &st->files[0];
    f->path = xstrdup(what);
    f->map = (void *)buf;
    f->size = size;
    f->borrowed = 1;
    if (size < 8) die("%s: file of %zu bytes is too short for a safetensors header (8 bytes)", what, size);
    parse_file(f, f->path);
    build_index(st);
}

void safetensors_close(struct safetensors *st) {
    for (int i = 0; i < st->n_files; i++) {
        struct safetensors_file *f = &st->files[i];
        for (int j = 0; j < f->n_tensors; j++) free(f->tensors[j].name);
        free(f->tensors);
        if (f->map && f->map != MAP_FAILED && !f->borrowed) munmap(f->map, f->size);
        free(f->path);
    }
    free(st->files);
    free(st->sorted);
    memset(st, 0, sizeof *st);
}

struct safetensors_tensor *safetensors_find(const struct safetensors *st, const char *name) {
    int lo = 0, hi = st->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->sorted[mid]->name, name);
        if (c == 0) return st->sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* Element-wise conversion to FP32. Bytes are assembled little-endian explicitly, so unaligned data (any
 * header length) is read safely; F32 is copied with memcpy for the same reason. */
void safetensors_read_f32(const struct safetensors_tensor *t, float *dst) {
    const unsigned char *p = t->data;
    const int64_t n = t->n_elems;
    switch (t->dtype) {
    case SAFETENSORS_DTYPE_F32:
        memcpy(dst, p, (size_t)n * 4);
        break;
    case SAFETENSORS_DTYPE_BF16:
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_float((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case SAFETENSORS_DTYPE_F16:
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) dst[i] = f16_to_float((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case SAFETENSORS_DTYPE_F8_E4M3:
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) dst[i] = e4m3_to_float(p[i]);
        break;
    case SAFETENSORS_DTYPE_F8_E5M2:
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) dst[i] = e5m2_to_float(p[i]);
        break;
    default:
        die("%s: '%s': dtype %s cannot be read as floating point", t->path, t->name, DTYPES[t->dtype].name);
    }
}

// ---- writing ----

/* Offsets are assigned in the given order with no holes, which is what the reader requires. */
void safetensors_write(const char *path, int n, const struct safetensors_desc *d) {
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, d[i].name);
        cJSON_AddStringToObject(e, "dtype", DTYPES[d[i].dtype].name);
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        int64_t ne = 1;
        for (int j = 0; j < d[i].n_dims; j++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)d[i].shape[j]));
            ne *= d[i].shape[j];
        }
        uint64_t nb = (uint64_t)ne * DTYPES[d[i].dtype].size;
        cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + nb)));
        off += nb;
    }
    char *hdr = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;

    // Under a temporary name that every error path removes (a full disk must not leave a .tmp behind).
    struct fileio_tmp tmp;
    fileio_tmp_begin(&tmp, path, 0);
    FILE *f = xfopen(tmp.tmp, "wb");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(((uint64_t)padded >> (8 * i)) & 0xff);
    xfwrite(len8, 1, 8, f, tmp.tmp);
    xfwrite(hdr, 1, hl, f, tmp.tmp);
    for (size_t i = hl; i < padded; i++) xfwrite(" ", 1, 1, f, tmp.tmp);
    for (int i = 0; i < n; i++) {
        int64_t ne = 1;
        for (int j = 0; j < d[i].n_dims; j++) ne *= d[i].shape[j];
        size_t nb = (size_t)ne * DTYPES[d[i].dtype].size;
        if (nb) xfwrite(d[i].data, 1, nb, f, tmp.tmp);
    }
    xfclose(f, tmp.tmp);
    fileio_tmp_commit(&tmp, 1);
    free(hdr);
}
