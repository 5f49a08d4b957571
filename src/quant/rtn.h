/* rtn -- round-to-nearest quantization of a loaded Qwen3 model by a recipe (recipe.h), simulated on the CPU.
 * For every Linear inside the decoder blocks (q, k, v, o, gate, up, down, MoE experts; never the embeddings,
 * lm_head, norms or router): the FP32 weights are quantized with qtensor_quantize into the recipe's weight
 * scheme, the packed qtensor is kept in the linear's qstate (for `ql quantize` and byte counts), and its exact
 * dequantization replaces the FP32 view through linear_set_weights, so linear_forward computes
 * act(x) W_q^T in FP32. For W8A8 / W4A4 recipes the act_quant hook quantize-dequantizes the input rows with
 * qformat_fake_quant_rows: dynamic scales from each call's T x K input, or (static) the calibrated per-tensor
 * amax of that Linear. Packed checkpoint written by rtn_save: see rtn_save below. */
#ifndef SRC_QUANT_RTN_H
#define SRC_QUANT_RTN_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"
#include "model/qwen3.h"
#include "quant/calib.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The state rtn puts in linear.qstate (freed by the linear through qstate_free). */
struct rtn_qstate {
    struct qtensor w;            /* packed weights (N x K) in the recipe's weight scheme */
    int has_act;                 /* 1 when act_quant is set */
    enum qformat act;            /* activation scheme */
    struct qparams act_params;   /* act.amax > 0 for a static per-tensor range */
};

/* What rtn_apply did, over the quantized Linears only. */
struct rtn_stats {
    int64_t n_linears;
    int64_t n_weights;           /* sum of N * K */
    size_t weight_bytes;         /* sum of qtensor_bytes: codes + every scale */
    double bits_per_weight;      /* 8 * weight_bytes / n_weights */
    double seconds;              /* wall time of the quantization */
};

/* Applies recipe r to every decoder-block Linear of m, as the header comment says. c holds the calibrated
 * ranges and is required exactly when r->act_mode == RECIPE_ACT_STATIC (else ignored; may be NULL). A Linear
 * whose shape the scheme cannot hold (K not a multiple of its block) is an error naming it. A Linear that
 * already carries a qstate or hook is a programmer error (apply once per loaded model). st may be NULL. */
void rtn_apply(struct qwen3_model *m, const struct recipe *r, const struct calib *c, struct rtn_stats *st);

/* The act_quant hook itself (exposed for tests): qformat_fake_quant_rows(s->act, x, T, K, &s->act_params). */
void rtn_act_quant(void *qstate, float *x, int64_t T, int64_t K);

/* The packed weights rtn_apply kept for l, or NULL when l was not quantized by rtn. */
const struct qtensor *rtn_packed(const struct linear *l);

/* Writes the quantized model as a checkpoint directory out_dir (created): model.safetensors holds every
 * tensor of the source checkpoint src_dir unchanged except the weights of quantized Linears, which become
 *   <module>.weight_packed        U8 [data_bytes]    element codes / packed blocks (the scheme's layout)
 *   <module>.weight_scales        U8 [scales_bytes]  separate scales, when the scheme has them
 *   <module>.weight_zeros         U8 [zeros_bytes]   zero points, when the scheme has them
 *   <module>.weight_global_scale  F32 [1]            per-tensor scale, when the scheme has one
 *   <module>.input_amax           F32 [1]            static activation amax (static recipes only)
 * config.json is the source's with a "quantization_config" object added: {"quant_method": "ql-rtn",
 * "recipe", "weight_format", "activation_format" (or null), "activation_scheme" ("dynamic", "static" or
 * "none"), "modules": {module: [N, K]}}; tokenizer files are copied. Returns the bytes of model.safetensors. */
size_t rtn_save(const struct qwen3_model *m, const struct recipe *r, const char *src_dir, const char *out_dir);

#ifdef __cplusplus
}
#endif
#endif
