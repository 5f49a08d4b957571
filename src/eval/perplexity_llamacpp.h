/* perplexity_llamacpp -- perplexity under llama.cpp's llama-perplexity protocol, so our engine and llama.cpp
 * can be compared number for number (tools/perplexity/perplexity.cpp of llama.cpp, function perplexity(), at
 * the commit tools/llamacpp/README.md names). Protocol: the text file is read whole, one trailing "\n" removed
 * (common/arg.cpp, -f), tokenized in one piece (no BOS: Qwen's add_bos_token is false); n_chunk =
 * floor(n_tokens / n_ctx), capped by --chunks; chunk i is tokens [i n_ctx, (i + 1) n_ctx), a fresh forward
 * from position 0, and only its second half is scored: with first = n_ctx / 2, the logits at positions
 * first .. n_ctx - 2 predict the tokens first + 1 .. n_ctx - 1 (n_ctx - 1 - first tokens per chunk). NLL =
 * logsumexp - logit of the target, in double; PPL = exp(sum NLL / count), its error as llama.cpp prints it:
 * PPL * sqrt((mean(NLL^2) - mean(NLL)^2) / (count - 1)). llama.cpp sums the NLLs over threads in an
 * unspecified order (in double), so the last digits of the two may differ by ~1e-15 relative.
 * API: perplexity_llamacpp_run. */
#ifndef SRC_EVAL_PERPLEXITY_LLAMACPP_H
#define SRC_EVAL_PERPLEXITY_LLAMACPP_H

#include <stdint.h>

#include "eval/perplexity.h"

#ifdef __cplusplus
extern "C" {
#endif

struct perplexity_llamacpp_result {
    int64_t n_chunks, n_tokens;   /* chunks run, tokens scored */
    double ppl, ppl_stderr;
};

/* Runs the protocol over ids[0..n_ids) with chunks of n_ctx tokens (n_ctx >= 4, 2 n_ctx <= n_ids: dies
 * otherwise, as llama-perplexity refuses), at most max_chunks when > 0; fn gives the logits of one chunk. */
void perplexity_llamacpp_run(eval_logits_fn fn, void *ctx, int64_t V, const int32_t *ids, int64_t n_ids,
                             int64_t n_ctx, int64_t max_chunks, struct perplexity_llamacpp_result *r);

#ifdef __cplusplus
}
#endif
#endif
