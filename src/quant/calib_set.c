/* calib_set -- see calib_set.h. */
#include "quant/calib_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "core/timer.h"
#include "data/train_corpus.h"
#include "engine/engine.h"
#include "model/qwen3.h"
#include "quant/quantize.h"

void calib_set_init(struct calib_set *cs, const char *data_dir, int64_t n_seqs, int64_t seq_len,
                    uint64_t sample_seed) {
    cs->source = CALIB_SOURCE_C4;
    cs->path = dataset_find(dataset_corpus_file(DATASET_C4_CALIB)->name, data_dir);
    cs->data_dir = data_dir;
    cs->n_seqs = n_seqs;
    cs->seq_len = seq_len;
    cs->sample_seed = sample_seed;
}

void calib_set_use_train(struct calib_set *cs) {
    free(cs->path);
    cs->path = train_corpus_find();
    if (!cs->path)
        die("%s not found in $QL_CORPUS_DIR, ./corpus or ../shared/corpus (--calib-source train: the training text)",
            TRAIN_CORPUS_NAME);
    cs->source = CALIB_SOURCE_TRAIN;
}

int calib_source_by_name(const char *name) {
    if (!strcmp(name, "c4")) return CALIB_SOURCE_C4;
    if (!strcmp(name, "train")) return CALIB_SOURCE_TRAIN;
    return -1;
}

void calib_set_init_algo(struct calib_set *cs, const struct recipe *r, const char *data_dir, int64_t max_pos,
                         int64_t n_override, int64_t len_override, uint64_t sample_seed) {
    int64_t n, len;
    quant_calib_size(r, max_pos, &n, &len);
    if (n_override > 0) n = n_override;
    if (len_override > 0) len = len_override;
    calib_set_init(cs, data_dir, n, len, sample_seed);
}

void calib_set_algo_tokens(const struct calib_set *cs, const char *model_dir, struct dataset_tokens *out,
                           struct quant_calib *qc) {
    struct tokenizer *tok = tokenizer_load(model_dir);
    calib_set_tokens(cs, tok, model_dir, out);
    tokenizer_free(tok);
    qc->ids = out->ids, qc->n_seqs = cs->n_seqs, qc->seq_len = cs->seq_len;
    fprintf(stderr, "%s: GPTQ / AWQ calibration: %lld x %lld tokens of %s\n", check_progname(),
            (long long)cs->n_seqs, (long long)cs->seq_len, out->name);
}

void calib_set_manifest(struct manifest *m, const struct calib_set *cs) {
    manifest_param_str(m, "calib_data", !cs->path ? "sampled-calib" : cs->source == CALIB_SOURCE_TRAIN ? "train-corpus"
                                                                                                : "c4-calib");
    manifest_param_int(m, "calib_seqs", cs->n_seqs);
    manifest_param_int(m, "calib_len", cs->seq_len);
    manifest_param_int(m, "calib_seed", (int64_t)cs->sample_seed);
    if (!cs->path) return;
    manifest_param_str(m, "calib_sample", "seeded-windows");
    if (cs->source == CALIB_SOURCE_TRAIN) {
        manifest_input(m, "calib:corpus/" TRAIN_CORPUS_NAME, cs->path, TRAIN_CORPUS_XZ_SHA256);
        return;
    }
    const struct dataset_file *f = dataset_corpus_file(DATASET_C4_CALIB);
    char name[256];
    snprintf(name, sizeof name, "calib:%s", f->name);
    manifest_input(m, name, cs->path, f->sha256);
}

int calib_set_sample_windows(int64_t n, int64_t n_seqs, int64_t seq_len, uint64_t seed, int64_t *starts) {
    CHECK(n_seqs > 0 && seq_len > 0, "calibration size %lld x %lld", (long long)n_seqs, (long long)seq_len);
    if (n < n_seqs * seq_len) return -1;
    const int64_t W = n / seq_len;
    /* Partial Fisher-Yates: after step i, idx[0..i] is a uniform draw without replacement of i + 1 windows. */
    int64_t *idx = xmalloc((size_t)W * sizeof *idx);
    for (int64_t w = 0; w < W; w++) idx[w] = w;
    struct rng g;
    rng_init(&g, seed);
    for (int64_t i = 0; i < n_seqs; i++) {
        int64_t j = i + (int64_t)rng_below(&g, (uint64_t)(W - i));
        int64_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
        starts[i] = idx[i] * seq_len;
    }
    free(idx);
    return 0;
}

void calib_set_tokens(const struct calib_set *cs, const struct tokenizer *tok, const char *model_dir,
                      struct dataset_tokens *out) {
    if (cs->path && cs->source == CALIB_SOURCE_TRAIN) {
        /* About 3.5 bytes per token for qwen3-tiny's tokenizer: start at 6 per needed token, double until
         * enough (or the training bytes run out: the error below then names the count). */
        memset(out, 0, sizeof *out);
        size_t want = (size_t)(cs->n_seqs * cs->seq_len) * 6;
        for (;;) {
            if (want > TRAIN_CORPUS_MAX_PREFIX) want = TRAIN_CORPUS_MAX_PREFIX;
            size_t len;
            char *text = train_corpus_prefix(cs->path, want, &len);
            size_t n;
            free(out->ids);
            out->ids = tokenizer_encode(tok, text, len, &n);
            out->n = (int64_t)n;
            free(text);
            if (out->n >= cs->n_seqs * cs->seq_len || want == TRAIN_CORPUS_MAX_PREFIX) break;
            want *= 2;
        }
        snprintf(out->name, sizeof out->name, "train-corpus");
        memcpy(out->sha256, TRAIN_CORPUS_XZ_SHA256, SHA256_HEX_LEN);
    } else if (cs->path) {
        if (dataset_tokens_load(out, DATASET_C4_CALIB, cs->data_dir, tok) != 0) die("%s: vanished", cs->path);
    }
    if (cs->path) {
        const int64_t need = cs->n_seqs * cs->seq_len;
        int64_t *starts = xmalloc((size_t)cs->n_seqs * sizeof *starts);
        if (calib_set_sample_windows(out->n, cs->n_seqs, cs->seq_len, cs->sample_seed, starts) != 0)
            die("%s: the calibration %s hold %lld tokens, fewer than the %lld x %lld = %lld needed "
                "(fewer sequences, a shorter --calib-len / --algo-calib-len, or --calib-source train)", cs->path,
                cs->source == CALIB_SOURCE_TRAIN ? "training bytes read" : "documents", (long long)out->n,
                (long long)cs->n_seqs, (long long)cs->seq_len, (long long)need);
        int32_t *ids = xmalloc((size_t)need * sizeof *ids);
        for (int64_t i = 0; i < cs->n_seqs; i++)
            memcpy(ids + i * cs->seq_len, out->ids + starts[i], (size_t)cs->seq_len * sizeof *ids);
        const int64_t n_all = out->n;
        free(out->ids);
        free(starts);
        out->ids = ids;
        out->n = need;
        char h[SHA256_HEX_LEN];
        sha256_buf(ids, (size_t)need * sizeof *ids, h);
        fprintf(stderr, "%s: calibration sample: %lld windows of %lld tokens drawn (seed %llu) from the %lld "
                "tokens of %s; sample sha256 %s\n", check_progname(), (long long)cs->n_seqs, (long long)cs->seq_len,
                (unsigned long long)cs->sample_seed, (long long)n_all, cs->path, h);
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
