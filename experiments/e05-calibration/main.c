/* e05-calibration -- GPTQ and AWQ against calibration size and group size: recovery against BF16 (paired KLD and
 * perplexity on the same tokens), quantization time and peak memory per configuration; spec: spec.en.md
 * Usage: build/bin/e05-calibration [--force] [--full] [--model DIR] [--results DIR] [--data-dir DIR]
 *        [--algos gptq,awq] [--seqs 128,215,512] [--groups 32,64,128] [--gptq-len L] [--awq-len L]
 *        [--windows N] [--ctx N] [--boot N] [--block N] [--seed S] [--backend cpu|cuda]
 * Writes: results/<model>/e05-calibration/<algo>-g<G>-n<N>.json (atomically), one per configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, warn, xmalloc
#include "core/cli.h"            // defines: cli_int
#include "core/manifest.h"       // defines: manifest_param_*, manifest_input, manifest_write_result
#include "core/memstat.h"        // defines: memstat_peak_reset, memstat_peak_rss_bytes
#include "core/timer.h"          // defines: monotonic_seconds
#include "data/dataset.h"        // defines: dataset_tokens_load, dataset_find, dataset_corpus_file
#include "engine/engine.h"       // defines: engine_forward
#include "eval/kld.h"            // defines: kld_window, kld_summarize
#include "eval/perplexity.h"     // defines: perplexity_n_windows, perplexity_nll_window
#include "eval/stats.h"          // defines: stats_mean, stats_stderr, stats_bootstrap_ci, stats_fn_mean
#include "harness/harness.h"     // defines: harness_init, harness_plan_recipes, harness_open_recipe
#include "model/qwen3_cpu.h"     // defines: qwen3_cpu_logits
#include "model/tokenizer.h"     // defines: tokenizer_load

#define E05_NAME "e05-calibration"
#define E05_MAX_LIST 8

/* The flags of e05 beyond the harness's common ones; defaults here and in the spec only. */
struct e05_params {
    const char *algos, *seqs, *groups;
    int64_t gptq_len, awq_len;   /* calibration sequence length per algorithm */
    int64_t boot, block;
    int full;
};

static struct e05_params e05_defaults(void) {
    struct e05_params p = {.algos = "gptq,awq", .seqs = "128,215,512", .groups = "32,64,128",
                           .gptq_len = 0, .awq_len = 0, .boot = 1000, .block = 128, .full = 0};
    return p;
}

/* The default run (spec "Cost"): it must fit ~8 minutes on two idle cores for all 18 configurations, and AWQ's
 * search runs the inspected blocks 20 times per group. Measured on qwen3-tiny (2 shared cores, load ~14): one
 * GPTQ configuration at 32 tokens per sequence took ~30 s of CPU (about 8 s of it loading and evaluation), AWQ
 * ~0.40 s of CPU per 16-token sequence. Over the grid's 2565 sequences per algorithm the default is GPTQ 16 and
 * AWQ 8 tokens per sequence (~800 s of CPU estimated in all, ~7 min on two idle cores), with 4 evaluation
 * windows of 512 tokens. --full: the protocol, GPTQ 2048 (IST-DASLab) and AWQ 512 (AutoAWQ) tokens per
 * sequence, every 2048-token window. Explicit --gptq-len / --awq-len / --windows / --ctx win over both. */
#define E05_DEFAULT_GPTQ_LEN 16
#define E05_DEFAULT_AWQ_LEN 8
#define E05_DEFAULT_WINDOWS 4
#define E05_DEFAULT_CTX 512

static void usage(FILE *f) {
    fprintf(f,
            "usage: e05-calibration [options] [--full] [--algos gptq,awq] [--seqs 128,215,512] [--groups 32,64,128]\n"
            "       [--gptq-len L] [--awq-len L] [--boot N] [--block N]\n"
            "GPTQ (INT4 sym) and AWQ (INT4 asym) per calibration size N x group size G: KLD against BF16 (95 %%\n"
            "bootstrap interval), paired ln(PPL/PPL_bf16), quantization time and peak RSS. Default: calibration\n"
            "sequences of %d (GPTQ) / %d (AWQ) tokens, %d windows of %d tokens of WikiText-2; --full: GPTQ 2048,\n"
            "AWQ 512 tokens per "
            "sequence, every 2048-token window. Writes results/<model>/e05-calibration/<algo>-g<G>-n<N>.json.\n"
            "(--recipes, --calib-seqs, --calib-len, --algo-calib-* of the common flags are not used here.)\n%s",
            E05_DEFAULT_GPTQ_LEN, E05_DEFAULT_AWQ_LEN, E05_DEFAULT_WINDOWS, E05_DEFAULT_CTX, HARNESS_USAGE);
}

