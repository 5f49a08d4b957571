/* gptq_layers -- sequential GPTQ over the model; see gptq_layers.h. */
#include "quant/gptq_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/timer.h"
#include "quant/gptq.h"
#include "quant/hessian.h"
#include "quant/layer_inputs.h"
#include "quant/qgroups.h"
#include "ops/rmsnorm.h"
#include "quant/rtn.h"

static void observe_hessian(void *ctx, const struct linear *l, const float *x, int64_t T) {
    (void)l;
    hessian_add(ctx, x, T);
}

static struct gptq_opts opts_of(const struct recipe *r) {
    struct gptq_opts o = gptq_defaults();
    if (r->gptq.damp > 0) o.damp = r->gptq.damp;
    if (r->gptq.block > 0) o.block = r->gptq.block;
    o.act_order = r->gptq.act_order;
    o.dynamic_groups = r->gptq.dynamic_groups;
    return o;
}

int64_t gptq_layers_expert_floor(double min_rows_k, int64_t K) {
    return min_rows_k > 0 ? (int64_t)ceil(min_rows_k * (double)K) : 0;
}

int gptq_layers_expert_uses_rtn(int is_expert, int64_t n_rows, double min_rows_k, int64_t K) {
    if (n_rows == 0) return 1;
    return is_expert && n_rows < gptq_layers_expert_floor(min_rows_k, K);
}

/* The calibration rows of every expert's gate/up Hessian, over the whole pass (for the summary in st). */
struct expert_rows {
    int64_t *rows;
    int64_t n, cap;
};

static void expert_rows_push(struct expert_rows *e, int64_t v) {
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->rows = xrealloc(e->rows, (size_t)e->cap * sizeof *e->rows);
    }
    e->rows[e->n++] = v;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v[0..n) and writes its min, lower median and max. */
static void summarize_rows(int64_t *v, int64_t n, int64_t *mn, int64_t *med, int64_t *mx) {
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    *mn = v[0];
    *med = v[(n - 1) / 2];
    *mx = v[n - 1];
}

/* Quantizes the readers of one unit from its Hessian and installs them. */
static void quantize_unit(const struct qgroup_unit *u, const struct hessian *hs, const struct qgroups *g,
                          const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st) {
    const int64_t K = hs->K;
    const struct gptq_opts o = opts_of(r);
    double *H = xmalloc((size_t)(K * K) * sizeof *H);
    for (int i = 0; i < u->n_readers; i++) {
        struct linear *l = u->readers[i];
        const char *name = qgroups_name(g, l);
        const int is_expert = u->expert >= 0;
        if (gptq_layers_expert_uses_rtn(is_expert, hs->n_rows, r->gptq.min_rows_k, K)) {
            if (hs->n_rows == 0) warn("%s: no calibration rows reached it: RTN instead of GPTQ", name);
            else warn("%s: %lld calibration rows < floor %lld (min_rows_k %g x K %lld): RTN instead of GPTQ", name,
                      (long long)hs->n_rows, (long long)gptq_layers_expert_floor(r->gptq.min_rows_k, K),
                      r->gptq.min_rows_k, (long long)K);
            rtn_linear(l, r);
            if (is_expert) st->n_expert_rtn++;
        } else {
            hessian_finish(hs, H);
            struct qtensor *q = xcalloc(1, sizeof *q);
            struct gptq_info info;
            gptq_quantize(q, r->weight, &r->weight_params, l->w, l->N, l->K, H, &o, &info);
            if (info.damp_raised) {
                st->n_damp_raised++;
                warn("%s: Cholesky failed at damp %g: %s", name, o.damp,
                     info.rtn_fallback ? "RTN fallback (no damping up to 1 factorized)" : "raised");
                if (!info.rtn_fallback) fprintf(stderr, "%s: %s: damp raised to %g\n", check_progname(), name,
                                                info.damp_used);
            }
            linear_set_packed(l, q, r->name);
        }
        quant_set_act(l, name, r, cal->ranges);
        quant_stats_add_linear(st, l);
    }
    free(H);
}

/* One pass of group kind `kind` of layer `layer`: hook the first reader of every unit, run the half-layer
 * over every sequence, unhook, then quantize every unit. */
