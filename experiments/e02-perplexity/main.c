/* e02-perplexity -- WikiText-2 and C4 perplexity of every recipe, and its paired ratio to BF16 on the same
 * tokens; spec: spec.en.md (spec.zh.md)
 * Usage: build/bin/e02-perplexity [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--data-dir DIR]
 *        [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N] [--seed S]
 *        [--nll-cache DIR]
 * Writes: results/<model>/e02-perplexity/<recipe>.json (atomically), one per recipe; BF16's per-token NLLs
 * to --nll-cache (default build/cache/e02-nll), keyed by the BF16 result's cache key.
 * Decision (issue 11): the paired statistic needs BF16's per-token NLL on every scored token. BF16 runs first
 * when it is computed in the run (its NLLs stay in memory and are written to the cache); when its result is a
 * cache hit, the NLLs are read from the cache file written for the same key (model files, data files,
 * parameters, driver binary: nll_cache.h); absent or bad -> BF16 is recomputed once (one recipe's cost) and the
 * cache rewritten. The cache lives under build/ (never committed): a fresh clone recomputes it once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, warn, check_progname
#include "core/manifest.h"       // defines: manifest_param_int, manifest_input, manifest_write_result
#include "core/timer.h"          // defines: monotonic_seconds
#include "data/dataset.h"        // defines: dataset_find, dataset_tokens_load, dataset_corpus_file
#include "engine/engine.h"       // defines: engine_forward
#include "eval/nll_cache.h"      // defines: nll_cache_read, nll_cache_write
#include "eval/perplexity.h"     // defines: perplexity_run, perplexity_n_windows
#include "eval/ppl_paired.h"     // defines: ppl_paired_compute
#include "harness/harness.h"     // defines: harness_init, harness_plan, harness_open_recipe, harness_sample
#include "model/tokenizer.h"     // defines: tokenizer_load

#define E02_NAME "e02-perplexity"
#define E02_MAX_CORPORA 2
/* Blocks of the batch-means error of the paired ratio (ppl_paired.h): 128 tokens, e03's --block, so the two
 * experiments treat the dependence between neighbouring tokens alike. */
#define E02_PAIRED_BLOCK 128
#define E02_NLL_CACHE "build/cache/e02-nll"

static void usage(FILE *f) {
    fprintf(f,
            "usage: e02-perplexity [options]\n"
            "Perplexity of each recipe on WikiText-2 test and the C4 slice (non-overlapping windows of --ctx\n"
            "tokens, capped by the model's max_position_embeddings; --windows 0 = all windows, the published\n"
            "protocol). Writes results/<model>/e02-perplexity/<recipe>.json. Without data files, text sampled\n"
            "from the BF16 model (seed --seed) is scored instead, and the results say so. Every recipe also gets\n"
            "ln(PPL / PPL_bf16) over the same tokens with its paired errors and the ratio's 95%% interval; BF16's\n"
            "per-token NLLs are cached under --nll-cache DIR (default " E02_NLL_CACHE ").\n%s",
            HARNESS_USAGE);
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
    struct harness h;
    int n_corpora, sampled;
    struct corpus corpora[E02_MAX_CORPORA];
    int64_t sample_windows;            /* windows sampled when no data file exists */
    /* the paired baseline: BF16's per-token NLLs per corpus (NULL until known), its identity and cache file */
    const char *nll_cache_dir;
    double *base_nll[E02_MAX_CORPORA];
    char base_key[SHA256_HEX_LEN];
    char base_path[4096];
};

