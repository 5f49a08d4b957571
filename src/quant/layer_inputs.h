/* layer_inputs -- the calibration activations of one decoder layer at a time, for algorithms that walk the
 * model layer by layer (GPTQ, AWQ): the residual stream x of S calibration sequences of L tokens (S x L x D,
 * FP32), starting as their embeddings and advanced one half-layer at a time through qwen3_cpu_attn_block and
 * qwen3_cpu_mlp_block (each sequence is its own one-shot forward from position 0, as calib.h runs them).
 * Whatever observe hooks the layer's Linears carry fire during those passes, once per sequence (per routed
 * batch for MoE experts). Memory: S L D floats plus one sequence of scratch, so one layer's activations at a
 * time, never the whole model's. API: layer_inputs_init / _attn / _mlp / _add / _free. */
#ifndef SRC_QUANT_LAYER_INPUTS_H
#define SRC_QUANT_LAYER_INPUTS_H

#include <stdint.h>

#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

struct layer_inputs {
    int64_t S, L, D;
    float *x;          /* S x L x D residual stream (owned) */
};

/* x = embeddings of ids[0 .. S L) (S sequences of L tokens, consecutive). */
void layer_inputs_init(struct layer_inputs *li, const struct qwen3_model *m, const int32_t *ids, int64_t S,
                       int64_t L);

/* out (S x L x D, or NULL to discard) = the attention half of `layer` on every sequence of li->x. */
void layer_inputs_attn(const struct qwen3_model *m, int layer, const struct layer_inputs *li, float *out);

/* out (S x L x D, or NULL to discard) = the MLP half of `layer` on every sequence of li->x. */
void layer_inputs_mlp(const struct qwen3_model *m, int layer, const struct layer_inputs *li, float *out);

/* li->x += d (S x L x D): the residual add that completes a half-layer. */
void layer_inputs_add(struct layer_inputs *li, const float *d);

void layer_inputs_free(struct layer_inputs *li);

#ifdef __cplusplus
}
#endif
#endif
