/* harness -- the shared driver plumbing; see harness.h. */
#include "harness/harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/cli.h"
#include "core/timer.h"
#include "model/hf_cache.h"
#include "model/tokenizer.h"
#include "ops/linear.h"

#include <cjson/cJSON.h>

const char HARNESS_USAGE[] =
    "  --model DIR          HF checkpoint folder (default models/qwen3-tiny)\n"
    "  --results DIR        results root (default results)\n"
    "  --data-dir DIR       evaluation data (default search: $QL_DATA_DIR, ./data, ../shared/data)\n"
    "  --recipes LIST|all   comma-separated recipe names (default all)\n"
    "  --backend cpu|cuda   engine backend (default cpu)\n"
    "  --results-model NAME results/<NAME>/ instead of the model folder's name (a quantized checkpoint beside\n"
    "                       its base model's recipes)\n"
    "  --windows N          windows of --ctx tokens per corpus, 0 = all (default 3)\n"
    "  --ctx N              window length, capped by max_position_embeddings (default 2048)\n"
    "  --calib-seqs N       calibration sequences of static-activation recipes (default 16)\n"
    "  --calib-len N        tokens per calibration sequence (default 512)\n"
    "  --algo-calib-seqs N  GPTQ / AWQ calibration sequences (default 8, affordable on 2 cores for\n"
    "                       qwen3-tiny; 0 = the recipe's own 128)\n"
    "  --algo-calib-len N   GPTQ / AWQ tokens per sequence (default 0 = the recipe's: GPTQ 2048, AWQ 512)\n"
    "  --calib-source c4|train  calibration text: the C4 calibration documents (default) or the tiny models'\n"
    "                       training text (../shared/corpus/train.txt.xz)\n"
    "  --seed S             seed of sampled text, calibration samples and bootstraps (default 1)\n"
    "  --force              recompute even when a cached result exists\n";

void harness_defaults(struct harness_opts *o) {
    memset(o, 0, sizeof *o);
    o->model = "models/qwen3-tiny";
    o->results = "results";
    o->recipes = "all";
    o->backend = "cpu";
    o->windows = 3;
    o->ctx = 2048;
    o->calib_seqs = 16;
    o->calib_len = 512;
    o->algo_calib_seqs = 8;
    o->algo_calib_len = 0;
    o->calib_source = "c4";
    o->seed = 1;
}

int harness_parse_common(struct harness_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    int has_val = *i + 1 < argc;
    if (!strcmp(a, "--force")) o->force = 1;
    else if (!has_val) return 0;
    else if (!strcmp(a, "--model")) o->model = argv[++*i];
    else if (!strcmp(a, "--results")) o->results = argv[++*i];
    else if (!strcmp(a, "--data-dir")) o->data_dir = argv[++*i];
    else if (!strcmp(a, "--recipes")) o->recipes = argv[++*i];
    else if (!strcmp(a, "--results-model")) o->results_model = argv[++*i];
    else if (!strcmp(a, "--windows")) o->windows = cli_int(a, argv[++*i], 0);
    else if (!strcmp(a, "--ctx")) o->ctx = cli_int(a, argv[++*i], 2);
    else if (!strcmp(a, "--calib-seqs")) o->calib_seqs = cli_int(a, argv[++*i], 1);
    else if (!strcmp(a, "--calib-len")) o->calib_len = cli_int(a, argv[++*i], 2);
    else if (!strcmp(a, "--algo-calib-seqs")) o->algo_calib_seqs = cli_int(a, argv[++*i], 0);
    else if (!strcmp(a, "--algo-calib-len")) o->algo_calib_len = cli_int(a, argv[++*i], 0);
    else if (!strcmp(a, "--seed")) o->seed = (uint64_t)cli_int(a, argv[++*i], 0);
    else if (!strcmp(a, "--calib-source")) {
        o->calib_source = argv[++*i];
        if (calib_source_by_name(o->calib_source) < 0)
            die_usage("--calib-source: expected c4 or train, got '%s'", o->calib_source);
    }
    else if (!strcmp(a, "--backend")) {
        o->backend = argv[++*i];
        if (strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))
            die_usage("--backend: expected cpu or cuda, got '%s'", o->backend);
    } else return 0;
    return 1;
}

