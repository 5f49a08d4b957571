/* stats -- summary statistics of per-token metrics, in double precision, and bootstrap confidence intervals.
 * Quantiles use linear interpolation between order statistics (Hyndman & Fan 1996 type 7, the default of numpy
 * and R): q(p) = x[h] + (h - floor h) (x[h+1] - x[h]) with h = (n - 1) p over the sorted values, 0-based.
 * The bootstrap is the percentile method over resamples of non-overlapping blocks of `block` consecutive
 * values (block = 1: the ordinary bootstrap; longer blocks respect the correlation of neighbouring tokens),
 * drawn with the project RNG (src/core/rng.h) from a fixed seed, so intervals are reproducible bit for bit. */
#ifndef SRC_EVAL_STATS_H
#define SRC_EVAL_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A statistic of n values; may reorder x (it receives a scratch copy). ctx is passed through. */
typedef double (*stats_fn)(double *x, int64_t n, void *ctx);

/* Arithmetic mean of n > 0 values (CHECK n > 0). */
double stats_mean(const double *x, int64_t n);

/* Sample standard deviation (divisor n - 1); 0 when n < 2. */
double stats_stddev(const double *x, int64_t n);

/* Standard error of the mean, stddev / sqrt(n); 0 when n < 2. */
double stats_stderr(const double *x, int64_t n);

/* The p-quantile (0 <= p <= 1) of n > 0 values by the type-7 rule above. Works on a private copy; NaN values
 * are a programmer error (CHECK). */
double stats_quantile(const double *x, int64_t n, double p);

/* Same, reordering x in place (quickselect, O(n) on average): for callers that own a scratch array. */
double stats_quantile_inplace(double *x, int64_t n, double p);

/* Ready-made statistics for stats_bootstrap_ci: the mean, the root mean square, and the quantile whose level
 * p is *(double *)ctx. */
double stats_fn_mean(double *x, int64_t n, void *ctx);
double stats_fn_rms(double *x, int64_t n, void *ctx);
double stats_fn_quantile(double *x, int64_t n, void *ctx);

/* Percentile-bootstrap interval at confidence `level` (e.g. 0.95) of fn over the n values of x: n_boot
 * resamples, each made of ceil(n / block) blocks drawn uniformly with replacement from the n / block
 * non-overlapping blocks (a last partial block is one of them), truncated to n values. Stream `seed` of the
 * project RNG. Writes the (1-level)/2 and (1+level)/2 quantiles of the resampled statistics to *lo, *hi. */
void stats_bootstrap_ci(const double *x, int64_t n, stats_fn fn, void *ctx, int n_boot, int64_t block,
                        uint64_t seed, double level, double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
