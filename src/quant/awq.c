/* awq -- AutoAWQ's scale and clip search, layer by layer; see awq.h (steps numbered as there). */
#include "quant/awq.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/timer.h"
#include "ops/rmsnorm.h"
#include "quant/gptq_layers.h"
#include "quant/layer_inputs.h"
#include "quant/qgroups.h"
#include "quant/rtn.h"

/* ---- step 1: statistics of one Linear's input ---- */

struct awq_stat {
    int64_t K;
    double *abs_sum;        /* K: sum over rows of |x| */
    int64_t rows;
    float *all;             /* rows x K: every input row (when keep_all), else NULL */
    int64_t cap_all;
    float *sub;             /* AWQ_CLIP_TOKENS x K: every step-th row */
    int64_t n_sub, step;
};

static void stat_init(struct awq_stat *a, int64_t K, int64_t n_rows_total, int keep_all) {
    memset(a, 0, sizeof *a);
    a->K = K;
    a->abs_sum = xcalloc((size_t)K, sizeof *a->abs_sum);
    if (keep_all) {
        a->cap_all = n_rows_total;
        a->all = xmalloc((size_t)(n_rows_total * K) * sizeof *a->all);
    }
    /* AutoAWQ: input_feat[:, 0::n_tokens // n_sample_token] over the flattened tokens. */
    a->step = n_rows_total / AWQ_CLIP_TOKENS > 0 ? n_rows_total / AWQ_CLIP_TOKENS : 1;
    a->sub = xmalloc((size_t)(AWQ_CLIP_TOKENS * K) * sizeof *a->sub);
}

static void stat_free(struct awq_stat *a) {
    free(a->abs_sum), free(a->all), free(a->sub);
    memset(a, 0, sizeof *a);
}

static void observe_stat(void *ctx, const struct linear *l, const float *x, int64_t T) {
    (void)l;
    struct awq_stat *a = ctx;
    const int64_t K = a->K;
    for (int64_t t = 0; t < T; t++) {
        const float *row = x + t * K;
        for (int64_t k = 0; k < K; k++) a->abs_sum[k] += fabsf(row[k]);
        if (a->all) {
            CHECK(a->rows < a->cap_all, "awq: more input rows than expected");
            memcpy(a->all + a->rows * K, row, (size_t)K * sizeof *row);
        }
        if (a->rows % a->step == 0 && a->n_sub < AWQ_CLIP_TOKENS)
            memcpy(a->sub + (a->n_sub++) * K, row, (size_t)K * sizeof *row);
        a->rows++;
    }
}

static void hook(struct linear *l, struct awq_stat *a) {
    CHECK(!l->observe, "awq: Linear already hooked");
    l->observe = observe_stat;
    l->observe_ctx = a;
}

static void unhook(struct linear *l) {
    l->observe = NULL;
    l->observe_ctx = NULL;
}

/* ---- step 2: the scale search ---- */

void awq_scales(float *s, const float *x_mean, const float *w_mean, int64_t K, double alpha, int duo_scaling) {
    double smax = -INFINITY, smin = INFINITY;
    for (int64_t k = 0; k < K; k++) {
        double v = duo_scaling ? pow(x_mean[k], alpha) / (pow(w_mean[k], 1 - alpha) + 1e-4) : pow(x_mean[k], alpha);
        if (v < 1e-4) v = 1e-4;
        s[k] = (float)v;
        if (s[k] > smax) smax = s[k];
        if (s[k] < smin) smin = s[k];
    }
    const double norm = sqrt(smax * smin);
    for (int64_t k = 0; k < K; k++) {
        float v = (float)(s[k] / norm);
        s[k] = isfinite(v) ? v : 1.0f;
    }
}

/* The scale domain of the grid along K (the INT4 group, the FP4 block). */
static int64_t domain_k(const struct recipe *r) {
    int b = qformat_info(r->weight)->block_k;
    return b ? b : qformat_resolve(r->weight, &r->weight_params).group_size;
}