void harness_init(struct harness *h, const char *experiment, const struct harness_opts *o) {
    /* A --data-dir that is not a folder is a mistake, never a silent fall-back to the default search. */
    struct stat sd;
    if (o->data_dir && (stat(o->data_dir, &sd) != 0 || !S_ISDIR(sd.st_mode)))
        die_usage("--data-dir %s: not a folder (expected the folder holding wikitext-2/, c4/, ...)", o->data_dir);
    memset(h, 0, sizeof *h);
    h->o = *o;
    h->experiment = experiment;
    h->model = manifest_model_name(o->model, h->model_buf, sizeof h->model_buf);
    /* A Hugging Face id ("Qwen/Qwen3-8B") names the results after its last part and reads the cached snapshot,
     * so the manifest hashes the files actually loaded (issue 13, model/hf_cache.h). */
    char *dir = hf_cache_resolve(o->model);
    snprintf(h->model_dir, sizeof h->model_dir, "%s", dir);
    free(dir);
    h->o.model = h->model_dir;
    qwen3_config_load(&h->cfg, h->o.model);
    /* A checkpoint another tool quantized is evaluated as it is: its one recipe, named after the folder. */
    char folder[256];
    h->is_checkpoint = recipe_checkpoint(h->o.model, manifest_model_name(h->o.model, folder, sizeof folder),
                                         &h->ckpt_recipe, h->ckpt_name, sizeof h->ckpt_name);
    if (o->results_model) {
        if (!*o->results_model || strchr(o->results_model, '/'))
            die_usage("--results-model: expected a folder name, got '%s'", o->results_model);
        h->model = o->results_model;
    }
    h->ctx = o->ctx < h->cfg.max_pos ? o->ctx : h->cfg.max_pos;
    /* Fails here, before any work, when --backend cuda has no engine library in this build. */
    engine_backend_identity(o->backend, h->backend_sha256);
    calib_set_init(&h->calib, o->data_dir, o->calib_seqs, o->calib_len, o->seed + CALIB_SET_SEED_OFFSET);
    if (calib_source_by_name(o->calib_source) == CALIB_SOURCE_TRAIN) calib_set_use_train(&h->calib);
}

/* ---- manifests and the plan ---- */

/* The calibration set of an algorithm recipe (GPTQ, AWQ): the same source; its size from quant_calib_size
 * (the recipe's own, length capped by the model's context) unless --algo-calib-* override it. */
static struct calib_set algo_calib(const struct harness *h, const struct recipe *r) {
    struct calib_set cs;
    calib_set_init_algo(&cs, r, h->o.data_dir, h->cfg.max_pos, h->o.algo_calib_seqs, h->o.algo_calib_len,
                        h->o.seed + CALIB_SET_SEED_OFFSET);
    if (calib_source_by_name(h->o.calib_source) == CALIB_SOURCE_TRAIN) calib_set_use_train(&cs);
    return cs;
}

void harness_manifest_begin(struct harness *h, struct manifest *m, const struct recipe *r) {
    manifest_init(m, h->o.results, h->experiment, h->model, r->name);
}

/* The recipe's own parameters follow the driver's, as they always have (a fixed order keeps keys stable). */
static void manifest_recipe(struct harness *h, struct manifest *m, const struct recipe *r) {
    recipe_manifest(m, r);
    if (r->act_mode == RECIPE_ACT_STATIC) calib_set_manifest(m, &h->calib);
    if (r->algo == RECIPE_ALGO_GPTQ || r->algo == RECIPE_ALGO_AWQ) {
        struct calib_set cs = algo_calib(h, r);
        calib_set_manifest(m, &cs);
        calib_set_free(&cs);
    }
    /* The expert row floor acts on MoE models only: named there, absent from dense manifests (whose cache
     * identity it does not change). */
    if (r->algo == RECIPE_ALGO_GPTQ && h->cfg.E > 0) manifest_param_num(m, "gptq_min_rows_k", r->gptq.min_rows_k);
    if (r->algo == RECIPE_ALGO_AWQ && h->cfg.E > 0) manifest_param_num(m, "awq_min_rows_k", r->awq.min_rows_k);
}

void quant_stats_add_expert_metrics(struct cJSON *metrics, const struct quant_stats *st) {
    if (st->n_expert_hessians == 0) return;
    cJSON_AddNumberToObject(metrics, "expert_rows_min", (double)st->expert_rows_min);
    cJSON_AddNumberToObject(metrics, "expert_rows_median", (double)st->expert_rows_median);
    cJSON_AddNumberToObject(metrics, "expert_rows_max", (double)st->expert_rows_max);
    cJSON_AddNumberToObject(metrics, "n_experts_below_floor", (double)st->n_experts_below_floor);
    cJSON_AddNumberToObject(metrics, "n_expert_rtn", (double)st->n_expert_rtn);
}

void harness_manifest_end(struct harness *h, struct manifest *m) {
    if (h->backend_sha256[0]) manifest_param_str(m, "backend_sha256", h->backend_sha256);
    /* Where the result is computed (the last bits of a CPU GEMM depend on the BLAS build: ops/linear.h). */
    manifest_device(m, strcmp(h->o.backend, "cpu") ? "cuda" : linear_backend_desc());
    manifest_seal(m);
}

int harness_plan(struct harness *h, harness_manifest_fn fill, void *ctx, int sampled) {
    const struct recipe **list = xmalloc((size_t)recipe_count() * sizeof *list);
    int n;
    if (h->is_checkpoint) {
        if (strcmp(h->o.recipes, "all") && strcmp(h->o.recipes, h->ckpt_recipe.name))
            die_usage("--recipes: %s is a checkpoint quantized by another tool; it is evaluated as it is (recipe '%s'), "
                      "other recipes apply to unquantized checkpoints", h->o.model, h->ckpt_recipe.name);
        list[0] = &h->ckpt_recipe;
        n = 1;
    } else {
        n = recipe_parse_list(h->o.recipes, list, "--recipes");
    }
    int n_todo = harness_plan_recipes(h, list, n, fill, ctx, sampled);
    free(list);
    return n_todo;
}

