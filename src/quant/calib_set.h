/* calib_set -- which tokens calibrate a static-activation recipe (nvfp8), shared by every driver.
 * The calibration text is the C4 slice's calibration documents (DATASET_C4_CALIB: documents never scored by
 * any experiment) when the file is found on the data search path; with no data at all it is text sampled from
 * the BF16 model with its own RNG stream (sample_seed), so calibration and evaluation samples never coincide.
 * n_seqs sequences of seq_len tokens are used (calib.h runs them). The manifest records which source was
 * used, its size and, for the file, its pinned SHA-256. */
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

struct calib_set {
    char *path;             /* the calibration file found on disk (owned), or NULL: sampled text */
    const char *data_dir;   /* --data-dir of the run (borrowed), or NULL */
    int64_t n_seqs, seq_len;
    uint64_t sample_seed;   /* RNG stream of the sampled fallback */
};

/* Looks the calibration file up (dataset_find) and records the sizes and the fallback's seed. */
void calib_set_init(struct calib_set *cs, const char *data_dir, int64_t n_seqs, int64_t seq_len,
                    uint64_t sample_seed);

/* Adds the parameters calib_data ("c4-calib" | "sampled-calib"), calib_seqs, calib_len (and calib_seed when
 * sampled) and, for the file, the input "calib:<file>" with its pinned hash. */
void calib_set_manifest(struct manifest *m, const struct calib_set *cs);

/* The calibration token stream: the file tokenized with tok (dies if it holds fewer than n_seqs * seq_len
 * tokens), or n_seqs x seq_len tokens sampled from the BF16 checkpoint model_dir, started from <|endoftext|>. */
void calib_set_tokens(const struct calib_set *cs, const struct tokenizer *tok, const char *model_dir,
                      struct dataset_tokens *out);

/* Calibrates cal on m from the tokens calib_set_tokens gave, once per run: a no-op when cal already holds
 * entries. Call it on the BF16 model, before its weights are quantized. Logs the pass on stderr. */
void calib_set_calibrate(const struct calib_set *cs, struct calib *cal, struct qwen3_model *m,
                         const struct dataset_tokens *tok);

void calib_set_free(struct calib_set *cs);

#ifdef __cplusplus
}
#endif
#endif
