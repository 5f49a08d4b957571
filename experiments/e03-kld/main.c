/* e03-kld -- KL divergence, top-1 agreement and delta-p of every recipe against BF16; spec: spec.en.md
 * Usage: build/bin/e03-kld [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--data-dir DIR]
 *        [--corpus wikitext2|c4] [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N]
 *        [--boot N] [--block N] [--seed S] [--cache DIR]
 * Writes: results/<model>/e03-kld/<recipe>.json (atomically), one per recipe; the BF16 reference (final hidden
 * states, from which the reference logits are recomputed) is cached in build/cache/e03-ref/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, warn, xmalloc
#include "core/cli.h"            // defines: cli_int
#include "core/manifest.h"       // defines: manifest_init, manifest_seal, manifest_write_result
#include "core/sha256.h"         // defines: sha256_file_cached
#include "core/timer.h"          // defines: monotonic_seconds
#include "data/dataset.h"        // defines: dataset_tokens_load, dataset_find, dataset_corpus_file
#include "engine/engine.h"       // defines: engine_forward
#include "eval/kld.h"            // defines: kld_window, kld_summarize, kld_ref_create, kld_ref_open, kld_ref_read
#include "eval/perplexity.h"     // defines: perplexity_n_windows, perplexity_nll_window
#include "eval/stats.h"          // defines: stats_mean
#include "harness/harness.h"     // defines: harness_init, harness_plan, harness_open_recipe, harness_sample
#include "model/qwen3_cpu.h"     // defines: qwen3_cpu_logits
#include "model/tokenizer.h"     // defines: tokenizer_load

#define E03_NAME "e03-kld"

/* The flags of e03 beyond the harness's common ones. */
struct e03_params {
    const char *corpus, *cache;
    int64_t boot, block;
};

static struct e03_params e03_defaults(void) {
    /* Defaults live here and in the spec only. */
    struct e03_params p = {.corpus = "wikitext2", .cache = "build/cache/e03-ref", .boot = 1000, .block = 128};
    return p;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: e03-kld [options] [--corpus wikitext2|c4] [--boot N] [--block N] [--cache DIR]\n"
            "KL(BF16 || recipe), top-1 agreement and RMS delta-p per recipe on the windows e02 scores\n"
            "(--windows 0 = all). Writes results/<model>/e03-kld/<recipe>.json; the BF16 reference is cached\n"
            "under --cache (default build/cache/e03-ref) and its hash is in every manifest.\n%s",
            HARNESS_USAGE);
}

static void e03_parse_args(struct e03_params *p, struct harness_opts *o, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (harness_parse_common(o, argc, argv, &i)) continue;
        else if (!strcmp(a, "--corpus") && has_val) p->corpus = argv[++i];
        else if (!strcmp(a, "--cache") && has_val) p->cache = argv[++i];
        else if (!strcmp(a, "--boot") && has_val) p->boot = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--block") && has_val) p->block = cli_int(a, argv[++i], 1);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    int c = dataset_corpus_by_name(p->corpus);
    if (c != DATASET_WIKITEXT2 && c != DATASET_C4) die_usage("--corpus: expected wikitext2 or c4, got '%s'", p->corpus);
}

/* ---- inputs ---- */

struct plan {
    struct e03_params p;
    struct harness h;
    enum dataset_corpus corpus;
    const char *corpus_name;           /* "wikitext2", "c4" or "sampled" */
    char *data_path;                   /* NULL when sampled */
    int sampled;
    int64_t sample_windows;
    char ref_key[SHA256_HEX_LEN];      /* identity of the BF16 reference */
    char ref_path[4096];
};

