/* manifest -- what identifies a run, and the results file it produces (DESIGN.md "Results files").
 * A manifest holds the experiment, model and recipe names, the parameters (including the seed), the SHA-256 of
 * every input, the SHA-256 of the running binary, and the device. Its cache key is the SHA-256 of the
 * canonical (fixed key order, cJSON-printed) JSON of exactly those fields. The code version in the results is
 * the binary hash: builds are deterministic, so it names the code exactly, and a commit that does not change
 * the binary keeps the cache. Determinism (decision): the results file holds nothing that varies between
 * identical runs, so a rerun writes the same bytes at any commit that builds the same binary. The git commit
 * a run was made from (QL_GIT_REV, exported by the Makefile), its wall-clock start and end and the host go to
 * a sidecar file runs/<recipe>.json beside the results, which readers of results ignore. For speed runs the device string (GPU name, driver, CUDA version)
 * is part of the key; accuracy runs on the CPU use the backend name only, so results do not depend on which
 * CPU model computed them. */
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
    cJSON *key_fields;       /* experiment, model, recipe, params, inputs, binary_sha256, device */
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

/* Sets the device string (default "cpu"). */
void manifest_device(struct manifest *m, const char *device);

/* Computes the binary hash and the cache key; call after all params and inputs are in. */
void manifest_seal(struct manifest *m);

/* Prints the manifest (key fields and cache key) to f, so that the log alone identifies the run. */
void manifest_print(const struct manifest *m, FILE *f);

/* 1 if the results file exists and carries this manifest's cache key. */
int manifest_cache_hit(const struct manifest *m);

/* 1 if the results file exists and its manifest's parameter `key` is the string `value`. Drivers use it to
 * keep evidence: results computed from the pinned data files are not replaced by a run that has to fall back
 * to sampled text because the data is missing on this machine (unless --force). */
int manifest_existing_param_is(const struct manifest *m, const char *key, const char *value);

/* Writes the results file atomically: {experiment, model, recipe, manifest, metrics, cases?}. Takes ownership
 * of metrics and cases (cases may be NULL). Also writes the timing sidecar. */
void manifest_write_result(struct manifest *m, cJSON *metrics, cJSON *cases);


#ifdef __cplusplus
}
#endif
#endif
