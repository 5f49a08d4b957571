/* paired -- the paired percentile bootstrap (see paired.h). */
#include "eval/paired.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"
#include "core/rng.h"
#include "eval/stats.h"

void paired_bootstrap(const double *a, const double *b, int64_t n, int n_boot, uint64_t seed, double level,
                      struct paired_result *r) {
    CHECK(n >= 1 && n_boot >= 1 && level > 0 && level < 1, "paired_bootstrap: n %lld, n_boot %d, level %g",
          (long long)n, n_boot, level);
    double *ra = xmalloc((size_t)n_boot * sizeof *ra), *rb = xmalloc((size_t)n_boot * sizeof *rb);
    double *rd = xmalloc((size_t)n_boot * sizeof *rd), *rr = xmalloc((size_t)n_boot * sizeof *rr);
    struct rng g;
    rng_init(&g, seed);
    int64_t n_rr = 0;
    for (int k = 0; k < n_boot; k++) {
        double sa = 0, sb = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t j = (int64_t)rng_below(&g, (uint64_t)n);
            sa += a[j];
            sb += b[j];
        }
        ra[k] = sa / (double)n;
        rb[k] = sb / (double)n;
        rd[k] = ra[k] - rb[k];
        if (sb != 0) rr[n_rr++] = sa / sb;
    }
    double lo = (1 - level) / 2, hi = (1 + level) / 2;
    r->n = n;
    r->n_boot = n_boot;
    r->acc = stats_mean(a, n);
    r->base = stats_mean(b, n);
    r->diff = r->acc - r->base;
    r->recovery = r->base != 0 ? r->acc / r->base : NAN;
    r->acc_lo = stats_quantile_inplace(ra, n_boot, lo);
    r->acc_hi = stats_quantile_inplace(ra, n_boot, hi);
    r->base_lo = stats_quantile_inplace(rb, n_boot, lo);
    r->base_hi = stats_quantile_inplace(rb, n_boot, hi);
    r->diff_lo = stats_quantile_inplace(rd, n_boot, lo);
    r->diff_hi = stats_quantile_inplace(rd, n_boot, hi);
    r->n_undefined = n_boot - n_rr;
    r->recovery_lo = n_rr ? stats_quantile_inplace(rr, n_rr, lo) : NAN;
    r->recovery_hi = n_rr ? stats_quantile_inplace(rr, n_rr, hi) : NAN;
    free(ra);
    free(rb);
    free(rd);
    free(rr);
}
