/* rtn -- apply an RTN recipe to a model; see rtn.h. */
#include "quant/rtn.h"

#include <stdlib.h>

#include "core/check.h"

void rtn_linear(struct linear *l, const struct recipe *r) {
    // W: N x K. Quantize, keep the packed form, and make its exact decoding the FP32 view the GEMM reads.
    struct qtensor *q = xcalloc(1, sizeof *q);
    qtensor_quantize(q, r->weight, l->w, l->N, l->K, &r->weight_params);
    linear_set_packed(l, q, r->name);
}

struct apply_ctx {
    const struct recipe *r;
    const struct calib *ranges;
    struct quant_stats *st;
};

static void apply_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct apply_ctx *a = ctx;
    rtn_linear(l, a->r);
    quant_set_act(l, name, a->r, a->ranges);
    quant_stats_add_linear(a->st, l);
}

void rtn_apply(struct qwen3_model *m, const struct recipe *r, const struct calib *ranges, struct quant_stats *st) {
    if (r->act_mode == RECIPE_ACT_STATIC)
        CHECK(ranges && ranges->n > 0, "recipe %s needs calibrated activation ranges", r->name);
    struct apply_ctx a = {r, ranges, st};
    qwen3_for_each_linear(m, apply_linear, &a);
}
