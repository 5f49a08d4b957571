/* awq -- AWQ (Lin et al. 2023, arXiv:2306.00978) as AutoAWQ implements it (casper-hansen/AutoAWQ
 * awq/quantize/quantizer.py: _search_best_scale, _compute_best_scale, _search_best_clip, apply_scale), on any
 * weight grid of src/formats, layer by layer. Per decoder layer, with inputs taken from the UNQUANTIZED model
 * (AutoAWQ, llm-compressor and the paper's code all feed every layer the BF16 model's activations; GPTQ does
 * the opposite, gptq_layers.h):
 *   1. one pass of the layer records, for every input group, x_mean = mean over tokens of |x| per input
 *      channel, the block outputs to compare against, and the inputs the later steps need;
 *   2. per input group (qgroups.h): w_mean = mean over the group's output rows of |w| / (max |w| of its
 *      scale domain + 1e-6); for alpha = i / n_grid, i = 0 .. n_grid - 1: s = x_mean^alpha /
 *      (w_mean^(1 - alpha) + 1e-4) (duo scaling; x_mean^alpha alone when duo_scaling = 0), clamped at 1e-4,
 *      divided by sqrt(max s * min s) (non-finite entries set to 1); every member's W becomes Q(W s) / s (Q:
 *      the grid's RTN) and the inspected block is run: the whole attention half for q,k,v
 *      (qwen3_cpu_attn_block), the whole MLP half for gate,up (qwen3_cpu_mlp_block), the Linear itself for
 *      down (and for o); the alpha with the smallest mean squared difference to the unquantized block output
 *      wins (strict <, the first on ties; alpha = 0 is a candidate, so the result is never worse than it);
 *   3. the winner is folded: W[:, c] *= s_c for every member, the producer divided by s_c: the RMSNorm weight
 *      (input_layernorm, post_attention_layernorm) or the output rows of the producing Linear (up for down).
 *      v -> o is searched only when prev_foldable (H == H_kv): under GQA (every Qwen3 model) one v row feeds
 *      several heads' o columns, so no per-column scale of o folds into v, and o is left unscaled, as AutoAWQ
 *      does when v and o shapes differ;
 *   4. clip search (clip = 1) on every Linear but q and k (AutoAWQ's avoid_clipping): on 512 tokens of its
 *      (scaled) input, for shrink = 1 - i / 20, i < 10, W clamped to +-shrink * max |w| of each (row, domain),
 *      quantized by RTN, and each (row, domain) keeps the shrink with the smallest mean over tokens of the
 *      squared error of its partial dot product; W is clamped at the winners;
 *   5. every Linear of the layer is quantized by RTN (rtn_linear) at the grid's own scales.
 * The domain of steps 2 and 4 is the grid's scale block along K (the INT4 group size, 16 for NVFP4, 32 for
 * MXFP4).
 * MoE layers, as AutoAWQ's Qwen3-MoE / Mixtral / DeepSeek handling (awq/models/qwen3_moe.py, mixtral.py,
 * quantize/quantizer.py _get_input_feat, quantize/scale.py apply_scale):
 *   - MLP_IN: ONE scale s shared by every expert's gate and up (AutoAWQ: layers = [w for expert in experts for
 *     w in (gate_proj, up_proj)], prev_op = post_attention_layernorm), x_mean over every token's normed input
 *     (input_feat["mlp"], not the routed rows), w_mean over the rows of all 2E Linears, the loss on the output
 *     of the whole MoE block (module2inspect = mlp: router, top-k, every expert); folded into
 *     post_attention_layernorm.
 *   - The router: it stays BF16 here (DESIGN.md; AutoAWQ's Mixtral excludes it by modules_to_not_convert =
 *     ["gate"], while its Qwen3-MoE class lists nothing and so quantizes the router to INT4 too: not followed).
 *     Its input change is NOT compensated, as in AutoAWQ: scale_ln_fcs divides the norm weight by s and
 *     multiplies only the listed experts' columns, so after folding the router reads x / s with its weights
 *     unchanged and its logits (and so the routing) move; during the search the router still sees x, so the
 *     loss never sees that. router_fold = 1 (recipe awq-g64-routerfold) instead multiplies the router's
 *     columns by s, which restores its logits up to one FP32 rounding per weight: the measured ablation.
 *   - MLP_OUT: per expert, up -> down, searched on that expert's routed rows (input_feat["mlp.experts.i.
 *     down_proj"]) with the down Linear itself inspected, folded into that expert's up rows.
 *   - Clip: every expert's gate, up (on its routed gate inputs, scaled) and down.
 *   - Experts few calibration tokens reach (issue 16). AutoAWQ stops with an error when an expert saw no token
 *     ("Try increasing max_calib_samples"). The policy here is GPTQ's floor (gptq_layers.h), same threshold, so
 *     both algorithms treat the same experts alike: a per-expert search on n routed rows runs only when n >=
 *     ceil(min_rows_k * K) (K the Linear's input width; min_rows_k 1.0): the down scale search and down clip
 *     need n >= ceil(k F_moe), the gate / up clip n >= ceil(k D); below, that step is skipped (scale 1, no
 *     clip: plain RTN of that Linear, the shared gate/up scale still applies), with a warning naming it; n = 0
 *     is always skipped. The reason is the statistics, not rank: with a handful of rows x_mean and the clip
 *     loss fit those rows alone. Counts: quant_stats.expert_rows_* (routed rows per expert),
 *     n_experts_below_floor (gate/up floor), n_expert_rtn (expert Linears with no search of their own).
 * API: awq_apply, awq_search_linear, awq_search_moe_in, awq_scales. */
#ifndef SRC_QUANT_AWQ_H
#define SRC_QUANT_AWQ_H

#include "model/qwen3.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tokens of the clip search (AutoAWQ n_sample_token) and its grid (n_grid 20, max_shrink 0.5). */
#define AWQ_CLIP_TOKENS 512
#define AWQ_CLIP_GRID 20
#define AWQ_CLIP_STEPS 10

/* Applies AWQ recipe r to every decoder-block Linear of m with calibration tokens cal->ids; adds to st. */
void awq_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st);

/* The scale vector of one alpha (step 2): s (K) from x_mean (K) and w_mean (K). Exposed for the tests. */
void awq_scales(float *s, const float *x_mean, const float *w_mean, int64_t K, double alpha, int duo_scaling);

/* Step 2 for one Linear inspected by itself (the down_proj case) on inputs x (rows x K, read only): best (K)
 * gets the winning scales, losses (n_grid, or NULL) the loss of every alpha; l's weights are unchanged. */
void awq_search_linear(float *best, double *losses, struct linear *l, const float *x, int64_t rows,
                       const struct recipe *r);

/* The MoE MLP_IN search (see "MoE" above) of layer `layer` on the residual stream h entering its MLP half
 * (S x L x D), org the unquantized MLP half's output on it (S x L x D): best (D) gets the winning scale shared
 * by every expert's gate and up, losses (n_grid, or NULL) the loss of every alpha (losses[0]: plain RTN of
 * the experts); the weights are unchanged. Exposed for the tests. */
struct layer_inputs;
void awq_search_moe_in(float *best, double *losses, struct qwen3_model *m, int layer, const struct layer_inputs *h,
                       const float *org, const struct recipe *r);

#ifdef __cplusplus
}
#endif
#endif