static void e02_manifest(void *ctx, struct harness *h, struct manifest *m, const struct recipe *r) {
    const struct plan *pl = ctx;
    harness_manifest_begin(h, m, r);
    manifest_param_int(m, "ctx", h->ctx);
    manifest_param_int(m, "windows", h->o.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
    manifest_param_int(m, "paired_block", E02_PAIRED_BLOCK);
    if (pl->sampled) {
        manifest_param_int(m, "sample_seed", (int64_t)h->o.seed);
        manifest_param_int(m, "sample_windows", pl->sample_windows);
    }
    harness_manifest_recipe(h, m, r);
    manifest_input_checkpoint(m, h->o.model);
    for (int i = 0; i < pl->n_corpora; i++) {
        const struct corpus *c = &pl->corpora[i];
        if (c->path) manifest_input(m, dataset_corpus_file(c->id)->name, c->path, dataset_corpus_file(c->id)->sha256);
    }
    harness_manifest_end(h, m);
}

/* ---- running ---- */

static void logits_fn(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    engine_forward(ctx, ids, T, logits, NULL);
}

/* Token streams of every corpus, tokenized (or sampled) once per run. */
static void load_tokens(struct plan *pl) {
    struct tokenizer *tok = tokenizer_load(pl->h.o.model);
    for (int i = 0; i < pl->n_corpora; i++) {
        struct corpus *c = &pl->corpora[i];
        if (c->path) {
            if (dataset_tokens_load(&c->tok, c->id, pl->h.o.data_dir, tok) != 0) die("%s: vanished", c->path);
        } else {
            harness_sample(&pl->h, pl->sample_windows, pl->h.ctx, pl->h.o.seed, "sampled", &c->tok);
        }
        fprintf(stderr, "%s: %s: %lld tokens\n", check_progname(), c->name, (long long)c->tok.n);
    }
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

/* Tokens scored on corpus i: n_windows * (ctx - 1). */
static int64_t scored_tokens(const struct plan *pl, int i) {
    return perplexity_n_windows(pl->corpora[i].tok.n, pl->h.ctx, pl->h.o.windows) * (pl->h.ctx - 1);
}

/* The identity of BF16's per-token NLLs: the cache key of the bf16 result's manifest, and the cache file. */
static void base_identity(struct plan *pl) {
    struct manifest bm;
    e02_manifest(pl, &pl->h, &bm, recipe_by_name_or_die("bf16", "e02 paired baseline"));
    memcpy(pl->base_key, bm.cache_key, SHA256_HEX_LEN);
    snprintf(pl->base_path, sizeof pl->base_path, "%s/%s-bf16-%.16s.nll", pl->nll_cache_dir, pl->h.model,
             pl->base_key);
    manifest_free(&bm);
}

static void base_write(struct plan *pl) {
    int64_t n[E02_MAX_CORPORA];
    for (int i = 0; i < pl->n_corpora; i++) n[i] = scored_tokens(pl, i);
    nll_cache_write(pl->base_path, pl->base_key, pl->n_corpora, n, (const double *const *)pl->base_nll);
    fprintf(stderr, "%s: bf16 per-token NLLs written to %s\n", check_progname(), pl->base_path);
}

/* Makes BF16's per-token NLLs available: already in memory, read from the cache, or recomputed. */
static void base_ensure(struct plan *pl) {
    if (pl->base_nll[0]) return;
    int64_t n[E02_MAX_CORPORA];
    for (int i = 0; i < pl->n_corpora; i++) {
        n[i] = scored_tokens(pl, i);
        pl->base_nll[i] = xmalloc((size_t)n[i] * sizeof(double));
    }
    char why[256];
    if (nll_cache_read(pl->base_path, pl->base_key, pl->n_corpora, n, pl->base_nll, why, sizeof why) == 0) {
        fprintf(stderr, "%s: bf16 per-token NLLs: cache hit %s\n", check_progname(), pl->base_path);
        return;
    }
    fprintf(stderr, "%s: bf16 per-token NLLs: %s (%s): recomputing bf16\n", check_progname(), pl->base_path, why);
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&pl->h, recipe_by_name_or_die("bf16", "e02 paired baseline"), &m, NULL);
    for (int i = 0; i < pl->n_corpora; i++) {
        struct perplexity_result res;
        perplexity_run(logits_fn, e, m->cfg.V, pl->corpora[i].tok.ids, pl->corpora[i].tok.n, pl->h.ctx,
                       n[i] / (pl->h.ctx - 1), pl->base_nll[i], &res);
    }
    harness_close_recipe(e, m);
    fprintf(stderr, "%s: bf16 recomputed in %.1f s\n", check_progname(), monotonic_seconds() - t0);
    base_write(pl);
}

/* The paired comparison with BF16 of one corpus, under the names of add_ppl's suffix; nulls when unknown. */
static const char *const PAIRED_KEYS[8] = {"ln_ppl%s_ratio", "ln_ppl%s_ratio_stderr", "ln_ppl%s_ratio_stderr_block",
                                           "ppl%s_ratio", "ppl%s_ratio_stderr", "ppl%s_ratio_ci95_lo",
                                           "ppl%s_ratio_ci95_hi", "ppl%s_ratio_resolved"};

static void add_paired(cJSON *o, const char *suffix, const struct ppl_paired *pr) {
    const double v[8] = {pr->ln_ratio, pr->stderr_token, pr->stderr_block, pr->ratio,
                         pr->ratio_stderr, pr->ratio_lo, pr->ratio_hi, pr->resolved};
    for (int k = 0; k < 8; k++) {
        char name[64];
        snprintf(name, sizeof name, PAIRED_KEYS[k], suffix);
        cJSON_AddNumberToObject(o, name, v[k]);
    }
}

static void add_paired_null(cJSON *o, const char *suffix) {
    for (int k = 0; k < 8; k++) {
        char name[64];
        snprintf(name, sizeof name, PAIRED_KEYS[k], suffix);
        cJSON_AddNullToObject(o, name);
    }
}

static void run_recipe(struct plan *pl, const struct recipe *r, struct manifest *man) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    struct quant_stats st;
    struct engine *e = harness_open_recipe(&pl->h, r, &m, &st);
    fprintf(stderr, "%s: %-12s quantized in %.1f s\n", check_progname(), r->name, st.seconds);
    const int64_t ctx = pl->h.ctx;
    /* A checkpoint quantized by another tool has no BF16 twin in this run: no paired statistic (nulls). */
    const int is_base = recipe_is_baseline(r), paired = !pl->h.is_checkpoint;
    cJSON *metrics = cJSON_CreateObject(), *cases = cJSON_CreateArray();
    for (int i = 0; i < pl->n_corpora; i++) {
        const struct corpus *c = &pl->corpora[i];
        int64_t nw = perplexity_n_windows(c->tok.n, ctx, pl->h.o.windows);
        if (nw < 1) die("%s: %lld tokens hold no window of %lld", c->name, (long long)c->tok.n, (long long)ctx);
        double t1 = monotonic_seconds();
        struct perplexity_result res;
        double *nll = xmalloc((size_t)(nw * (ctx - 1)) * sizeof *nll);
        perplexity_run(logits_fn, e, m->cfg.V, c->tok.ids, c->tok.n, ctx, nw, nll, &res);
        fprintf(stderr, "%s: %-12s %-9s ppl %9.4f +- %.4f (%lld tokens, %lld windows, %.1f s)\n",
                check_progname(), r->name, c->name, res.ppl, res.ppl_stderr, (long long)res.n_tokens,
                (long long)res.n_windows, monotonic_seconds() - t1);
        struct ppl_paired pr;
        if (paired) {
            if (is_base && !pl->base_nll[i]) { pl->base_nll[i] = nll; nll = NULL; }
            ppl_paired_compute(nll ? nll : pl->base_nll[i], pl->base_nll[i], res.n_tokens, E02_PAIRED_BLOCK, &pr);
            fprintf(stderr, "%s: %-12s %-9s ppl / ppl_bf16 %.5f [%.5f, %.5f] (ln %+.6f, se token %.6f, block %.6f)%s\n",
                    check_progname(), r->name, c->name, pr.ratio, pr.ratio_lo, pr.ratio_hi, pr.ln_ratio,
                    pr.stderr_token, pr.stderr_block, pr.resolved ? " resolved" : "");
        }
        free(nll);
        /* Flat names by corpus: WikiText-2 (or the sampled text when no data exists) is "ppl...", C4 is
         * "ppl_c4...", whatever the order the corpora were found in. */
        const char *suffix = c->id == DATASET_C4 && !c->tok.sampled ? "_c4" : "";
        add_ppl(metrics, suffix, &res);
        if (paired) add_paired(metrics, suffix, &pr);
        else add_paired_null(metrics, suffix);
        cJSON *cs = cJSON_CreateObject(), *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cs, "name", c->name);
        add_ppl(cm, "", &res);
        if (paired) add_paired(cm, "", &pr);
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
    if (!have_wt) add_paired_null(metrics, "");
    if (!have_c4) add_paired_null(metrics, "_c4");
    cJSON_AddNumberToObject(metrics, "paired_block", E02_PAIRED_BLOCK);
    cJSON_AddNumberToObject(metrics, "ctx", (double)ctx);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st.bits_per_weight);
    cJSON_AddNumberToObject(metrics, "weight_bytes", (double)st.weight_bytes);
    cJSON_AddNumberToObject(metrics, "n_linears", (double)st.n_linears);
    /* GPTQ: Linears whose Cholesky needed more damping (quant_stats; deterministic, never silent). */
    if (r->algo == RECIPE_ALGO_GPTQ) cJSON_AddNumberToObject(metrics, "n_damp_raised", (double)st.n_damp_raised);
    quant_stats_add_expert_metrics(metrics, &st);
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    manifest_write_result(man, metrics, cases);
    if (is_base && paired) base_write(pl);
    fprintf(stderr, "%s: %-12s wrote %s (%.1f s)\n", check_progname(), r->name, man->result_path,
            monotonic_seconds() - t0);
    harness_close_recipe(e, m);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    struct harness_opts o;
    harness_defaults(&o);
    pl.nll_cache_dir = E02_NLL_CACHE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--nll-cache") && i + 1 < argc) { pl.nll_cache_dir = argv[++i]; continue; }
        if (!harness_parse_common(&o, argc, argv, &i)) { usage(stderr); die_usage("unknown or incomplete option '%s'", argv[i]); }
    }
    harness_init(&pl.h, E02_NAME, &o);

    /* Corpora present on disk, in order; none at all -> one sampled corpus. */
    const enum dataset_corpus want[E02_MAX_CORPORA] = {DATASET_WIKITEXT2, DATASET_C4};
    for (int i = 0; i < E02_MAX_CORPORA; i++) {
        char *path = dataset_find(dataset_corpus_file(want[i])->name, o.data_dir);
        if (!path) {
            warn("%s not found (searched --data-dir, $QL_DATA_DIR, ./data, ../shared/data); skipping %s",
                 dataset_corpus_file(want[i])->name, dataset_corpus_name(want[i]));
            continue;
        }
        pl.corpora[pl.n_corpora++] = (struct corpus){want[i], dataset_corpus_name(want[i]), path, {0}};
    }
    if (pl.n_corpora == 0) {
        pl.sampled = 1;
        pl.sample_windows = o.windows > 0 ? o.windows : 3;
        pl.corpora[pl.n_corpora++] = (struct corpus){DATASET_WIKITEXT2, "sampled", NULL, {0}};
        warn("no evaluation data: scoring text sampled from the BF16 model instead (results say data=sampled-bf16)");
    }
    double t0 = monotonic_seconds();
    if (harness_plan(&pl.h, e02_manifest, &pl, pl.sampled)) {
        load_tokens(&pl);
        if (!pl.h.is_checkpoint) base_identity(&pl);
        /* bf16 first (the paired baseline), then the others in table order. */
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < pl.h.n_rec; i++) {
                const struct recipe *r = pl.h.recipes[i];
                if (!pl.h.todo[i] || recipe_is_baseline(r) != (pass == 0)) continue;
                if (pass == 1 && !pl.h.is_checkpoint) base_ensure(&pl);
                run_recipe(&pl, r, &pl.h.mans[i]);
            }
    }
    harness_free(&pl.h, t0);
    for (int i = 0; i < pl.n_corpora; i++) {
        free(pl.corpora[i].path);
        dataset_tokens_free(&pl.corpora[i].tok);
        free(pl.base_nll[i]);
    }
    return 0;
}
