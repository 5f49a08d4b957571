/* rtn -- round-to-nearest quantization: the weights of every decoder-block Linear are quantized with
 * qtensor_quantize into the recipe's weight scheme at the scheme's own scales (the grid's rule: amax per block
 * or group), and the packed qtensor is installed with linear_set_packed (its exact dequantization becomes the
 * FP32 view), the activation spec with quant_set_act. Called by quant_apply (quantize.h) for RECIPE_ALGO_RTN;
 * also the baseline every GPTQ / AWQ gain is measured against. API: rtn_apply, rtn_linear. */
#ifndef SRC_QUANT_RTN_H
#define SRC_QUANT_RTN_H

#include "model/qwen3.h"
#include "quant/calib.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantizes one Linear's current weights by r's weight scheme (r->weight_params) and installs the result;
 * the activation spec is left to the caller. */
void rtn_linear(struct linear *l, const struct recipe *r);

/* Applies r by RTN to every decoder-block Linear of m; ranges are the static activation ranges (required
 * exactly when r->act_mode == RECIPE_ACT_STATIC). Adds to st (not zeroed here). Shapes are checked by
 * quant_apply beforehand. */
void rtn_apply(struct qwen3_model *m, const struct recipe *r, const struct calib *ranges, struct quant_stats *st);

#ifdef __cplusplus
}
#endif
#endif
