/* kld -- KL divergence, top-1 agreement and delta-p against a reference, and the reference file (kld.h). */
#define _POSIX_C_SOURCE 200809L
#include "eval/kld.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "eval/stats.h"

/* ---- per-token values ---- */

/* Log-sum-exp of one row in double, and its first argmax. */
static double row_lse(const float *z, int64_t V, int64_t *argmax) {
    double mx = -INFINITY;
    int64_t am = 0;
    for (int64_t v = 0; v < V; v++)
        if ((double)z[v] > mx) { mx = z[v]; am = v; }
    double s = 0;
    for (int64_t v = 0; v < V; v++) s += exp((double)z[v] - mx);
    *argmax = am;
    return mx + log(s);
}

void kld_window(const float *ref_logits, const float *logits, const int32_t *ids, int64_t T, int64_t V,
                double *kld, double *dp, double *top1) {
    CHECK(T >= 2 && V > 0, "T=%lld V=%lld", (long long)T, (long long)V);
    // ref_logits, logits: T x V; row t predicts ids[t + 1].
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T - 1; t++) {
        const float *zp = ref_logits + t * V, *zq = logits + t * V;
        int64_t ap, aq;
        double lp = row_lse(zp, V, &ap), lq = row_lse(zq, V, &aq);
        /* log P_v - log Q_v = (zp_v - lp) - (zq_v - lq): both terms are formed the same way for both models,
         * so identical rows give exactly 0 per term. */
        double s = 0;
        for (int64_t v = 0; v < V; v++) {
            double a = (double)zp[v] - lp, b = (double)zq[v] - lq;
            s += exp(a) * (a - b);
        }
        int32_t y = ids[t + 1];
        CHECK(y >= 0 && y < V, "target id %d outside [0, %lld)", y, (long long)V);
        kld[t] = s;
        dp[t] = exp((double)zq[y] - lq) - exp((double)zp[y] - lp);
        top1[t] = ap == aq;
    }
}

/* ---- summaries ---- */

static void ci(struct kld_ci *out, const double *x, int64_t n, stats_fn fn, void *ctx, int n_boot, int64_t block,
               uint64_t seed) {
    double *tmp = xmalloc((size_t)n * sizeof *tmp);
    memcpy(tmp, x, (size_t)n * sizeof *tmp);
    out->value = fn(tmp, n, ctx);
    free(tmp);
    stats_bootstrap_ci(x, n, fn, ctx, n_boot, block, seed, 0.95, &out->lo, &out->hi);
}

void kld_summarize(const double *kld, const double *dp, const double *top1, int64_t n, int n_boot,
                   int64_t block, uint64_t seed, struct kld_result *r) {
    CHECK(n > 0, "no tokens");
    memset(r, 0, sizeof *r);
    r->n_tokens = n;
    double p50 = 0.5, p99 = 0.99;
    /* Each statistic draws its own stream (seed + i) so adding one never shifts the others' intervals. */
    ci(&r->kld_mean, kld, n, stats_fn_mean, NULL, n_boot, block, seed + 0);
    ci(&r->kld_median, kld, n, stats_fn_quantile, &p50, n_boot, block, seed + 1);
    ci(&r->kld_p99, kld, n, stats_fn_quantile, &p99, n_boot, block, seed + 2);
    ci(&r->top1_agree, top1, n, stats_fn_mean, NULL, n_boot, block, seed + 3);
    ci(&r->rms_dp, dp, n, stats_fn_rms, NULL, n_boot, block, seed + 4);
}

/* ---- the reference file ---- */

#define HEADER_BYTES (8 + 4 + 4 + 3 * 8)

