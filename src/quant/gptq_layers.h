/* gptq_layers -- GPTQ applied to a whole model, layer by layer and sequentially, as IST-DASLab llama.py
 * (--true-sequential) and llm-compressor's sequential pipeline: the calibration sequences' residual stream
 * enters layer 0 as embeddings; inside each layer the input groups are quantized in order (q,k,v share one
 * Hessian; then o; then gate,up share one; then down; MoE: one Hessian per expert), each group's Hessian
 * collected on the inputs produced by the groups and layers already quantized (GPTQ propagates the error),
 * and the layer's output, computed with its quantized weights, is the next layer's input. Hessians are the
 * inputs as the Linear sees them after its transform (hessian.h: a Hadamard recipe's rotated inputs), before
 * activation quantization. Memory: one layer's activations (layer_inputs.h) plus the Hessians of one group.
 * MoE experts that few calibration tokens reach (issue 16). An expert's Hessian sees only the tokens the
 * router sends it, so on an unevenly routed model some see a handful (qwen3-tiny-moe layer 4 expert 3: 3 of
 * 360,448 validation tokens). The policy: an expert Linear whose Hessian saw n_rows < ceil(min_rows_k * K)
 * rows (recipe_gptq.min_rows_k, default 1.0; K its input width: 512 for gate/up, 192 for down there) is
 * quantized by RTN at the same grid, with a warning naming it and the counts; n_rows == 0 is always RTN.
 * Dense Linears see every calibration token and never take the floor (their results are unchanged).
 * The reason: with n < K rows, X^T X has rank <= n < K, so GPTQ's error feedback is driven by damping alone in
 * the K - n directions no calibration token spans; it then fits the few rows it saw (their output error drops)
 * at the price of unconstrained error on the tokens it will see at inference, and nothing measures that. RTN
 * makes no such bet. At n >= K the Hessian can be full rank and the usual GPTQ argument holds. The references
 * do not use a floor: llm-compressor avoids the problem by sending every calibration token through every
 * expert during calibration (moe_calibrate_all_experts / MoECalibrationModule, the outputs still routed;
 * PR vllm-project/llm-compressor#1701, docs "Adding MoE Calibration Support"), and GPTQModel falls back to RTN
 * ("FailSafe naive quantization when GPTQ fails due to MoE uneven routing", GPTQModel v5.7.0, PR #2293) for
 * modules whose calibration is missing or too small, which is the policy chosen here with an explicit,
 * K-relative threshold (GPTQModel's own threshold default was not checked here). Calibrating all experts is
 * the stronger fix and is not built (it changes the Hessians of every expert, not just the starved ones).
 * The counts: quant_stats.expert_rows_* and n_experts_below_floor, one stderr line per MoE layer
 * (min / median / max rows over its experts). The paired ablation: gptq-g64 (the floor) vs gptq-g64-nofloor
 * (min_rows_k 0) vs rtn-int4-g64 (INT4 g64, because qwen3-tiny-moe's expert down_proj has K = 192, which the
 * g128 rows cannot hold; Qwen3-30B-A3B's 768 = 6 x 128 can).
 * API: gptq_layers_apply, gptq_layers_expert_floor, gptq_layers_expert_uses_rtn. */
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

/* The row floor of an expert Linear of input width K: ceil(min_rows_k * K) (0 when min_rows_k <= 0). */
int64_t gptq_layers_expert_floor(double min_rows_k, int64_t K);

/* The policy above: 1 when a Linear whose Hessian saw n_rows rows gets RTN instead of GPTQ (no rows at all, or
 * an expert below its floor), 0 otherwise. */
int gptq_layers_expert_uses_rtn(int is_expert, int64_t n_rows, double min_rows_k, int64_t K);

/* Applies GPTQ recipe r to every decoder-block Linear of m with calibration tokens cal->ids (cal->n_seqs x
 * cal->seq_len), installing packed weights and the activation spec; adds to st (n_damp_raised and, on MoE
 * models, the expert row counts included). */
void gptq_layers_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal,
                       struct quant_stats *st);

#ifdef __cplusplus
}
#endif
#endif
