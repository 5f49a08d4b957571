/* src/harness/qcache.h -- the quantized-model cache shared by the experiment drivers (e04 spec, "Cost"): a model
 * quantized by a recipe is stored once, after quant_apply, and loaded by every later run of any driver with the
 * same key instead of being calibrated and quantized again (GPTQ / AWQ on qwen3-tiny: ~360 s per driver).
 *
 * Key (decision). sha256 of a canonical JSON text (cJSON, fixed order) made of:
 *   - the model's inputs: manifest_input_checkpoint's files (config.json, model.safetensors or its index and
 *     every shard, tokenizer.json) plus generation_config.json and tokenizer_config.json where present, each by
 *     its sha256 (the (path, size, mtime) cache of core/sha256.h);
 *   - the recipe: every field of struct recipe (qcache.c lists them; a _Static_assert on its size makes a new
 *     field a build error here until it is added), then the parameters harness_manifest_recipe writes (weight
 *     and activation formats, algorithm parameters, transform, and the calibration sets that quant_apply's
 *     inputs come from: calib_data, calib_seqs, calib_len, calib_seed, calib_sample and the calibration file's
 *     pinned sha256, for the static ranges and for the GPTQ / AWQ pass; the MoE row floors);
 *   - the compute backend: cpu_exec_desc() (OpenBLAS core type and thread count: the calibration passes' GEMMs
 *     depend on both in their last bits) and openblas_get_config() (the library build);
 *   - the code identity: QCODE_ID, written by the Makefile into build/gen/qcode_id.h, the sha256 of the sorted
 *     list of (path, sha256 of contents) of every .c and .h file of src/{core,data,engine,formats,model,ops,
 *     quant,harness} (conservative: every room the quantization path compiles from, this module and
 *     qmodel_io.c included, so a change of the entry format also changes every key), the C compiler flags (the
 *     path-dependent -ffile-prefix-map left out) and `$(CC) --version`; plus the compiler's __VERSION__ at run
 *     time (the sanitizer builds use clang with other flags and share the header) and QCACHE_VERSION. Not the
 *     driver binary: it differs per experiment, and the quantization code in it is the same.
 * Anything outside the key cannot change a quantized model: the evaluation flags (windows, ctx, tasks), the
 * driver, --backend (quant_apply and its calibration passes always run on the CPU engine; the engine is opened
 * after the model is quantized or loaded), --results / --results-model.
 *
 * Entry. One file <dir>/<key>.qc (default dir build/qcache), written atomically (temp + fsync + rename):
 *   header: magic "QLQCACHE", u32 QCACHE_VERSION, u32 0x01020304 (byte order), 64 hex key, u64 payload bytes,
 *           64 hex sha256 of the payload, u32 length + the canonical key text (for people: `head -c 2000`);
 *   payload: the model and its quant_stats as harness/qmodel_io.h lays them out (every array quant_apply can
 *           change by value; the embeddings and each packed Linear's FP32 view by sha256, recomputed on load).
 * A load reproduces the model quant_apply made bit for bit: every field compares equal (tests/test_qcache.c).
 * A truncated or corrupt entry (bad magic, version, key, length, payload sha256, or a payload that does not fit
 * the freshly loaded model) is a miss with one warning naming the file; the next store replaces it. A miss
 * leaves the model untouched: the payload is checked entirely before anything is changed (qmodel_io.h).
 * Size bound: after each store the entries are pruned, least recently used first (a hit refreshes an entry's
 * mtime), until their total is at most QL_QCACHE_MAX_MB (environment; default 4096 MiB: the 13 GPTQ / AWQ
 * recipes of qwen3-tiny and qwen3-tiny-moe need about 60 MB); the entry just stored is always kept. Stray temp
 * files older than an hour are removed too. Storing never fails a run: a write error is a warning.
 * API: qcache_key / qcache_lookup / qcache_store / qcache_prune / qcache_entry_path. */
#ifndef SRC_HARNESS_QCACHE_H
#define SRC_HARNESS_QCACHE_H

#include <stdint.h>

#include "core/sha256.h"
#include "harness/harness.h"
#include "model/qwen3.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QCACHE_VERSION 1
#define QCACHE_DIR_DEFAULT "build/qcache"
#define QCACHE_MAX_MB_DEFAULT 4096

/* The key of recipe r applied to the model of harness h (h->o.model, the calibration sets of h->o) with this
 * build and this process's CPU backend, as the header says: key receives the sha256 hex, *canon (optional)
 * the canonical text (caller frees). Returns 1, or 0 when the pair is not cacheable: a checkpoint recipe
 * (quant_apply does nothing), a GGUF model, or a folder without config.json and safetensors weights (no file
 * identity); key is "" then. */
int qcache_key(struct harness *h, const struct recipe *r, char key[SHA256_HEX_LEN], char **canon);

/* Loads the entry of key under dir onto m, a model freshly loaded by qwen3_load from the key's checkpoint
 * (unquantized). Returns 1 on a hit: m is now the quantized model, *st (st may be NULL) what quant_apply
 * reported when the entry was made (seconds: the time that quantization took then), and the entry's mtime
 * is refreshed. Returns 0 on a miss: no entry (silent), or an unusable one (one warning naming the file);
 * m is untouched. */
int qcache_lookup(const char *dir, const char *key, struct qwen3_model *m, struct quant_stats *st);

/* Stores m (quantized by quant_apply, no observer hooks set: CHECK) and st (may be NULL: zeros) as the entry of
 * key under dir (created if needed), replacing any entry there, then prunes dir (qcache_prune with
 * QL_QCACHE_MAX_MB, keeping this entry). canon (may be NULL) goes into the header. Returns 1 when written, 0
 * after a warning (the folder or the file could not be written; the run goes on). */
int qcache_store(const char *dir, const char *key, const char *canon, const struct qwen3_model *m,
                 const struct quant_stats *st);

/* Removes the least recently used entries (*.qc by mtime, oldest first) of dir until their total size is at
 * most max_bytes, never the entry of keep (may be NULL), and temp files older than an hour. Returns the number
 * of entries removed. */
int qcache_prune(const char *dir, int64_t max_bytes, const char *keep);

/* Writes "<dir>/<key>.qc" into buf (n bytes); returns buf. */
char *qcache_entry_path(const char *dir, const char *key, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
