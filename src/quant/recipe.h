/* recipe -- the named variants of the study (DESIGN.md "The variants"): algorithm + weight scheme + activation scheme.
 * A recipe says how every Linear inside the decoder blocks is quantized: the weight scheme of src/formats,
 * and, for W8A8 / W4A4 recipes, the scheme the input activations are quantize-dequantized with at the input of
 * every such Linear, either dynamically (scales from the activations themselves, per token / group / block, or
 * per tensor over the T x K rows of one call) or statically (one calibrated per-tensor amax, nvfp8 only).
 * Embeddings, lm_head, norms and the MoE router never change. The algorithm (RTN, GPTQ, AWQ) chooses the values
 * on the weight grid; quant_apply (quantize.h) applies any recipe to a loaded model.
 * Names are file names, JSON keys and figure labels: bf16 fp8 nvfp8 mxfp8 nvfp4 mxfp4 nvfp4-w4a16 mxfp4-w4a16,
 * then rtn-int4 rtn-int4-asym gptq gptq-asym awq gptq-nvfp4-w4a16 gptq-mxfp4-w4a16 awq-nvfp4-w4a16
 * gptq-mxfp4-had gptq-nvfp4-had int8-w8a8 gptq-w4a8, then rtn-int4-g64 gptq-g64 gptq-g64-nofloor rtn-int4-asym-g64 awq-g64
 * awq-g64-routerfold (recipe.c defines each; the first eight rows never move). */
#ifndef SRC_QUANT_RECIPE_H
#define SRC_QUANT_RECIPE_H

#include "formats/qformat.h"
#include "ops/linear.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the activations entering a quantized Linear are treated (the linear's act mode, ops/linear.h). */
#define RECIPE_ACT_NONE LINEAR_ACT_NONE         /* weight-only (W*A16) */
#define RECIPE_ACT_DYNAMIC LINEAR_ACT_DYNAMIC   /* scales from each call's activations */
#define RECIPE_ACT_STATIC LINEAR_ACT_STATIC     /* one calibrated per-tensor amax per Linear (struct calib) */

/* Family used by the seed's targets (e08): FP8 variants must keep >= 95 % of BF16, FP4 variants >= 90 %. */
enum recipe_family {
    RECIPE_FAMILY_BASELINE = 0,
    RECIPE_FAMILY_FP8,
    RECIPE_FAMILY_FP4,
    RECIPE_FAMILY_INT4,        /* INT4 weight grids (GPTQ, AWQ and their RTN baselines) */
    RECIPE_FAMILY_INT8
};

/* How the weight values are chosen on the grid (src/quant/<algo>.c behind quant_apply). */
enum recipe_algo {
    RECIPE_ALGO_RTN = 0,       /* round to nearest at the scheme's own scales (rtn.c) */
    RECIPE_ALGO_GPTQ,          /* GPTQ (gptq.c): Hessian-based error feedback, layer by layer */
    RECIPE_ALGO_AWQ,           /* AWQ (awq.c): activation-aware per-channel scales, then RTN */
    RECIPE_ALGO_CHECKPOINT     /* none: a checkpoint quantized by another tool, evaluated as it was loaded
                                * (recipe_checkpoint; never in the table) */
};

/* An optional transform of every quantized Linear's input (and, offline, of its weights). */
enum recipe_transform {
    RECIPE_TRANSFORM_NONE = 0,
    RECIPE_TRANSFORM_HADAMARD  /* block Hadamard (ops/hadamard.h) of size transform_block */
};

/* GPTQ parameters (IST-DASLab / llm-compressor names): damping fraction of mean(diag H), column block of the
 * lazy batch update, act-order "static" (columns in descending diag(H), groups fixed up front), dynamic group
 * scales (IST's option: each group's scales chosen when its first column is reached). */
struct recipe_gptq {
    double damp;               /* 0.01 */
    int block;                 /* 128 */
    int act_order;             /* 1 = static act-order */
    int dynamic_groups;        /* 0 = scales fixed up front from the original weights (llm-compressor) */
    double min_rows_k;         /* MoE experts only: an expert Linear whose Hessian saw fewer than
                                * ceil(min_rows_k * K) calibration rows gets RTN instead of GPTQ (1.0, the
                                * rank floor: the policy and its reason are in gptq_layers.h); 0 = no floor
                                * (GPTQ on every expert with >= 1 row). Dense Linears never take it. */
};