/* w_mean (K): over the rows of every member, |w| / (max |w| of its domain + 1e-6), averaged per column. */
static void weight_mean(float *w_mean, struct linear *const *mem, int n_mem, int64_t K, int64_t gk) {
    double *acc = xcalloc((size_t)K, sizeof *acc);
    int64_t rows = 0;
    for (int i = 0; i < n_mem; i++) {
        const struct linear *l = mem[i];
        for (int64_t n = 0; n < l->N; n++, rows++)
            for (int64_t g = 0; g < K; g += gk) {
                const float *w = l->w + n * K + g;
                float amax = 0;
                for (int64_t k = 0; k < gk; k++) amax = fmaxf(amax, fabsf(w[k]));
                for (int64_t k = 0; k < gk; k++) acc[g + k] += fabsf(w[k]) / (amax + 1e-6f);
            }
    }
    for (int64_t k = 0; k < K; k++) w_mean[k] = (float)(acc[k] / (double)rows);
    free(acc);
}

/* W <- Q(W s) / s in place (columns scaled by s, RTN on the recipe's grid, scaled back). */
static void fake_quant_scaled(struct linear *l, const float *s, const struct recipe *r) {
    const int64_t N = l->N, K = l->K;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) l->w[n * K + k] *= s[k];
    struct qtensor q;
    qtensor_quantize(&q, r->weight, l->w, N, K, &r->weight_params);
    qtensor_dequantize(&q, l->w);
    qtensor_free(&q);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) l->w[n * K + k] /= s[k];
}

/* What a search runs: the inspected block on its inputs, into out. */
struct block {
    const struct qwen3_model *m;
    int layer;
    int kind;                       /* 0: attention half on li, 1: MLP half on li, 2: one Linear on x */
    const struct layer_inputs *li;
    const struct linear *lin;
    const float *x;
    int64_t rows;
};

static void block_run(const struct block *b, float *out) {
    if (b->kind == 0) layer_inputs_attn(b->m, b->layer, b->li, out);
    else if (b->kind == 1) layer_inputs_mlp(b->m, b->layer, b->li, out);
    else linear_forward(b->lin, b->x, out, b->rows);
}

static double mse(const float *a, const float *b, int64_t n) {
    double e = 0;
    for (int64_t i = 0; i < n; i++) e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return e / (double)n;
}

/* Returns the best scales in best (K) and the loss of every alpha in losses (n_grid, may be NULL). */
static void search_scale(float *best, double *losses, struct linear *const *mem, int n_mem, const float *x_mean,
                         const struct block *b, const float *org, int64_t n_out, const struct recipe *r) {
    const int64_t K = mem[0]->K;
    const int n_grid = r->awq.n_grid > 0 ? r->awq.n_grid : 20;
    float *w_mean = xmalloc((size_t)K * sizeof *w_mean), *s = xmalloc((size_t)K * sizeof *s);
    float *out = xmalloc((size_t)n_out * sizeof *out);
    float **saved = xmalloc((size_t)n_mem * sizeof *saved);
    weight_mean(w_mean, mem, n_mem, K, domain_k(r));
    for (int i = 0; i < n_mem; i++) {
        saved[i] = xmalloc((size_t)(mem[i]->N * K) * sizeof **saved);
        memcpy(saved[i], mem[i]->w, (size_t)(mem[i]->N * K) * sizeof **saved);
    }
    double best_loss = INFINITY;
    for (int g = 0; g < n_grid; g++) {
        awq_scales(s, x_mean, w_mean, K, (double)g / n_grid, r->awq.duo_scaling);
        for (int i = 0; i < n_mem; i++) fake_quant_scaled(mem[i], s, r);
        block_run(b, out);
        double loss = mse(out, org, n_out);
        if (losses) losses[g] = loss;
        if (loss < best_loss) {
            best_loss = loss;
            memcpy(best, s, (size_t)K * sizeof *s);
        }
        for (int i = 0; i < n_mem; i++) memcpy(mem[i]->w, saved[i], (size_t)(mem[i]->N * K) * sizeof **saved);
    }
    CHECK(isfinite(best_loss), "awq: no finite loss in the scale search (non-finite activations?)");
    for (int i = 0; i < n_mem; i++) free(saved[i]);
    free(saved), free(w_mean), free(s), free(out);
}

