/* perplexity_llamacpp -- llama-perplexity's protocol; see perplexity_llamacpp.h. */
#include "eval/perplexity_llamacpp.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

void perplexity_llamacpp_run(eval_logits_fn fn, void *ctx, int64_t V, const int32_t *ids, int64_t n_ids,
                             int64_t n_ctx, int64_t max_chunks, struct perplexity_llamacpp_result *r) {
    if (n_ctx < 4) die("perplexity (llama.cpp protocol): n_ctx = %lld, expected at least 4", (long long)n_ctx);
    if (n_ids < 2 * n_ctx)
        die("perplexity (llama.cpp protocol): %lld tokens, at least 2 n_ctx = %lld needed (as llama-perplexity)",
            (long long)n_ids, (long long)(2 * n_ctx));
    int64_t n_chunk = n_ids / n_ctx;
    if (max_chunks > 0 && max_chunks < n_chunk) n_chunk = max_chunks;
    const int64_t first = n_ctx / 2;
    float *logits = xmalloc((size_t)(n_ctx * V) * sizeof *logits);
    double *nll = xmalloc((size_t)(n_ctx - 1) * sizeof *nll);
    double sum = 0, sum2 = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < n_chunk; i++) {
        const int32_t *w = ids + i * n_ctx;
        fn(ctx, w, n_ctx, logits);
        perplexity_nll_window(logits, w, n_ctx, V, nll);   /* nll[t] predicts w[t + 1] from position t */
        for (int64_t t = first; t < n_ctx - 1; t++) {
            sum += nll[t];
            sum2 += nll[t] * nll[t];
        }
        count += n_ctx - 1 - first;
    }
    r->n_chunks = n_chunk;
    r->n_tokens = count;
    const double av = sum / (double)count, av2 = sum2 / (double)count - av * av;
    r->ppl = exp(av);
    r->ppl_stderr = av2 > 0 ? r->ppl * sqrt(av2 / (double)(count - 1)) : 0.0;
    free(logits);
    free(nll);
}
