/* perplexity -- the GPTQ window protocol and its statistics (see perplexity.h). */
#include "eval/perplexity.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"
#include "core/progress.h"
#include "eval/stats.h"

int64_t perplexity_n_windows(int64_t n_ids, int64_t ctx, int64_t max_windows) {
    CHECK(ctx >= 2, "window of %lld tokens scores nothing", (long long)ctx);
    int64_t n = n_ids / ctx;
    if (max_windows > 0 && n > max_windows) n = max_windows;
    return n;
}

void perplexity_nll_window(const float *logits, const int32_t *ids, int64_t T, int64_t V, double *nll) {
    CHECK(T >= 2 && V > 0, "T=%lld V=%lld", (long long)T, (long long)V);
    // logits: T x V; row t predicts ids[t + 1].
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T - 1; t++) {
        const float *z = logits + t * V;
        int32_t y = ids[t + 1];
        CHECK(y >= 0 && y < V, "target id %d outside [0, %lld)", y, (long long)V);
        /* log-sum-exp shifted by the row maximum: exp never overflows, and the largest term is exactly 1. */
        double mx = -INFINITY;
        for (int64_t v = 0; v < V; v++)
            if ((double)z[v] > mx) mx = z[v];
        double s = 0;
        for (int64_t v = 0; v < V; v++) s += exp((double)z[v] - mx);
        nll[t] = mx + log(s) - (double)z[y];
    }
}

void perplexity_summarize(const double *nll, int64_t n_windows, int64_t per_window, struct perplexity_result *r) {
    CHECK(n_windows > 0 && per_window > 0, "nothing scored");
    const int64_t n = n_windows * per_window;
    r->n_windows = n_windows;
    r->n_tokens = n;
    r->nll_mean = stats_mean(nll, n);
    r->nll_sd = stats_stddev(nll, n);
    r->ppl = exp(r->nll_mean);
    /* Delta method: d exp(m) = exp(m) dm, with se(m) = sd / sqrt(n). */
    r->ppl_stderr = r->ppl * r->nll_sd / sqrt((double)n);
    double *wm = xmalloc((size_t)n_windows * sizeof *wm);
    for (int64_t w = 0; w < n_windows; w++) wm[w] = stats_mean(nll + w * per_window, per_window);
    r->ppl_stderr_windows = r->ppl * stats_stderr(wm, n_windows);
    free(wm);
}

void perplexity_run(eval_logits_fn fn, void *ctx, int64_t V, const int32_t *ids, int64_t n_ids, int64_t ctx_len,
                    int64_t n_windows, double *nll_out, struct perplexity_result *r) {
    CHECK(n_windows > 0 && ctx_len >= 2 && n_windows * ctx_len <= n_ids, "%lld windows of %lld from %lld ids",
          (long long)n_windows, (long long)ctx_len, (long long)n_ids);
    const int64_t per = ctx_len - 1;
    float *logits = xmalloc((size_t)(ctx_len * V) * sizeof *logits);
    double *nll = nll_out ? nll_out : xmalloc((size_t)(n_windows * per) * sizeof *nll);
    struct progress p;
    progress_init(&p, "perplexity", n_windows);
    for (int64_t w = 0; w < n_windows; w++) {
        const int32_t *win = ids + w * ctx_len;
        fn(ctx, win, ctx_len, logits);
        perplexity_nll_window(logits, win, ctx_len, V, nll + w * per);
        progress_add(&p, 1);
    }
    progress_end(&p);
    perplexity_summarize(nll, n_windows, per, r);
    if (!nll_out) free(nll);
    free(logits);
}
