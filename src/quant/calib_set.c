/* calib_set -- see calib_set.h. */
#include "quant/calib_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "model/qwen3.h"

void calib_set_init(struct calib_set *cs, const char *data_dir, int64_t n_seqs, int64_t seq_len,
                    uint64_t sample_seed) {
    cs->path = dataset_find(dataset_corpus_file(DATASET_C4_CALIB)->name, data_dir);
    cs->data_dir = data_dir;
    cs->n_seqs = n_seqs;
    cs->seq_len = seq_len;
    cs->sample_seed = sample_seed;
}

void calib_set_manifest(struct manifest *m, const struct calib_set *cs) {
    manifest_param_str(m, "calib_data", cs->path ? "c4-calib" : "sampled-calib");
    manifest_param_int(m, "calib_seqs", cs->n_seqs);
    manifest_param_int(m, "calib_len", cs->seq_len);
    if (!cs->path) {
        manifest_param_int(m, "calib_seed", (int64_t)cs->sample_seed);
        return;
    }
    const struct dataset_file *f = dataset_corpus_file(DATASET_C4_CALIB);
    char name[256];
    snprintf(name, sizeof name, "calib:%s", f->name);
    manifest_input(m, name, cs->path, f->sha256);
}

void calib_set_tokens(const struct calib_set *cs, const struct tokenizer *tok, const char *model_dir,
                      struct dataset_tokens *out) {
    if (cs->path) {
        if (dataset_tokens_load(out, DATASET_C4_CALIB, cs->data_dir, tok) != 0) die("%s: vanished", cs->path);
        if (out->n < cs->n_seqs * cs->seq_len)
            die("%s: calibration documents hold %lld tokens, %lld x %lld needed", cs->path, (long long)out->n,
                (long long)cs->n_seqs, (long long)cs->seq_len);
        return;
    }
    int32_t first = tokenizer_token_id(tok, "<|endoftext|>");
    struct qwen3_model *m0 = qwen3_load(model_dir);
    struct engine *e = engine_create(m0, "cpu");
    dataset_tokens_sample(out, e, first < 0 ? 0 : first, cs->n_seqs, cs->seq_len, cs->sample_seed,
                          "sampled-calib");
    engine_free(e);
    qwen3_free(m0);
}

void calib_set_calibrate(const struct calib_set *cs, struct calib *cal, struct qwen3_model *m,
                         const struct dataset_tokens *tok) {
    if (cal->n > 0) return;
    double t0 = monotonic_seconds();
    calib_run(cal, m, tok->ids, cs->n_seqs, cs->seq_len);
    fprintf(stderr, "%s: calibrated %lld linears on %lld x %lld tokens of %s (%.1f s)\n", check_progname(),
            (long long)cal->n, (long long)cs->n_seqs, (long long)cs->seq_len, tok->name,
            monotonic_seconds() - t0);
}

void calib_set_free(struct calib_set *cs) {
    free(cs->path);
    memset(cs, 0, sizeof *cs);
}
