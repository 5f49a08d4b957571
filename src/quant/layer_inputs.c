/* layer_inputs -- a layer's calibration activations; see layer_inputs.h. */
#include "quant/layer_inputs.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/qwen3_cpu.h"

void layer_inputs_init(struct layer_inputs *li, const struct qwen3_model *m, const int32_t *ids, int64_t S,
                       int64_t L) {
    CHECK(S > 0 && L > 0, "layer inputs of %lld x %lld tokens", (long long)S, (long long)L);
    li->S = S, li->L = L, li->D = m->cfg.D;
    li->x = xmalloc((size_t)(S * L * li->D) * sizeof *li->x);
    for (int64_t s = 0; s < S; s++) qwen3_cpu_embed(m, ids + s * L, L, li->x + s * L * li->D);
}

static void half(const struct qwen3_model *m, int layer, const struct layer_inputs *li, float *out, int mlp) {
    // x, out: S x L x D; one sequence at a time.
    const int64_t n = li->L * li->D;
    float *tmp = out ? NULL : xmalloc((size_t)n * sizeof *tmp);
    for (int64_t s = 0; s < li->S; s++) {
        float *o = out ? out + s * n : tmp;
        if (mlp) qwen3_cpu_mlp_block(m, layer, li->x + s * n, li->L, o);
        else qwen3_cpu_attn_block(m, layer, li->x + s * n, li->L, 0, NULL, o);
    }
    free(tmp);
}

void layer_inputs_attn(const struct qwen3_model *m, int layer, const struct layer_inputs *li, float *out) {
    half(m, layer, li, out, 0);
}

void layer_inputs_mlp(const struct qwen3_model *m, int layer, const struct layer_inputs *li, float *out) {
    half(m, layer, li, out, 1);
}

void layer_inputs_add(struct layer_inputs *li, const float *d) {
    const int64_t n = li->S * li->L * li->D;
    for (int64_t i = 0; i < n; i++) li->x[i] += d[i];
}

void layer_inputs_free(struct layer_inputs *li) {
    free(li->x);
    memset(li, 0, sizeof *li);
}
