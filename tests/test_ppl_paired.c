/* test_ppl_paired -- src/eval/ppl_paired: the paired ln(PPL_q / PPL_b) against llama.cpp's own formula
 * (tools/perplexity/perplexity.cpp, kl-divergence mode: mean_and_uncertainty and covariance over running sums,
 * re-implemented here from that file, not from ppl_paired.c), the batch-means error on hand-computed cases,
 * and the interval / resolved rule. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"
#include "eval/ppl_paired.h"
#include "test.h"

/* llama.cpp: f = sum / n; df = sqrt((sum2 / n - f^2) / (n - 1)) when positive and n > 10. */
static void llama_mean_unc(double sum, double sum2, double n, double *f, double *df) {
    *f = sum / n;
    double v = sum2 / n - *f * *f;
    *df = v > 0 && n > 10 ? sqrt(v / (n - 1)) : 0;
}

static void test_against_llamacpp(void) {
    enum { N = 5000 };
    double *q = malloc(N * sizeof *q), *b = malloc(N * sizeof *b);
    struct rng g;
    rng_init(&g, 11);
    double sq = 0, sq2 = 0, sb = 0, sb2 = 0, sqb = 0;
    for (int t = 0; t < N; t++) {
        /* Correlated NLLs, as a recipe's and BF16's are: b ~ 5 + U(-2, 2), q = b + 0.05 + U(-0.3, 0.3). */
        b[t] = 5.0 + 4.0 * (rng_uniform(&g) - 0.5);
        q[t] = b[t] + 0.05 + 0.6 * (rng_uniform(&g) - 0.5);
        sq += q[t], sq2 += q[t] * q[t], sb += b[t], sb2 += b[t] * b[t], sqb += q[t] * b[t];
    }
    double fq, dq, fb, db;
    llama_mean_unc(sq, sq2, N, &fq, &dq);
    llama_mean_unc(sb, sb2, N, &fb, &db);
    double cov = (sqb / N - (sq / N) * (sb / N)) / (N - 1);
    double ref_val = fq - fb, ref_unc = sqrt(dq * dq + db * db - 2.0 * cov);
    struct ppl_paired r;
    ppl_paired_compute(q, b, N, 128, &r);
    /* The running-sum form loses ~1e-16 * (sum2 / n) / var digits to cancellation: var(d) = 0.03 against
     * moments of 25, so agreement to 1e-9 relative is what double arithmetic allows there. */
    TEST(fabs(r.ln_ratio - ref_val) < 1e-12, "ln_ratio = llama.cpp's (%.12f vs %.12f)", r.ln_ratio, ref_val);
    TEST(fabs(r.stderr_token - ref_unc) < 1e-9 * ref_unc, "stderr_token = llama.cpp's (%.9g vs %.9g)",
         r.stderr_token, ref_unc);
    TEST(fabs(r.ratio - exp(fq) / exp(fb)) < 1e-12 * r.ratio, "ratio = PPL_q / PPL_b");
    TEST(fabs(r.ratio_stderr - r.ratio * ref_unc) < 1e-9 * r.ratio * ref_unc, "ratio_stderr = ratio * unc");
    TEST(r.n_blocks == (N + 127) / 128, "n_blocks %lld", (long long)r.n_blocks);
    TEST(r.resolved && r.ratio_lo > 1, "a 0.05 nat shift on 5000 tokens is resolved [%g, %g]", r.ratio_lo,
         r.ratio_hi);
    /* block = 1 is the per-token error exactly: se^2 = n / (n - 1) * sum e^2 / n^2 = sum e^2 / (n (n - 1)). */
    struct ppl_paired r1;
    ppl_paired_compute(q, b, N, 1, &r1);
    TEST(fabs(r1.stderr_block - r1.stderr_token) < 1e-12 * r1.stderr_token, "block 1 = per-token error");
    free(q), free(b);
}

static void test_hand_cases(void) {
    /* d = 1, 1, 3, 3 (q = d, b = 0): mean 2; per token ss = 4, se = sqrt(4 / 3 / 4) = 0.57735;
     * blocks of 2: deviations -2, +2, se = sqrt(2 / 1 * 8) / 4 = 1. The interval takes the larger, 1. */
    const double q[4] = {1, 1, 3, 3}, b[4] = {0, 0, 0, 0};
    struct ppl_paired r;
    ppl_paired_compute(q, b, 4, 2, &r);
    TEST(fabs(r.ln_ratio - 2) < 1e-15, "hand mean 2");
    TEST(fabs(r.stderr_token - sqrt(1.0 / 3.0)) < 1e-15, "hand per-token se %.15f", r.stderr_token);
    TEST(fabs(r.stderr_block - 1) < 1e-15, "hand block se %.15f", r.stderr_block);
    TEST(fabs(r.ratio_lo - exp(2 - PPL_PAIRED_Z95)) < 1e-12 && fabs(r.ratio_hi - exp(2 + PPL_PAIRED_Z95)) < 1e-12,
         "interval uses the larger error");
    TEST(r.resolved, "exp(2 -+ 1.96) excludes 1");
    /* A last short block: d = 0, 2, 4 with block 2 -> blocks {0, 2}, {4}; mean 2, deviations -2, 2. */
    const double q3[3] = {0, 2, 4}, b3[3] = {0, 0, 0};
    ppl_paired_compute(q3, b3, 3, 2, &r);
    TEST(r.n_blocks == 2 && fabs(r.stderr_block - sqrt(2.0 * 8.0) / 3.0) < 1e-15, "short last block");
    /* Identical inputs: nothing to resolve. */
    ppl_paired_compute(q, q, 4, 2, &r);
    TEST(r.ln_ratio == 0 && r.stderr_token == 0 && r.stderr_block == 0 && r.ratio == 1 && r.ratio_lo == 1 &&
         r.ratio_hi == 1 && !r.resolved, "identical: 0, ratio 1 [1, 1], not resolved");
    /* One token, one block: errors 0 (no spread can be estimated). */
    ppl_paired_compute(q, b, 1, 128, &r);
    TEST(r.stderr_token == 0 && r.stderr_block == 0 && r.n_blocks == 1, "single token: errors 0");
    /* Runs of 100 equal values (+-0.1, mean 0) in blocks of 50: each block mean is +-0.1, so the block error
     * (sqrt(8 / 7 * 8 * 25) / 400 = 0.0378) is far above the per-token one (0.0050). */
    double qq[400], bb[400];
    for (int t = 0; t < 400; t++) { bb[t] = 0; qq[t] = ((t / 100) % 2) ? 0.1 : -0.1; }
    ppl_paired_compute(qq, bb, 400, 50, &r);
    TEST(r.stderr_block > r.stderr_token && !r.resolved, "correlated runs: block se %.4g > token se %.4g",
         r.stderr_block, r.stderr_token);
}

int main(void) {
    test_against_llamacpp();
    test_hand_cases();
    return TEST_REPORT();
}
