/* calib -- max-calibration of Linear inputs over a token stream (see calib.h). */
#include "quant/calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "engine/engine.h"

/* ---- the observe hook ---- */

static void observe_amax(void *ctx, const struct linear *l, const float *x, int64_t T) {
    struct calib_entry *e = ctx;
    // x: T x K. A NaN input would poison every later scale; it is a broken model, not a statistic.
    const int64_t n = T * l->K;
    float a = e->amax;
    for (int64_t i = 0; i < n; i++) {
        float v = fabsf(x[i]);
        CHECK(!isnan(v), "calibration: NaN in the input of %s", e->name);
        if (v > a) a = v;
    }
    e->amax = a;
    e->rows += T;
}

struct visit {
    struct calib *c;
    int64_t i;
    int install;   /* 1: set the hooks, 0: clear them */
};

static void visit_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    struct visit *v = ctx;
    if (v->install) {
        struct calib_entry *e = &v->c->e[v->i];
        e->name = xstrdup(name);
        e->layer = layer;
        e->expert = expert;
        e->kind = kind;
        e->rows = 0;
        e->amax = 0;
        CHECK(!l->observe, "%s already has an observe hook", name);
        l->observe = observe_amax;
        l->observe_ctx = e;
    } else {
        l->observe = NULL;
        l->observe_ctx = NULL;
    }
    v->i++;
}

static void count_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind, (void)l;
    (*(int64_t *)ctx)++;
}

/* ---- the pass ---- */

void calib_run(struct calib *c, struct qwen3_model *m, const int32_t *ids, int64_t n_seqs, int64_t seq_len) {
    CHECK(n_seqs >= 0 && seq_len > 0, "calibration: %lld x %lld", (long long)n_seqs, (long long)seq_len);
    memset(c, 0, sizeof *c);
    int64_t n = 0;
    qwen3_for_each_linear(m, count_linear, &n);
    c->n = n;
    c->e = xcalloc((size_t)n, sizeof *c->e);
    c->n_seqs = n_seqs;
    c->seq_len = seq_len;
    struct visit v = {c, 0, 1};
    qwen3_for_each_linear(m, visit_linear, &v);
    /* Logits are not needed: only the Linear inputs matter, and the lm_head is no Linear. The hidden output
     * is requested so that the final norm runs as in any forward, though it observes nothing. */
    float *h = xmalloc((size_t)(seq_len * m->cfg.D) * sizeof *h);
    /* The observe hooks fire on the CPU reference backend (calibration is a CPU pass by definition). */
    struct engine *e = engine_create(m, "cpu");
    for (int64_t s = 0; s < n_seqs; s++) engine_forward(e, ids + s * seq_len, seq_len, NULL, h);
    engine_free(e);
    free(h);
    v.i = 0;
    v.install = 0;
    qwen3_for_each_linear(m, visit_linear, &v);
}

const struct calib_entry *calib_find(const struct calib *c, const char *name) {
    for (int64_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name)) return &c->e[i];
    return NULL;
}

float calib_amax(const struct calib *c, const char *name) {
    const struct calib_entry *e = calib_find(c, name);
    if (!e) die("calibration: no statistics for '%s' (calibrated on another model?)", name);
    if (e->rows > 0 && e->amax > 0) return e->amax;
    /* An expert no calibration token was routed to: the widest range of its siblings is the safe choice
     * (a too-small static range saturates; a too-wide one only coarsens the step). */
    float a = 0;
    if (e->expert >= 0)
        for (int64_t i = 0; i < c->n; i++)
            if (c->e[i].layer == e->layer && c->e[i].kind == e->kind && c->e[i].rows > 0 && c->e[i].amax > a)
                a = c->e[i].amax;
    if (a <= 0)
        die("calibration: '%s' saw %lld rows and amax %g: no static range (run more calibration tokens)", name,
            (long long)e->rows, (double)e->amax);
    warn("calibration: '%s' saw no tokens; using the largest amax of its layer's experts (%g)", name, (double)a);
    return a;
}

void calib_free(struct calib *c) {
    for (int64_t i = 0; i < c->n; i++) free(c->e[i].name);
    free(c->e);
    memset(c, 0, sizeof *c);
}
