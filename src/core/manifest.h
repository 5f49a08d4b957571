/* manifest -- what identifies a result, where it was computed, and the results file (DESIGN.md "Results files").
 * Identity (decision, issue 9): a result is identified by the experiment, model and recipe names, the parameters
 * (including the seed), the SHA-256 of every input, and the code (the SHA-256 of the running binary: builds are
 * deterministic, so it names the code exactly). CUDA code (decision, issue 8): no C program links CUDA; the CUDA
 * engine is build/lib/libql_cuda_engine.so, loaded at run time (engine/engine.h), so a driver's bytes, and every
 * CPU result's identity, are the same with or without nvcc; a CUDA result adds the library's SHA-256 as the
 * parameter backend_sha256, so a CUDA rebuild invalidates CUDA results only. The cache key is the SHA-256 of the canonical (fixed key order,
 * cJSON-printed) JSON of exactly those fields. Where a result was computed (the device: "cpu openblas Zen 2
 * threads", a GPU name) is recorded in the results file's manifest but is NOT part of the key: the committed
 * results are the project's published numbers, so a fresh clone's `make figures` is all cache hits on any
 * machine, and `make verify` (tools/verify.sh) is the step that recomputes them here and compares. Speed runs,
 * whose numbers are a property of the device, put the GPU in a parameter (and in the model folder name).
 * Evidence is never lost silently: manifest_cache_hit keeps a committed result that a run here could only
 * reproduce worse-informed (fewer inputs, sampled text where it used data files), and manifest_write_result
 * refuses to replace a result by one with nulls where it has numbers, or sampled where it has file data,
 * unless the run is forced (a driver that skips manifest_cache_hit, i.e. --force / FORCE=1).
 * Determinism: the results file holds nothing that varies between identical runs on one machine; the git
 * commit (QL_GIT_REV), the wall-clock start and end and the host go to the sidecar runs/<recipe>.json. */
#ifndef SRC_CORE_MANIFEST_H
#define SRC_CORE_MANIFEST_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sha256.h"
#include "core/timer.h" /* monotonic_seconds, for the drivers that include only this */

#ifdef __cplusplus
extern "C" {
#endif

struct manifest {
    cJSON *key_fields;       /* the identity: experiment, model, recipe, params, inputs, binary_sha256 */
    char *device;            /* where it runs (recorded, not in the key); default "cpu" */
    int guarded;             /* set by manifest_cache_hit: the driver was not forced, so writes are guarded */
    cJSON *params;           /* borrowed pointer into key_fields */
    cJSON *inputs;           /* borrowed pointer into key_fields */
    char cache_key[SHA256_HEX_LEN];
    char *result_path;       /* results/<model>/<experiment>/<recipe>.json (under the results root) */
    char *run_path;          /* results/<model>/<experiment>/runs/<recipe>.json: timing sidecar */
    double t_start;          /* wall clock at manifest_init, seconds since the epoch */
};

/* Starts a manifest. results_root is usually "results". Names must be non-empty and free of '/'. */
void manifest_init(struct manifest *m, const char *results_root, const char *experiment, const char *model,
                   const char *recipe);
void manifest_free(struct manifest *m);

/* Parameters, in the order added (the order is part of the canonical form, so add them in a fixed order). */
void manifest_param_int(struct manifest *m, const char *key, int64_t v);
void manifest_param_num(struct manifest *m, const char *key, double v);
void manifest_param_str(struct manifest *m, const char *key, const char *v);

/* Records an input file: a stable name (e.g. "wikitext-2/wiki.test.raw", not the local path) and its SHA-256
 * (computed through the (path, size, mtime) cache). If expected_sha256 is non-NULL, a different hash is an
 * error naming the file, the expected and the found hash. */
void manifest_input(struct manifest *m, const char *name, const char *path, const char *expected_sha256);

/* Records an input by its already known hash (e.g. a cached reference computed from hashed inputs). */
void manifest_input_hash(struct manifest *m, const char *name, const char *sha256_hex);

/* Records everything a Hugging Face checkpoint folder contributes, in a fixed order: config.json,
 * model.safetensors or model.safetensors.index.json and each shard it names (sorted, once each), and
 * tokenizer.json, whichever exist; names are the file names inside the folder. */
void manifest_input_checkpoint(struct manifest *m, const char *dir);

/* The model's name in results/: the last component of its folder path ("~/models/Qwen3-8B/" -> "Qwen3-8B").
 * Writes into buf (n bytes) and returns a pointer into it. */
const char *manifest_model_name(const char *dir, char *buf, size_t n);

/* Sets the device string (default "cpu"): recorded in the results, not part of the cache key. */
void manifest_device(struct manifest *m, const char *device);

/* Computes the binary hash and the cache key; call after all params and inputs are in. */
void manifest_seal(struct manifest *m);

/* 1 if the existing results file holds evidence that `metrics` / `cases` / this manifest's params lack (see
 * manifest_write_result); writes the first reason into why (n bytes). For tools and tests. */
int manifest_existing_better(const struct manifest *m, const cJSON *metrics, const cJSON *cases, char *why, size_t n);

/* Prints the manifest (key fields and cache key) to f, so that the log alone identifies the run. */
void manifest_print(const struct manifest *m, FILE *f);

/* 1 if the results file exists and carries this manifest's cache key, or if it is better informed than any
 * result this run could produce (its inputs are a strict superset of ours by name, or a parameter says
 * "sampled..." here where it says otherwise there): then it is kept, with a warning saying FORCE=1 replaces it.
 * A corrupt results file is an error that says how to recover. Calling it marks the manifest as not forced
 * (drivers call it only without --force), which arms the guard in manifest_write_result. */
int manifest_cache_hit(struct manifest *m);

/* 1 if the results file exists and its manifest's parameter `key` is the string `value`. Drivers use it to
 * keep evidence: results computed from the pinned data files are not replaced by a run that has to fall back
 * to sampled text because the data is missing on this machine (unless --force). */
int manifest_existing_param_is(const struct manifest *m, const char *key, const char *value);

/* Writes the results file atomically: {experiment, model, recipe, manifest, metrics, cases?}. Takes ownership
 * of metrics and cases (cases may be NULL). Also writes the timing sidecar. If the manifest was checked with
 * manifest_cache_hit (not forced) and an existing results file is better informed (a metric that is a number
 * there is null or absent here, a case there is missing here, or data came from files there and is sampled
 * here), it is kept and the run dies saying FORCE=1 replaces it. */
void manifest_write_result(struct manifest *m, cJSON *metrics, cJSON *cases);


#ifdef __cplusplus
}
#endif
#endif
