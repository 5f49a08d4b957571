/* src/model/sampling.h -- choosing the next token from one row of logits.
 * Order (as vLLM): presence penalty (logit -= penalty for every token already generated), temperature,
 * softmax, top-k, top-p (the smallest set of most likely tokens whose mass reaches p, at least one token),
 * renormalise, draw with u = rng_uniform (src/core/rng.h) by inverse CDF over the kept tokens in descending
 * probability (ties to the lower id). temperature 0 is greedy: the arg-max of the penalised logits (ties to
 * the lower id) and no random draw is consumed. Deterministic for a given seed; no global state.
 * API: sampling_defaults / sampling_sample. */
#ifndef SRC_ENGINE_SAMPLING_H
#define SRC_ENGINE_SAMPLING_H

#include <stdint.h>

#include "core/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sampling_params {
    float temperature;         /* 0 = greedy */
    float top_p;               /* 1 = off */
    int64_t top_k;             /* 0 = off */
    float presence_penalty;    /* 0 = off; Qwen3 suggests up to 1.5 for quantized models */
    uint64_t seed;
};

/* Greedy: temperature 0, top_p 1, top_k 0, presence_penalty 0, seed 0. */
struct sampling_params sampling_defaults(void);

/* Returns the chosen id for logits (V entries, modified in place by the penalty and temperature). seen (V
 * entries, or NULL) marks the ids generated so far (for the presence penalty). r is the stream for draws
 * (unused when greedy; one draw per sampled token). NaN logits are treated as -inf; if every logit is -inf
 * or NaN the result is id 0, so callers need not special-case it. */
int32_t sampling_sample(const struct sampling_params *p, float *logits, int64_t V, const uint8_t *seen,
                        struct rng *r);

#ifdef __cplusplus
}
#endif
#endif
