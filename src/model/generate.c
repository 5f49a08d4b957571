/* generate -- prefill + decode loop with sampling; see generate.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "core/timer.h"
#include "core/rng.h"
#include "model/qwen3_cpu.h"

struct generate_params generate_defaults(void) {
    struct generate_params g;
    memset(&g, 0, sizeof g);
    g.max_new = 64;
    g.sampling = sampling_defaults();
    g.kv_dtype = KV_CACHE_F32;
    return g;
}

static int is_stop(const struct qwen3_model *m, const struct generate_params *gp, int32_t id) {
    if (qwen3_config_is_eos(&m->cfg, id)) return 1;
    for (int i = 0; i < gp->n_stop; i++)
        if (gp->stop_ids[i] == id) return 1;
    return 0;
}

/* Prefill computes only the hidden states (T x D) and the logits of the last prompt position; each decode
 * step is one T = 1 forward against the cache. The cache is sized prompt + max_new up front, so it never
 * grows or moves during generation. */
int64_t generate_run(const struct qwen3_model *m, const int32_t *prompt, int64_t n_prompt,
                     const struct generate_params *gp, int32_t *out, void (*on_token)(void *ctx, int32_t id),
                     void *ctx, struct generate_stats *stats) {
    // h: T x D hidden states of the prompt; logits: V (one position at a time)
    const struct qwen3_config *c = &m->cfg;
    const int64_t D = c->D, V = c->V;
    CHECK(n_prompt >= 1 && gp->max_new >= 0, "n_prompt=%lld max_new=%lld", (long long)n_prompt,
          (long long)gp->max_new);
    struct generate_stats st = {.n_prompt = n_prompt, .stop_id = -1};
    const int64_t cap = n_prompt + gp->max_new;
    if (cap > c->max_pos)
        warn("prompt + max_new = %lld tokens exceeds max_position_embeddings %lld", (long long)cap,
             (long long)c->max_pos);
    struct kv_cache kv;
    kv_cache_init(&kv, c->n_layers, c->H_kv, c->D_h, cap, gp->kv_dtype);
    float *h = xmalloc((size_t)(n_prompt * D) * sizeof(float));
    float *logits = xmalloc((size_t)V * sizeof(float));
    uint8_t *seen = xcalloc((size_t)V, 1);
    struct rng r;
    rng_init(&r, gp->sampling.seed);

    double t0 = monotonic_seconds();
    qwen3_cpu_forward(m, prompt, n_prompt, 0, &kv, NULL, h);
    qwen3_cpu_logits(m, h + (n_prompt - 1) * D, 1, logits);
    double t1 = monotonic_seconds();
    st.prefill_s = t1 - t0;
    int64_t n = 0;
    while (n < gp->max_new) {
        // Choose, stop before emitting a stop id, else emit and feed the token back in.
        int32_t id = sampling_sample(&gp->sampling, logits, V, seen, &r);
        if (is_stop(m, gp, id)) {
            st.stopped = 1;
            st.stop_id = id;
            break;
        }
        out[n++] = id;
        seen[id] = 1;
        if (on_token) on_token(ctx, id);
        if (n == gp->max_new) break;
        qwen3_cpu_forward(m, &id, 1, kv.len, &kv, logits, NULL);
    }
    st.decode_s = monotonic_seconds() - t1;
    st.n_generated = n;
    if (stats) *stats = st;
    free(h);
    free(logits);
    free(seen);
    kv_cache_free(&kv);
    return n;
}
