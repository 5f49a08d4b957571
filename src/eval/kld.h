/* kld -- distribution shift of a model against a reference on the same tokens (llama.cpp's KL set).
 * Per scored position t (t = 0 .. T-2 of each window, y = ids[t+1]), P = softmax(reference logits),
 * Q = softmax(test logits), from FP32 logits in double: kld_t = sum_v P_v (log P_v - log Q_v) (nats),
 * top1_t = [argmax P == argmax Q] (first index on ties), dp_t = Q_y - P_y. Summaries: mean, median and p99
 * of kld_t, mean top1_t, sqrt(mean dp_t^2) (a fraction), each with a 95 % percentile-bootstrap interval.
 * Identical logit rows give kld_t = 0 exactly (every log P_v - log Q_v is then exactly 0). kld_ref_* keep the
 * reference as final hidden states (see struct kld_ref). */
#ifndef SRC_EVAL_KLD_H
#define SRC_EVAL_KLD_H

#include <stdint.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KLD_REF_MAGIC "QLKLDREF"
#define KLD_REF_VERSION 1

/* Per-token values of one window's T - 1 scored positions; logits are T x V for both models. */
void kld_window(const float *ref_logits, const float *logits, const int32_t *ids, int64_t T, int64_t V,
                double *kld, double *dp, double *top1);

struct kld_ci {
    double value, lo, hi;   /* point estimate and 95 % bootstrap interval */
};

struct kld_result {
    int64_t n_tokens;
    struct kld_ci kld_mean, kld_median, kld_p99, top1_agree, rms_dp;
};

/* Summarises n per-token values (kld, dp, top1 as 0/1) with n_boot bootstrap resamples of blocks of `block`
 * tokens, RNG stream `seed`. */
void kld_summarize(const double *kld, const double *dp, const double *top1, int64_t n, int n_boot,
                   int64_t block, uint64_t seed, struct kld_result *r);

/* ---- the reference file ---- */

/* The reference file: the reference model's final normed hidden states per window (T x D FP32). The lm_head
 * is never quantized, so the reference logits are recomputed from them bit for bit by the same GEMM, at D / V
 * of the size of the logits. Layout, little-endian: char magic[8] = "QLKLDREF"; u32 version = 1;
 * u32 reserved = 0; i64 n_windows, T, D; f32 h[n_windows][T][D]. */
struct kld_ref {
    FILE *f;
    char *path;        /* the file's final name */
    char *tmp_path;    /* while creating: the temporary name written to (tmp.tmp); NULL when reading */
    struct fileio_tmp tmp;
    int64_t n_windows, T, D;
};

/* Creates path for n_windows windows of T x D through fileio_tmp: written to "<path>.tmp.<pid>", renamed into
 * place by kld_ref_close; a die() before that (a failed write, a full disk) removes the temporary, so no
 * partial file is ever left under either name. Windows must be appended in order with kld_ref_append. r must
 * stay at the same address until kld_ref_close (the die() cleanup holds a pointer to r->tmp). */
void kld_ref_create(struct kld_ref *r, const char *path, int64_t n_windows, int64_t T, int64_t D);
void kld_ref_append(struct kld_ref *r, const float *h);

/* Opens an existing file for reading. Returns 0, or -1 when the caller must recompute it: the file does not
 * exist (silently), or it is not a usable cache (a warning naming the file and the defect): shorter than its
 * header, a wrong magic or version, a header that disagrees with (n_windows, T, D), or a size other than
 * header + n_windows * T * D floats. It is a cache, not an input: a damaged one is never an error and never
 * read. (Bit flips inside the data with the size intact are not detected; the file's sha256 is recorded in
 * every e03 result as ref_sha256.) */
int kld_ref_open(struct kld_ref *r, const char *path, int64_t n_windows, int64_t T, int64_t D);

/* Reads window w (T x D floats) into h. */
void kld_ref_read(struct kld_ref *r, int64_t w, float *h);

/* Closes (a created file is flushed, fsynced and renamed into place). */
void kld_ref_close(struct kld_ref *r);

#ifdef __cplusplus
}
#endif
#endif
