/* src/model/generate.h -- autoregressive generation on the CPU engine: one batched prefill of the prompt, then
 * one-token decode steps through the KV cache, each token chosen by sampling_sample (greedy or seeded).
 * Stops after max_new tokens or at a stop id: the model's eos ids (config.json + generation_config.json) plus
 * the caller's extra ids (Qwen3 chat: <|im_end|>). The stop token is not part of the output. Only the last
 * position's logits are computed during prefill (T x V logits of a long prompt would be wasted memory).
 * API: generate_defaults / generate_run. */
#ifndef SRC_MODEL_GENERATE_H
#define SRC_MODEL_GENERATE_H

#include <stdint.h>

#include "model/kv_cache.h"
#include "model/qwen3.h"
#include "model/sampling.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GENERATE_MAX_STOP 8

struct generate_params {
    int64_t max_new;                       /* tokens to generate at most */
    struct sampling_params sampling;
    int n_stop;                            /* extra stop ids besides the model's eos ids */
    int32_t stop_ids[GENERATE_MAX_STOP];
    enum kv_cache_dtype kv_dtype;
};

struct generate_stats {
    int64_t n_prompt, n_generated;
    int stopped;                           /* 1 if a stop id ended generation, 0 if max_new did */
    int32_t stop_id;                       /* the stop id met, or -1 */
    double prefill_s, decode_s;            /* wall time of the prefill and of all decode steps */
};

/* max_new 64, greedy, no extra stop ids, FP32 KV cache. */
struct generate_params generate_defaults(void);

/* Continues prompt (n_prompt >= 1 ids) with up to gp->max_new tokens written to out (capacity max_new);
 * returns how many. on_token (may be NULL) is called with each generated id as soon as it is chosen
 * (streaming). stats (may be NULL) receives the counts and timings. */
int64_t generate_run(const struct qwen3_model *m, const int32_t *prompt, int64_t n_prompt,
                     const struct generate_params *gp, int32_t *out, void (*on_token)(void *ctx, int32_t id),
                     void *ctx, struct generate_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
