/* src/model/gguf.h -- reading (memory-mapped) and writing GGUF v3 files, the container of ggml / llama.cpp.
 * Spec: docs/gguf.md of ggml-org/ggml at d99724f2b141fed9e1a9f402213506c081433465 (the reader of record is
 * src/gguf.cpp there). Layout, all little-endian: "GGUF" magic (bytes 47 47 55 46), u32 version (3), u64
 * tensor count, u64 metadata count; each metadata pair = string key, u32 value type, value (a string is u64
 * length + bytes, no NUL; an array is u32 element type, u64 count, elements); each tensor info = string name,
 * u32 n_dims (1..4), u64 ne[n_dims] (ne[0] the fastest-varying, so a row-major N x K matrix has ne = {K, N}),
 * u32 ggml type, u64 offset relative to the data area; then zero padding to general.alignment (a u32 key,
 * default 32) and the data area. Every tensor's offset is a multiple of the alignment.
 * Checked on open (die() with "path: problem", exit 1): magic, version 2 or 3 (v2 has the same layout; v1
 * used u32 counts and is refused), every count and length against the bytes left, no duplicate key or
 * tensor name, value types known, nested arrays refused, alignment a power of two (ggml's rule; the spec
 * says a multiple of 8, which every power of two >= 8 is), n_dims 1..4, every size product checked for
 * overflow, ne[0] a multiple of the type's block, a known ggml type, data inside the file, tensors not
 * overlapping. Writer: keys and tensors in the order added, alignment 32, zero padding between tensors,
 * path.tmp + fsync + rename. API: gguf_open / gguf_close / gguf_find_kv / gguf_get_* / gguf_find_tensor /
 * gguf_writer_*. The ggml block layouts themselves live in src/formats/ggml_block.h. */
#ifndef SRC_MODEL_GGUF_H
#define SRC_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GGUF_MAGIC "GGUF"
#define GGUF_VERSION 3
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

/* Metadata value types, numbered as in the spec (enum gguf_metadata_value_type). */
enum gguf_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

/* One metadata pair. Scalars and numeric arrays point at their little-endian bytes inside the mapping;
 * strings (and the elements of string arrays) are (pointer, length) pairs, not NUL-terminated. */
struct gguf_kv {
    char *key;                  /* NUL-terminated copy */
    enum gguf_type type;
    enum gguf_type arr_type;    /* element type when type == ARRAY */
    uint64_t n;                 /* element count of an array; 1 for a scalar */
    const uint8_t *raw;         /* the value (scalar or numeric array elements) */
    const char **strs;          /* STRING: strs[0]; ARRAY of STRING: n entries (owned array) */
    uint64_t *str_lens;
};

struct gguf_tensor {
    char *name;                 /* NUL-terminated copy */
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];  /* ne[0] fastest; unused dims 1 */
    uint32_t type;              /* enum ggml_block_type (formats/ggml_block.h) */
    uint64_t offset;            /* relative to the data area */
    uint64_t bytes;             /* from ne and the type's block size */
    int64_t n_elems;
    const void *data;           /* into the mapping (aligned to the file's alignment) */
    int used;                   /* set by callers that consume it */
};

struct gguf_file {
    char *path;
    void *map;
    size_t size;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;       /* file offset of the data area */
    int64_t n_kv, n_tensors;
    struct gguf_kv *kv;
    struct gguf_tensor *tensors;
};

/* 1 when path ends in ".gguf" (the test every loader uses to pick this reader). */
int gguf_is_path(const char *path);

/* The .gguf file path names: path itself when it is a file ending in .gguf, or the single *.gguf file of the
 * directory path (dies when there are several; NULL when there is none). Caller frees. */
char *gguf_resolve(const char *path);

/* Maps and validates path as the header says; dies with one line naming the file on any defect. */
void gguf_open(struct gguf_file *g, const char *path);

/* Unmaps and frees everything; g is zeroed. */
void gguf_close(struct gguf_file *g);

/* The pair called key, or NULL. */
const struct gguf_kv *gguf_find_kv(const struct gguf_file *g, const char *key);

/* Typed getters. Each returns 0 when the key is absent and dies (naming the file and key) when it is present
 * with a type that does not fit: gguf_get_int accepts every integer type (and BOOL), gguf_get_float FLOAT32
 * and FLOAT64, gguf_get_bool BOOL. */
int gguf_get_int(const struct gguf_file *g, const char *key, int64_t *out);
int gguf_get_float(const struct gguf_file *g, const char *key, double *out);
int gguf_get_bool(const struct gguf_file *g, const char *key, int *out);

/* A fresh NUL-terminated copy of a STRING value, or NULL when absent (dies on another type). */
char *gguf_get_string(const struct gguf_file *g, const char *key);

/* Element i of a numeric array as an integer (any integer type); CHECKs i < kv->n and the type. */
int64_t gguf_array_int(const struct gguf_kv *kv, uint64_t i);

/* The tensor called name, or NULL (linear search; files hold a few thousand tensors). */
struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name);

// ---- writer ----

struct gguf_writer;

/* A writer with no metadata and no tensors. */
struct gguf_writer *gguf_writer_init(void);

/* Metadata setters: key copied; a key set twice is a programmer error (CHECK). Strings are copied. */
void gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v);
void gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v);
void gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v);
void gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v);
void gguf_writer_set_str(struct gguf_writer *w, const char *key, const char *v);
void gguf_writer_set_arr_str(struct gguf_writer *w, const char *key, int64_t n, const char *const *v);
void gguf_writer_set_arr_i32(struct gguf_writer *w, const char *key, int64_t n, const int32_t *v);

/* Adds a tensor of ggml type `type` with shape ne[0..n_dims) (ne[0] fastest); data (bytes, which must equal
 * what ne and the type imply: CHECK) is not copied and must stay valid until gguf_writer_write. If own is 1 the
 * writer frees data in gguf_writer_free. */
void gguf_writer_add_tensor(struct gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                            const void *data, uint64_t bytes, int own);

/* Writes the file atomically (path.tmp + fsync + rename). Returns the file size in bytes. */
uint64_t gguf_writer_write(const struct gguf_writer *w, const char *path);

void gguf_writer_free(struct gguf_writer *w);

#ifdef __cplusplus
}
#endif
#endif