/* Parses "a,b,c" of positive integers into out (at most E05_MAX_LIST). */
static int parse_ints(const char *flag, const char *s, int64_t *out) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0 || (*end && *end != ',') || n == E05_MAX_LIST)
            die_usage("%s: expected up to %d comma-separated positive integers, got '%s'", flag, E05_MAX_LIST, s);
        out[n++] = v;
        p = *end ? end + 1 : end;
    }
    if (!n) die_usage("%s: empty list", flag);
    return n;
}

/* ---- the configurations ---- */

struct config {
    struct recipe r;             /* gptq or awq with group_size and calib_seqs / calib_len set */
    char name[64];
};

struct plan {
    struct e05_params p;
    struct harness h;
    struct config *cfgs;
    const struct recipe **list;
    int n_cfg;
    char *data_path;             /* WikiText-2 test, or NULL: sampled */
    int sampled;
    int64_t sample_windows;
};

static void build_configs(struct plan *pl) {
    int64_t seqs[E05_MAX_LIST], groups[E05_MAX_LIST];
    const int ns = parse_ints("--seqs", pl->p.seqs, seqs);
    int ng = parse_ints("--groups", pl->p.groups, groups);
    const char *algos[2];
    int na = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", pl->p.algos);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (strcmp(t, "gptq") && strcmp(t, "awq")) die_usage("--algos: expected gptq and/or awq, got '%s'", t);
        if (na == 2) die_usage("--algos: at most gptq,awq");
        algos[na++] = !strcmp(t, "gptq") ? "gptq" : "awq";
    }
    if (!na) die_usage("--algos: empty list");
    pl->cfgs = xcalloc((size_t)(na * ns * ng), sizeof *pl->cfgs);
    pl->list = xcalloc((size_t)(na * ns * ng), sizeof *pl->list);
    /* A group that does not divide every Linear's K cannot be quantized (qwen3-tiny-moe's experts have K = 192:
     * no g128): those configurations are left out, with a warning, rather than stopping the run. */
    const struct qwen3_config *mc = &pl->h.cfg;
    int64_t ks[4] = {mc->D, mc->H * mc->D_h, mc->F, mc->E > 0 ? mc->F_moe : mc->D};
    for (int g = 0; g < ng; g++) {
        int fits = 1;
        for (int k = 0; k < 4; k++) fits &= ks[k] <= 0 || ks[k] % groups[g] == 0;
        if (!fits) {
            warn("group %lld does not divide every Linear's K of %s (D %lld, H*D_h %lld, F %lld, F_moe %lld): its "
                 "configurations are left out", (long long)groups[g], pl->h.model, (long long)ks[0], (long long)ks[1],
                 (long long)ks[2], (long long)mc->F_moe);
            for (int j = g; j + 1 < ng; j++) groups[j] = groups[j + 1];
            ng--;
            g--;
        }
    }
    if (!ng) die("no group of --groups fits %s", pl->h.model);
    for (int a = 0; a < na; a++)
        for (int g = 0; g < ng; g++)
            for (int s = 0; s < ns; s++) {
                struct config *c = &pl->cfgs[pl->n_cfg];
                /* The table's gptq (INT4 sym, amax/7.5, llm-compressor preset) and awq (INT4 asym, AutoAWQ)
                 * rows with only the group and the calibration size changed. */
                c->r = *recipe_by_name_or_die(algos[a], "e05");
                c->r.weight_params.group_size = (int)groups[g];
                c->r.calib_seqs = seqs[s];
                c->r.calib_len = !strcmp(algos[a], "gptq") ? pl->p.gptq_len : pl->p.awq_len;
                snprintf(c->name, sizeof c->name, "%s-g%lld-n%lld", algos[a], (long long)groups[g], (long long)seqs[s]);
                c->r.name = c->name;
                c->r.desc = "e05 configuration";
                pl->list[pl->n_cfg] = &c->r;
                pl->n_cfg++;
            }
}