void awq_search_linear(float *best, double *losses, struct linear *l, const float *x, int64_t rows,
                       const struct recipe *r) {
    const int64_t K = l->K;
    float *xm = xmalloc((size_t)K * sizeof *xm), *org = xmalloc((size_t)(rows * l->N) * sizeof *org);
    double *acc = xcalloc((size_t)K, sizeof *acc);
    for (int64_t t = 0; t < rows; t++)
        for (int64_t k = 0; k < K; k++) acc[k] += fabsf(x[t * K + k]);
    for (int64_t k = 0; k < K; k++) xm[k] = (float)(acc[k] / (double)rows);
    linear_forward(l, x, org, rows);
    struct block b = {NULL, 0, 2, NULL, l, x, rows};
    struct linear *mem[1] = {l};
    search_scale(best, losses, mem, 1, xm, &b, org, rows * l->N, r);
    free(xm), free(org), free(acc);
}

/* ---- step 3: folding ---- */

static void scale_columns(struct linear *l, const float *s) {
    for (int64_t n = 0; n < l->N; n++)
        for (int64_t k = 0; k < l->K; k++) l->w[n * l->K + k] *= s[k];
}

static void unscale_rows(struct linear *l, const float *s) {
    for (int64_t n = 0; n < l->N; n++)
        for (int64_t k = 0; k < l->K; k++) l->w[n * l->K + k] /= s[n];
}

static void unscale_inputs(float *x, int64_t rows, int64_t K, const float *s) {
    for (int64_t t = 0; t < rows; t++)
        for (int64_t k = 0; k < K; k++) x[t * K + k] /= s[k];
}

/* ---- step 4: the clip search ---- */

static void clip_search(struct linear *l, const float *x, int64_t n_tok, const struct recipe *r) {
    // W: N x K (already scaled), x: n_tok x K (its input, scaled alike). Per (row, domain): the best max.
    const int64_t N = l->N, K = l->K, gk = domain_k(r), G = K / gk;
    float *amax = xmalloc((size_t)(N * G) * sizeof *amax), *best_max = xmalloc((size_t)(N * G) * sizeof *best_max);
    double *best_err = xmalloc((size_t)(N * G) * sizeof *best_err);
    float *wc = xmalloc((size_t)(N * K) * sizeof *wc), *y = xmalloc((size_t)(n_tok * N) * sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            float a = 0;
            for (int64_t k = 0; k < gk; k++) a = fmaxf(a, fabsf(l->w[n * K + g * gk + k]));
            amax[n * G + g] = a;
            best_err[n * G + g] = INFINITY;
        }
    for (int i = 0; i < AWQ_CLIP_STEPS; i++) {
        const float shrink = 1.0f - (float)i / AWQ_CLIP_GRID;
        for (int64_t n = 0; n < N; n++)
            for (int64_t g = 0; g < G; g++) {
                const float mx = amax[n * G + g] * shrink;
                for (int64_t k = 0; k < gk; k++) {
                    float v = l->w[n * K + g * gk + k];
                    wc[n * K + g * gk + k] = v > mx ? mx : v < -mx ? -mx : v;
                }
            }
        struct qtensor q;
        qtensor_quantize(&q, r->weight, wc, N, K, &r->weight_params);
        qtensor_dequantize(&q, wc);
        qtensor_free(&q);
        for (int64_t j = 0; j < N * K; j++) wc[j] -= l->w[j];   /* Q(clamp(W)) - W */
        for (int64_t g = 0; g < G; g++) {
            /* y (n_tok x N) = x[:, g] (Q - W)[:, g]^T: the partial output error of every row of domain g */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_tok, (int)N, (int)gk, 1.0f, x + g * gk,
                        (int)K, wc + g * gk, (int)K, 0.0f, y, (int)N);
            for (int64_t n = 0; n < N; n++) {
                double e = 0;
                for (int64_t t = 0; t < n_tok; t++) e += (double)y[t * N + n] * y[t * N + n];
                e /= (double)n_tok;
                if (e < best_err[n * G + g]) {
                    best_err[n * G + g] = e;
                    best_max[n * G + g] = amax[n * G + g] * shrink;
                }
            }
        }
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const float mx = best_max[n * G + g];
            for (int64_t k = 0; k < gk; k++) {
                float *v = &l->w[n * K + g * gk + k];
                *v = *v > mx ? mx : *v < -mx ? -mx : *v;
            }
        }
    free(amax), free(best_max), free(best_err), free(wc), free(y);
}

