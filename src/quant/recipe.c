/* recipe -- the table of recipes (DESIGN.md "The variants (recipes), defined exactly"): one row per recipe. */
#include "quant/recipe.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "core/manifest.h"
#include "core/json_io.h"
#include "core/fileio.h"

/* The one table. Each row is the DESIGN.md definition, in words in `desc`:
 * - bf16: the checkpoint's BF16 weights (rounding an FP32 checkpoint to BF16; exact for BF16 ones);
 * - fp8: Qwen's FP8 checkpoints: E4M3 weights in 128x128 blocks, E4M3 activations in 1x128 groups, dynamic;
 * - nvfp8: ModelOpt FP8: per-tensor E4M3 weights and per-tensor static (calibrated) activations;
 * - mxfp8 / mxfp4: OCP MX both sides, dynamic E8M0 block scales along K;
 * - nvfp4: NVFP4 both sides (W4A4), activation global scale dynamic over the tensor of each call;
 * - *-w4a16: the weight-only twins, how FP4 runs on Hopper;
 * - rtn-int4 / rtn-int4-asym: plain rounding on the INT4 grids GPTQ and AWQ target (their baselines);
 * - gptq*, awq*: the algorithms (gptq.h, awq.h) on a grid; *-had: inputs rotated by a block Hadamard;
 * - int8-w8a8, gptq-w4a8: INT8 dynamic per-token activations (int8-channel on the T x K rows: one amax/127
 *   scale per row, i.e. per token). Calibration sizes: N = 128 sequences, L = 2048 (GPTQ, IST) or 512 (AWQ,
 *   AutoAWQ); drivers may override them (recorded in the manifest). */
/* IST-DASLab / llm-compressor GPTQ defaults, and AutoAWQ's (recipe.h). */
#define GPTQ_DEFAULTS {.damp = 0.01, .block = 128, .act_order = 1, .dynamic_groups = 0, .min_rows_k = 1.0}
#define AWQ_DEFAULTS {.n_grid = 20, .duo_scaling = 1, .clip = 1, .min_rows_k = 1.0, .router_fold = 0}

