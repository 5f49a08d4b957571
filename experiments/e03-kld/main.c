/* e03-kld -- KL divergence, top-1 agreement and delta-p of every RTN recipe against BF16; spec: spec.en.md
 * Usage: build/bin/e03-kld [--force] [--model DIR] [--backend cpu] [--results DIR] [--data-dir DIR]
 *        [--corpus wikitext2|c4] [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N]
 *        [--boot N] [--block N] [--seed S] [--cache DIR]
 * Writes: results/<model>/e03-kld/<recipe>.json (atomically), one per recipe; the BF16 reference (final hidden
 * states, from which the reference logits are recomputed) is cached in build/cache/e03-ref/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, xmalloc
#include "core/cli.h"            // defines: cli_int, cli_backend_cpu_only
#include "core/json_io.h"        // defines: json_read_file, json_get
#include "ops/linear.h"          // defines: linear_backend_desc
#include "core/manifest.h"       // defines: manifest_init, manifest_seal, manifest_cache_hit, manifest_write_result
#include "core/sha256.h"         // defines: sha256_file_cached
#include "eval/dataset.h"        // defines: dataset_tokens_load, dataset_tokens_sample, dataset_find
#include "eval/kld.h"            // defines: kld_window, kld_summarize, kld_ref_create, kld_ref_open, kld_ref_read
#include "eval/perplexity.h"     // defines: perplexity_n_windows, perplexity_nll_window
#include "eval/stats.h"          // defines: stats_mean
#include "model/qwen3_cpu.h"     // defines: qwen3_load, qwen3_cpu_forward, qwen3_cpu_logits
#include "model/tokenizer.h"     // defines: tokenizer_load, tokenizer_token_id
#include "quant/calib.h"         // defines: calib_run, calib_free
#include "quant/calib_set.h"     // defines: calib_set_init, calib_set_manifest, calib_set_tokens, calib_set_calibrate
#include "quant/recipe.h"        // defines: recipe_parse_list, recipe_count
#include "quant/quantize.h"      // defines: quant_apply

#define E03_NAME "e03-kld"

struct e03_params {
    const char *model, *results, *data_dir, *recipes, *corpus, *cache;
    int64_t windows, ctx, calib_seqs, calib_len, algo_calib_seqs, algo_calib_len, boot, block;
    uint64_t seed;
    int force;
};

static struct e03_params e03_defaults(void) {
    /* Defaults live here and in the spec only; windows = 0 means every window of the corpus. */
    struct e03_params p = {.model = "models/qwen3-tiny", .results = "results", .data_dir = NULL,
                           .recipes = "all", .corpus = "wikitext2", .cache = "build/cache/e03-ref",
                           .windows = 3, .ctx = 2048, .calib_seqs = 16, .calib_len = 512, .algo_calib_seqs = 8,
                           .algo_calib_len = 0, .boot = 1000,
                           .block = 128, .seed = 1, .force = 0};
    return p;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: e03-kld [--force] [--model DIR] [--backend cpu] [--results DIR] [--data-dir DIR]\n"
            "               [--corpus wikitext2|c4] [--recipes LIST|all] [--windows N] [--ctx N]\n"
            "               [--calib-seqs N] [--calib-len N] [--algo-calib-seqs N] [--algo-calib-len N]\n"
            "               [--boot N] [--block N] [--seed S] [--cache DIR]\n"
            "KL(BF16 || recipe), top-1 agreement and RMS delta-p per recipe on the windows e02 scores\n"
            "(--windows 0 = all). Writes results/<model>/e03-kld/<recipe>.json; the BF16 reference is cached\n"
            "under --cache (default build/cache/e03-ref) and its hash is in every manifest. --algo-calib-*: the\n"
            "GPTQ / AWQ calibration size (default 8 sequences of the recipe's length; 0 = the recipe's 128).\n");
}

static void e03_parse_args(struct e03_params *p, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--force")) p->force = 1;
        else if (!strcmp(a, "--model") && has_val) p->model = argv[++i];
        else if (!strcmp(a, "--results") && has_val) p->results = argv[++i];
        else if (!strcmp(a, "--data-dir") && has_val) p->data_dir = argv[++i];
        else if (!strcmp(a, "--recipes") && has_val) p->recipes = argv[++i];
        else if (!strcmp(a, "--corpus") && has_val) p->corpus = argv[++i];
        else if (!strcmp(a, "--cache") && has_val) p->cache = argv[++i];
        else if (!strcmp(a, "--windows") && has_val) p->windows = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--ctx") && has_val) p->ctx = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--calib-seqs") && has_val) p->calib_seqs = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-len") && has_val) p->calib_len = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--algo-calib-seqs") && has_val) p->algo_calib_seqs = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--algo-calib-len") && has_val) p->algo_calib_len = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--boot") && has_val) p->boot = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--block") && has_val) p->block = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--seed") && has_val) p->seed = (uint64_t)cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--backend") && has_val) cli_backend_cpu_only(argv[++i]);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    int c = dataset_corpus_by_name(p->corpus);
    if (c != DATASET_WIKITEXT2 && c != DATASET_C4) die_usage("--corpus: expected wikitext2 or c4, got '%s'", p->corpus);
}