/* ---- MoE layers (awq.h "MoE") ---- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void x_mean_of(float *xm, const struct awq_stat *a) {
    for (int64_t k = 0; k < a->K; k++) xm[k] = (float)(a->abs_sum[k] / (double)(a->rows ? a->rows : 1));
}


static void observe_count(void *ctx, const struct linear *l, const float *x, int64_t T) {
    (void)l, (void)x;
    *(int64_t *)ctx += T;
}

/* Every expert's routed input rows: counts, then the statistics of its gate input (D wide) and its down input
 * (F_moe wide, every row kept for the down search), from two passes of the unquantized MoE block on h. */
struct moe_stats {
    int64_t E;
    int64_t *count;
    struct awq_stat *gate, *down;
};

static void moe_collect(struct qwen3_model *m, int layer, const struct layer_inputs *h, struct moe_stats *ms) {
    struct qwen3_layer *L = &m->layers[layer];
    const int64_t E = m->cfg.E;
    ms->E = E;
    ms->count = xcalloc((size_t)E, sizeof *ms->count);
    ms->gate = xcalloc((size_t)E, sizeof *ms->gate);
    ms->down = xcalloc((size_t)E, sizeof *ms->down);
    for (int64_t e = 0; e < E; e++) {
        CHECK(!L->exp_gate[e].observe, "awq: expert Linear already hooked");
        L->exp_gate[e].observe = observe_count;
        L->exp_gate[e].observe_ctx = &ms->count[e];
    }
    layer_inputs_mlp(m, layer, h, NULL);
    for (int64_t e = 0; e < E; e++) unhook(&L->exp_gate[e]);
    for (int64_t e = 0; e < E; e++) {
        stat_init(&ms->gate[e], m->cfg.D, ms->count[e], 0);
        stat_init(&ms->down[e], m->cfg.F_moe, ms->count[e], 1);
        hook(&L->exp_gate[e], &ms->gate[e]);
        hook(&L->exp_down[e], &ms->down[e]);
    }
    layer_inputs_mlp(m, layer, h, NULL);
    for (int64_t e = 0; e < E; e++) unhook(&L->exp_gate[e]), unhook(&L->exp_down[e]);
}

static void moe_stats_free(struct moe_stats *ms) {
    for (int64_t e = 0; e < ms->E; e++) stat_free(&ms->gate[e]), stat_free(&ms->down[e]);
    free(ms->count), free(ms->gate), free(ms->down);
    memset(ms, 0, sizeof *ms);
}

/* x_mean of the MoE block's input: mean |rmsnorm(h)| per channel over every token (AutoAWQ input_feat["mlp"]:
 * all tokens, not the routed ones). */
static void moe_x_mean(float *xm, const struct qwen3_model *m, const float *norm_w, const struct layer_inputs *h) {
    const int64_t D = h->D;
    double *acc = xcalloc((size_t)D, sizeof *acc);
    float *t = xmalloc((size_t)(h->L * D) * sizeof *t);
    for (int64_t s = 0; s < h->S; s++) {
        rmsnorm_ref(t, h->x + s * h->L * D, norm_w, h->L, D, (float)m->cfg.rms_norm_eps);
        for (int64_t i = 0; i < h->L; i++)
            for (int64_t k = 0; k < D; k++) acc[k] += fabsf(t[i * D + k]);
    }
    for (int64_t k = 0; k < D; k++) xm[k] = (float)(acc[k] / (double)(h->S * h->L));
    free(acc), free(t);
}

void awq_search_moe_in(float *best, double *losses, struct qwen3_model *m, int layer, const struct layer_inputs *h,
                       const float *org, const struct recipe *r) {
    struct qwen3_layer *L = &m->layers[layer];
    CHECK(L->is_moe, "awq_search_moe_in: layer %d is dense", layer);
    const int64_t E = m->cfg.E, D = m->cfg.D;
    struct linear **mem = xmalloc((size_t)(2 * E) * sizeof *mem);
    for (int64_t e = 0; e < E; e++) mem[2 * e] = &L->exp_gate[e], mem[2 * e + 1] = &L->exp_up[e];
    float *xm = xmalloc((size_t)D * sizeof *xm);
    struct block b = {m, layer, 1, h, NULL, NULL, 0};
    moe_x_mean(xm, m, L->mlp_norm, h);
    search_scale(best, losses, mem, (int)(2 * E), xm, &b, org, h->S * h->L * D, r);
    free(mem), free(xm);
}