/* AWQ parameters (AutoAWQ names): grid of alpha = i / n_grid, duo scaling, clip search. */
struct recipe_awq {
    int n_grid;                /* 20 */
    int duo_scaling;           /* 1: s = x_mean^a / (w_mean^(1-a) + 1e-4) */
    int clip;                  /* 1: search the group max shrink (q and k skipped) */
    double min_rows_k;         /* MoE experts only: an expert Linear whose routed calibration rows are fewer
                                * than ceil(min_rows_k * K) gets no scale / clip search of its own (awq.h); 1.0
                                * as GPTQ's floor; 0 = every expert any row reached */
    int router_fold;           /* MoE only: 0 = AutoAWQ (the router's input is divided by the folded scale and
                                * its weights are left as they are), 1 = the router's columns multiplied by it */
};

/* A recipe: {name, algorithm (+ transform), weight scheme + parameters, activation scheme + mode, algorithm
 * parameters, calibration size, family}. Zero fields mean the defaults of the algorithm. */
struct recipe {
    const char *name;          /* canonical name, e.g. "nvfp4-w4a16", "gptq" */
    enum recipe_algo algo;
    enum recipe_transform transform;
    int transform_block;       /* Hadamard block size (0: 128) */
    enum qformat weight;       /* weight scheme of every decoder-block Linear */
    struct qparams weight_params;   /* group size, scale rule, observer (zero: the scheme's defaults) */
    enum linear_act_mode act_mode;  /* activation treatment */
    enum qformat act;          /* activation scheme (meaningful only when act_mode != RECIPE_ACT_NONE) */
    struct recipe_gptq gptq;   /* RECIPE_ALGO_GPTQ only */
    struct recipe_awq awq;     /* RECIPE_ALGO_AWQ only */
    int64_t calib_seqs, calib_len;  /* GPTQ / AWQ calibration set (0: the algorithm's default) */
    enum recipe_family family;
    const char *desc;          /* one line for tables and --help */
};

/* The recipe of a quantized checkpoint made by another tool (compressed-tensors, AutoAWQ, GPTQ, ModelOpt: the
 * loader reads its values, model/ckpt_quant.h), named after the checkpoint: *out is filled with name (copied
 * into name_buf, n bytes), RECIPE_ALGO_CHECKPOINT, and the family from the checkpoint's weights (8 bits: FP8 or
 * INT8, 4 bits: FP4 or INT4). Returns 1 when model_dir holds such a checkpoint, 0 otherwise (an unquantized one, or Qwen's
 * block FP8, which loads dequantized and takes the table's recipes). */
int recipe_checkpoint(const char *model_dir, const char *name, struct recipe *out, char *name_buf, size_t n);

/* The name of an algorithm: "rtn", "gptq", "awq", "checkpoint". */
const char *recipe_algo_name(enum recipe_algo a);

/* 1 when applying r needs calibration data: a static activation range, or a GPTQ / AWQ pass. */
int recipe_needs_calibration(const struct recipe *r);

/* Number of recipes in the table, and recipe i (0 <= i < recipe_count(); CHECK). The order is the row order
 * of every table and figure: bf16 first, then the FP8 variants, then the FP4 variants. */
int recipe_count(void);
const struct recipe *recipe_at(int i);

/* Looks a name up; NULL when unknown. */
const struct recipe *recipe_by_name(const char *name);

/* Like recipe_by_name but dies with the list of known names when unknown (`what` names the source of the
 * name, e.g. "--recipe"). */
const struct recipe *recipe_by_name_or_die(const char *name, const char *what);

/* 1 for the baseline (bf16), whose numbers every other recipe is compared against. */
int recipe_is_baseline(const struct recipe *r);

/* Writes the comma-separated list of names into buf (n bytes, NUL-terminated) and returns buf. */
char *recipe_list_names(char *buf, size_t n);

/* Parses a comma-separated list of names ("all" = every recipe) into out (recipe_count() slots); returns the
 * count. Dies naming the unknown name. */
int recipe_parse_list(const char *list, const struct recipe **out, const char *what);

/* Adds the recipe's parameters to a manifest, in a fixed order: weight_format, act_format ("none" for
 * weight-only recipes) and act_scheme ("none" | "dynamic" | "static"); for non-RTN recipes also algorithm,
 * its parameters and the transform. */
struct manifest;
void recipe_manifest(struct manifest *m, const struct recipe *r);

#ifdef __cplusplus
}
#endif
#endif
