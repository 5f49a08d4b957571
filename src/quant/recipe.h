/* recipe -- the named variants of the study (DESIGN.md "The variants"): weight scheme + activation scheme.
 * A recipe says how every Linear inside the decoder blocks is quantized: the weight scheme of src/formats,
 * and, for W8A8 / W4A4 recipes, the scheme the input activations are quantize-dequantized with at the input of
 * every such Linear, either dynamically (scales from the activations themselves, per token / group / block, or
 * per tensor over the T x K rows of one call) or statically (one calibrated per-tensor amax, nvfp8 only).
 * Embeddings, lm_head, norms and the MoE router never change. RTN recipes only; AWQ / GPTQ live elsewhere.
 * Names are file names, JSON keys and figure labels: bf16 fp8 nvfp8 mxfp8 nvfp4 mxfp4 nvfp4-w4a16 mxfp4-w4a16. */
#ifndef SRC_QUANT_RECIPE_H
#define SRC_QUANT_RECIPE_H

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the activations entering a quantized Linear are treated. */
enum recipe_act {
    RECIPE_ACT_NONE = 0,   /* weight-only (W*A16): activations stay FP32 in the engine */
    RECIPE_ACT_DYNAMIC,    /* scales computed from each call's activations */
    RECIPE_ACT_STATIC      /* one per-tensor amax per Linear, from a calibration pass (struct calib) */
};

/* Family used by the seed's targets (e08): FP8 variants must keep >= 95 % of BF16, FP4 variants >= 90 %. */
enum recipe_family {
    RECIPE_FAMILY_BASELINE = 0,
    RECIPE_FAMILY_FP8,
    RECIPE_FAMILY_FP4
};

struct recipe {
    const char *name;          /* canonical name, e.g. "nvfp4-w4a16" */
    enum qformat weight;       /* weight scheme of every decoder-block Linear */
    enum recipe_act act_mode;  /* activation treatment */
    enum qformat act;          /* activation scheme (meaningful only when act_mode != RECIPE_ACT_NONE) */
    enum recipe_family family;
    const char *desc;          /* one line for tables and --help */
};

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
 * weight-only recipes) and act_scheme ("none" | "dynamic" | "static"). */
struct manifest;
void recipe_manifest(struct manifest *m, const struct recipe *r);

#ifdef __cplusplus
}
#endif
#endif