/* Steps 2-4 for the MLP half of an MoE layer: one scale shared by every expert's gate and up, searched on the
 * whole MoE block and folded into post_attention_layernorm (the router untouched unless router_fold); per
 * expert, up -> down on its routed rows; clip per expert Linear. Experts below the row floor get no search of
 * their own (awq.h). Fills rows (E entries) with the routed counts. */
static void awq_moe_mlp(struct qwen3_model *m, int layer, const struct layer_inputs *h, const float *mlp_org,
                        const struct recipe *r, const struct qgroups *g, struct quant_stats *st, int64_t *rows_out) {
    struct qwen3_layer *L = &m->layers[layer];
    const struct qwen3_config *c = &m->cfg;
    const int64_t E = c->E, D = c->D, F = c->F_moe;
    struct moe_stats ms;
    moe_collect(m, layer, h, &ms);
    float *s = xmalloc((size_t)D * sizeof *s);
    // MLP_IN: every expert's gate and up, one s, inspected on the whole MoE block
    awq_search_moe_in(s, NULL, m, layer, h, mlp_org, r);
    for (int64_t k = 0; k < D; k++) L->mlp_norm[k] /= s[k];
    for (int64_t e = 0; e < E; e++) scale_columns(&L->exp_gate[e], s), scale_columns(&L->exp_up[e], s);
    if (r->awq.router_fold)   /* exact compensation: router(x / s) with columns * s == router(x) */
        for (int64_t e = 0; e < E; e++)
            for (int64_t k = 0; k < D; k++) L->router[e * D + k] *= s[k];
    for (int64_t e = 0; e < E; e++) unscale_inputs(ms.gate[e].sub, ms.gate[e].n_sub, D, s);
    // MLP_OUT per expert: up -> down on its routed rows; then clip
    const int64_t floor_in = gptq_layers_expert_floor(r->awq.min_rows_k, D);
    const int64_t floor_down = gptq_layers_expert_floor(r->awq.min_rows_k, F);
    float *sd = xmalloc((size_t)F * sizeof *sd), *xd = xmalloc((size_t)F * sizeof *xd);
    int64_t below = 0;
    for (int64_t e = 0; e < E; e++) {
        const int64_t n = ms.count[e];
        rows_out[e] = n;
        const char *name = qgroups_name(g, &L->exp_down[e]);
        if (n == 0 || n < floor_down) {
            warn("%s: %lld routed calibration rows < floor %lld (min_rows_k %g x K %lld): no AWQ scale or clip of "
                 "its own (RTN)", name, (long long)n, (long long)floor_down, r->awq.min_rows_k, (long long)F);
            st->n_expert_rtn++;
        } else {
            struct linear *dm[1] = {&L->exp_down[e]};
            float *org = xmalloc((size_t)(n * D) * sizeof *org);
            linear_forward(&L->exp_down[e], ms.down[e].all, org, n);
            struct block bd = {m, layer, 2, NULL, &L->exp_down[e], ms.down[e].all, n};
            x_mean_of(xd, &ms.down[e]);
            search_scale(sd, NULL, dm, 1, xd, &bd, org, n * D, r);
            unscale_rows(&L->exp_up[e], sd);
            scale_columns(&L->exp_down[e], sd);
            unscale_inputs(ms.down[e].sub, ms.down[e].n_sub, F, sd);
            free(org);
            if (r->awq.clip) clip_search(&L->exp_down[e], ms.down[e].sub, ms.down[e].n_sub, r);
        }
        if (n == 0 || n < floor_in) {
            below++;
            st->n_expert_rtn += 2;
        } else if (r->awq.clip) {
            clip_search(&L->exp_gate[e], ms.gate[e].sub, ms.gate[e].n_sub, r);
            clip_search(&L->exp_up[e], ms.gate[e].sub, ms.gate[e].n_sub, r);
        }
    }
    st->n_experts_below_floor += below;
    fprintf(stderr, "%s: awq %s: layer %d routed calibration rows per expert:", check_progname(), r->name, layer);
    for (int64_t e = 0; e < E; e++) fprintf(stderr, " %lld", (long long)ms.count[e]);
    fprintf(stderr, " (%lld below the floor %lld of gate/up)\n", (long long)below, (long long)floor_in);
    free(sd), free(xd), free(s);
    moe_stats_free(&ms);
}

