/* e02-perplexity -- WikiText-2 and C4 perplexity of every recipe; spec: spec.en.md (spec.zh.md)
 * Usage: build/bin/e02-perplexity [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--data-dir DIR]
 *        [--recipes LIST|all] [--windows N] [--ctx N] [--calib-seqs N] [--calib-len N] [--seed S]
 * Writes: results/<model>/e02-perplexity/<recipe>.json (atomically), one per recipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, warn, check_progname
#include "core/manifest.h"       // defines: manifest_param_int, manifest_input, manifest_write_result
#include "core/timer.h"          // defines: monotonic_seconds
#include "data/dataset.h"        // defines: dataset_find, dataset_tokens_load, dataset_corpus_file
#include "engine/engine.h"       // defines: engine_forward
#include "eval/perplexity.h"     // defines: perplexity_run, perplexity_n_windows
#include "harness/harness.h"     // defines: harness_init, harness_plan, harness_open_recipe, harness_sample
#include "model/tokenizer.h"     // defines: tokenizer_load

#define E02_NAME "e02-perplexity"
#define E02_MAX_CORPORA 2

static void usage(FILE *f) {
    fprintf(f,
            "usage: e02-perplexity [options]\n"
            "Perplexity of each recipe on WikiText-2 test and the C4 slice (non-overlapping windows of --ctx\n"
            "tokens, capped by the model's max_position_embeddings; --windows 0 = all windows, the published\n"
            "protocol). Writes results/<model>/e02-perplexity/<recipe>.json. Without data files, text sampled\n"
            "from the BF16 model (seed --seed) is scored instead, and the results say so.\n%s",
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
};

static void e02_manifest(void *ctx, struct harness *h, struct manifest *m, const struct recipe *r) {
    const struct plan *pl = ctx;
    harness_manifest_begin(h, m, r);
    manifest_param_int(m, "ctx", h->ctx);
    manifest_param_int(m, "windows", h->o.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
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

static void run_recipe(struct plan *pl, const struct recipe *r, struct manifest *man) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    struct quant_stats st;
    struct engine *e = harness_open_recipe(&pl->h, r, &m, &st);
    fprintf(stderr, "%s: %-12s quantized in %.1f s\n", check_progname(), r->name, st.seconds);
    const int64_t ctx = pl->h.ctx;
    cJSON *metrics = cJSON_CreateObject(), *cases = cJSON_CreateArray();
    for (int i = 0; i < pl->n_corpora; i++) {
        const struct corpus *c = &pl->corpora[i];
        int64_t nw = perplexity_n_windows(c->tok.n, ctx, pl->h.o.windows);
        if (nw < 1) die("%s: %lld tokens hold no window of %lld", c->name, (long long)c->tok.n, (long long)ctx);
        double t1 = monotonic_seconds();
        struct perplexity_result res;
        perplexity_run(logits_fn, e, m->cfg.V, c->tok.ids, c->tok.n, ctx, nw, NULL, &res);
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
    cJSON_AddNumberToObject(metrics, "ctx", (double)ctx);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st.bits_per_weight);
    cJSON_AddNumberToObject(metrics, "weight_bytes", (double)st.weight_bytes);
    cJSON_AddNumberToObject(metrics, "n_linears", (double)st.n_linears);
    /* GPTQ: Linears whose Cholesky needed more damping (quant_stats; deterministic, never silent). */
    if (r->algo == RECIPE_ALGO_GPTQ) cJSON_AddNumberToObject(metrics, "n_damp_raised", (double)st.n_damp_raised);
    quant_stats_add_expert_metrics(metrics, &st);
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    manifest_write_result(man, metrics, cases);
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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
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
        for (int i = 0; i < pl.h.n_rec; i++)
            if (pl.h.todo[i]) run_recipe(&pl, pl.h.recipes[i], &pl.h.mans[i]);
    }
    harness_free(&pl.h, t0);
    for (int i = 0; i < pl.n_corpora; i++) {
        free(pl.corpora[i].path);
        dataset_tokens_free(&pl.corpora[i].tok);
    }
    return 0;
}
