/* ppl_paired -- the paired perplexity comparison of a recipe q with the baseline b (BF16) scored on the same
 * tokens (DESIGN.md "Comparisons are paired"; issue 11). Per token t: d_t = NLL_q,t - NLL_b,t =
 * ln p_b(y_t) - ln p_q(y_t). Over n tokens:
 *   ln_ratio        = mean(d) = ln(PPL_q / PPL_b) exactly (PPL = exp(mean NLL), same tokens);
 *   stderr_token    = sd(d) / sqrt(n) (divisor n - 1): llama.cpp's "Mean ln(PPL(Q)/PPL(base))" uncertainty
 *                     (tools/perplexity/perplexity.cpp, kl-divergence mode: sqrt(se_q^2 + se_b^2 - 2 cov) with
 *                     its population moments over n - 1, which is this same number), i.e. tokens taken as
 *                     independent;
 *   stderr_block    = the batch-means (cluster) standard error with the tokens cut into consecutive blocks of
 *                     `block` tokens (the last block may be shorter): with block sums S_k over n_k tokens and
 *                     B blocks, se^2 = B / (B - 1) * sum_k (S_k - n_k mean)^2 / n^2. Neighbouring tokens are
 *                     correlated (they share context), which makes stderr_token too small; blocks much longer
 *                     than that correlation are close to independent, so stderr_block stays honest. 0 when
 *                     B < 2.
 *   ratio           = exp(ln_ratio) = PPL_q / PPL_b, ratio_stderr = ratio * stderr_token (llama.cpp's delta
 *                     method), and the 95 % interval exp(ln_ratio -+ 1.959964 * se) with se = max(stderr_token,
 *                     stderr_block): the interval never claims more than either error model allows.
 *   resolved        = 1 when that interval excludes 1 (the recipe's perplexity differs from the baseline's).
 * Sums in double, in token order (deterministic). API: struct ppl_paired, ppl_paired_compute. */
#ifndef SRC_EVAL_PPL_PAIRED_H
#define SRC_EVAL_PPL_PAIRED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The two-sided 95 % normal quantile, Phi^-1(0.975) to 7 digits. */
#define PPL_PAIRED_Z95 1.959964

struct ppl_paired {
    int64_t n, block, n_blocks;
    double ln_ratio, stderr_token, stderr_block;
    double ratio, ratio_stderr, ratio_lo, ratio_hi;
    int resolved;
};

/* nll_q, nll_b: the n per-token NLLs (nats) of the recipe and the baseline on the same tokens, in token order
 * (window-major, as perplexity_run writes them). n >= 1, block >= 1 (CHECK). nll_q == nll_b gives 0 / 1 / 0. */
void ppl_paired_compute(const double *nll_q, const double *nll_b, int64_t n, int64_t block, struct ppl_paired *r);

#ifdef __cplusplus
}
#endif
#endif
