/* perplexity -- next-token negative log-likelihood over non-overlapping windows, and PPL with its error.
 * Protocol (GPTQ; Frantar et al. 2022, datautils + llama_eval): the token stream of a corpus, tokenized in one
 * piece with no special tokens, is cut into n = floor(len / ctx) windows of ctx tokens (the tail is dropped);
 * each window is a fresh forward from position 0, and every position t = 0 .. ctx-2 predicts token t+1, so
 * ctx - 1 tokens are scored per window (the first token has no context). NLL_t = logsumexp(z_t) - z_t[y],
 * in double over FP32 logits z. PPL = exp(mean NLL) over all scored tokens.
 * Errors: ppl_stderr = PPL * sd(NLL) / sqrt(n_tokens) (delta method on the token mean, as llama.cpp's
 * perplexity), and ppl_stderr_windows = PPL * sd(window means) / sqrt(n_windows) (windows as independent units;
 * larger, since neighbouring tokens are correlated; 0 with a single window). */
#ifndef SRC_EVAL_PERPLEXITY_H
#define SRC_EVAL_PERPLEXITY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A model as the evaluation sees it: logits (T x V, row-major) of one window ids[0..T), from position 0. */
typedef void (*eval_logits_fn)(void *ctx, const int32_t *ids, int64_t T, float *logits);

struct perplexity_result {
    int64_t n_windows, n_tokens;     /* windows run, tokens scored = n_windows * (ctx - 1) */
    double nll_mean, nll_sd;         /* per-token NLL (nats) */
    double ppl, ppl_stderr, ppl_stderr_windows;
};

/* Number of windows to run: floor(n_ids / ctx), capped at max_windows when max_windows > 0. */
int64_t perplexity_n_windows(int64_t n_ids, int64_t ctx, int64_t max_windows);

/* The NLL of each next token of one window: logits T x V, ids[0..T); writes nll[0..T-2] (T >= 2).
 * Parallel over rows (OpenMP), deterministic (each row is reduced by one thread in a fixed order). */
void perplexity_nll_window(const float *logits, const int32_t *ids, int64_t T, int64_t V, double *nll);

/* Summarises n_windows * per_window NLL values (window-major) into r, as the header comment defines. */
void perplexity_summarize(const double *nll, int64_t n_windows, int64_t per_window, struct perplexity_result *r);

/* Runs the protocol: n_windows windows of ctx tokens from ids (n_windows * ctx <= n_ids: CHECK), each through
 * fn, and summarises. nll_out (optional, n_windows * (ctx - 1) doubles) receives every token's NLL. The logits
 * of one window (ctx x V floats) are the only large allocation. Progress on stderr when it is a terminal. */
void perplexity_run(eval_logits_fn fn, void *ctx, int64_t V, const int32_t *ids, int64_t n_ids, int64_t ctx_len,
                    int64_t n_windows, double *nll_out, struct perplexity_result *r);

#ifdef __cplusplus
}
#endif
#endif
