/* generate -- prefill + decode loop with sampling, through the engine; see generate.h. */
#include "engine/generate.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "core/timer.h"

struct generate_params generate_defaults(void) {
    struct generate_params g;
    memset(&g, 0, sizeof g);
    g.max_new = 64;
    g.sampling = sampling_defaults();
    g.kv_dtype = KV_CACHE_F32;
    return g;
}

static int is_stop(const struct qwen3_model *m, const struct generate_params *gp, int32_t id) {
    if (!gp->ignore_eos && qwen3_config_is_eos(&m->cfg, id)) return 1;
    for (int i = 0; i < gp->n_stop; i++)
        if (gp->stop_ids[i] == id) return 1;
    return 0;
}

/* The sequence is sized prompt + max_new up front, so its cache never grows or moves during generation. */
int64_t generate_run(struct engine *e, const int32_t *prompt, int64_t n_prompt, const struct generate_params *gp,
                     int32_t *out, void (*on_token)(void *ctx, int32_t id), void *ctx, struct generate_stats *stats) {
    // logits: V (one position at a time)
    const struct qwen3_model *m = engine_model(e);
    const int64_t V = engine_n_vocab(e);
    CHECK(n_prompt >= 1 && gp->max_new >= 0, "n_prompt=%lld max_new=%lld", (long long)n_prompt,
          (long long)gp->max_new);
    struct generate_stats st = {.n_prompt = n_prompt, .stop_id = -1};
    const int64_t cap = n_prompt + gp->max_new;
    if (cap > m->cfg.max_pos)
        warn("prompt + max_new = %lld tokens exceeds max_position_embeddings %lld", (long long)cap,
             (long long)m->cfg.max_pos);
    struct engine_seq *s = engine_seq_new(e, cap, gp->kv_dtype);
    float *logits = xmalloc((size_t)V * sizeof(float));
    uint8_t *seen = xcalloc((size_t)V, 1);
    struct rng r;
    rng_init(&r, gp->sampling.seed);

    double t0 = monotonic_seconds();
    engine_seq_append(s, prompt, n_prompt, logits, NULL, 1);
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
        engine_seq_append(s, &id, 1, logits, NULL, 1);
    }
    st.decode_s = monotonic_seconds() - t1;
    st.n_generated = n;
    if (stats) *stats = st;
    free(logits);
    free(seen);
    engine_seq_free(s);
    return n;
}

void generate_sample_sequences(struct engine *e, int32_t first_id, int64_t n_seqs, int64_t seq_len, uint64_t seed,
                               int32_t *out) {
    CHECK(n_seqs > 0 && seq_len > 1, "sample %lld x %lld", (long long)n_seqs, (long long)seq_len);
    struct generate_params gp = generate_defaults();
    gp.max_new = seq_len - 1;
    gp.ignore_eos = 1;
    gp.sampling.temperature = 1.0f;
    for (int64_t q = 0; q < n_seqs; q++) {
        gp.sampling.seed = seed + (uint64_t)q;
        int32_t *ids = out + q * seq_len;
        ids[0] = first_id;
        int64_t n = generate_run(e, ids, 1, &gp, ids + 1, NULL, NULL, NULL);
        CHECK(n == seq_len - 1, "sampled %lld of %lld tokens", (long long)n, (long long)(seq_len - 1));
    }
}