/* The parameters that fix the scored tokens: shared by the reference and every recipe. */
static void manifest_tokens(struct manifest *m, const struct plan *pl) {
    manifest_param_str(m, "corpus", pl->corpus_name);
    manifest_param_int(m, "ctx", pl->h.ctx);
    manifest_param_int(m, "windows", pl->h.o.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
    if (pl->sampled) {
        manifest_param_int(m, "sample_seed", (int64_t)pl->h.o.seed);
        manifest_param_int(m, "sample_windows", pl->sample_windows);
    }
}

static void manifest_data(struct manifest *m, const struct plan *pl) {
    manifest_input_checkpoint(m, pl->h.o.model);
    if (pl->data_path) {
        const struct dataset_file *f = dataset_corpus_file(pl->corpus);
        manifest_input(m, f->name, pl->data_path, f->sha256);
    }
}

/* The reference's identity is the cache key of a manifest of its own: the same model, tokens and binary. */
static void ref_identity(struct plan *pl) {
    struct manifest rm;
    manifest_init(&rm, pl->h.o.results, E03_NAME, pl->h.model, "bf16-reference");
    manifest_tokens(&rm, pl);
    manifest_param_str(&rm, "reference_recipe", "bf16");
    manifest_data(&rm, pl);
    harness_manifest_end(&pl->h, &rm);
    memcpy(pl->ref_key, rm.cache_key, SHA256_HEX_LEN);
    snprintf(pl->ref_path, sizeof pl->ref_path, "%s/%s-%s-%.16s.bin", pl->p.cache, pl->h.model, pl->corpus_name,
             pl->ref_key);
    manifest_free(&rm);
}

static void e03_manifest(void *ctx, struct harness *h, struct manifest *m, const struct recipe *r) {
    const struct plan *pl = ctx;
    harness_manifest_begin(h, m, r);
    manifest_tokens(m, pl);
    manifest_param_int(m, "boot", pl->p.boot);
    manifest_param_int(m, "block", pl->p.block);
    manifest_param_int(m, "seed", (int64_t)h->o.seed);
    harness_manifest_recipe(h, m, r);
    manifest_data(m, pl);
    manifest_input_hash(m, "e03-reference", pl->ref_key);
    harness_manifest_end(h, m);
}

/* ---- running ---- */

static void load_tokens(struct plan *pl, struct dataset_tokens *eval_tok) {
    if (pl->data_path) {
        struct tokenizer *tok = tokenizer_load(pl->h.o.model);
        if (dataset_tokens_load(eval_tok, pl->corpus, pl->h.o.data_dir, tok) != 0) die("%s: vanished", pl->data_path);
        tokenizer_free(tok);
    } else {
        harness_sample(&pl->h, pl->sample_windows, pl->h.ctx, pl->h.o.seed, "sampled", eval_tok);
    }
}

/* Opens the cached reference, computing it first (one BF16 pass over the windows) when it is missing. */
static void reference(struct plan *pl, const struct dataset_tokens *tok, int64_t nw, struct kld_ref *ref,
                      int64_t D) {
    if (kld_ref_open(ref, pl->ref_path, nw, pl->h.ctx, D) == 0) {
        fprintf(stderr, "%s: BF16 reference: cache hit %s\n", check_progname(), pl->ref_path);
        return;
    }
    double t0 = monotonic_seconds();
    /* The reference is the bf16 recipe itself (an identity on BF16 checkpoints, a rounding on FP32 or
     * dequantized FP8 ones), so that the bf16 row compares a model with itself. */
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&pl->h, recipe_by_name_or_die("bf16", "e03 reference"), &m, NULL);
    const int64_t ctx = pl->h.ctx;
    float *h = xmalloc((size_t)(ctx * D) * sizeof *h);
    kld_ref_create(ref, pl->ref_path, nw, ctx, D);
    for (int64_t w = 0; w < nw; w++) {
        engine_forward(e, tok->ids + w * ctx, ctx, NULL, h);
        kld_ref_append(ref, h);
    }
    kld_ref_close(ref);
    free(h);
    harness_close_recipe(e, m);
    fprintf(stderr, "%s: BF16 reference: %lld windows written to %s (%.1f s)\n", check_progname(), (long long)nw,
            pl->ref_path, monotonic_seconds() - t0);
    if (kld_ref_open(ref, pl->ref_path, nw, pl->h.ctx, D) != 0) die("%s: cannot reopen", pl->ref_path);
}

static void add_ci(cJSON *o, const char *name, const struct kld_ci *c) {
    char k[64];
    cJSON_AddNumberToObject(o, name, c->value);
    snprintf(k, sizeof k, "%s_lo", name);
    cJSON_AddNumberToObject(o, k, c->lo);
    snprintf(k, sizeof k, "%s_hi", name);
    cJSON_AddNumberToObject(o, k, c->hi);
}