static void e05_manifest(void *ctx, struct harness *h, struct manifest *m, const struct recipe *r) {
    const struct plan *pl = ctx;
    harness_manifest_begin(h, m, r);
    manifest_param_str(m, "corpus", pl->sampled ? "sampled" : "wikitext2");
    manifest_param_int(m, "ctx", h->ctx);
    manifest_param_int(m, "windows", h->o.windows);
    manifest_param_str(m, "data", pl->sampled ? "sampled-bf16" : "files");
    if (pl->sampled) manifest_param_int(m, "sample_windows", pl->sample_windows);
    manifest_param_int(m, "boot", pl->p.boot);
    manifest_param_int(m, "block", pl->p.block);
    manifest_param_int(m, "seed", (int64_t)h->o.seed);
    manifest_param_int(m, "group_size", r->weight_params.group_size);
    harness_manifest_recipe(h, m, r);
    manifest_input_checkpoint(m, h->o.model);
    if (pl->data_path) {
        const struct dataset_file *f = dataset_corpus_file(DATASET_WIKITEXT2);
        manifest_input(m, f->name, pl->data_path, f->sha256);
    }
    harness_manifest_end(h, m);
}

/* ---- running ---- */

/* The BF16 side, once per run: final hidden states of every window (the logits are recomputed from them by
 * the never-quantized lm_head, as e03 does) and the per-token NLL. */
struct reference {
    int64_t nw, T;
    float *h;                    /* nw x T x D */
    double *nll;                 /* nw x (T - 1) */
};

static void reference_run(struct plan *pl, const struct dataset_tokens *tok, int64_t nw, struct reference *ref) {
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&pl->h, recipe_by_name_or_die("bf16", "e05 reference"), &m, NULL);
    const int64_t T = pl->h.ctx, D = m->cfg.D, V = m->cfg.V;
    ref->nw = nw, ref->T = T;
    ref->h = xmalloc((size_t)(nw * T * D) * sizeof *ref->h);
    ref->nll = xmalloc((size_t)(nw * (T - 1)) * sizeof *ref->nll);
    float *lg = xmalloc((size_t)(T * V) * sizeof *lg);
    for (int64_t w = 0; w < nw; w++) {
        engine_forward(e, tok->ids + w * T, T, NULL, ref->h + w * T * D);
        qwen3_cpu_logits(m, ref->h + w * T * D, T, lg);
        perplexity_nll_window(lg, tok->ids + w * T, T, V, ref->nll + w * (T - 1));
    }
    free(lg);
    harness_close_recipe(e, m);
    fprintf(stderr, "%s: BF16 reference: %lld windows of %lld tokens, ppl %.4f (%.1f s)\n", check_progname(),
            (long long)nw, (long long)T, exp(stats_mean(ref->nll, nw * (T - 1))), monotonic_seconds() - t0);
}

static void add_ci(cJSON *o, const char *name, double v, double lo, double hi) {
    char k[64];
    cJSON_AddNumberToObject(o, name, v);
    snprintf(k, sizeof k, "%s_lo", name);
    cJSON_AddNumberToObject(o, k, lo);
    snprintf(k, sizeof k, "%s_hi", name);
    cJSON_AddNumberToObject(o, k, hi);
}

