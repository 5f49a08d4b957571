/* quantize -- the one entry point that applies any recipe (recipe.h) to a loaded model: quant_apply.
 * What is quantized: every Linear inside the decoder blocks (q, k, v, o, gate, up, down, MoE experts), never the
 * embeddings, lm_head, norms or router. The result is data on each struct linear (ops/linear.h): the packed
 * qtensor with the scales the algorithm chose (its exact dequantization becomes the FP32 view), the activation
 * spec (format, dynamic / static with the calibrated amax), and for AWQ / Hadamard recipes the input-side
 * scale or transform. Any backend reads that; nothing here is CPU-specific except running calibration passes.
 * Algorithms plug in here, one file each: rtn.c (RECIPE_ALGO_RTN), gptq.c (RECIPE_ALGO_GPTQ), awq.c
 * (RECIPE_ALGO_AWQ). A Hadamard recipe rotates every Linear (W <- W H, transform set) before its algorithm.
 * API: quant_apply, quant_calib_size, quant_set_act, quant_stats_add_linear. */
#ifndef SRC_QUANT_QUANTIZE_H
#define SRC_QUANT_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "model/qwen3.h"
#include "quant/calib.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where calibration comes from. ranges: static activation ranges already measured on the BF16 model (needed
 * exactly when r->act_mode == RECIPE_ACT_STATIC; calib.h). ids: n_seqs x seq_len token ids of the calibration
 * text (never an evaluation set; calib_set.h) for the GPTQ / AWQ passes; NULL when the recipe needs none. */
struct quant_calib {
    const struct calib *ranges;
    const int32_t *ids;
    int64_t n_seqs, seq_len;
};

/* What quant_apply did, over the quantized Linears only. */
struct quant_stats {
    int64_t n_linears;
    int64_t n_weights;           /* sum of N * K */
    size_t weight_bytes;         /* sum of qtensor_bytes: codes + every scale */
    double bits_per_weight;      /* 8 * weight_bytes / n_weights */
    double seconds;              /* wall time of the quantization (calibration passes included) */
    int64_t n_damp_raised;       /* GPTQ: Linears whose Cholesky needed more damping (recorded, never silent) */
    int64_t n_weights_packed;    /* checkpoint recipes: weights of the Linears loaded packed */
    int64_t n_unpacked;          /* checkpoint recipes: Linears with their FP32 view only */
    /* GPTQ and AWQ on MoE models (all zero otherwise): the calibration rows (tokens routed to it) each expert
     * received (GPTQ: its gate/up Hessian's rows), over every expert of every layer, and the expert Linears that
     * got RTN instead of the algorithm because they saw fewer rows than the floor (recipe_gptq.min_rows_k,
     * gptq_layers.h; AWQ: recipe_awq.min_rows_k, Linears with no scale / clip search of their own, awq.h). */
    int64_t n_expert_hessians;   /* experts counted (layers x experts) */
    int64_t expert_rows_min, expert_rows_median, expert_rows_max;   /* median: the lower middle value */
    int64_t n_experts_below_floor;   /* experts whose gate/up Hessian was below the floor */
    int64_t n_expert_rtn;        /* expert Linears quantized by RTN (floor or no rows at all) */
};

/* Applies recipe r to every decoder-block Linear of m (see the header comment). A Linear whose shape the
 * scheme cannot hold is an error naming it; a Linear already quantized is a programmer error (apply once per
 * loaded model). cal may be NULL for recipes that need no calibration. st may be NULL. */
void quant_apply(struct qwen3_model *m, const struct recipe *r, const struct quant_calib *cal, struct quant_stats *st);

/* Sets l's activation spec from r (static: amax from ranges, by module name). Used by every algorithm after it
 * installs the weights. */
void quant_set_act(struct linear *l, const char *name, const struct recipe *r, const struct calib *ranges);

/* The calibration size of a GPTQ / AWQ recipe: its calib_seqs x calib_len, or the algorithm's reference
 * default when 0 (128 sequences; 2048 tokens for GPTQ as IST-DASLab, 512 for AWQ as AutoAWQ), the length
 * capped at the model's max_pos. */
void quant_calib_size(const struct recipe *r, int64_t max_pos, int64_t *n_seqs, int64_t *seq_len);

/* Adds one quantized Linear to st. */
void quant_stats_add_linear(struct quant_stats *st, const struct linear *l);

#ifdef __cplusplus
}
#endif
#endif
