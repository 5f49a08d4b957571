/* test_gptq_moe -- the MoE expert row floor of GPTQ (gptq_layers.h, issue 16).
 * 1. The policy function: the floor is ceil(min_rows_k * K); below it an expert gets RTN, at it GPTQ; a dense
 *    Linear never takes the floor; no rows at all is always RTN.
 * 2. On models/qwen3-tiny-moe (skipped, exit 77, when its weights are absent): gptq_layers_apply with one
 *    calibration sequence of 64 seeded random tokens (64 x top-4 = 256 routed rows per layer over 16 experts,
 *    so every expert is below its floor of 1.0 x K: 512 for gate/up, 128 for down, since one token reaches an
 *    expert at most once). With the floor (gptq-g64): every expert Linear holds exactly the packed bytes RTN
 *    gives it, the row counts in quant_stats add up (min <= median <= max <= 64, all 80 experts below the
 *    floor, 240 expert Linears by RTN); without it (gptq-g64-nofloor): the experts that saw rows differ from
 *    RTN (GPTQ ran on them), so the first check can fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "model/qwen3.h"
#include "quant/gptq_layers.h"
#include "quant/quantize.h"
#include "quant/recipe.h"
#include "quant/rtn.h"
#include "test.h"

#define MOE "models/qwen3-tiny-moe"
#define LEN 64

static void test_policy(void) {
    TEST(gptq_layers_expert_floor(1.0, 512) == 512 && gptq_layers_expert_floor(1.0, 192) == 192 &&
         gptq_layers_expert_floor(0.5, 193) == 97 && gptq_layers_expert_floor(0.0, 512) == 0,
         "floor = ceil(min_rows_k * K), 0 without a floor");
    TEST(gptq_layers_expert_uses_rtn(1, 511, 1.0, 512) && !gptq_layers_expert_uses_rtn(1, 512, 1.0, 512),
         "an expert below its floor gets RTN, at the floor GPTQ");
    TEST(!gptq_layers_expert_uses_rtn(0, 3, 1.0, 512), "a dense Linear never takes the floor");
    TEST(gptq_layers_expert_uses_rtn(1, 0, 0.0, 512) && gptq_layers_expert_uses_rtn(0, 0, 1.0, 512) &&
         !gptq_layers_expert_uses_rtn(1, 1, 0.0, 512), "no rows: RTN always; floor 0: GPTQ from one row");
}

static int same_bytes(const struct qtensor *a, const struct qtensor *b) {
    return a->data_bytes == b->data_bytes && !memcmp(a->data, b->data, a->data_bytes) &&
           a->scales_bytes == b->scales_bytes && (!a->scales_bytes || !memcmp(a->scales, b->scales, a->scales_bytes)) &&
           a->zeros_bytes == b->zeros_bytes && (!a->zeros_bytes || !memcmp(a->zeros, b->zeros, a->zeros_bytes));
}

/* Quantizes a fresh copy of the model by recipe `name` with the fixed calibration ids; counts the expert Linears
 * whose packed bytes equal RTN's (rtn_linear on the BF16 weights of ref). */
static int64_t run(const char *name, const int32_t *ids, struct qwen3_model *ref, struct quant_stats *st,
                   int64_t *n_expert_linears) {
    const struct recipe *r = recipe_by_name_or_die(name, "test");
    struct qwen3_model *m = qwen3_load(MOE);
    struct quant_calib cal = {NULL, ids, 1, LEN};
    quant_apply(m, r, &cal, st);
    int64_t same = 0, n = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        struct qwen3_layer *L = &m->layers[l], *R = &ref->layers[l];
        for (int64_t e = 0; e < m->cfg.E; e++) {
            struct linear *q[3] = {&L->exp_gate[e], &L->exp_up[e], &L->exp_down[e]};
            struct linear *w[3] = {&R->exp_gate[e], &R->exp_up[e], &R->exp_down[e]};
            for (int k = 0; k < 3; k++) {
                struct linear c = *w[k];   /* a copy of the BF16 weights, so ref stays unquantized */
                c.w = xmalloc((size_t)(c.N * c.K) * sizeof *c.w);
                memcpy(c.w, w[k]->w, (size_t)(c.N * c.K) * sizeof *c.w);
                c.packed = NULL;
                rtn_linear(&c, r);
                same += same_bytes(q[k]->packed, c.packed);
                n++;
                qtensor_free(c.packed);
                free(c.packed);
                free(c.w);
            }
        }
    }
    qwen3_free(m);
    *n_expert_linears = n;
    return same;
}

int main(void) {
    check_set_progname("test_gptq_moe");
    test_policy();
    if (!file_exists(MOE "/model.safetensors")) {
        printf("SKIP: %s/model.safetensors not found (make models)\n", MOE);
        return TEST_REPORT() ? 1 : 77;
    }
    struct qwen3_model *ref = qwen3_load(MOE);
    int32_t ids[LEN];
    struct rng g;
    rng_init(&g, 16);
    for (int i = 0; i < LEN; i++) ids[i] = (int32_t)rng_below(&g, (uint64_t)ref->cfg.V);
    const int64_t n_exp = ref->cfg.n_layers * ref->cfg.E;
    struct quant_stats a, b;
    int64_t na = 0, nb = 0;
    int64_t same_a = run("gptq-g64", ids, ref, &a, &na);
    TEST(na == 3 * n_exp && same_a == na, "floor: all %lld expert Linears hold RTN's bytes (%lld equal)",
         (long long)na, (long long)same_a);
    TEST(a.n_expert_hessians == n_exp && a.n_experts_below_floor == n_exp && a.n_expert_rtn == 3 * n_exp,
         "floor: %lld experts counted, %lld below the floor, %lld expert Linears by RTN",
         (long long)a.n_expert_hessians, (long long)a.n_experts_below_floor, (long long)a.n_expert_rtn);
    TEST(a.expert_rows_min <= a.expert_rows_median && a.expert_rows_median <= a.expert_rows_max &&
         a.expert_rows_max <= LEN && a.expert_rows_max > 0,
         "row counts min %lld median %lld max %lld (a token reaches an expert at most once: max <= %d)",
         (long long)a.expert_rows_min, (long long)a.expert_rows_median, (long long)a.expert_rows_max, LEN);
    int64_t same_b = run("gptq-g64-nofloor", ids, ref, &b, &nb);
    TEST(b.n_experts_below_floor == 0 && (b.expert_rows_min > 0 ? b.n_expert_rtn == 0 : b.n_expert_rtn > 0),
         "no floor: nothing below it, RTN only for experts with no rows (%lld Linears; min rows %lld)",
         (long long)b.n_expert_rtn, (long long)b.expert_rows_min);
    TEST(same_b < nb / 2, "no floor: GPTQ ran on the experts (%lld of %lld expert Linears equal RTN's bytes)",
         (long long)same_b, (long long)nb);
    qwen3_free(ref);
    return TEST_REPORT();
}
