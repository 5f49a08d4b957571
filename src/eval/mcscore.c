/* mcscore -- log-likelihood multiple-choice scoring (see mcscore.h). */
#include "eval/mcscore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/pystr.h"

/* log_softmax(row)[id] in double, and whether id is the arg-max (first maximum, as torch argmax on ties is
 * unspecified; a tie with another id counts as greedy only if id is the first maximum). */
static double row_logprob(const float *row, int64_t V, int32_t id, int *is_max) {
    double mx = -INFINITY;
    int64_t am = 0;
    for (int64_t v = 0; v < V; v++)
        if (row[v] > mx) { mx = row[v]; am = v; }
    double s = 0;
    for (int64_t v = 0; v < V; v++) s += exp((double)row[v] - mx);
    *is_max = am == id;
    return (double)row[id] - mx - log(s);
}

/* Scores tokens cont[0..m) given that first_row holds the logits predicting cont[0]: appends cont[0..m-1) to
 * seq (which holds everything before cont[0]) for the rows of cont[1..m). */
static double score_cont(const struct task_lm *lm, void *seq, const float *first_row, const int32_t *cont,
                         int64_t m, float *rows, int *greedy) {
    int64_t V = lm->n_vocab;
    int g, all = 1;
    double ll = row_logprob(first_row, V, cont[0], &g);
    all &= g;
    if (m > 1) {
        lm->seq_append(seq, cont, m - 1, rows, 0);
        for (int64_t t = 1; t < m; t++) {
            ll += row_logprob(rows + (t - 1) * V, V, cont[t], &g);
            all &= g;
        }
    }
    *greedy = all;
    return ll;
}

void mcscore_doc(const struct task_lm *lm, const struct tokenizer *tok, const struct mc_doc *d,
                 struct mc_cache *cache, struct mc_result *r) {
    CHECK(d->n_choices >= 1 && d->n_choices <= MC_MAX_CHOICES, "%s: %d choices", d->id, d->n_choices);
    memset(r, 0, sizeof *r);
    int64_t V = lm->n_vocab;
    /* _encode_pair: the context's trailing whitespace moves to the continuation. */
    size_t n_ctx_bytes = pystr_rstrip_len(d->context, strlen(d->context));
    char *ctx = pystr_ndup(d->context, n_ctx_bytes);
    const char *moved = d->context + n_ctx_bytes;
    CHECK(n_ctx_bytes > 0, "%s: empty context", d->id);
    size_t nc;
    int32_t *ctx_ids = tokenizer_encode(tok, ctx, strlen(ctx), &nc);
    r->n_ctx = (int64_t)nc;

    int32_t **conts = xcalloc((size_t)d->n_choices, sizeof *conts);
    int64_t max_m = 0;
    for (int c = 0; c < d->n_choices; c++) {
        char *whole = pystr_cat(ctx, moved, " ", d->choices[c], (char *)NULL);
        size_t nw;
        int32_t *w = tokenizer_encode(tok, whole, strlen(whole), &nw);
        if (nw <= nc) die("%s: choice %d (\"%s\") adds no token after the context", d->id, c, d->choices[c]);
        r->n_cont[c] = (int64_t)(nw - nc);
        conts[c] = xmalloc((size_t)r->n_cont[c] * sizeof(int32_t));
        memcpy(conts[c], w + nc, (size_t)r->n_cont[c] * sizeof(int32_t));
        if (r->n_cont[c] > max_m) max_m = r->n_cont[c];
        free(w);
        free(whole);
    }

    float *first = xmalloc((size_t)V * sizeof(float)), *first_cut = xmalloc((size_t)V * sizeof(float));
    float *rows = xmalloc((size_t)(max_m > 1 ? max_m : 1) * (size_t)V * sizeof(float));
    /* The shared prefix: the whole context once, keeping only its last row (the prediction of every
     * continuation's first token). */
    int64_t L = lm->max_len;
    void *seq = NULL;
    if ((int64_t)nc <= L) {
        int64_t keep = 0;
        if (cache) {
            /* Reuse the cached tokens this context starts with (at least the last context token is rerun,
             * for its row); the cache then holds this context. */
            if (!cache->seq) {
                cache->seq = lm->seq_new(lm->ctx, L);
                cache->ids = xmalloc((size_t)L * sizeof(int32_t));
                cache->n = 0;
            }
            while (keep < cache->n && keep + 1 < (int64_t)nc && cache->ids[keep] == ctx_ids[keep]) keep++;
            lm->seq_truncate(cache->seq, keep);
            seq = cache->seq;
            memcpy(cache->ids, ctx_ids, nc * sizeof(int32_t));
            cache->n = (int64_t)nc;
        } else {
            seq = lm->seq_new(lm->ctx, (int64_t)nc + max_m);
        }
        r->n_ctx_run = (int64_t)nc - keep;
        lm->seq_append(seq, ctx_ids + keep, (int64_t)nc - keep, first, 1);
    }
    for (int c = 0; c < d->n_choices; c++) {
        int64_t m = r->n_cont[c];
        if (seq && (int64_t)nc + m - 1 <= L) {
            r->ll[c] = score_cont(lm, seq, first, conts[c], m, rows, &r->greedy[c]);
            lm->seq_truncate(seq, (int64_t)nc);
        } else {
            /* lm-eval's left cut: input = (ctx + cont)[-(L + 1):][:-1], its last m rows score cont. */
            r->truncated = 1;
            CHECK(m <= L, "%s: continuation of %lld tokens exceeds the context %lld", d->id, (long long)m,
                  (long long)L);
            int64_t n_all = (int64_t)nc + m, start = n_all - (L + 1);
            int32_t *all = xmalloc((size_t)n_all * sizeof(int32_t));
            memcpy(all, ctx_ids, nc * sizeof(int32_t));
            memcpy(all + nc, conts[c], (size_t)m * sizeof(int32_t));
            int64_t pre = (int64_t)nc - start; /* tokens before cont[0] kept in the window (>= 1) */
            void *s2 = lm->seq_new(lm->ctx, L);
            lm->seq_append(s2, all + start, pre, first_cut, 1);
            r->ll[c] = score_cont(lm, s2, first_cut, conts[c], m, rows, &r->greedy[c]);
            lm->seq_free(s2);
            free(all);
        }
    }
    if (seq && !cache) lm->seq_free(seq);

    /* Arg-max with ties to the first choice (numpy argmax). */
    r->pred = r->pred_norm = 0;
    double best = -INFINITY, best_n = -INFINITY;
    for (int c = 0; c < d->n_choices; c++) {
        double norm = r->ll[c] / (double)pystr_len(d->choices[c]);
        if (r->ll[c] > best) { best = r->ll[c]; r->pred = c; }
        if (norm > best_n) { best_n = norm; r->pred_norm = c; }
    }
    r->acc = r->pred == d->gold;
    r->acc_norm = r->pred_norm == d->gold;
    for (int c = 0; c < d->n_choices; c++) free(conts[c]);
    free(conts);
    free(first);
    free(first_cut);
    free(rows);
    free(ctx_ids);
    free(ctx);
}

void mc_doc_free(struct mc_doc *d) {
    free(d->id);
    free(d->context);
    for (int c = 0; c < d->n_choices; c++) free(d->choices[c]);
    memset(d, 0, sizeof *d);
}

void mc_cache_free(const struct task_lm *lm, struct mc_cache *c) {
    if (c->seq) lm->seq_free(c->seq);
    free(c->ids);
    memset(c, 0, sizeof *c);
}
