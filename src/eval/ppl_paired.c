/* ppl_paired -- ln(PPL_q / PPL_b) with its paired standard errors (see ppl_paired.h). */
#include "eval/ppl_paired.h"

#include <math.h>

#include "core/check.h"

void ppl_paired_compute(const double *nll_q, const double *nll_b, int64_t n, int64_t block, struct ppl_paired *r) {
    CHECK(n >= 1 && block >= 1, "ppl_paired_compute: n %lld, block %lld", (long long)n, (long long)block);
    r->n = n;
    r->block = block;
    double s = 0;
    for (int64_t t = 0; t < n; t++) s += nll_q[t] - nll_b[t];
    const double m = s / (double)n;
    /* Second pass about the mean (no cancellation from sum d^2 - n m^2), and the block sums at once. */
    double ss = 0, sb = 0;
    int64_t nb = 0;
    for (int64_t k0 = 0; k0 < n; k0 += block) {
        int64_t k1 = k0 + block < n ? k0 + block : n;
        double bs = 0;
        for (int64_t t = k0; t < k1; t++) {
            double e = (nll_q[t] - nll_b[t]) - m;
            ss += e * e;
            bs += e;              /* S_k - n_k mean */
        }
        sb += bs * bs;
        nb++;
    }
    r->n_blocks = nb;
    r->ln_ratio = m;
    r->stderr_token = n >= 2 ? sqrt(ss / (double)(n - 1) / (double)n) : 0;
    r->stderr_block = nb >= 2 ? sqrt((double)nb / (double)(nb - 1) * sb) / (double)n : 0;
    r->ratio = exp(m);
    r->ratio_stderr = r->ratio * r->stderr_token;
    const double se = fmax(r->stderr_token, r->stderr_block);
    r->ratio_lo = exp(m - PPL_PAIRED_Z95 * se);
    r->ratio_hi = exp(m + PPL_PAIRED_Z95 * se);
    r->resolved = r->ratio_lo > 1 || r->ratio_hi < 1;
}
