/* src/engine/engine.h -- the one engine interface: every driver, `ql` command, calibration pass and task
 * evaluator runs a model through it, whatever the backend (DESIGN.md "Architecture").
 * An engine wraps a loaded (and possibly quantized) struct qwen3_model: the quantization state is data in each
 * struct linear (ops/linear.h), so a backend reads the packed weights and the activation spec itself and never
 * needs a callback. Two ways to run tokens:
 *   - engine_forward: one-shot, T tokens from position 0, no cache kept (perplexity windows, KLD);
 *   - sequences (struct engine_seq): a KV cache the engine owns, grown by engine_seq_append, rewound by
 *     engine_seq_truncate and copied by engine_seq_fork (multiple-choice scoring reuses the shared prefix: a
 *     fork continues bit for bit as the original sequence would, because the cache holds exactly what the
 *     prefix pass computed; against one pass from position 0 it agrees within FP32 GEMM rounding, since a GEMM
 *     of T rows may block differently from one of T' rows).
 * Backends: "cpu" (engine_cpu.c, the FP32 reference, the specification) and "cuda" (a shared library
 * build/lib/libql_cuda_engine.so loaded at run time by engine_create, so the C programs are the same bytes with or
 * without nvcc; see engine_code_sha256 for how results identify CUDA code).
 * API: engine_create / engine_free / engine_desc / engine_forward / engine_seq_* / engine_code_sha256. */
#ifndef SRC_ENGINE_ENGINE_H
#define SRC_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"
#include "model/kv_cache.h"
#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct engine engine;
typedef struct engine_seq engine_seq;

/* What a backend implements. impl is the backend's own state; kv a cache of the backend's own kind. Every
 * function dies (one line) on an input error; none returns an error code. */
struct engine_backend {
    const char *name;                                   /* "cpu", "cuda" */
    /* Prepares m for this backend (uploads weights, ...); writes a one-line description (device, library,
     * threads) into desc (n bytes) for manifests. m stays owned by the caller and outlives the engine. */
    void *(*init)(struct qwen3_model *m, char *desc, size_t n);
    void (*free)(void *impl);
    void *(*kv_new)(void *impl, int64_t cap, enum kv_cache_dtype dtype);
    void (*kv_free)(void *impl, void *kv);
    /* Copies the first len positions of src into dst (same capacity or larger). */
    void (*kv_copy)(void *impl, void *dst, const void *src, int64_t len);
    /* T tokens at positions pos0.. (kv NULL: one-shot, pos0 == 0). logits: T x V (or 1 x V, the last
     * position, when last_only), hidden: T x D final normed states; either may be NULL. */
    void (*forward)(void *impl, void *kv, const int32_t *ids, int64_t T, int64_t pos0, float *logits,
                    float *hidden, int last_only);
};

/* Opens an engine on m with backend "cpu" or "cuda". "cuda" dies with one line when this build has no CUDA
 * engine ("no CUDA engine in this build: ..."), or no device is present. */
struct engine *engine_create(struct qwen3_model *m, const char *backend);
void engine_free(struct engine *e);

/* The model, its vocabulary size and the backend's name ("cpu") and description (for manifests' device field:
 * where a result was computed, never part of its identity). */
struct qwen3_model *engine_model(const struct engine *e);
int64_t engine_n_vocab(const struct engine *e);
const char *engine_backend_name(const struct engine *e);
const char *engine_desc(const struct engine *e);

/* The code version of a backend beyond the program's own binary: "" for cpu (the driver's binary hash, which
 * the manifest records anyway, is the whole CPU code), the sha256 of libql_cuda_engine.so for cuda. Drivers
 * put a non-empty value in the manifest as the parameter "backend_sha256", so a CUDA rebuild invalidates
 * CUDA results and never CPU ones (the decision of issue 8 item 5, also in core/manifest.h). */
const char *engine_code_sha256(const struct engine *e);

/* The same code identity without opening an engine (drivers build manifests before running): "" for "cpu",
 * the library's sha256 for "cuda" (dies with the one line of engine_create when there is no CUDA engine). */
void engine_backend_identity(const char *backend, char sha[SHA256_HEX_LEN]);

/* One-shot pass over ids[0..T) from position 0 (no cache kept): logits T x V and / or hidden T x D. */
void engine_forward(struct engine *e, const int32_t *ids, int64_t T, float *logits, float *hidden);

/* ---- sequences: a KV cache the engine owns ---- */

/* A new empty sequence with room for cap positions (dies beyond max_position_embeddings? no: the caller
 * chooses cap; positions past the model's context are a warning of the caller's). */
struct engine_seq *engine_seq_new(struct engine *e, int64_t cap, enum kv_cache_dtype dtype);
void engine_seq_free(struct engine_seq *s);
int64_t engine_seq_len(const struct engine_seq *s);
int64_t engine_seq_cap(const struct engine_seq *s);

/* Appends T tokens after the len cached ones and runs them; logits receives T x V rows, or only the last
 * position's V when last_only (either may be NULL: hidden states only). Dies when len + T exceeds cap. */
void engine_seq_append(struct engine_seq *s, const int32_t *ids, int64_t T, float *logits, float *hidden,
                       int last_only);

/* Forgets positions len.. (0 <= len <= current length). */
void engine_seq_truncate(struct engine_seq *s, int64_t len);

/* A new sequence of the same capacity holding a copy of s's cached positions. */
struct engine_seq *engine_seq_fork(const struct engine_seq *s);

/* The CPU reference backend (engine_cpu.c). */
const struct engine_backend *engine_cpu_backend(void);

#ifdef __cplusplus
}
#endif
#endif
