/* taskgen -- the generate_until decode loop (see taskgen.h). */
#include "eval/taskgen.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"

void taskgen_run(const struct task_lm *lm, const struct tokenizer *tok, const int32_t *prompt, int64_t n_prompt,
                 const struct taskgen_params *p, struct taskgen_result *r) {
    CHECK(n_prompt >= 1 && p->max_new >= 1, "taskgen_run: empty prompt or max_new");
    memset(r, 0, sizeof *r);
    int64_t V = lm->n_vocab;
    /* lm-eval: max_ctx_len = max_length - max_gen_toks; context_enc[:, -max_ctx_len:]. */
    int64_t keep = lm->max_len - p->max_new;
    CHECK(keep >= 1, "max_new %lld leaves no room for a prompt in %lld positions", (long long)p->max_new,
          (long long)lm->max_len);
    if (n_prompt > keep) { prompt += n_prompt - keep; n_prompt = keep; }
    r->n_prompt = n_prompt;

    float *logits = xmalloc((size_t)V * sizeof(float));
    uint8_t *seen = p->sampling.presence_penalty != 0 ? xcalloc((size_t)V, 1) : NULL;
    struct rng g;
    rng_init(&g, p->sampling.seed);
    void *seq = lm->seq_new(lm->ctx, n_prompt + p->max_new);
    lm->seq_append(seq, prompt, n_prompt, logits, 1);

    size_t cap = 256, len = 0;
    char *text = xmalloc(cap);
    text[0] = 0;
    for (int64_t t = 0; t < p->max_new; t++) {
        int32_t id = sampling_sample(&p->sampling, logits, V, seen, &g);
        int is_stop = 0;
        for (int k = 0; k < p->n_stop_ids; k++) is_stop |= id == p->stop_ids[k];
        if (is_stop) { r->stop = 1; break; }
        if (seen) seen[id] = 1;
        r->n_generated++;
        size_t nb;
        const char *b = tokenizer_token_bytes(tok, id, &nb);
        if (b && nb) {
            while (len + nb + 1 > cap) cap *= 2;
            text = xrealloc(text, cap);
            memcpy(text + len, b, nb);
            len += nb;
            text[len] = 0;
        }
        /* A stop string can only end inside the bytes just added (or straddle them): search the tail. */
        int hit = 0;
        for (int k = 0; k < p->n_until && !hit; k++) {
            size_t nu = strlen(p->until[k]);
            size_t from = len > nb + nu ? len - nb - nu : 0;
            hit = nu && strstr(text + from, p->until[k]) != NULL;
        }
        if (hit) { r->stop = 2; break; }
        if (t + 1 < p->max_new) lm->seq_append(seq, &id, 1, logits, 1);
    }
    lm->seq_free(seq);
    /* s.split(term)[0] for each until string, in order. */
    for (int k = 0; k < p->n_until; k++) {
        if (!p->until[k][0]) continue;
        char *q = strstr(text, p->until[k]);
        if (q) *q = 0;
    }
    r->text = text;
    free(logits);
    free(seen);
}