static void run_kind(struct qwen3_model *m, int layer, enum qwen3_group_kind kind, struct layer_inputs *li,
                     const struct qgroups *g, const struct recipe *r, const struct quant_calib *cal,
                     struct quant_stats *st, struct expert_rows *er) {
    int64_t n = 0;
    for (int64_t i = 0; i < g->n; i++) n += g->u[i].layer == layer && g->u[i].kind == kind;
    if (n == 0) return;
    struct hessian *hs = xcalloc((size_t)n, sizeof *hs);
    const struct qgroup_unit **us = xcalloc((size_t)n, sizeof *us);
    int64_t j = 0;
    for (int64_t i = 0; i < g->n; i++) {
        const struct qgroup_unit *u = &g->u[i];
        if (u->layer != layer || u->kind != kind) continue;
        struct linear *l = u->readers[0];
        hessian_init(&hs[j], l->K, GPTQ_LAYERS_HESSIAN_FP64,
                     l->transform == LINEAR_TRANSFORM_HADAMARD ? l->transform_block : 0);
        CHECK(!l->observe, "%s already has an observe hook", qgroups_name(g, l));
        l->observe = observe_hessian;
        l->observe_ctx = &hs[j];
        us[j++] = u;
    }
    for (j = 0; j < n; j++) {
        us[j]->readers[0]->observe = NULL;
        us[j]->readers[0]->observe_ctx = NULL;
    }
    const struct qwen3_layer *L = &m->layers[layer];
    if (kind == QWEN3_GROUP_ATTN_IN || (kind == QWEN3_GROUP_MLP_IN && !L->is_moe)) {
        /* A dense group fed by a norm sees rmsnorm(x): computed directly, the same rows the hook would get,
         * without running the half-layer (two of the six half-layer passes saved). */
        CHECK(n == 1, "one unit expected");
        const int64_t D = li->D;
        const float *w = kind == QWEN3_GROUP_ATTN_IN ? L->attn_norm : L->mlp_norm;
        float *t = xmalloc((size_t)(li->L * D) * sizeof *t);
        for (int64_t s = 0; s < li->S; s++) {
            rmsnorm_ref(t, li->x + s * li->L * D, w, li->L, D, (float)m->cfg.rms_norm_eps);
            hessian_add(&hs[0], t, li->L);
        }
        free(t);
    } else {
        for (j = 0; j < n; j++) {
            us[j]->readers[0]->observe = observe_hessian;
            us[j]->readers[0]->observe_ctx = &hs[j];
        }
        if (kind == QWEN3_GROUP_ATTN_OUT) layer_inputs_attn(m, layer, li, NULL);
        else layer_inputs_mlp(m, layer, li, NULL);
        for (j = 0; j < n; j++) {
            us[j]->readers[0]->observe = NULL;
            us[j]->readers[0]->observe_ctx = NULL;
        }
    }
    if (kind == QWEN3_GROUP_MLP_IN && L->is_moe) {
        /* The tokens routed to each expert: the rows of its gate/up Hessian (down sees the same rows). */
        int64_t *v = xmalloc((size_t)n * sizeof *v), below = 0;
        fprintf(stderr, "%s: gptq %s: layer %d calibration rows per expert:", check_progname(), r->name, layer);
        for (j = 0; j < n; j++) fprintf(stderr, " %lld", (long long)hs[j].n_rows);
        fprintf(stderr, "\n");
        for (j = 0; j < n; j++) {
            CHECK(us[j]->expert >= 0, "MoE MLP_IN unit without an expert index");
            v[j] = hs[j].n_rows;
            expert_rows_push(er, v[j]);
            below += v[j] < gptq_layers_expert_floor(r->gptq.min_rows_k, hs[j].K);
        }
        st->n_experts_below_floor += below;
        int64_t mn, med, mx;
        summarize_rows(v, n, &mn, &med, &mx);
        fprintf(stderr, "%s: gptq %s: layer %d experts: calibration rows min %lld median %lld max %lld over %lld "
                "experts; %lld below the floor %lld (min_rows_k %g x K %lld)\n", check_progname(), r->name, layer,
                (long long)mn, (long long)med, (long long)mx, (long long)n, (long long)below,
                (long long)gptq_layers_expert_floor(r->gptq.min_rows_k, hs[0].K), r->gptq.min_rows_k,
                (long long)hs[0].K);
        free(v);
    }
    for (j = 0; j < n; j++) {
        quantize_unit(us[j], &hs[j], g, r, cal, st);
        hessian_free(&hs[j]);
    }
    free(hs);
    free(us);
}

void gptq_layers_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal,
                       struct quant_stats *st) {
    CHECK(cal && cal->ids && cal->n_seqs > 0 && cal->seq_len > 0, "gptq: recipe %s needs calibration tokens",
          r->name);
    struct qgroups g;
    qgroups_collect(&g, m);
    struct layer_inputs li;
    layer_inputs_init(&li, m, cal->ids, cal->n_seqs, cal->seq_len);
    float *d = xmalloc((size_t)(li.S * li.L * li.D) * sizeof *d);
    struct expert_rows er = {0};
    for (int layer = 0; layer < m->cfg.n_layers; layer++) {
        double t0 = monotonic_seconds();
        run_kind(m, layer, QWEN3_GROUP_ATTN_IN, &li, &g, r, cal, st, &er);
        run_kind(m, layer, QWEN3_GROUP_ATTN_OUT, &li, &g, r, cal, st, &er);
        layer_inputs_attn(m, layer, &li, d);   /* x += attn(x), with the quantized attention */
        layer_inputs_add(&li, d);
        run_kind(m, layer, QWEN3_GROUP_MLP_IN, &li, &g, r, cal, st, &er);
        run_kind(m, layer, QWEN3_GROUP_MLP_OUT, &li, &g, r, cal, st, &er);
        if (layer + 1 < m->cfg.n_layers) {    /* the last layer's output feeds nothing */
            layer_inputs_mlp(m, layer, &li, d);
            layer_inputs_add(&li, d);
        }
        fprintf(stderr, "%s: gptq %s: layer %d/%d (%.1f s)\n", check_progname(), r->name, layer + 1,
                (int)m->cfg.n_layers, monotonic_seconds() - t0);
    }
    if (er.n) {
        st->n_expert_hessians += er.n;
        summarize_rows(er.rows, er.n, &st->expert_rows_min, &st->expert_rows_median, &st->expert_rows_max);
    }
    free(er.rows);
    free(d);
    layer_inputs_free(&li);
    qgroups_free(&g);
}