void kld_ref_create(struct kld_ref *r, const char *path, int64_t n_windows, int64_t T, int64_t D) {
    memset(r, 0, sizeof *r);
    r->path = xstrdup(path);
    fileio_tmp_begin(&r->tmp, path, 0);
    r->tmp_path = r->tmp.tmp;
    r->f = xfopen(r->tmp_path, "wb");
    r->n_windows = n_windows;
    r->T = T;
    r->D = D;
    uint32_t ver = KLD_REF_VERSION, zero = 0;
    int64_t dims[3] = {n_windows, T, D};
    xfwrite(KLD_REF_MAGIC, 1, 8, r->f, r->tmp_path);
    xfwrite(&ver, 4, 1, r->f, r->tmp_path);
    xfwrite(&zero, 4, 1, r->f, r->tmp_path);
    xfwrite(dims, 8, 3, r->f, r->tmp_path);
}

void kld_ref_append(struct kld_ref *r, const float *h) {
    CHECK(r->tmp_path, "%s: not opened for writing", r->path);
    xfwrite(h, sizeof(float), (size_t)(r->T * r->D), r->f, r->tmp_path);
}

/* A cache that cannot be used: say why, close it, and let the caller recompute. */
static int ref_unusable(FILE *f, const char *path, const char *why) {
    warn("%s: unusable KLD reference cache (%s): recomputing it", path, why);
    fclose(f);
    return -1;
}

int kld_ref_open(struct kld_ref *r, const char *path, int64_t n_windows, int64_t T, int64_t D) {
    memset(r, 0, sizeof *r);
    if (!file_exists(path)) return -1;
    FILE *f = xfopen(path, "rb");
    char magic[8];
    uint32_t ver, zero;
    int64_t dims[3];
    // Read the header without xfread: a short file is a stale cache, not an error.
    if (fread(magic, 1, 8, f) != 8 || fread(&ver, 4, 1, f) != 1 || fread(&zero, 4, 1, f) != 1 ||
        fread(dims, 8, 3, f) != 3)
        return ref_unusable(f, path, "shorter than its 40-byte header");
    if (memcmp(magic, KLD_REF_MAGIC, 8) != 0) return ref_unusable(f, path, "magic is not " KLD_REF_MAGIC);
    if (ver != KLD_REF_VERSION) return ref_unusable(f, path, "version is not 1");
    if (dims[0] != n_windows || dims[1] != T || dims[2] != D) {
        char why[160];
        snprintf(why, sizeof why, "holds %lld x %lld x %lld, expected %lld x %lld x %lld", (long long)dims[0],
                 (long long)dims[1], (long long)dims[2], (long long)n_windows, (long long)T, (long long)D);
        return ref_unusable(f, path, why);
    }
    // Compared in 64 bits: n_windows * T * D * 4 fits (the caller's windows are in memory).
    int64_t want = HEADER_BYTES + n_windows * T * D * (int64_t)sizeof(float);
    if (fseek(f, 0, SEEK_END) != 0) return ref_unusable(f, path, "cannot seek");
    long got = ftell(f);
    if (got != want) {
        char why[160];
        snprintf(why, sizeof why, "%ld bytes, expected %lld: truncated or damaged", got, (long long)want);
        return ref_unusable(f, path, why);
    }
    r->f = f;
    r->path = xstrdup(path);
    r->n_windows = n_windows;
    r->T = T;
    r->D = D;
    return 0;
}

void kld_ref_read(struct kld_ref *r, int64_t w, float *h) {
    CHECK(w >= 0 && w < r->n_windows, "window %lld of %lld", (long long)w, (long long)r->n_windows);
    long off = HEADER_BYTES + (long)(w * r->T * r->D) * (long)sizeof(float);
    if (fseek(r->f, off, SEEK_SET) != 0) die("%s: cannot seek to window %lld", r->path, (long long)w);
    xfread(h, sizeof(float), (size_t)(r->T * r->D), r->f, r->path);
}

void kld_ref_close(struct kld_ref *r) {
    if (!r->f) return;
    if (r->tmp_path) {
        xfclose(r->f, r->tmp_path);
        fileio_tmp_commit(&r->tmp, 0);   /* fsync + rename; a die() in it still removes the temporary */
    } else {
        xfclose(r->f, r->path);
    }
    free(r->path);
    memset(r, 0, sizeof *r);
}
