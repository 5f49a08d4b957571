/* src/harness/harness.h -- the plumbing every accuracy driver shares (e02, e03, e04, e05 ...), so a driver only
 * says what it measures: the common flags (model, results, data, recipes, backend, windows, context,
 * calibration size, seed, force), the recipe loop with its cache plan (a cached result is never recomputed; a
 * result computed from the pinned data files is never replaced by one from sampled text without --force), the
 * once-per-run calibration state (static activation ranges measured on the BF16 model; the calibration token
 * stream for static, GPTQ and AWQ recipes), loading a model quantized by a recipe behind an engine, and the
 * sampled-text fallback when no data file exists.
 * Typical driver: harness_init; parse its own flags + harness_parse_common; harness_plan(manifest_fn);
 * for each i with h.todo[i]: harness_open_recipe -> measure -> manifest_write_result -> harness_close_recipe.
 * API: harness_defaults / harness_parse_common / harness_init / harness_plan / harness_manifest_* /
 * harness_open_recipe / harness_close_recipe / harness_sample / harness_free. */
#ifndef SRC_HARNESS_HARNESS_H
#define SRC_HARNESS_HARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "core/manifest.h"
#include "data/dataset.h"
#include "engine/engine.h"
#include "model/qwen3.h"
#include "model/qwen3_config.h"
#include "quant/calib.h"
#include "quant/calib_set.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The flags every accuracy driver takes. Defaults (harness_defaults) live here and in the specs only. */
struct harness_opts {
    const char *model;         /* --model DIR: models/qwen3-tiny */
    const char *results;       /* --results DIR: results */
    const char *data_dir;      /* --data-dir DIR: NULL (the search order of data/dataset.h) */
    const char *recipes;       /* --recipes LIST|all: all */
    const char *backend;       /* --backend cpu|cuda: cpu */
    const char *results_model; /* --results-model NAME: the results folder's model name (default: the model
                                  folder's name; a quantized checkpoint's row sits beside its base model's
                                  recipes with --results-model <base>) */
    int64_t windows;           /* --windows N: 3 (0 = every window) */
    int64_t ctx;               /* --ctx N: 2048 (capped by max_position_embeddings) */
    int64_t calib_seqs;        /* --calib-seqs N: 16 (static activation ranges) */
    int64_t calib_len;         /* --calib-len N: 512 */
    int64_t algo_calib_seqs;   /* --algo-calib-seqs N: 8 (GPTQ / AWQ; 0 = the recipe's own 128) */
    int64_t algo_calib_len;    /* --algo-calib-len N: 0 (the recipe's own: GPTQ 2048, AWQ 512) */
    const char *calib_source;  /* --calib-source c4|train: c4 (calib_set.h) */
    uint64_t seed;             /* --seed S: 1 */
    int force;                 /* --force */
};

/* The usage lines of the common flags, for a driver's --help. */
extern const char HARNESS_USAGE[];

void harness_defaults(struct harness_opts *o);

/* Consumes argv[*i] (and its value, advancing *i) when it is a common flag; returns 1 then, 0 otherwise.
 * A bad value dies with a usage error (exit 2). */
int harness_parse_common(struct harness_opts *o, int argc, char **argv, int *i);

struct harness {
    struct harness_opts o;
    const char *experiment;
    const char *model;                 /* results name of the model folder */
    char model_buf[1024];
    char model_dir[4096];              /* o.model resolved (a Hugging Face id -> its cached snapshot folder) */
    struct qwen3_config cfg;
    int64_t ctx;                       /* --ctx capped by the model's context */
    char backend_sha256[SHA256_HEX_LEN];   /* "" for cpu (engine_backend_identity) */
    struct calib_set calib;            /* where calibration tokens come from */
    /* a checkpoint quantized by another tool: its one recipe, named after it (recipe_checkpoint) */
    int is_checkpoint;
    struct recipe ckpt_recipe;
    char ckpt_name[256];
    const struct recipe *ckpt_list[1];
    /* the recipe loop */
    const struct recipe **recipes;
    int n_rec;
    struct manifest *mans;             /* one per recipe, sealed by harness_plan */
    int *todo;                         /* 1 = compute (not cached) */
    int n_todo;
    /* once per run, filled on first need */
    struct dataset_tokens calib_tok;
    struct calib ranges;
    int have_calib_tok;
};

/* Reads the model's config (dies naming the file), resolves the context and the calibration source. */
void harness_init(struct harness *h, const char *experiment, const struct harness_opts *o);

/* Fills one recipe's manifest. The driver's fill() calls harness_manifest_begin (manifest_init), adds its own
 * parameters, harness_manifest_recipe (the recipe's parameters and its calibration set), its inputs
 * (manifest_input_checkpoint, data files), then harness_manifest_end (backend code hash, device, seal). */
typedef void (*harness_manifest_fn)(void *ctx, struct harness *h, struct manifest *m, const struct recipe *r);
void harness_manifest_begin(struct harness *h, struct manifest *m, const struct recipe *r);
void harness_manifest_recipe(struct harness *h, struct manifest *m, const struct recipe *r);
void harness_manifest_end(struct harness *h, struct manifest *m);

/* The recipe loop's plan: parses --recipes, builds every manifest with fill, and marks what to compute (not a
 * cache hit; with `sampled` set, results computed from the data files are kept). Logs each decision. Returns
 * n_todo. */
int harness_plan(struct harness *h, harness_manifest_fn fill, void *ctx, int sampled);

/* harness_plan over the driver's own n recipes (list[i] must outlive the harness: e05's grid of calibration
 * sizes and group sizes is made of recipes that are not rows of the table). */
int harness_plan_recipes(struct harness *h, const struct recipe *const *list, int n, harness_manifest_fn fill,
                         void *ctx, int sampled);

/* 1 when some recipe to compute needs calibration tokens (static ranges, GPTQ, AWQ). */
int harness_needs_calibration(const struct harness *h);

/* Loads the checkpoint, quantizes it by r (calibrating once per run where needed, on the BF16 model) and opens
 * an engine on it with the run's backend. *m_out receives the model, st (may be NULL) what quant_apply did. */
struct engine *harness_open_recipe(struct harness *h, const struct recipe *r, struct qwen3_model **m_out,
                                   struct quant_stats *st);
void harness_close_recipe(struct engine *e, struct qwen3_model *m);

/* GPTQ on an MoE model (st->n_expert_hessians > 0): adds expert_rows_min, expert_rows_median,
 * expert_rows_max, n_experts_below_floor and n_expert_rtn to a result's metrics (gptq_layers.h); nothing
 * otherwise, so dense results keep their exact keys. */
struct cJSON;
void quant_stats_add_expert_metrics(struct cJSON *metrics, const struct quant_stats *st);

/* The sampled-text fallback: n_seqs x seq_len tokens sampled from the BF16 checkpoint (dataset_tokens_sample,
 * from <|endoftext|>) with seed, named name. */
void harness_sample(struct harness *h, int64_t n_seqs, int64_t seq_len, uint64_t seed, const char *name,
                    struct dataset_tokens *out);

/* Logs the end of the loop ("N recipe(s) computed in S s, M cache hit(s)") and frees everything. */
void harness_free(struct harness *h, double t0);

#ifdef __cplusplus
}
#endif
#endif
