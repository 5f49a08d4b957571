/* src/model/safetensors.h -- reading (memory-mapped) and writing safetensors files, single or sharded.
 * Format (huggingface/safetensors): u64 little-endian header length n, n bytes of JSON mapping each tensor name
 * to {dtype, shape, data_offsets [begin, end)} relative to the data area that follows (plus an optional
 * "__metadata__" object of strings), then the data. Checked on open, each failure a die() naming the file and
 * the tensor: header length inside the file, valid JSON, known dtype, end - begin = prod(shape) * dtype size,
 * offsets inside the data area (else "truncated"), no two tensors overlapping and no hole (as the reference
 * implementation requires). A sharded checkpoint is model.safetensors.index.json + the shards it names.
 * API: safetensors_open (dir or file) / safetensors_close / safetensors_find / safetensors_read_f32 /
 * safetensors_write. Element decoding lives in src/formats (bf16.h, f16.h, e4m3.h, e5m2.h). */
#ifndef SRC_MODEL_SAFETENSORS_H
#define SRC_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAFETENSORS_MAX_DIMS 8

enum safetensors_dtype {
    SAFETENSORS_DTYPE_F64,
    SAFETENSORS_DTYPE_F32,
    SAFETENSORS_DTYPE_F16,
    SAFETENSORS_DTYPE_BF16,
    SAFETENSORS_DTYPE_F8_E4M3,
    SAFETENSORS_DTYPE_F8_E5M2,
    SAFETENSORS_DTYPE_I64,
    SAFETENSORS_DTYPE_I32,
    SAFETENSORS_DTYPE_I16,
    SAFETENSORS_DTYPE_I8,
    SAFETENSORS_DTYPE_U64,
    SAFETENSORS_DTYPE_U32,
    SAFETENSORS_DTYPE_U16,
    SAFETENSORS_DTYPE_U8,
    SAFETENSORS_DTYPE_BOOL,
    SAFETENSORS_DTYPE_COUNT
};

struct safetensors_tensor {
    char *name;
    enum safetensors_dtype dtype;
    int n_dims;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    int64_t n_elems;
    uint64_t begin, end;        /* data_offsets, relative to the data area */
    const void *data;           /* into the read-only mapping; may be unaligned */
    const char *path;           /* the file holding it (for error messages) */
    int used;                   /* set by callers that consume it (to report unused tensors) */
};

struct safetensors_file {
    char *path;
    void *map;
    size_t size;
    int borrowed;              /* map is the caller's buffer (safetensors_open_buffer): not unmapped */
    uint64_t header_len;
    int n_tensors;
    struct safetensors_tensor *tensors;
};

struct safetensors {
    int n_files;
    struct safetensors_file *files;
    int n_tensors;
    struct safetensors_tensor **sorted;   /* all tensors of all files, by name, for safetensors_find */
};

/* What safetensors_write stores: name, dtype, shape and a pointer to n_elems * size bytes. */
struct safetensors_desc {
    const char *name;
    enum safetensors_dtype dtype;
    int n_dims;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    const void *data;
};

/* Opens a checkpoint: `path` is a .safetensors file, or a directory holding model.safetensors or
 * model.safetensors.index.json (then every shard it names). Every file is mmap'ed read-only and validated as
 * the header comment says; the same name in two shards, or an index entry naming a tensor its shard lacks, is
 * an error. Dies (exit 1) with "path: 'tensor': problem" on any defect. */
void safetensors_open(struct safetensors *st, const char *path);

/* The same validation over a whole file already in memory (size bytes at buf, borrowed: it must outlive st);
 * `what` names it in errors. For the fuzz harness (tests/fuzz/) and tests. */
void safetensors_open_buffer(struct safetensors *st, const char *what, const void *buf, size_t size);

/* Unmaps and frees everything; st is zeroed. */
void safetensors_close(struct safetensors *st);

/* The tensor called name, or NULL (binary search). */
struct safetensors_tensor *safetensors_find(const struct safetensors *st, const char *name);

/* Bytes per element of a dtype, and its name as written in the header ("BF16"). */
size_t safetensors_dtype_size(enum safetensors_dtype dt);
const char *safetensors_dtype_name(enum safetensors_dtype dt);

/* Converts t to n_elems FP32 values in dst. F32, F16, BF16 and F8_E4M3 / F8_E5M2 convert exactly (every value
 * of these types is an FP32 value); other dtypes die naming the tensor. Parallel over elements. */
void safetensors_read_f32(const struct safetensors_tensor *t, float *dst);

/* Writes n tensors to path (through path.tmp + rename), in the given order, header padded with spaces to a
 * multiple of 8 bytes so the data area is aligned; metadata {"format": "pt"}. Dies on I/O errors. */
void safetensors_write(const char *path, int n, const struct safetensors_desc *d);


#ifdef __cplusplus
}
#endif
#endif
