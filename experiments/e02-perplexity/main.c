/* e02-perplexity -- WikiText-2 and C4 perplexity of every recipe; spec: spec.en.md (spec.zh.md)
 * Usage: build/bin/e02-perplexity [--force] [--model DIR] [--backend cpu] [--results DIR] [--data-dir DIR]
 *        [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N] [--seed S]
 * Writes: results/<model>/e02-perplexity/<recipe>.json (atomically), one per recipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, xmalloc
#include "core/cli.h"            // defines: cli_int, cli_backend_cpu_only
#include "core/json_io.h"        // defines: json_read_file, json_get
#include "ops/linear.h"          // defines: linear_backend_desc
#include "core/manifest.h"       // defines: manifest_init, manifest_seal, manifest_cache_hit, manifest_write_result
#include "eval/dataset.h"        // defines: dataset_tokens_load, dataset_tokens_sample, dataset_find
#include "eval/perplexity.h"     // defines: perplexity_run, perplexity_n_windows
#include "model/qwen3_cpu.h"     // defines: qwen3_load, qwen3_cpu_forward
#include "model/tokenizer.h"     // defines: tokenizer_load, tokenizer_token_id
#include "quant/calib.h"         // defines: calib_run, calib_free
#include "quant/calib_set.h"     // defines: calib_set_init, calib_set_manifest, calib_set_tokens, calib_set_calibrate
#include "quant/recipe.h"        // defines: recipe_parse_list, recipe_count
#include "quant/quantize.h"      // defines: quant_apply

#define E02_NAME "e02-perplexity"
#define E02_MAX_CORPORA 2

struct e02_params {
    const char *model, *results, *data_dir, *recipes;
    int64_t windows, ctx, calib_seqs, calib_len, algo_calib_seqs, algo_calib_len;
    uint64_t seed;
    int force;
};

static struct e02_params e02_defaults(void) {
    /* Defaults live here and in the spec only; windows = 0 means every window of the corpus. */
    struct e02_params p = {.model = "models/qwen3-tiny", .results = "results", .data_dir = NULL,
                           .recipes = "all", .windows = 3, .ctx = 2048, .calib_seqs = 16, .calib_len = 512,
                           .algo_calib_seqs = 8, .algo_calib_len = 0,
                           .seed = 1, .force = 0};
    return p;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: e02-perplexity [--force] [--model DIR] [--backend cpu] [--results DIR] [--data-dir DIR]\n"
            "                      [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N]\n"
            "                      [--algo-calib-seqs N] [--algo-calib-len N] [--seed S]\n"
            "Perplexity of each recipe on WikiText-2 test and the C4 slice (non-overlapping windows of --ctx\n"
            "tokens, capped by the model's max_position_embeddings; --windows 0 = all windows, the published\n"
            "protocol). Writes results/<model>/e02-perplexity/<recipe>.json. Without data files, text sampled\n"
            "from the BF16 model (seed --seed) is scored instead, and the results say so. --calib-* size the\n"
            "static-activation calibration; --algo-calib-* the GPTQ / AWQ pass (default 8 sequences of the\n"
            "recipe's own length, 2048 GPTQ / 512 AWQ: affordable on 2 cores for qwen3-tiny; 0 = the recipe's\n"
            "own 128 sequences).\n");
}

static void e02_parse_args(struct e02_params *p, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--force")) p->force = 1;
        else if (!strcmp(a, "--model") && has_val) p->model = argv[++i];
        else if (!strcmp(a, "--results") && has_val) p->results = argv[++i];
        else if (!strcmp(a, "--data-dir") && has_val) p->data_dir = argv[++i];
        else if (!strcmp(a, "--recipes") && has_val) p->recipes = argv[++i];
        else if (!strcmp(a, "--windows") && has_val) p->windows = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--ctx") && has_val) p->ctx = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--calib-seqs") && has_val) p->calib_seqs = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-len") && has_val) p->calib_len = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--algo-calib-seqs") && has_val) p->algo_calib_seqs = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--algo-calib-len") && has_val) p->algo_calib_len = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--seed") && has_val) p->seed = (uint64_t)cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--backend") && has_val) cli_backend_cpu_only(argv[++i]);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
}

/* ---- inputs shared by every recipe ---- */

/* One evaluation corpus: a pinned file, or (no file at all) text sampled from the BF16 model. */
struct corpus {
    enum dataset_corpus id;
    const char *name;                  /* "wikitext2", "c4" or "sampled" */
    char *path;                        /* NULL when sampled */
    struct dataset_tokens tok;         /* filled only when some recipe runs */
};