static const struct recipe RECIPES[] = {
    {.name = "bf16", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_BF16, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .family = RECIPE_FAMILY_BASELINE, .desc = "BF16 weights, FP32 activations (the baseline)"},
    {.name = "fp8", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_FP8_BLOCK128, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_FP8_GROUP128,
     .family = RECIPE_FAMILY_FP8, .desc = "E4M3 weights 128x128 blocks, E4M3 activations 1x128 groups, dynamic (Qwen FP8)"},
    {.name = "nvfp8", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_FP8_TENSOR, .act_mode = RECIPE_ACT_STATIC, .act = QFORMAT_FP8_TENSOR,
     .family = RECIPE_FAMILY_FP8, .desc = "E4M3 weights per tensor, E4M3 activations per tensor, static calibrated (ModelOpt FP8)"},
    {.name = "mxfp8", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_MXFP8, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_MXFP8,
     .family = RECIPE_FAMILY_FP8, .desc = "MXFP8 weights and activations, blocks of 32, E8M0 scales, dynamic (OCP MX)"},
    {.name = "nvfp4", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_NVFP4, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_NVFP4,
     .family = RECIPE_FAMILY_FP4, .desc = "NVFP4 weights and activations (W4A4), blocks of 16, E4M3 block + FP32 tensor scales, dynamic"},
    {.name = "mxfp4", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_MXFP4, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_MXFP4,
     .family = RECIPE_FAMILY_FP4, .desc = "MXFP4 weights and activations (W4A4), blocks of 32, E8M0 scales, dynamic (OCP MX)"},
    {.name = "nvfp4-w4a16", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_NVFP4, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .family = RECIPE_FAMILY_FP4, .desc = "NVFP4 weights only, activations unquantized"},
    {.name = "mxfp4-w4a16", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_MXFP4, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .family = RECIPE_FAMILY_FP4, .desc = "MXFP4 weights only, activations unquantized"},
    /* ---- INT4 / INT8 grids, GPTQ, AWQ, Hadamard (issue 10); rows above are unchanged and come first ---- */
    {.name = "rtn-int4", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_INT4_SYM, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .family = RECIPE_FAMILY_INT4, .desc = "INT4 symmetric weights, groups of 128, RTN (the baseline of gptq), activations unquantized"},
    {.name = "rtn-int4-asym", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_INT4_ASYM, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .family = RECIPE_FAMILY_INT4, .desc = "INT4 asymmetric weights (zero point), groups of 128, RTN (the baseline of awq)"},
    {.name = "gptq", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_INT4_SYM, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_INT4, .desc = "GPTQ, INT4 symmetric g128, W4A16, static act-order (llm-compressor W4A16 preset)"},
    {.name = "gptq-asym", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_INT4_ASYM, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_INT4, .desc = "GPTQ, INT4 asymmetric g128, W4A16, static act-order"},
    {.name = "awq", .algo = RECIPE_ALGO_AWQ, .weight = QFORMAT_INT4_ASYM, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .awq = AWQ_DEFAULTS, .calib_seqs = 128, .calib_len = 512,
     .family = RECIPE_FAMILY_INT4, .desc = "AWQ, INT4 asymmetric g128, W4A16 (AutoAWQ defaults: duo scaling, clip search)"},
    {.name = "gptq-nvfp4-w4a16", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_NVFP4, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_FP4, .desc = "GPTQ on the NVFP4 grid, weights only"},
    {.name = "gptq-mxfp4-w4a16", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_MXFP4, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_FP4, .desc = "GPTQ on the MXFP4 grid, weights only"},
    {.name = "awq-nvfp4-w4a16", .algo = RECIPE_ALGO_AWQ, .weight = QFORMAT_NVFP4, .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .awq = AWQ_DEFAULTS, .calib_seqs = 128, .calib_len = 512,
     .family = RECIPE_FAMILY_FP4, .desc = "AWQ on the NVFP4 grid, weights only"},
    {.name = "gptq-mxfp4-had", .algo = RECIPE_ALGO_GPTQ, .transform = RECIPE_TRANSFORM_HADAMARD, .transform_block = 128,
     .weight = QFORMAT_MXFP4, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_MXFP4,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_FP4, .desc = "Hadamard-128 rotated inputs, GPTQ MXFP4 weights, MXFP4 dynamic activations (W4A4, MR-GPTQ)"},
    {.name = "gptq-nvfp4-had", .algo = RECIPE_ALGO_GPTQ, .transform = RECIPE_TRANSFORM_HADAMARD, .transform_block = 128,
     .weight = QFORMAT_NVFP4, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_NVFP4,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_FP4, .desc = "Hadamard-128 rotated inputs, GPTQ NVFP4 weights, NVFP4 dynamic activations (W4A4, MR-GPTQ)"},
    {.name = "int8-w8a8", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_INT8_CHANNEL, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_INT8_CHANNEL,
     .family = RECIPE_FAMILY_INT8, .desc = "INT8 per-channel weights, INT8 dynamic per-token activations (amax/127 per row), RTN"},
    {.name = "gptq-w4a8", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_INT4_SYM, .act_mode = RECIPE_ACT_DYNAMIC, .act = QFORMAT_INT8_CHANNEL,
     .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_INT4, .desc = "the gptq INT4 weights with INT8 dynamic per-token activations"},
    /* ---- issue 16 (MoE): the expert-floor ablation on INT4 g64, the INT4 grid an expert of qwen3-tiny-moe can
     * hold (its down_proj has K = 192, not a multiple of 128, so the g128 rows above cannot quantize it; 192 =
     * 3 x 64). Rows above are unchanged and come first. ---- */
    {.name = "rtn-int4-g64", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_INT4_SYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16, .family = RECIPE_FAMILY_INT4,
     .desc = "INT4 symmetric weights, groups of 64, RTN (the baseline of gptq-g64)"},
    {.name = "gptq-g64", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_INT4_SYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16, .gptq = GPTQ_DEFAULTS, .calib_seqs = 128, .calib_len = 2048,
     .family = RECIPE_FAMILY_INT4, .desc = "GPTQ, INT4 symmetric g64, W4A16, static act-order, MoE expert row floor 1.0 x K"},
    {.name = "gptq-g64-nofloor", .algo = RECIPE_ALGO_GPTQ, .weight = QFORMAT_INT4_SYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .gptq = {.damp = 0.01, .block = 128, .act_order = 1, .dynamic_groups = 0, .min_rows_k = 0.0},
     .calib_seqs = 128, .calib_len = 2048, .family = RECIPE_FAMILY_INT4,
     .desc = "gptq-g64 without the MoE expert row floor (GPTQ on every expert any calibration row reached)"},
    /* AWQ on the g64 INT4 grid (asymmetric, as awq), so it applies to qwen3-tiny-moe too (awq.h "MoE"), and its
     * RTN baseline on the same grid. */
    {.name = "rtn-int4-asym-g64", .algo = RECIPE_ALGO_RTN, .weight = QFORMAT_INT4_ASYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16, .family = RECIPE_FAMILY_INT4,
     .desc = "INT4 asymmetric weights (zero point), groups of 64, RTN (the baseline of awq-g64)"},
    {.name = "awq-g64", .algo = RECIPE_ALGO_AWQ, .weight = QFORMAT_INT4_ASYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16, .awq = AWQ_DEFAULTS, .calib_seqs = 128, .calib_len = 512,
     .family = RECIPE_FAMILY_INT4,
     .desc = "AWQ, INT4 asymmetric g64, W4A16 (AutoAWQ defaults; MoE: one scale for all experts' gate/up, router input not compensated, as AutoAWQ)"},
    {.name = "awq-g64-routerfold", .algo = RECIPE_ALGO_AWQ, .weight = QFORMAT_INT4_ASYM, .weight_params = {.group_size = 64},
     .act_mode = RECIPE_ACT_NONE, .act = QFORMAT_BF16,
     .awq = {.n_grid = 20, .duo_scaling = 1, .clip = 1, .min_rows_k = 1.0, .router_fold = 1},
     .calib_seqs = 128, .calib_len = 512, .family = RECIPE_FAMILY_INT4,
     .desc = "awq-g64 with the MoE router's columns multiplied by the folded scale (its logits unchanged)"},
};

