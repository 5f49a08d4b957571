/* src/engine/generate.h -- the one decode loop: autoregressive generation through the engine interface (any
 * backend). One batched prefill of the prompt (only the last position's logits), then one-token decode steps
 * through the engine's sequence, each token chosen by sampling_sample (the one sampler: greedy or seeded).
 * Stops after max_new tokens or at a stop id: the model's eos ids (config.json + generation_config.json) unless
 * ignore_eos, plus the caller's extra ids (Qwen3 chat: <|im_end|>). The stop token is not part of the output.
 * generate_sample_sequences is the no-data fallback built on the same loop: text sampled from the model itself.
 * API: generate_defaults / generate_run / generate_sample_sequences. */
#ifndef SRC_ENGINE_GENERATE_H
#define SRC_ENGINE_GENERATE_H

#include <stdint.h>

#include "engine/engine.h"
#include "engine/sampling.h"
#include "model/kv_cache.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GENERATE_MAX_STOP 8

struct generate_params {
    int64_t max_new;                       /* tokens to generate at most */
    struct sampling_params sampling;
    int n_stop;                            /* extra stop ids besides the model's eos ids */
    int32_t stop_ids[GENERATE_MAX_STOP];
    int ignore_eos;                        /* 1: the model's eos ids do not stop generation */
    enum kv_cache_dtype kv_dtype;
};

struct generate_stats {
    int64_t n_prompt, n_generated;
    int stopped;                           /* 1 if a stop id ended generation, 0 if max_new did */
    int32_t stop_id;                       /* the stop id met, or -1 */
    double prefill_s, decode_s;            /* wall time of the prefill and of all decode steps */
};

/* max_new 64, greedy, no extra stop ids, eos stops, FP32 KV cache. */
struct generate_params generate_defaults(void);

/* Continues prompt (n_prompt >= 1 ids) with up to gp->max_new tokens written to out (capacity max_new);
 * returns how many. on_token (may be NULL) is called with each generated id as soon as it is chosen
 * (streaming). stats (may be NULL) receives the counts and timings. */
int64_t generate_run(struct engine *e, const int32_t *prompt, int64_t n_prompt, const struct generate_params *gp,
                     int32_t *out, void (*on_token)(void *ctx, int32_t id), void *ctx, struct generate_stats *stats);

/* The no-data fallback (DESIGN.md "The embedded default"): n_seqs sequences of seq_len tokens, each started
 * afresh from first_id (<|endoftext|>, which ends every training document) and continued by sampling at
 * temperature 1 (the model's own distribution, no top-k / top-p, eos ignored) with seed + sequence index.
 * out receives n_seqs * seq_len ids. */
void generate_sample_sequences(struct engine *e, int32_t first_id, int64_t n_seqs, int64_t seq_len, uint64_t seed,
                               int32_t *out);

#ifdef __cplusplus
}
#endif
#endif
