/* calib -- static activation ranges for per-tensor recipes (nvfp8), from a calibration pass.
 * The BF16 model (weights not yet quantized) runs over n_seqs sequences of seq_len tokens; an `observe` hook on
 * every Linear records amax = max |x| over all elements of every input it sees (the ModelOpt "max" calibrator).
 * Sequences are the n_seqs consecutive seq_len-token pieces of the ids given (calib_set.h draws them), each its own
 * forward from position 0. An MoE expert that no calibration token reaches takes the largest amax of its
 * layer's experts of the same kind (and a warning). Deterministic: the result depends only on the model and the
 * token ids. Calibration text is never an evaluation set (the experiments' specs say which it is). */
#ifndef SRC_QUANT_CALIB_H
#define SRC_QUANT_CALIB_H

#include <stdint.h>

#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One Linear's statistics. */
struct calib_entry {
    char *name;          /* HF module name, e.g. "model.layers.3.mlp.down_proj" */
    int layer, expert;   /* decoder layer, expert index or -1 */
    enum qwen3_linear_kind kind;
    int64_t rows;        /* input rows observed (tokens; routed tokens for an expert) */
    float amax;          /* max |x| over every observed input element */
};

struct calib {
    int64_t n;                   /* entries, in qwen3_for_each_linear order */
    struct calib_entry *e;
    int64_t n_seqs, seq_len;     /* what was run */
};

/* Runs the calibration pass described above over ids[0 .. n_seqs * seq_len) (the caller provides at least
 * that many ids; CHECK) and fills c. The model's observe hooks are set during the pass and cleared after; its
 * weights and other hooks are untouched, so the pass sees the model as it is (call it before quantizing). */
void calib_run(struct calib *c, struct qwen3_model *m, const int32_t *ids, int64_t n_seqs, int64_t seq_len);

/* The entry of a Linear by module name, or NULL. */
const struct calib_entry *calib_find(const struct calib *c, const char *name);

/* The static amax to use for a Linear: its own when it saw at least one row, else the MoE fallback above.
 * Dies when the name is unknown or no amax can be found (a dense Linear that saw nothing: n_seqs was 0). */
float calib_amax(const struct calib *c, const char *name);

void calib_free(struct calib *c);

#ifdef __cplusplus
}
#endif
#endif
