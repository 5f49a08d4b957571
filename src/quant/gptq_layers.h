/* gptq_layers -- GPTQ applied to a whole model, layer by layer and sequentially, as IST-DASLab llama.py
 * (--true-sequential) and llm-compressor's sequential pipeline: the calibration sequences' residual stream
 * enters layer 0 as embeddings; inside each layer the input groups are quantized in order (q,k,v share one
 * Hessian; then o; then gate,up share one; then down; MoE: one Hessian per expert), each group's Hessian
 * collected on the inputs produced by the groups and layers already quantized (GPTQ propagates the error),
 * and the layer's output, computed with its quantized weights, is the next layer's input. Hessians are the
 * inputs as the Linear sees them after its transform (hessian.h: a Hadamard recipe's rotated inputs), before
 * activation quantization. Memory: one layer's activations (layer_inputs.h) plus the Hessians of one group.
 * A Linear whose Hessian saw no rows (an MoE expert no calibration token reached) gets RTN, with a warning.
 * API: gptq_layers_apply. */
#ifndef SRC_QUANT_GPTQ_LAYERS_H
#define SRC_QUANT_GPTQ_LAYERS_H

#include "model/qwen3.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Hessian accumulation of the model-level pass: 0 = per-sample FP32 products summed in double (the
 * references' precision). FP64 does not matter here: on qwen3-tiny layer 1 (tests/test_gptq.c) the two
 * Hessians differ by 1e-7 of max |H|, 99.8 % (down_proj) to 100 % (q_proj) of the GPTQ codes are identical,
 * and the output errors agree to 4 digits. */
#define GPTQ_LAYERS_HESSIAN_FP64 0

/* Applies GPTQ recipe r to every decoder-block Linear of m with calibration tokens cal->ids (cal->n_seqs x
 * cal->seq_len), installing packed weights and the activation spec; adds to st (n_damp_raised included). */
void gptq_layers_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal,
                       struct quant_stats *st);

#ifdef __cplusplus
}
#endif
#endif