int harness_plan_recipes(struct harness *h, const struct recipe *const *list, int n, harness_manifest_fn fill,
                         void *ctx, int sampled) {
    h->recipes = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *h->recipes);
    for (int i = 0; i < n; i++) h->recipes[i] = list[i];
    h->n_rec = n;
    h->mans = xcalloc((size_t)h->n_rec, sizeof *h->mans);
    h->todo = xcalloc((size_t)h->n_rec, sizeof *h->todo);
    for (int i = 0; i < h->n_rec; i++) {
        struct manifest *m = &h->mans[i];
        fill(ctx, h, m, h->recipes[i]);
        if (!h->o.force && manifest_cache_hit(m)) {
            fprintf(stderr, "%s: %-12s cache hit (%s)\n", check_progname(), h->recipes[i]->name, m->result_path);
            continue;
        }
        if (!h->o.force && sampled && manifest_existing_param_is(m, "data", "files")) {
            warn("%s: keeping results computed from the pinned data files; without the data this run would "
                 "score sampled text instead (--force replaces them)", m->result_path);
            continue;
        }
        manifest_print(m, stderr);
        h->todo[i] = 1;
        h->n_todo++;
    }
    if (!h->n_todo) fprintf(stderr, "%s: all %d recipe(s) cached\n", check_progname(), h->n_rec);
    return h->n_todo;
}

void harness_manifest_recipe(struct harness *h, struct manifest *m, const struct recipe *r) { manifest_recipe(h, m, r); }

int harness_needs_calibration(const struct harness *h) {
    for (int i = 0; i < h->n_rec; i++)
        if (h->todo[i] && recipe_needs_calibration(h->recipes[i])) return 1;
    return 0;
}

/* ---- loading a recipe ---- */

struct engine *harness_open_recipe(struct harness *h, const struct recipe *r, struct qwen3_model **m_out,
                                   struct quant_stats *st) {
    if (h->is_checkpoint && r->algo != RECIPE_ALGO_CHECKPOINT)
        die("%s: a checkpoint quantized by another tool is evaluated as it is (recipe '%s'); recipe '%s' applies to "
            "unquantized checkpoints", h->o.model, h->ckpt_recipe.name, r->name);
    struct qwen3_model *m = qwen3_load(h->o.model);
    struct quant_calib qc = {&h->ranges, NULL, 0, 0};
    struct dataset_tokens algo_tok = {0};
    if (r->act_mode == RECIPE_ACT_STATIC) {
        if (!h->have_calib_tok) {
            struct tokenizer *tok = tokenizer_load(h->o.model);
            calib_set_tokens(&h->calib, tok, h->o.model, &h->calib_tok);
            tokenizer_free(tok);
            h->have_calib_tok = 1;
        }
        /* Once per run, on the BF16 model (this one, before its weights change). */
        calib_set_calibrate(&h->calib, &h->ranges, m, &h->calib_tok);
    }
    if (r->algo == RECIPE_ALGO_GPTQ || r->algo == RECIPE_ALGO_AWQ) {
        struct calib_set cs = algo_calib(h, r);
        calib_set_algo_tokens(&cs, h->o.model, &algo_tok, &qc);
        calib_set_free(&cs);
    }
    quant_apply(m, r, &qc, st);
    dataset_tokens_free(&algo_tok);
    *m_out = m;
    return engine_create(m, h->o.backend);
}

void harness_close_recipe(struct engine *e, struct qwen3_model *m) {
    engine_free(e);
    qwen3_free(m);
}

void harness_sample(struct harness *h, int64_t n_seqs, int64_t seq_len, uint64_t seed, const char *name,
                    struct dataset_tokens *out) {
    struct tokenizer *tok = tokenizer_load(h->o.model);
    int32_t first = tokenizer_token_id(tok, "<|endoftext|>");
    tokenizer_free(tok);
    struct qwen3_model *m0 = qwen3_load(h->o.model);
    struct engine *e = engine_create(m0, "cpu");
    fprintf(stderr, "%s: no data files: sampling %lld x %lld tokens from the BF16 model (seed %llu)\n",
            check_progname(), (long long)n_seqs, (long long)seq_len, (unsigned long long)seed);
    dataset_tokens_sample(out, e, first < 0 ? 0 : first, n_seqs, seq_len, seed, name);
    engine_free(e);
    qwen3_free(m0);
}

void harness_free(struct harness *h, double t0) {
    if (h->n_todo)
        fprintf(stderr, "%s: %d recipe(s) computed in %.1f s, %d cache hit(s)\n", check_progname(), h->n_todo,
                monotonic_seconds() - t0, h->n_rec - h->n_todo);
    for (int i = 0; i < h->n_rec; i++) manifest_free(&h->mans[i]);
    free(h->mans);
    free(h->todo);
    free(h->recipes);
    calib_free(&h->ranges);
    dataset_tokens_free(&h->calib_tok);
    calib_set_free(&h->calib);
}