/* ---- the layer walk ---- */

static void awq_layer(struct qwen3_model *m, int layer, struct layer_inputs *li, const struct qgroups *g,
                      const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st,
                      int64_t *expert_rows) {
    struct qwen3_layer *L = &m->layers[layer];
    const int moe = L->is_moe;
    const struct qwen3_config *c = &m->cfg;
    const int64_t rows = li->S * li->L, D = c->D, F = moe ? c->F_moe : c->F, HD = c->H * c->D_h;
    const int fold_o = c->H == c->H_kv;   /* qwen3_input_group.prev_foldable of ATTN_OUT */

    // 1. one pass of the unquantized layer: stats and outputs
    struct awq_stat s_q, s_o, s_gate, s_down;
    stat_init(&s_q, D, rows, 0);
    stat_init(&s_o, HD, rows, fold_o);
    stat_init(&s_gate, D, moe ? 0 : rows, 0);
    stat_init(&s_down, F, moe ? 0 : rows, !moe);
    hook(&L->q, &s_q), hook(&L->o, &s_o);
    if (!moe) hook(&L->gate, &s_gate), hook(&L->down, &s_down);
    float *attn_org = xmalloc((size_t)(rows * D) * sizeof *attn_org);
    float *mlp_org = xmalloc((size_t)(rows * D) * sizeof *mlp_org);
    layer_inputs_attn(m, layer, li, attn_org);
    struct layer_inputs h = {li->S, li->L, D, xmalloc((size_t)(rows * D) * sizeof(float))};
    for (int64_t i = 0; i < rows * D; i++) h.x[i] = li->x[i] + attn_org[i];
    layer_inputs_mlp(m, layer, &h, mlp_org);
    unhook(&L->q), unhook(&L->o);
    if (!moe) unhook(&L->gate), unhook(&L->down);
    /* The next layer's input, from this layer unquantized (awq.h); li->x is replaced at the end. */
    float *x_next = xmalloc((size_t)(rows * D) * sizeof *x_next);
    for (int64_t i = 0; i < rows * D; i++) x_next[i] = h.x[i] + mlp_org[i];

    const int64_t KM = F > HD ? (F > D ? F : D) : (HD > D ? HD : D);
    float *xm = xmalloc((size_t)KM * sizeof *xm), *s = xmalloc((size_t)KM * sizeof *s);
    // 2-3. q, k, v against the attention half; fold into input_layernorm
    {
        struct linear *mem[3] = {&L->q, &L->k, &L->v};
        struct block b = {m, layer, 0, li, NULL, NULL, 0};
        x_mean_of(xm, &s_q);
        search_scale(s, NULL, mem, 3, xm, &b, attn_org, rows * D, r);
        for (int64_t k = 0; k < D; k++) L->attn_norm[k] /= s[k];
        for (int i = 0; i < 3; i++) scale_columns(mem[i], s);
        unscale_inputs(s_q.sub, s_q.n_sub, D, s);
    }
    // o: only when v folds (never under GQA)
    if (fold_o) {
        struct linear *mem[1] = {&L->o};
        float *org = xmalloc((size_t)(rows * D) * sizeof *org);
        linear_forward(&L->o, s_o.all, org, rows);
        struct block b = {m, layer, 2, NULL, &L->o, s_o.all, rows};
        x_mean_of(xm, &s_o);
        search_scale(s, NULL, mem, 1, xm, &b, org, rows * D, r);
        unscale_rows(&L->v, s);
        scale_columns(&L->o, s);
        unscale_inputs(s_o.sub, s_o.n_sub, HD, s);
        free(org);
    }
    // MoE: every expert's gate/up, then up -> down per expert (awq_moe_mlp)
    if (moe) awq_moe_mlp(m, layer, &h, mlp_org, r, g, st, expert_rows);
    // gate, up against the MLP half; fold into post_attention_layernorm
    if (!moe) {
        struct linear *mem[2] = {&L->gate, &L->up};
        struct block b = {m, layer, 1, &h, NULL, NULL, 0};
        x_mean_of(xm, &s_gate);
        search_scale(s, NULL, mem, 2, xm, &b, mlp_org, rows * D, r);
        for (int64_t k = 0; k < D; k++) L->mlp_norm[k] /= s[k];
        for (int i = 0; i < 2; i++) scale_columns(mem[i], s);
        unscale_inputs(s_gate.sub, s_gate.n_sub, D, s);
    }
    // down against itself; fold into up's output rows
    if (!moe) {
        struct linear *mem[1] = {&L->down};
        float *org = xmalloc((size_t)(rows * D) * sizeof *org);
        linear_forward(&L->down, s_down.all, org, rows);
        struct block b = {m, layer, 2, NULL, &L->down, s_down.all, rows};
        x_mean_of(xm, &s_down);
        search_scale(s, NULL, mem, 1, xm, &b, org, rows * D, r);
        unscale_rows(&L->up, s);
        scale_columns(&L->down, s);
        unscale_inputs(s_down.sub, s_down.n_sub, F, s);
        free(org);
    }
    // 4. clip (q and k skipped)
    if (r->awq.clip) {
        clip_search(&L->v, s_q.sub, s_q.n_sub, r);
        clip_search(&L->o, s_o.sub, s_o.n_sub, r);
        if (!moe) {
            clip_search(&L->gate, s_gate.sub, s_gate.n_sub, r);
            clip_search(&L->up, s_gate.sub, s_gate.n_sub, r);
            clip_search(&L->down, s_down.sub, s_down.n_sub, r);
        }
    }
    // 5. RTN at the grid's scales (the router stays as it is: not a Linear, DESIGN.md)
    const int64_t n_all = moe ? 4 + 3 * c->E : 7;
    struct linear **all = xmalloc((size_t)n_all * sizeof *all);
    all[0] = &L->q, all[1] = &L->k, all[2] = &L->v, all[3] = &L->o;
    if (moe)
        for (int64_t e = 0; e < c->E; e++)
            all[4 + 3 * e] = &L->exp_gate[e], all[5 + 3 * e] = &L->exp_up[e], all[6 + 3 * e] = &L->exp_down[e];
    else all[4] = &L->gate, all[5] = &L->up, all[6] = &L->down;
    for (int64_t i = 0; i < n_all; i++) {
        rtn_linear(all[i], r);
        quant_set_act(all[i], qgroups_name(g, all[i]), r, cal->ranges);
        quant_stats_add_linear(st, all[i]);
    }
    free(all);
    stat_free(&s_q), stat_free(&s_o), stat_free(&s_gate), stat_free(&s_down);
    memcpy(li->x, x_next, (size_t)(rows * D) * sizeof *x_next);
    free(x_next), free(attn_org), free(mlp_org), free(h.x), free(xm), free(s);
}