static void run_recipe(struct plan *pl, const struct recipe *r, struct manifest *man,
                       const struct dataset_tokens *tok, int64_t nw, struct kld_ref *ref, const char *ref_sha) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    struct quant_stats st;
    struct engine *e = harness_open_recipe(&pl->h, r, &m, &st);
    // Per window: T = ctx positions, T - 1 scored; V logits each for the recipe and the reference.
    const int64_t T = pl->h.ctx, V = m->cfg.V, D = m->cfg.D, per = T - 1, n = nw * per;
    float *lq = xmalloc((size_t)(T * V) * sizeof *lq), *lp = xmalloc((size_t)(T * V) * sizeof *lp);
    float *h = xmalloc((size_t)(T * D) * sizeof *h);
    double *kld = xmalloc((size_t)n * sizeof *kld), *dp = xmalloc((size_t)n * sizeof *dp);
    double *top1 = xmalloc((size_t)n * sizeof *top1), *nll = xmalloc((size_t)n * sizeof *nll);
    for (int64_t w = 0; w < nw; w++) {
        const int32_t *ids = tok->ids + w * T;
        engine_forward(e, ids, T, lq, NULL);
        /* The reference logits: the stored BF16 hidden states through the same (never quantized) lm_head. */
        kld_ref_read(ref, w, h);
        qwen3_cpu_logits(m, h, T, lp);
        kld_window(lp, lq, ids, T, V, kld + w * per, dp + w * per, top1 + w * per);
        perplexity_nll_window(lq, ids, T, V, nll + w * per);
    }
    struct kld_result res;
    kld_summarize(kld, dp, top1, n, (int)pl->p.boot, pl->p.block, pl->h.o.seed, &res);
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
    quant_stats_add_expert_metrics(metrics, &st);
    cJSON_AddStringToObject(metrics, "corpus", pl->corpus_name);
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    cJSON_AddStringToObject(metrics, "ref_sha256", ref_sha);
    manifest_write_result(man, metrics, NULL);
    fprintf(stderr, "%s: %-12s wrote %s\n", check_progname(), r->name, man->result_path);
    free(lq), free(lp), free(h), free(kld), free(dp), free(top1), free(nll);
    harness_close_recipe(e, m);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    pl.p = e03_defaults();
    struct harness_opts o;
    harness_defaults(&o);
    e03_parse_args(&pl.p, &o, argc, argv);
    harness_init(&pl.h, E03_NAME, &o);
    pl.corpus = (enum dataset_corpus)dataset_corpus_by_name(pl.p.corpus);
    pl.data_path = dataset_find(dataset_corpus_file(pl.corpus)->name, o.data_dir);
    pl.corpus_name = dataset_corpus_name(pl.corpus);
    if (!pl.data_path) {
        /* The same fallback as e02, with the same seed: both score the same sampled tokens. */
        pl.sampled = 1;
        pl.corpus_name = "sampled";
        pl.sample_windows = o.windows > 0 ? o.windows : 3;
        warn("%s not found: scoring text sampled from the BF16 model instead (results say data=sampled-bf16)",
             dataset_corpus_file(pl.corpus)->name);
    }
    ref_identity(&pl);
    double t0 = monotonic_seconds();
    if (harness_plan(&pl.h, e03_manifest, &pl, pl.sampled)) {
        struct dataset_tokens tok = {0};
        load_tokens(&pl, &tok);
        int64_t nw = perplexity_n_windows(tok.n, pl.h.ctx, o.windows);
        if (nw < 1) die("%s: %lld tokens hold no window of %lld", pl.corpus_name, (long long)tok.n, (long long)pl.h.ctx);
        struct kld_ref ref;
        reference(&pl, &tok, nw, &ref, pl.h.cfg.D);
        char ref_sha[SHA256_HEX_LEN];
        sha256_file_cached(pl.ref_path, ref_sha);
        for (int i = 0; i < pl.h.n_rec; i++)
            if (pl.h.todo[i]) run_recipe(&pl, pl.h.recipes[i], &pl.h.mans[i], &tok, nw, &ref, ref_sha);
        kld_ref_close(&ref);
        dataset_tokens_free(&tok);
    }
    harness_free(&pl.h, t0);
    free(pl.data_path);
    return 0;
}
