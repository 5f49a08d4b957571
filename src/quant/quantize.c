/* quantize -- quant_apply: checks, dispatch to the recipe's algorithm, statistics; see quantize.h. */
#include "quant/quantize.h"

#include <string.h>

#include "core/check.h"
#include "core/timer.h"
#include "ops/hadamard.h"
#include "quant/awq.h"
#include "quant/gptq_layers.h"
#include "quant/rtn.h"

void quant_set_act(struct linear *l, const char *name, const struct recipe *r, const struct calib *ranges) {
    memset(&l->act, 0, sizeof l->act);
    if (r->act_mode == RECIPE_ACT_NONE) return;
    l->act.mode = r->act_mode;
    l->act.format = r->act;
    l->act.params = qformat_resolve(r->act, NULL);
    if (r->act_mode == RECIPE_ACT_STATIC) l->act.params.amax = calib_amax(ranges, name);
}

void quant_stats_add_linear(struct quant_stats *st, const struct linear *l) {
    st->n_linears++;
    st->n_weights += l->N * l->K;
    if (l->packed) st->weight_bytes += qtensor_bytes(l->packed);
}

void quant_calib_size(const struct recipe *r, int64_t max_pos, int64_t *n_seqs, int64_t *seq_len) {
    *n_seqs = r->calib_seqs > 0 ? r->calib_seqs : 128;
    *seq_len = r->calib_len > 0 ? r->calib_len : r->algo == RECIPE_ALGO_AWQ ? 512 : 2048;
    if (max_pos > 0 && *seq_len > max_pos) *seq_len = max_pos;
}

static void count_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    struct quant_stats *s = ctx;
    quant_stats_add_linear(s, l);
    if (l->packed) s->n_weights_packed += l->N * l->K;
    else s->n_unpacked++;
}

/* Every Linear must fit the recipe before any is changed, so a bad shape never leaves a half-quantized model. */
static void check_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    const struct recipe *r = ctx;
    CHECK(!linear_is_quantized(l), "%s: already quantized (quant_apply twice?)", name);
    char err[256];
    if (qformat_check_shape(r->weight, &r->weight_params, l->N, l->K, err, sizeof err) != 0)
        die("%s: recipe %s: weight %lld x %lld: %s", name, r->name, (long long)l->N, (long long)l->K, err);
    if (r->act_mode != RECIPE_ACT_NONE && qformat_check_shape(r->act, NULL, 1, l->K, err, sizeof err) != 0)
        die("%s: recipe %s: activations with K=%lld: %s", name, r->name, (long long)l->K, err);
}

/* The transform of a Hadamard recipe, before any algorithm: W <- W H on the weights, H online on the inputs
 * (linear.h), so every algorithm after this sees the rotated problem (GPTQ's Hessians included). */
static int transform_block_of(const struct recipe *r) { return r->transform_block ? r->transform_block : 128; }

static void transform_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                             struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    const struct recipe *r = ctx;
    const int B = transform_block_of(r);
    if (l->K % B != 0) die("%s: recipe %s: K=%lld is not a multiple of the Hadamard block %d", name, r->name,
                           (long long)l->K, B);
    hadamard_rows_ref(l->w, l->N, l->K, B);
    l->transform = LINEAR_TRANSFORM_HADAMARD;
    l->transform_block = B;
}

void quant_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st) {
    if (r->act_mode == RECIPE_ACT_STATIC)
        CHECK(cal && cal->ranges && cal->ranges->n > 0, "recipe %s needs calibrated activation ranges", r->name);
    if (r->algo == RECIPE_ALGO_GPTQ || r->algo == RECIPE_ALGO_AWQ)
        CHECK(cal && cal->ids && cal->n_seqs > 0 && cal->seq_len > 0, "recipe %s needs calibration tokens", r->name);
    double t0 = monotonic_seconds();
    struct quant_stats s;
    memset(&s, 0, sizeof s);
    if (r->algo == RECIPE_ALGO_CHECKPOINT) {
        /* Nothing to do: count what the loader installed (bits over the Linears it could hold packed). */
        qwen3_for_each_linear(m, count_linear, &s);
        if (s.n_unpacked)
            warn("%s: %lld of %lld Linears hold no packed form of our schemes (their values are exact; "
                 "bits_per_weight counts the packed ones only)", r->name, (long long)s.n_unpacked, (long long)s.n_linears);
    } else {
        qwen3_for_each_linear(m, check_linear, (void *)r);
    }
    if (r->transform == RECIPE_TRANSFORM_HADAMARD) qwen3_for_each_linear(m, transform_linear, (void *)r);
    switch (r->algo) {
    case RECIPE_ALGO_CHECKPOINT: break;
    case RECIPE_ALGO_RTN: rtn_apply(m, r, cal ? cal->ranges : NULL, &s); break;
    case RECIPE_ALGO_GPTQ: gptq_layers_apply(m, r, cal, &s); break;
    case RECIPE_ALGO_AWQ: awq_apply(m, r, cal, &s); break;
    }
    s.bits_per_weight = s.n_weights ? 8.0 * (double)s.weight_bytes / (double)s.n_weights : 0;
    if (r->algo == RECIPE_ALGO_CHECKPOINT && s.n_weights_packed)
        s.bits_per_weight = 8.0 * (double)s.weight_bytes / (double)s.n_weights_packed;
    s.seconds = monotonic_seconds() - t0;
    if (st) *st = s;
}