/* ---- inputs ---- */

struct plan {
    struct e03_params p;
    const char *model;                 /* results name */
    int64_t ctx;
    int64_t max_pos;                   /* the model's max_position_embeddings */
    enum dataset_corpus corpus;
    const char *corpus_name;           /* "wikitext2", "c4" or "sampled" */
    char *data_path;                   /* NULL when sampled */
    int sampled;
    int64_t sample_windows;
    struct calib_set calib;            /* the calibration tokens of static-activation recipes */
    char ref_key[SHA256_HEX_LEN];      /* identity of the BF16 reference */
    char ref_path[4096];
};

/* The parameters that fix the scored tokens: shared by the reference and every recipe. */
static void manifest_tokens(struct manifest *m, const struct plan *pl) {
    manifest_param_str(m, "corpus", pl->corpus_name);
    manifest_param_int(m, "ctx", pl->ctx);
    manifest_param_int(m, "windows", pl->p.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
    if (pl->sampled) {
        manifest_param_int(m, "sample_seed", (int64_t)pl->p.seed);
        manifest_param_int(m, "sample_windows", pl->sample_windows);
    }
}

static void manifest_data(struct manifest *m, const struct plan *pl) {
    manifest_input_checkpoint(m, pl->p.model);
    if (pl->data_path) {
        const struct dataset_file *f = dataset_corpus_file(pl->corpus);
        manifest_input(m, f->name, pl->data_path, f->sha256);
    }
}

/* The reference's identity is the cache key of a manifest of its own: the same model, tokens and binary. */
static void ref_identity(struct plan *pl) {
    struct manifest rm;
    manifest_init(&rm, pl->p.results, E03_NAME, pl->model, "bf16-reference");
    manifest_tokens(&rm, pl);
    manifest_param_str(&rm, "reference_recipe", "bf16");
    manifest_data(&rm, pl);
    manifest_device(&rm, linear_backend_desc());
    manifest_seal(&rm);
    memcpy(pl->ref_key, rm.cache_key, SHA256_HEX_LEN);
    snprintf(pl->ref_path, sizeof pl->ref_path, "%s/%s-%s-%.16s.bin", pl->p.cache, pl->model, pl->corpus_name,
             pl->ref_key);
    manifest_free(&rm);
}

/* The calibration set of a GPTQ / AWQ recipe (its own length; --algo-calib-* override). */
static void algo_calib_init(struct calib_set *cs, const struct plan *pl, const struct recipe *r) {
    calib_set_init_algo(cs, r, pl->p.data_dir, pl->max_pos, pl->p.algo_calib_seqs, pl->p.algo_calib_len,
                        pl->p.seed + CALIB_SET_SEED_OFFSET);
}

static void e03_manifest(struct manifest *m, const struct plan *pl, const struct recipe *r) {
    manifest_init(m, pl->p.results, E03_NAME, pl->model, r->name);
    manifest_tokens(m, pl);
    manifest_param_int(m, "boot", pl->p.boot);
    manifest_param_int(m, "block", pl->p.block);
    manifest_param_int(m, "seed", (int64_t)pl->p.seed);
    recipe_manifest(m, r);
    if (r->act_mode == RECIPE_ACT_STATIC) calib_set_manifest(m, &pl->calib);
    if (r->algo != RECIPE_ALGO_RTN) {
        struct calib_set cs;
        algo_calib_init(&cs, pl, r);
        calib_set_manifest(m, &cs);
        calib_set_free(&cs);
    }
    manifest_data(m, pl);
    manifest_input_hash(m, "e03-reference", pl->ref_key);
    manifest_device(m, linear_backend_desc());  /* the last bits of a GEMM depend on it: see linear.h */
    manifest_seal(m);
}

/* ---- running ---- */

static void load_tokens(const struct plan *pl, struct dataset_tokens *eval_tok, struct dataset_tokens *calib_tok,
                        int need_calib) {
    struct tokenizer *tok = tokenizer_load(pl->p.model);
    struct qwen3_model *m0 = NULL;
    int32_t first = tokenizer_token_id(tok, "<|endoftext|>");
    if (first < 0) first = 0;
    if (pl->data_path) {
        if (dataset_tokens_load(eval_tok, pl->corpus, pl->p.data_dir, tok) != 0) die("%s: vanished", pl->data_path);
    } else {
        m0 = qwen3_load(pl->p.model);
        fprintf(stderr, "%s: no data file: sampling %lld x %lld tokens from the BF16 model (seed %llu)\n",
                check_progname(), (long long)pl->sample_windows, (long long)pl->ctx, (unsigned long long)pl->p.seed);
        dataset_tokens_sample(eval_tok, m0, first, pl->sample_windows, pl->ctx, pl->p.seed, "sampled");
    }
    if (need_calib) calib_set_tokens(&pl->calib, tok, pl->p.model, calib_tok);
    qwen3_free(m0);
    tokenizer_free(tok);
}

/* Opens the cached reference, computing it first (one BF16 pass over the windows) when it is missing. */
static void reference(const struct plan *pl, const struct dataset_tokens *tok, int64_t nw, struct kld_ref *ref,
                      int64_t D) {
    if (kld_ref_open(ref, pl->ref_path, nw, pl->ctx, D) == 0) {
        fprintf(stderr, "%s: BF16 reference: cache hit %s\n", check_progname(), pl->ref_path);
        return;
    }
    double t0 = monotonic_seconds();
    struct qwen3_model *m = qwen3_load(pl->p.model);
    /* The reference is the bf16 recipe itself (an identity on BF16 checkpoints, a rounding on FP32 or
     * dequantized FP8 ones), so that the bf16 row compares a model with itself. */
    quant_apply(m, recipe_by_name_or_die("bf16", "e03 reference"), NULL, NULL);
    float *h = xmalloc((size_t)(pl->ctx * D) * sizeof *h);
    kld_ref_create(ref, pl->ref_path, nw, pl->ctx, D);
    for (int64_t w = 0; w < nw; w++) {
        qwen3_cpu_forward(m, tok->ids + w * pl->ctx, pl->ctx, 0, NULL, NULL, h);
        kld_ref_append(ref, h);
    }
    kld_ref_close(ref);
    free(h);
    qwen3_free(m);
    fprintf(stderr, "%s: BF16 reference: %lld windows written to %s (%.1f s)\n", check_progname(), (long long)nw,
            pl->ref_path, monotonic_seconds() - t0);
    if (kld_ref_open(ref, pl->ref_path, nw, pl->ctx, D) != 0) die("%s: cannot reopen", pl->ref_path);
}

static void add_ci(cJSON *o, const char *name, const struct kld_ci *c) {
    char k[64];
    cJSON_AddNumberToObject(o, name, c->value);
    snprintf(k, sizeof k, "%s_lo", name);
    cJSON_AddNumberToObject(o, k, c->lo);
    snprintf(k, sizeof k, "%s_hi", name);
    cJSON_AddNumberToObject(o, k, c->hi);
}

static void run_recipe(const struct plan *pl, const struct recipe *r, struct manifest *man,
                       const struct dataset_tokens *tok, int64_t nw, struct kld_ref *ref, const char *ref_sha,
                       const struct dataset_tokens *calib_tok, struct calib *cal) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m = qwen3_load(pl->p.model);
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
    // Per window: T = ctx positions, T - 1 scored; V logits each for the recipe and the reference.
    const int64_t T = pl->ctx, V = m->cfg.V, D = m->cfg.D, per = T - 1, n = nw * per;
    float *lq = xmalloc((size_t)(T * V) * sizeof *lq), *lp = xmalloc((size_t)(T * V) * sizeof *lp);
    float *h = xmalloc((size_t)(T * D) * sizeof *h);
    double *kld = xmalloc((size_t)n * sizeof *kld), *dp = xmalloc((size_t)n * sizeof *dp);
    double *top1 = xmalloc((size_t)n * sizeof *top1), *nll = xmalloc((size_t)n * sizeof *nll);
    for (int64_t w = 0; w < nw; w++) {
        const int32_t *ids = tok->ids + w * T;
        qwen3_cpu_forward(m, ids, T, 0, NULL, lq, NULL);
        /* The reference logits: the stored BF16 hidden states through the same (never quantized) lm_head. */
        kld_ref_read(ref, w, h);
        qwen3_cpu_logits(m, h, T, lp);
        kld_window(lp, lq, ids, T, V, kld + w * per, dp + w * per, top1 + w * per);
        perplexity_nll_window(lq, ids, T, V, nll + w * per);
    }
    struct kld_result res;
    kld_summarize(kld, dp, top1, n, (int)pl->p.boot, pl->p.block, pl->p.seed, &res);
    double ppl = exp(stats_mean(nll, n));
    fprintf(stderr, "%s: %-12s kld mean %.6f [%.6f, %.6f] median %.6f p99 %.5f top1 %.4f rms_dp %.5f ppl %.4f (%.1f s)\n",
            check_progname(), r->name, res.kld_mean.value, res.kld_mean.lo, res.kld_mean.hi, res.kld_median.value,
            res.kld_p99.value, res.top1_agree.value, res.rms_dp.value, ppl, monotonic_seconds() - t0);
    cJSON *metrics = cJSON_CreateObject();
    add_ci(metrics, "kld_mean", &res.kld_mean);
    add_ci(metrics, "kld_median", &res.kld_median);
    add_ci(metrics, "kld_p99", &res.kld_p99);
    add_ci(metrics, "top1_agree", &res.top1_agree);
    add_ci(metrics, "rms_dp", &res.rms_dp);
    cJSON_AddNumberToObject(metrics, "ppl", ppl);
    cJSON_AddNumberToObject(metrics, "tokens", (double)n);
    cJSON_AddNumberToObject(metrics, "windows", (double)nw);
    cJSON_AddNumberToObject(metrics, "ctx", (double)T);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st.bits_per_weight);
    cJSON_AddStringToObject(metrics, "corpus", pl->corpus_name);
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    cJSON_AddStringToObject(metrics, "ref_sha256", ref_sha);
    manifest_write_result(man, metrics, NULL);
    fprintf(stderr, "%s: %-12s wrote %s\n", check_progname(), r->name, man->result_path);
    free(lq), free(lp), free(h), free(kld), free(dp), free(top1), free(nll);
    qwen3_free(m);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    pl.p = e03_defaults();
    e03_parse_args(&pl.p, argc, argv);
    char mbuf[4096];
    pl.model = manifest_model_name(pl.p.model, mbuf, sizeof mbuf);
    struct qwen3_config cfg;
    qwen3_config_load(&cfg, pl.p.model);
    pl.ctx = pl.p.ctx < cfg.max_pos ? pl.p.ctx : cfg.max_pos;
    pl.max_pos = cfg.max_pos;
    pl.corpus = (enum dataset_corpus)dataset_corpus_by_name(pl.p.corpus);
    pl.data_path = dataset_find(dataset_corpus_file(pl.corpus)->name, pl.p.data_dir);
    pl.corpus_name = dataset_corpus_name(pl.corpus);
    if (!pl.data_path) {
        /* The same fallback as e02, with the same seed: both score the same sampled tokens. */
        pl.sampled = 1;
        pl.corpus_name = "sampled";
        pl.sample_windows = pl.p.windows > 0 ? pl.p.windows : 3;
        warn("%s not found: scoring text sampled from the BF16 model instead (results say data=sampled-bf16)",
             dataset_corpus_file(pl.corpus)->name);
    }
    calib_set_init(&pl.calib, pl.p.data_dir, pl.p.calib_seqs, pl.p.calib_len, pl.p.seed + CALIB_SET_SEED_OFFSET);
    ref_identity(&pl);

    const struct recipe **recipes = xmalloc((size_t)recipe_count() * sizeof *recipes);
    int n_rec = recipe_parse_list(pl.p.recipes, recipes, "--recipes");
    struct manifest *mans = xcalloc((size_t)n_rec, sizeof *mans);
    int *todo = xcalloc((size_t)n_rec, sizeof *todo);
    int n_todo = 0, need_calib = 0;
    for (int i = 0; i < n_rec; i++) {
        e03_manifest(&mans[i], &pl, recipes[i]);
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
        struct dataset_tokens tok = {0}, calib_tok = {0};
        struct calib cal = {0};
        load_tokens(&pl, &tok, &calib_tok, need_calib);
        int64_t nw = perplexity_n_windows(tok.n, pl.ctx, pl.p.windows);
        if (nw < 1) die("%s: %lld tokens hold no window of %lld", pl.corpus_name, (long long)tok.n, (long long)pl.ctx);
        struct kld_ref ref;
        reference(&pl, &tok, nw, &ref, cfg.D);
        char ref_sha[SHA256_HEX_LEN];
        sha256_file_cached(pl.ref_path, ref_sha);
        for (int i = 0; i < n_rec; i++)
            if (todo[i]) run_recipe(&pl, recipes[i], &mans[i], &tok, nw, &ref, ref_sha, &calib_tok, &cal);
        kld_ref_close(&ref);
        calib_free(&cal);
        dataset_tokens_free(&tok);
        dataset_tokens_free(&calib_tok);
        fprintf(stderr, "%s: %d recipe(s) computed in %.1f s, %d cache hit(s)\n", check_progname(), n_todo,
                monotonic_seconds() - t0, n_rec - n_todo);
    } else {
        fprintf(stderr, "%s: all %d recipe(s) cached\n", check_progname(), n_rec);
    }
    for (int i = 0; i < n_rec; i++) manifest_free(&mans[i]);
    free(pl.data_path);
    calib_set_free(&pl.calib);
    free(mans);
    free(todo);
    free(recipes);
    return 0;
}
