/* calib_set -- which tokens calibrate a recipe (static activation ranges of nvfp8; the GPTQ / AWQ pass),
 * shared by every driver (issue 10 "Calibration").
 * Source: the C4 slice's calibration documents (DATASET_C4_CALIB: documents [1100, 2000), never scored by any
 * experiment, whose C4 evaluation documents are [0, 1100)) when the file is found on the data search path;
 * with no data at all, text sampled from the BF16 model with its own RNG stream (seed), so calibration and
 * evaluation samples never coincide.
 * The sample: the source is tokenized in one piece and cut into W = floor(n / seq_len) consecutive,
 * non-overlapping windows of seq_len tokens; n_seqs distinct windows are drawn without replacement by a
 * partial Fisher-Yates shuffle of 0 .. W-1 on the RNG stream `seed` (core/rng.h), and concatenated in the
 * order drawn (calib.h and the layer walks of GPTQ / AWQ run each from position 0). Same seed, same sample; a
 * window may cross a document boundary (documents are joined with " ", as AutoAWQ concatenates its samples
 * before splitting them into blocks). A source holding fewer than n_seqs x seq_len tokens is an error naming
 * how many it holds (the C4 calibration documents hold 535,887 tokens of qwen3-tiny's tokenizer: 512 x 512
 * fits, 512 x 2048 does not). The sampled fallback is already a seeded sample of n_seqs x seq_len tokens.
 * Option (calib_set_use_train, drivers' --calib-source train): the training text of the tiny models instead
 * (data/train_corpus.h: a prefix of its training bytes, 6 bytes per needed token and doubled until it holds
 * n_seqs x seq_len tokens, at most 99 % of the text), sampled by the same rule; the full protocol's GPTQ
 * 512 x 2048 needs it on qwen3-tiny. It is missing: an error (never a silent fallback).
 * The manifest records the source, its pinned SHA-256 (the calibration set's hash, an input), n_seqs,
 * seq_len, the seed and the sampling rule, which together fix the sample exactly. */
#ifndef SRC_QUANT_CALIB_SET_H
#define SRC_QUANT_CALIB_SET_H

#include <stdint.h>

#include "core/manifest.h"
#include "data/dataset.h"
#include "model/tokenizer.h"
#include "quant/calib.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The sampled fallback's stream is the run's seed plus this offset: never an evaluation sample's stream. */
#define CALIB_SET_SEED_OFFSET 1000000

/* Where the calibration text comes from (--calib-source). */
enum calib_source {
    CALIB_SOURCE_C4 = 0,    /* "c4": the C4 calibration documents (default) */
    CALIB_SOURCE_TRAIN      /* "train": a prefix of the tiny models' training text (data/train_corpus.h) */
};

struct calib_set {
    enum calib_source source;
    char *path;             /* the calibration file found on disk (owned), or NULL: sampled text */
    const char *data_dir;   /* --data-dir of the run (borrowed), or NULL */
    int64_t n_seqs, seq_len;
    uint64_t sample_seed;   /* RNG stream of the sample: which windows of the file, or the fallback's text */
};

/* Looks the calibration file up (dataset_find) and records the sizes and the fallback's seed. */
void calib_set_init(struct calib_set *cs, const char *data_dir, int64_t n_seqs, int64_t seq_len,
                    uint64_t sample_seed);

/* Switches cs to the training-corpus source (dies when the file is not found). */
void calib_set_use_train(struct calib_set *cs);

/* "c4" | "train" -> the source; -1 when unknown. */
int calib_source_by_name(const char *name);

/* calib_set_init for the GPTQ / AWQ pass of recipe r: the recipe's size (quant_calib_size: its own, or the
 * algorithm's reference default, the length capped at max_pos), each replaced by n_override / len_override
 * when > 0 (drivers' --calib-seqs / --calib-len; the manifest records what was used). */
struct recipe;
void calib_set_init_algo(struct calib_set *cs, const struct recipe *r, const char *data_dir, int64_t max_pos,
                         int64_t n_override, int64_t len_override, uint64_t sample_seed);

/* The tokens of cs (calib_set_tokens, with model_dir's tokenizer) into out, and qc's ids / n_seqs / seq_len
 * pointing at them (qc->ranges untouched): what quant_apply needs for a GPTQ / AWQ recipe. */
struct quant_calib;
void calib_set_algo_tokens(const struct calib_set *cs, const char *model_dir, struct dataset_tokens *out,
                           struct quant_calib *qc);

/* Adds the parameters calib_data ("c4-calib" | "sampled-calib"), calib_seqs, calib_len (and calib_seed when
 * sampled) and, for the file, the input "calib:<file>" with its pinned hash. */
void calib_set_manifest(struct manifest *m, const struct calib_set *cs);

/* The calibration tokens, n_seqs x seq_len ids into out: the seeded sample of windows of the file tokenized
 * with tok (dies if it holds fewer than n_seqs * seq_len tokens, naming how many), or n_seqs x seq_len tokens
 * sampled from the BF16 checkpoint model_dir, started from <|endoftext|>. out->sha256 stays the file's hash;
 * the log names the sample's own hash (sha256 of its int32 ids). */
void calib_set_tokens(const struct calib_set *cs, const struct tokenizer *tok, const char *model_dir,
                      struct dataset_tokens *out);

/* Calibrates cal on m from the tokens calib_set_tokens gave, once per run: a no-op when cal already holds
 * entries. Call it on the BF16 model, before its weights are quantized. Logs the pass on stderr. */
void calib_set_calibrate(const struct calib_set *cs, struct calib *cal, struct qwen3_model *m,
                         const struct dataset_tokens *tok);

/* The sample above on a token stream: starts (n_seqs entries) receives the first token of every drawn window,
 * in draw order. Returns 0, or -1 when n holds fewer than n_seqs * seq_len tokens (starts untouched).
 * Exposed for the tests. */
int calib_set_sample_windows(int64_t n, int64_t n_seqs, int64_t seq_len, uint64_t seed, int64_t *starts);

void calib_set_free(struct calib_set *cs);

#ifdef __cplusplus
}
#endif
#endif