static void run_config(struct plan *pl, const struct recipe *r, struct manifest *man, const struct dataset_tokens *tok,
                       const struct reference *ref) {
    double t0 = monotonic_seconds();
    /* Peak RSS of loading + calibrating + quantizing this configuration (memstat.h); the reference and the
     * evaluation tokens the run already holds are part of the baseline it starts from. */
    const int reset_ok = memstat_peak_reset() == 0;
    struct qwen3_model *m;
    struct quant_stats st;
    struct engine *e = harness_open_recipe(&pl->h, r, &m, &st);
    const int64_t peak = memstat_peak_rss_bytes();
    // Per window: T positions, T - 1 scored, V logits each for the configuration and the reference.
    const int64_t T = ref->T, V = m->cfg.V, D = m->cfg.D, per = T - 1, nw = ref->nw, n = nw * per;
    float *lq = xmalloc((size_t)(T * V) * sizeof *lq), *lp = xmalloc((size_t)(T * V) * sizeof *lp);
    double *kld = xmalloc((size_t)n * sizeof *kld), *dp = xmalloc((size_t)n * sizeof *dp);
    double *top1 = xmalloc((size_t)n * sizeof *top1), *nll = xmalloc((size_t)n * sizeof *nll);
    double *d = xmalloc((size_t)n * sizeof *d);
    for (int64_t w = 0; w < nw; w++) {
        const int32_t *ids = tok->ids + w * T;
        engine_forward(e, ids, T, lq, NULL);
        qwen3_cpu_logits(m, ref->h + w * T * D, T, lp);
        kld_window(lp, lq, ids, T, V, kld + w * per, dp + w * per, top1 + w * per);
        perplexity_nll_window(lq, ids, T, V, nll + w * per);
    }
    /* Paired perplexity: d_t = NLL_q - NLL_bf16 on the same token, mean(d) = ln(PPL_q / PPL_bf16), its
     * interval the block bootstrap of e03's KLD (same blocks, same seed). */
    for (int64_t i = 0; i < n; i++) d[i] = nll[i] - ref->nll[i];
    struct kld_result res;
    kld_summarize(kld, dp, top1, n, (int)pl->p.boot, pl->p.block, pl->h.o.seed, &res);
    double dlo, dhi;
    stats_bootstrap_ci(d, n, stats_fn_mean, NULL, (int)pl->p.boot, pl->p.block, pl->h.o.seed, 0.95, &dlo, &dhi);
    const double dm = stats_mean(d, n), ppl = exp(stats_mean(nll, n)), ppl_bf16 = exp(stats_mean(ref->nll, n));
    fprintf(stderr, "%s: %-16s kld %.6f [%.6f, %.6f] ln(ppl/bf16) %.5f [%.5f, %.5f] ppl %.4f (bf16 %.4f) "
            "quant %.1f s peak %.0f MiB (%.1f s)\n", check_progname(), r->name, res.kld_mean.value, res.kld_mean.lo,
            res.kld_mean.hi, dm, dlo, dhi, ppl, ppl_bf16, st.seconds, peak / 1048576.0, monotonic_seconds() - t0);
    cJSON *metrics = cJSON_CreateObject();
    add_ci(metrics, "kld_mean", res.kld_mean.value, res.kld_mean.lo, res.kld_mean.hi);
    add_ci(metrics, "kld_median", res.kld_median.value, res.kld_median.lo, res.kld_median.hi);
    add_ci(metrics, "kld_p99", res.kld_p99.value, res.kld_p99.lo, res.kld_p99.hi);
    add_ci(metrics, "top1_agree", res.top1_agree.value, res.top1_agree.lo, res.top1_agree.hi);
    add_ci(metrics, "ln_ppl_ratio", dm, dlo, dhi);
    cJSON_AddNumberToObject(metrics, "ln_ppl_ratio_stderr", stats_stderr(d, n));
    /* Recovery of perplexity against BF16 (1 = none lost): PPL_bf16 / PPL_q = exp(-mean d). */
    add_ci(metrics, "ppl_recovery", exp(-dm), exp(-dhi), exp(-dlo));
    cJSON_AddNumberToObject(metrics, "ppl", ppl);
    cJSON_AddNumberToObject(metrics, "ppl_bf16", ppl_bf16);
    cJSON_AddNumberToObject(metrics, "tokens", (double)n);
    cJSON_AddNumberToObject(metrics, "windows", (double)nw);
    cJSON_AddNumberToObject(metrics, "ctx", (double)T);
    cJSON_AddNumberToObject(metrics, "calib_seqs", (double)r->calib_seqs);
    cJSON_AddNumberToObject(metrics, "calib_len", (double)(r->calib_len > 0 ? r->calib_len : 0));
    cJSON_AddNumberToObject(metrics, "group_size", (double)r->weight_params.group_size);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st.bits_per_weight);
    cJSON_AddNumberToObject(metrics, "quant_seconds", st.seconds);
    cJSON_AddNumberToObject(metrics, "peak_rss_mib", peak >= 0 ? peak / 1048576.0 : -1.0);
    cJSON_AddNumberToObject(metrics, "peak_rss_reset", reset_ok);
    cJSON_AddNumberToObject(metrics, "n_damp_raised", (double)st.n_damp_raised);
    quant_stats_add_expert_metrics(metrics, &st);
    cJSON_AddStringToObject(metrics, "algorithm", recipe_algo_name(r->algo));
    cJSON_AddStringToObject(metrics, "data", pl->sampled ? "sampled-bf16" : "files");
    manifest_write_result(man, metrics, NULL);
    fprintf(stderr, "%s: %-16s wrote %s\n", check_progname(), r->name, man->result_path);
    free(lq), free(lp), free(kld), free(dp), free(top1), free(nll), free(d);
    harness_close_recipe(e, m);
}