void awq_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st) {
    CHECK(cal && cal->ids && cal->n_seqs > 0 && cal->seq_len > 0, "awq: recipe %s needs calibration tokens", r->name);
    struct qgroups g;
    qgroups_collect(&g, m);
    struct layer_inputs li;
    layer_inputs_init(&li, m, cal->ids, cal->n_seqs, cal->seq_len);
    const int64_t E = m->cfg.E > 0 ? m->cfg.E : 0;
    int64_t *er = xcalloc((size_t)(E * m->cfg.n_layers + 1), sizeof *er), n_er = 0;
    for (int layer = 0; layer < (int)m->cfg.n_layers; layer++) {
        double t0 = monotonic_seconds();
        awq_layer(m, layer, &li, &g, r, cal, st, er + n_er);
        if (m->layers[layer].is_moe) n_er += E;
        fprintf(stderr, "%s: awq %s: layer %d/%d (%.1f s)\n", check_progname(), r->name, layer + 1,
                (int)m->cfg.n_layers, monotonic_seconds() - t0);
    }
    if (n_er) {   /* the routed rows of every expert, summarized as gptq_layers does (quant_stats) */
        qsort(er, (size_t)n_er, sizeof *er, cmp_i64);
        st->n_expert_hessians += n_er;
        st->expert_rows_min = er[0], st->expert_rows_median = er[(n_er - 1) / 2], st->expert_rows_max = er[n_er - 1];
    }
    free(er);
    layer_inputs_free(&li);
    qgroups_free(&g);
}
