/* stats -- mean, standard error, quantiles and the block bootstrap (see stats.h for the definitions). */
#include "eval/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"

double stats_mean(const double *x, int64_t n) {
    CHECK(n > 0, "mean of %lld values", (long long)n);
    /* Plain double summation: per-token metrics are O(1..10), n <= a few million, so the rounding error
     * (n * 2^-53 relative) stays far below the reported digits. */
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

double stats_stddev(const double *x, int64_t n) {
    if (n < 2) return 0;
    /* Two passes: the centred sum of squares avoids the cancellation of sum(x^2) - n mean^2. */
    double m = stats_mean(x, n), s = 0;
    for (int64_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)(n - 1));
}

double stats_stderr(const double *x, int64_t n) {
    if (n < 2) return 0;
    return stats_stddev(x, n) / sqrt((double)n);
}

/* Hoare-style quickselect: puts the k-th smallest value at x[k], smaller ones before it, larger after. The
 * pivot is the median of three, so sorted input (common: per-token metrics of a bf16 run are all 0) stays
 * linear. */
static void select_kth(double *x, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        double a = x[lo], b = x[mid], c = x[hi];
        double piv = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < piv) i++;
            while (x[j] > piv) j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return;   /* j < k < i: x[k] equals the pivot and is in place */
    }
}

double stats_quantile_inplace(double *x, int64_t n, double p) {
    CHECK(n > 0, "quantile of %lld values", (long long)n);
    CHECK(p >= 0 && p <= 1, "quantile level %g outside [0, 1]", p);
    for (int64_t i = 0; i < n; i++) CHECK(!isnan(x[i]), "NaN at index %lld", (long long)i);
    double h = (double)(n - 1) * p;
    int64_t k = (int64_t)floor(h);
    select_kth(x, n, k);
    double lo = x[k];
    if (k + 1 >= n || h == (double)k) return lo;
    /* The (k+1)-th order statistic is the smallest value right of k after the selection. */
    double hi = x[k + 1];
    for (int64_t i = k + 2; i < n; i++)
        if (x[i] < hi) hi = x[i];
    return lo + (h - (double)k) * (hi - lo);
}

double stats_quantile(const double *x, int64_t n, double p) {
    CHECK(n > 0, "quantile of %lld values", (long long)n);
    double *tmp = xmalloc((size_t)n * sizeof *tmp);
    memcpy(tmp, x, (size_t)n * sizeof *tmp);
    double q = stats_quantile_inplace(tmp, n, p);
    free(tmp);
    return q;
}

double stats_fn_mean(double *x, int64_t n, void *ctx) {
    (void)ctx;
    return stats_mean(x, n);
}

double stats_fn_rms(double *x, int64_t n, void *ctx) {
    (void)ctx;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s / (double)n);
}

double stats_fn_quantile(double *x, int64_t n, void *ctx) {
    return stats_quantile_inplace(x, n, *(const double *)ctx);
}

void stats_bootstrap_ci(const double *x, int64_t n, stats_fn fn, void *ctx, int n_boot, int64_t block,
                        uint64_t seed, double level, double *lo, double *hi) {
    CHECK(n > 0 && n_boot > 1 && block > 0, "bootstrap: n=%lld n_boot=%d block=%lld", (long long)n, n_boot,
          (long long)block);
    CHECK(level > 0 && level < 1, "bootstrap level %g", level);
    int64_t n_blocks = (n + block - 1) / block;
    double *res = xmalloc((size_t)n * sizeof *res);
    double *stat = xmalloc((size_t)n_boot * sizeof *stat);
    struct rng r;
    rng_init(&r, seed);
    for (int b = 0; b < n_boot; b++) {
        /* Concatenate random blocks until n values are there; the last block drawn may be cut short. */
        int64_t filled = 0;
        while (filled < n) {
            int64_t s = (int64_t)rng_below(&r, (uint64_t)n_blocks) * block;
            int64_t len = block;
            if (s + len > n) len = n - s;
            if (filled + len > n) len = n - filled;
            memcpy(res + filled, x + s, (size_t)len * sizeof *res);
            filled += len;
        }
        stat[b] = fn(res, n, ctx);
    }
    /* Percentile interval: the quantiles of the bootstrap distribution of the statistic. */
    double plo = (1 - level) / 2, phi = (1 + level) / 2;
    *lo = stats_quantile(stat, n_boot, plo);
    *hi = stats_quantile_inplace(stat, n_boot, phi);
    free(res);
    free(stat);
}
