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
    mkdir_parent(path);
    size_t n = strlen(path) + 32;
    r->path = xstrdup(path);
    r->tmp_path = xmalloc(n);
    snprintf(r->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
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

int kld_ref_open(struct kld_ref *r, const char *path, int64_t n_windows, int64_t T, int64_t D) {
    memset(r, 0, sizeof *r);
    if (!file_exists(path)) return -1;
    FILE *f = xfopen(path, "rb");
    char magic[8];
    uint32_t ver, zero;
    int64_t dims[3];
    xfread(magic, 1, 8, f, path);
    if (memcmp(magic, KLD_REF_MAGIC, 8) != 0) die("%s: not a KLD reference file (bad magic)", path);
    xfread(&ver, 4, 1, f, path);
    if (ver != KLD_REF_VERSION) die("%s: version %u, expected %u", path, ver, (unsigned)KLD_REF_VERSION);
    xfread(&zero, 4, 1, f, path);
    xfread(dims, 8, 3, f, path);
    if (dims[0] != n_windows || dims[1] != T || dims[2] != D) {
        xfclose(f, path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long want = HEADER_BYTES + (long)(n_windows * T * D) * (long)sizeof(float);
    if (ftell(f) != want) {
        xfclose(f, path);
        return -1;   /* truncated by a crash before the rename cannot happen, but a copy may be */
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
        if (fflush(r->f) != 0 || fsync(fileno(r->f)) != 0) die("%s: cannot flush", r->tmp_path);
        xfclose(r->f, r->tmp_path);
        if (rename(r->tmp_path, r->path) != 0) die("%s: cannot rename to %s", r->tmp_path, r->path);
    } else {
        xfclose(r->f, r->path);
    }
    free(r->path);
    free(r->tmp_path);
    memset(r, 0, sizeof *r);
}
