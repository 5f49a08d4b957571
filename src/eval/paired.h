/* paired -- accuracy intervals that can tell two recipes apart: the percentile bootstrap over items, with
 * the two recipes' per-item scores resampled jointly (the same item indices for both), because both were
 * scored on the same items (DESIGN.md "Comparisons are paired"). For per-item scores a_i (recipe) and b_i
 * (baseline, BF16) over n items and B resamples (indices drawn uniformly with replacement from the project
 * RNG, src/core/rng.h, stream seed):
 *   acc        = mean(a), with its interval from the resampled means of a alone;
 *   diff       = mean(a) - mean(b), interval from the resampled paired differences;
 *   recovery   = mean(a) / mean(b), interval from the resampled ratios (resamples whose mean(b) is 0 are
 *                left out and counted in n_undefined; with mean(b) = 0 the recovery itself is NaN).
 * Interval ends are the type-7 quantiles (stats.h) at (1 - level) / 2 and (1 + level) / 2.
 * API: struct paired_result, paired_bootstrap. */
#ifndef SRC_EVAL_PAIRED_H
#define SRC_EVAL_PAIRED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct paired_result {
    double acc, acc_lo, acc_hi;
    double base, base_lo, base_hi;
    double diff, diff_lo, diff_hi;
    double recovery, recovery_lo, recovery_hi;   /* NaN when undefined */
    int64_t n, n_boot, n_undefined;
};

/* a, b: n per-item scores (usually 0 / 1); b may equal a (diff 0). n >= 1, n_boot >= 1. */
void paired_bootstrap(const double *a, const double *b, int64_t n, int n_boot, uint64_t seed, double level,
                      struct paired_result *r);

#ifdef __cplusplus
}
#endif
#endif