static void e05_parse_args(struct e05_params *p, struct harness_opts *o, int argc, char **argv) {
    int windows_set = 0, ctx_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (!strcmp(a, "--windows")) windows_set = 1;
        if (!strcmp(a, "--ctx")) ctx_set = 1;
        if (harness_parse_common(o, argc, argv, &i)) continue;
        else if (!strcmp(a, "--full")) p->full = 1;
        else if (!strcmp(a, "--algos") && has_val) p->algos = argv[++i];
        else if (!strcmp(a, "--seqs") && has_val) p->seqs = argv[++i];
        else if (!strcmp(a, "--groups") && has_val) p->groups = argv[++i];
        else if (!strcmp(a, "--gptq-len") && has_val) p->gptq_len = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--awq-len") && has_val) p->awq_len = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--boot") && has_val) p->boot = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--block") && has_val) p->block = cli_int(a, argv[++i], 1);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!p->gptq_len) p->gptq_len = p->full ? 2048 : E05_DEFAULT_GPTQ_LEN;
    if (!p->awq_len) p->awq_len = p->full ? 512 : E05_DEFAULT_AWQ_LEN;
    if (!windows_set) o->windows = p->full ? 0 : E05_DEFAULT_WINDOWS;
    if (!ctx_set) o->ctx = p->full ? 2048 : E05_DEFAULT_CTX;
    /* Each configuration's own calibration size is used (quant_calib_size), never the common overrides. */
    o->algo_calib_seqs = 0, o->algo_calib_len = 0;
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    pl.p = e05_defaults();
    struct harness_opts o;
    harness_defaults(&o);
    e05_parse_args(&pl.p, &o, argc, argv);
    harness_init(&pl.h, E05_NAME, &o);
    if (pl.h.is_checkpoint) die("%s: e05 quantizes an unquantized checkpoint; this one is already quantized", o.model);
    build_configs(&pl);
    pl.data_path = dataset_find(dataset_corpus_file(DATASET_WIKITEXT2)->name, o.data_dir);
    if (!pl.data_path) {
        pl.sampled = 1;
        pl.sample_windows = o.windows > 0 ? o.windows : E05_DEFAULT_WINDOWS;
        warn("%s not found: scoring text sampled from the BF16 model instead (results say data=sampled-bf16)",
             dataset_corpus_file(DATASET_WIKITEXT2)->name);
    }
    double t0 = monotonic_seconds();
    if (harness_plan_recipes(&pl.h, pl.list, pl.n_cfg, e05_manifest, &pl, pl.sampled)) {
        struct dataset_tokens tok = {0};
        if (pl.data_path) {
            struct tokenizer *tk = tokenizer_load(pl.h.o.model);
            if (dataset_tokens_load(&tok, DATASET_WIKITEXT2, o.data_dir, tk) != 0) die("%s: vanished", pl.data_path);
            tokenizer_free(tk);
        } else {
            harness_sample(&pl.h, pl.sample_windows, pl.h.ctx, o.seed, "sampled", &tok);
        }
        int64_t nw = perplexity_n_windows(tok.n, pl.h.ctx, pl.h.o.windows);
        if (nw < 1) die("wikitext2: %lld tokens hold no window of %lld", (long long)tok.n, (long long)pl.h.ctx);
        struct reference ref;
        reference_run(&pl, &tok, nw, &ref);
        for (int i = 0; i < pl.h.n_rec; i++)
            if (pl.h.todo[i]) run_config(&pl, pl.h.recipes[i], &pl.h.mans[i], &tok, &ref);
        free(ref.h), free(ref.nll);
        dataset_tokens_free(&tok);
    }
    harness_free(&pl.h, t0);
    free(pl.data_path), free(pl.cfgs), free(pl.list);
    return 0;
}