struct plan {
    struct e02_params p;
    const char *model;                 /* results name */
    int64_t ctx;                       /* window length actually used */
    int64_t ctx_model;                 /* the model's max_position_embeddings */
    int n_corpora, sampled;
    struct corpus corpora[E02_MAX_CORPORA];
    struct calib_set calib;            /* the calibration tokens of static-activation recipes */
    int64_t sample_windows;            /* windows sampled when no data file exists */
};

static void manifest_corpora(struct manifest *m, const struct plan *pl) {
    for (int i = 0; i < pl->n_corpora; i++) {
        const struct corpus *c = &pl->corpora[i];
        if (c->path) {
            const struct dataset_file *f = dataset_corpus_file(c->id);
            manifest_input(m, f->name, c->path, f->sha256);
        }
    }
}

/* The calibration set of a GPTQ / AWQ recipe (its own size unless --algo-calib-* say otherwise). */
static void algo_calib_init(struct calib_set *cs, const struct plan *pl, const struct recipe *r) {
    calib_set_init_algo(cs, r, pl->p.data_dir, pl->ctx_model, pl->p.algo_calib_seqs, pl->p.algo_calib_len,
                        pl->p.seed + CALIB_SET_SEED_OFFSET);
}

static void e02_manifest(struct manifest *m, const struct plan *pl, const struct recipe *r) {
    manifest_init(m, pl->p.results, E02_NAME, pl->model, r->name);
    manifest_param_int(m, "ctx", pl->ctx);
    manifest_param_int(m, "windows", pl->p.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
    if (pl->sampled) {
        manifest_param_int(m, "sample_seed", (int64_t)pl->p.seed);
        manifest_param_int(m, "sample_windows", pl->sample_windows);
    }
    recipe_manifest(m, r);
    if (r->act_mode == RECIPE_ACT_STATIC) calib_set_manifest(m, &pl->calib);
    if (r->algo != RECIPE_ALGO_RTN) {
        struct calib_set cs;
        algo_calib_init(&cs, pl, r);
        calib_set_manifest(m, &cs);
        calib_set_free(&cs);
    }
    manifest_input_checkpoint(m, pl->p.model);
    manifest_corpora(m, pl);
    manifest_device(m, linear_backend_desc());  /* the last bits of a GEMM depend on it: see linear.h */
    manifest_seal(m);
}

/* ---- running ---- */

static void logits_fn(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    qwen3_cpu_forward(ctx, ids, T, 0, NULL, logits, NULL);
}

/* Token streams of every corpus, and the calibration stream, tokenized (or sampled) once per run. */
static void load_tokens(struct plan *pl, struct dataset_tokens *calib_tok, int need_calib) {
    struct tokenizer *tok = tokenizer_load(pl->p.model);
    struct qwen3_model *m0 = NULL;
    int32_t first = tokenizer_token_id(tok, "<|endoftext|>");
    if (first < 0) first = 0;
    for (int i = 0; i < pl->n_corpora; i++) {
        struct corpus *c = &pl->corpora[i];
        if (c->path) {
            if (dataset_tokens_load(&c->tok, c->id, pl->p.data_dir, tok) != 0) die("%s: vanished", c->path);
        } else {
            if (!m0) m0 = qwen3_load(pl->p.model);
            fprintf(stderr, "%s: no data files: sampling %lld x %lld tokens from the BF16 model (seed %llu)\n",
                    check_progname(), (long long)pl->sample_windows, (long long)pl->ctx,
                    (unsigned long long)pl->p.seed);
            dataset_tokens_sample(&c->tok, m0, first, pl->sample_windows, pl->ctx, pl->p.seed, "sampled");
        }
        fprintf(stderr, "%s: %s: %lld tokens\n", check_progname(), c->name, (long long)c->tok.n);
    }
    if (need_calib) calib_set_tokens(&pl->calib, tok, pl->p.model, calib_tok);
    qwen3_free(m0);
    tokenizer_free(tok);
}

static void add_ppl(cJSON *o, const char *suffix, const struct perplexity_result *r) {
    char k[64];
    snprintf(k, sizeof k, "ppl%s", suffix);
    cJSON_AddNumberToObject(o, k, r->ppl);
    snprintf(k, sizeof k, "ppl%s_stderr", suffix);
    cJSON_AddNumberToObject(o, k, r->ppl_stderr);
    snprintf(k, sizeof k, "ppl%s_stderr_windows", suffix);
    cJSON_AddNumberToObject(o, k, r->ppl_stderr_windows);
    snprintf(k, sizeof k, "nll%s_mean", suffix);
    cJSON_AddNumberToObject(o, k, r->nll_mean);
    snprintf(k, sizeof k, "tokens%s", suffix);
    cJSON_AddNumberToObject(o, k, (double)r->n_tokens);
    snprintf(k, sizeof k, "windows%s", suffix);
    cJSON_AddNumberToObject(o, k, (double)r->n_windows);
}

static void run_recipe(struct plan *pl, const struct recipe *r, struct manifest *man,
                       const struct dataset_tokens *calib_tok, struct calib *cal) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m = qwen3_load(pl->p.model);
    /* Once per run, on the BF16 model (this one, before its weights change). */
    if (r->act_mode == RECIPE_ACT_STATIC) calib_set_calibrate(&pl->calib, cal, m, calib_tok);
    struct quant_stats st;
    struct quant_calib qc = {cal, NULL, 0, 0};
    struct dataset_tokens algo_tok = {0};
    if (r->algo != RECIPE_ALGO_RTN) {
        struct calib_set cs;
        algo_calib_init(&cs, pl, r);
        calib_set_algo_tokens(&cs, pl->p.model, &algo_tok, &qc);
        calib_set_free(&cs);
    }
    quant_apply(m, r, &qc, &st);
    dataset_tokens_free(&algo_tok);
    fprintf(stderr, "%s: %-12s quantized in %.1f s\n", check_progname(), r->name, st.seconds);
    cJSON *metrics = cJSON_CreateObject(), *cases = cJSON_CreateArray();
    for (int i = 0; i < pl->n_corpora; i++) {
        const struct corpus *c = &pl->corpora[i];
        int64_t nw = perplexity_n_windows(c->tok.n, pl->ctx, pl->p.windows);
        if (nw < 1) die("%s: %lld tokens hold no window of %lld", c->name, (long long)c->tok.n, (long long)pl->ctx);
        double t1 = monotonic_seconds();
        struct perplexity_result res;
        perplexity_run(logits_fn, m, m->cfg.V, c->tok.ids, c->tok.n, pl->ctx, nw, NULL, &res);
        fprintf(stderr, "%s: %-12s %-9s ppl %9.4f +- %.4f (%lld tokens, %lld windows, %.1f s)\n",
                check_progname(), r->name, c->name, res.ppl, res.ppl_stderr, (long long)res.n_tokens,
                (long long)res.n_windows, monotonic_seconds() - t1);
        /* Flat names by corpus: WikiText-2 (or the sampled text when no data exists) is "ppl...", C4 is
         * "ppl_c4...", whatever the order the corpora were found in. */
        add_ppl(metrics, c->id == DATASET_C4 && !c->tok.sampled ? "_c4" : "", &res);
        cJSON *cs = cJSON_CreateObject(), *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cs, "name", c->name);
        add_ppl(cm, "", &res);
        if (c->tok.sampled) cJSON_AddStringToObject(cm, "sample_sha256", c->tok.sha256);
        cJSON_AddItemToObject(cs, "metrics", cm);
        cJSON_AddItemToArray(cases, cs);
    }
    /* A corpus that was not found gets nulls, so figures and tables keep their columns (shown as missing). */
    int have_wt = 0, have_c4 = 0;
    for (int i = 0; i < pl->n_corpora; i++) {
        have_c4 |= pl->corpora[i].id == DATASET_C4 && !pl->corpora[i].tok.sampled;
        have_wt |= !(pl->corpora[i].id == DATASET_C4 && !pl->corpora[i].tok.sampled);
    }
    const char *keys[6] = {"ppl%s", "ppl%s_stderr", "ppl%s_stderr_windows", "nll%s_mean", "tokens%s", "windows%s"};
    for (int k = 0; k < 6; k++) {
        char name[64];
        if (!have_wt) { snprintf(name, sizeof name, keys[k], ""); cJSON_AddNullToObject(metrics, name); }
        if (!have_c4) { snprintf(name, sizeof name, keys[k], "_c4"); cJSON_AddNullToObject(metrics, name); }
    }
    cJSON_AddNumberToObject(metrics, "ctx", (double)pl->ctx);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st.bits_per_weight);
    cJSON_AddNumberToObject(metrics, "weight_bytes", (double)st.weight_bytes);
    cJSON_AddNumberToObject(metrics, "n_linears", (double)st.n_linears);
    if (r->algo != RECIPE_ALGO_RTN) {
        cJSON_AddNumberToObject(metrics, "quantize_seconds", st.seconds);
        cJSON_AddNumberToObject(metrics, "n_damp_raised", (double)st.n_damp_raised);
    }
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    manifest_write_result(man, metrics, cases);
    fprintf(stderr, "%s: %-12s wrote %s (%.1f s)\n", check_progname(), r->name, man->result_path,
            monotonic_seconds() - t0);
    qwen3_free(m);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    pl.p = e02_defaults();
    e02_parse_args(&pl.p, argc, argv);
    char mbuf[4096];
    pl.model = manifest_model_name(pl.p.model, mbuf, sizeof mbuf);

    /* The window: --ctx, or the model's own context when shorter. */
    struct qwen3_config cfg;
    qwen3_config_load(&cfg, pl.p.model);
    pl.ctx = pl.p.ctx < cfg.max_pos ? pl.p.ctx : cfg.max_pos;
    pl.ctx_model = cfg.max_pos;

    /* Corpora present on disk, in order; none at all -> one sampled corpus. */
    const enum dataset_corpus want[E02_MAX_CORPORA] = {DATASET_WIKITEXT2, DATASET_C4};
    for (int i = 0; i < E02_MAX_CORPORA; i++) {
        char *path = dataset_find(dataset_corpus_file(want[i])->name, pl.p.data_dir);
        if (!path) {
            warn("%s not found (searched --data-dir, $QL_DATA_DIR, ./data, ../shared/data); skipping %s",
                 dataset_corpus_file(want[i])->name, dataset_corpus_name(want[i]));
            continue;
        }
        pl.corpora[pl.n_corpora++] = (struct corpus){want[i], dataset_corpus_name(want[i]), path, {0}};
    }
    if (pl.n_corpora == 0) {
        pl.sampled = 1;
        pl.sample_windows = pl.p.windows > 0 ? pl.p.windows : 3;
        pl.corpora[pl.n_corpora++] = (struct corpus){DATASET_WIKITEXT2, "sampled", NULL, {0}};
        warn("no evaluation data: scoring text sampled from the BF16 model instead (results say data=sampled-bf16)");
    }
    calib_set_init(&pl.calib, pl.p.data_dir, pl.p.calib_seqs, pl.p.calib_len, pl.p.seed + CALIB_SET_SEED_OFFSET);

    const struct recipe **recipes = xmalloc((size_t)recipe_count() * sizeof *recipes);
    int n_rec = recipe_parse_list(pl.p.recipes, recipes, "--recipes");
    struct manifest *mans = xcalloc((size_t)n_rec, sizeof *mans);
    int *todo = xcalloc((size_t)n_rec, sizeof *todo);
    int n_todo = 0, need_calib = 0;
    for (int i = 0; i < n_rec; i++) {
        e02_manifest(&mans[i], &pl, recipes[i]);
        if (!pl.p.force && manifest_cache_hit(&mans[i])) {
            fprintf(stderr, "%s: %-12s cache hit (%s)\n", check_progname(), recipes[i]->name, mans[i].result_path);
            continue;
        }
        if (!pl.p.force && pl.sampled && manifest_existing_param_is(&mans[i], "data", "files")) {
            warn("%s: keeping results computed from the pinned data files; without the data this run would "
                 "score sampled text instead (--force replaces them)", mans[i].result_path);
            continue;
        }
        manifest_print(&mans[i], stderr);
        todo[i] = 1;
        n_todo++;
        need_calib |= recipes[i]->act_mode == RECIPE_ACT_STATIC;
    }
    if (n_todo) {
        double t0 = monotonic_seconds();
        struct dataset_tokens calib_tok = {0};
        struct calib cal = {0};
        load_tokens(&pl, &calib_tok, need_calib);
        for (int i = 0; i < n_rec; i++)
            if (todo[i]) run_recipe(&pl, recipes[i], &mans[i], &calib_tok, &cal);
        calib_free(&cal);
        dataset_tokens_free(&calib_tok);
        fprintf(stderr, "%s: %d recipe(s) computed in %.1f s, %d cache hit(s)\n", check_progname(), n_todo,
                monotonic_seconds() - t0, n_rec - n_todo);
    } else {
        fprintf(stderr, "%s: all %d recipe(s) cached\n", check_progname(), n_rec);
    }
    for (int i = 0; i < n_rec; i++) manifest_free(&mans[i]);
    for (int i = 0; i < pl.n_corpora; i++) {
        free(pl.corpora[i].path);
        dataset_tokens_free(&pl.corpora[i].tok);
    }
    calib_set_free(&pl.calib);
    free(mans);
    free(todo);
    free(recipes);
    return 0;
}