#define N_RECIPES ((int)(sizeof RECIPES / sizeof RECIPES[0]))

int recipe_count(void) { return N_RECIPES; }

const struct recipe *recipe_at(int i) {
    CHECK(i >= 0 && i < N_RECIPES, "recipe index %d out of range [0, %d)", i, N_RECIPES);
    return &RECIPES[i];
}

const struct recipe *recipe_by_name(const char *name) {
    for (int i = 0; i < N_RECIPES; i++)
        if (!strcmp(RECIPES[i].name, name)) return &RECIPES[i];
    return NULL;
}

char *recipe_list_names(char *buf, size_t n) {
    CHECK(n > 0, "empty buffer");
    buf[0] = 0;
    size_t used = 0;
    for (int i = 0; i < N_RECIPES; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "", RECIPES[i].name);
        if (w < 0 || (size_t)w >= n - used) break;   /* truncated: keep what fits */
        used += (size_t)w;
    }
    return buf;
}

const struct recipe *recipe_by_name_or_die(const char *name, const char *what) {
    const struct recipe *r = recipe_by_name(name);
    if (!r) {
        char names[1024];   /* 26 names today: ~330 bytes */
        die("%s: unknown recipe '%s' (known: %s)", what, name, recipe_list_names(names, sizeof names));
    }
    return r;
}

int recipe_is_baseline(const struct recipe *r) { return r->family == RECIPE_FAMILY_BASELINE; }

int recipe_parse_list(const char *list, const struct recipe **out, const char *what) {
    if (!strcmp(list, "all")) {
        for (int i = 0; i < N_RECIPES; i++) out[i] = &RECIPES[i];
        return N_RECIPES;
    }
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name) die_usage("%s: bad recipe list '%s'", what, list);
        memcpy(name, p, len);
        name[len] = 0;
        const struct recipe *r = recipe_by_name_or_die(name, what);
        /* A recipe named twice runs once: the list is a set, kept in the order given. */
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= out[i] == r;
        if (!dup) {
            CHECK(n < N_RECIPES, "too many recipes");
            out[n++] = r;
        }
        p += len + (e ? 1 : 0);
    }
    if (n == 0) die_usage("%s: empty recipe list", what);
    return n;
}

const char *recipe_algo_name(enum recipe_algo a) {
    static const char *const NAMES[] = {[RECIPE_ALGO_RTN] = "rtn", [RECIPE_ALGO_GPTQ] = "gptq", [RECIPE_ALGO_AWQ] = "awq",
                                        [RECIPE_ALGO_CHECKPOINT] = "checkpoint"};
    CHECK((int)a >= 0 && a <= RECIPE_ALGO_CHECKPOINT, "bad algorithm %d", (int)a);
    return NAMES[a];
}

int recipe_needs_calibration(const struct recipe *r) {
    if (r->algo == RECIPE_ALGO_CHECKPOINT) return 0;   /* its ranges came with the checkpoint */
    return r->act_mode == RECIPE_ACT_STATIC || r->algo != RECIPE_ALGO_RTN;
}

/* The largest "num_bits" / "bits" anywhere in the quantization_config: the weight width for every layout the
 * loader reads (compressed-tensors config_groups.*.weights.num_bits, AutoAWQ / GPTQ bits; ModelOpt NVFP4 has
 * none and is 4-bit, its FP8 is 8-bit: quant_algo says which). */
static int config_bits(const cJSON *o) {
    int best = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (cJSON_IsNumber(c) && c->string && (!strcmp(c->string, "num_bits") || !strcmp(c->string, "bits")))
            best = c->valueint > best ? c->valueint : best;
        if (cJSON_IsString(c) && c->string && !strcmp(c->string, "quant_algo"))
            best = strstr(c->valuestring, "FP4") ? (best ? best : 4) : (best ? best : 8);
        int sub = config_bits(c);
        best = sub > best ? sub : best;
    }
    return best;
}

/* 1 when the weights are integers: AutoAWQ and GPTQ always, compressed-tensors when a "type" is "int". */
static int config_is_int(const cJSON *o) {
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && c->string && !strcmp(c->string, "type") && !strcmp(c->valuestring, "int")) return 1;
        if (cJSON_IsString(c) && c->string && !strcmp(c->string, "quant_method") &&
            (!strcmp(c->valuestring, "awq") || !strcmp(c->valuestring, "gptq")))
            return 1;
        if (config_is_int(c)) return 1;
    }
    return 0;
}

int recipe_checkpoint(const char *model_dir, const char *name, struct recipe *out, char *name_buf, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", model_dir);
    if (!file_exists(path)) return 0;
    cJSON *cfg = json_read_file(path);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(cfg, "quantization_config");
    const cJSON *m = q ? cJSON_GetObjectItemCaseSensitive(q, "quant_method") : NULL;
    int other = cJSON_IsString(m) && strcmp(m->valuestring, "fp8") != 0;
    snprintf(path, sizeof path, "%s/hf_quant_config.json", model_dir);
    cJSON *hq = !other && file_exists(path) ? json_read_file(path) : NULL;   /* ModelOpt's own file */
    if (!other && !hq) {
        cJSON_Delete(cfg);
        return 0;
    }
    int bits = config_bits(other ? q : hq);
    memset(out, 0, sizeof *out);
    snprintf(name_buf, n, "%s", name);
    out->name = name_buf;
    out->algo = RECIPE_ALGO_CHECKPOINT;
    out->weight = QFORMAT_BF16;   /* unused: the values are the checkpoint's */
    const int is_int = config_is_int(other ? q : hq);
    out->family = bits >= 8 ? (is_int ? RECIPE_FAMILY_INT8 : RECIPE_FAMILY_FP8) : (is_int ? RECIPE_FAMILY_INT4 : RECIPE_FAMILY_FP4);
    out->desc = "a checkpoint quantized by another tool, as loaded";
    cJSON_Delete(hq);
    cJSON_Delete(cfg);
    return 1;
}

void recipe_manifest(struct manifest *m, const struct recipe *r) {
    if (r->algo == RECIPE_ALGO_CHECKPOINT) {
        /* What the values are is the checkpoint's business: its files are the manifest's inputs. */
        manifest_param_str(m, "algorithm", "checkpoint");
        return;
    }
    static const char *const SCHEME[] = {[RECIPE_ACT_NONE] = "none", [RECIPE_ACT_DYNAMIC] = "dynamic",
                                         [RECIPE_ACT_STATIC] = "static"};
    manifest_param_str(m, "weight_format", qformat_name(r->weight));
    manifest_param_str(m, "act_format", r->act_mode == RECIPE_ACT_NONE ? "none" : qformat_name(r->act));
    manifest_param_str(m, "act_scheme", SCHEME[r->act_mode]);
    /* RTN recipes without a transform keep exactly the three parameters above (their cache identity predates
     * the algorithms); everything else names what it adds. */
    char label[64];
    if (r->weight_params.group_size || r->weight_params.mx_rule || r->weight_params.observer ||
        r->weight_params.int4_rule || r->weight_params.nvfp4_rule)
        manifest_param_str(m, "weight_grid", qformat_label(r->weight, &r->weight_params, label, sizeof label));
    if (r->algo != RECIPE_ALGO_RTN) manifest_param_str(m, "algorithm", recipe_algo_name(r->algo));
    if (r->algo == RECIPE_ALGO_GPTQ) {
        manifest_param_num(m, "gptq_damp", r->gptq.damp);
        manifest_param_int(m, "gptq_block", r->gptq.block);
        manifest_param_int(m, "gptq_act_order", r->gptq.act_order);
        manifest_param_int(m, "gptq_dynamic_groups", r->gptq.dynamic_groups);
    } else if (r->algo == RECIPE_ALGO_AWQ) {
        manifest_param_int(m, "awq_n_grid", r->awq.n_grid);
        manifest_param_int(m, "awq_duo_scaling", r->awq.duo_scaling);
        manifest_param_int(m, "awq_clip", r->awq.clip);
        if (r->awq.router_fold) manifest_param_int(m, "awq_router_fold", r->awq.router_fold);
    }
    if (r->transform == RECIPE_TRANSFORM_HADAMARD)
        manifest_param_int(m, "hadamard_block", r->transform_block ? r->transform_block : 128);
}
