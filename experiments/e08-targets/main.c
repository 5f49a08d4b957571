/* e08-targets -- the seed's targets as a pass/fail table per recipe; spec: spec.en.md (spec.zh.md)
 * Usage: build/bin/e08-targets [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--recipes LIST|all]
 * Reads results/<model>/e02-perplexity/<recipe>.json (required) and results/<model>/e04-tasks/<recipe>.json
 * (when present; it carries the paired statistics against bf16 itself); writes results/<model>/e08-targets/<recipe>.json (atomically), one per recipe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, xmalloc
#include "core/json_io.h"        // defines: json_read_file
#include "core/manifest.h"       // defines: manifest_init, manifest_seal, manifest_cache_hit, manifest_write_result
#include "quant/recipe.h"        // defines: recipe_parse_list, recipe_at, enum recipe_family

#define E08_NAME "e08-targets"
/* The seed's targets (DESIGN.md "Metrics"): fractions of the BF16 score, and the largest task drop. */
#define E08_TARGET_FP8 0.95
#define E08_TARGET_FP4 0.90
#define E08_MAX_DROP_POINTS 5.0
/* Fewest items on which a task's bootstrap interval may decide: with a handful of items, two recipes that
 * agree on every one get a zero-width interval (every resample has the same difference), which would be a
 * verdict on a point estimate. 30 is the usual floor of the percentile bootstrap (Efron & Tibshirani 1993,
 * ch. 13); below it a task case is "not resolvable". */
#define E08_MIN_TASK_ITEMS 30

struct e08_params {
    const char *model, *results, *recipes;
    int force;
};

static void usage(FILE *f) {
    fprintf(f, "usage: e08-targets [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--recipes LIST|all]\n"
               "Verdict of every recipe against the seed's targets (FP8 variants >= 95%% of BF16, FP4 variants\n"
               ">= 90%%, no task drop over 5 points) on 95%% intervals: PASS, FAIL or 'not resolvable' when the\n"
               "interval straddles the target. Judged on the e04 task scores where they exist, on the e02 paired\n"
               "perplexity ratio otherwise. Writes results/<model>/e08-targets/<recipe>.json. --backend is\n"
               "accepted and ignored.\n");
}

static void e08_parse_args(struct e08_params *p, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--force")) p->force = 1;
        else if (!strcmp(a, "--model") && has_val) p->model = argv[++i];
        else if (!strcmp(a, "--results") && has_val) p->results = argv[++i];
        else if (!strcmp(a, "--recipes") && has_val) p->recipes = argv[++i];
        else if (!strcmp(a, "--backend") && has_val) i++;
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
}

static char *result_path(const struct e08_params *p, const char *model, const char *exp, const char *recipe) {
    size_t n = strlen(p->results) + strlen(model) + strlen(exp) + strlen(recipe) + 16;
    char *s = xmalloc(n);
    snprintf(s, n, "%s/%s/%s/%s.json", p->results, model, exp, recipe);
    return s;
}

/* 8-bit families (FP8, INT8) keep >= 95 %, 4-bit families (FP4, INT4 weights) >= 90 %. */
static double target_of(const struct recipe *r) {
    switch (r->family) {
    case RECIPE_FAMILY_FP8:
    case RECIPE_FAMILY_INT8: return E08_TARGET_FP8;
    case RECIPE_FAMILY_FP4:
    case RECIPE_FAMILY_INT4: return E08_TARGET_FP4;
    default: return 1.0;
    }
}

static const char *family_name(const struct recipe *r) {
    static const char *const NAMES[] = {[RECIPE_FAMILY_BASELINE] = "baseline", [RECIPE_FAMILY_FP8] = "fp8",
                                        [RECIPE_FAMILY_FP4] = "fp4", [RECIPE_FAMILY_INT4] = "int4",
                                        [RECIPE_FAMILY_INT8] = "int8"};
    return NAMES[r->family];
}

/* A number from "metrics" of a results file, or NAN when absent. */
static double metric(const cJSON *root, const char *key) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- verdicts on intervals (issue 11): never PASS on a point estimate ----
 * A criterion "x >= target" judged on the 95 % interval [lo, hi] of x: PASS when lo >= target, FAIL when
 * hi < target, and "not resolvable" when the interval straddles the target (or is unknown). Several criteria
 * combine as: FAIL if any fails, PASS if all pass, else not resolvable. */
enum verdict { V_PASS, V_FAIL, V_UNRESOLVED };
static const char *const VERDICT_NAMES[] = {"PASS", "FAIL", "not resolvable"};

static enum verdict verdict_at_least(double lo, double hi, double target) {
    if (isnan(lo) || isnan(hi)) return V_UNRESOLVED;
    if (lo >= target) return V_PASS;
    if (hi < target) return V_FAIL;
    return V_UNRESOLVED;
}

static enum verdict verdict_and(enum verdict a, enum verdict b) {
    if (a == V_FAIL || b == V_FAIL) return V_FAIL;
    return a == V_PASS && b == V_PASS ? V_PASS : V_UNRESOLVED;
}

/* 1 / 0 for PASS / FAIL, null when not resolvable: the numeric twin of a verdict, for tables and checks. */
static void add_verdict(cJSON *o, const char *key, const char *pass_key, enum verdict v) {
    cJSON_AddStringToObject(o, key, VERDICT_NAMES[v]);
    if (v == V_UNRESOLVED) cJSON_AddNullToObject(o, pass_key);
    else cJSON_AddNumberToObject(o, pass_key, v == V_PASS);
}

static void put_num(cJSON *o, const char *key, double v) {
    if (isnan(v)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}

/* The headline score column of each e04 task (the first column of e04's task table, experiments/e04-tasks/
 * main.c TASKS: lm-eval's acc_norm for HellaSwag, acc for ARC and MMLU, strict-match for GSM8K). e04 writes
 * <key>, <key>_bf16, <key>_recovery(_ci95_lo/_hi) and <key>_diff_bf16(_ci95_lo/_hi) for each. */
static const char *const E04_HEADLINES[][2] = {
    {"hellaswag", "hellaswag_acc_norm"}, {"arc_easy", "arc_easy_acc"}, {"arc_challenge", "arc_challenge_acc"},
    {"mmlu", "mmlu_acc"}, {"gsm8k", "gsm8k_exact_match_strict"}, {"math500", "math500_exact_match"},
    {"math500_chat", "math500_chat_acc"},
};

static double metric_sfx(const cJSON *root, const char *key, const char *suffix) {
    char k[160];
    snprintf(k, sizeof k, "%s%s", key, suffix);
    return metric(root, k);
}

static void add_case(cJSON *cases, const char *name, double base, double value, double rec, double rec_lo,
                     double rec_hi, double drop, double drop_lo, double drop_hi, double target, enum verdict v,
                     const char *note) {
    cJSON *c = cJSON_CreateObject(), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    put_num(m, "bf16", base);
    put_num(m, "value", value);
    put_num(m, "recovery", rec);
    put_num(m, "recovery_ci95_lo", rec_lo);
    put_num(m, "recovery_ci95_hi", rec_hi);
    if (!isnan(drop)) {
        cJSON_AddNumberToObject(m, "drop_points", drop);
        put_num(m, "drop_points_ci95_lo", drop_lo);
        put_num(m, "drop_points_ci95_hi", drop_hi);
    }
    cJSON_AddNumberToObject(m, "target", target);
    add_verdict(m, "verdict", "pass", v);
    if (note) cJSON_AddStringToObject(m, "note", note);
    cJSON_AddItemToObject(c, "metrics", m);
    cJSON_AddItemToArray(cases, c);
}

/* Judges one recipe from its parsed inputs; returns the metrics and fills cases. */
static cJSON *judge(const struct recipe *r, const cJSON *p0, const cJSON *p1, const cJSON *t1, cJSON *cases,
                    enum verdict *out) {
    const double target = target_of(r);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "family", family_name(r));
    cJSON_AddNumberToObject(m, "target_recovery", target);
    /* Perplexity: recovery = PPL_bf16 / PPL_recipe = 1 / ratio (lower is better: a loss gives < 1), its
     * interval [1 / ratio_hi, 1 / ratio_lo] from e02's paired ratio on the same tokens (ppl_paired.h). An e02
     * result without the paired fields (older than issue 11) is not resolvable. */
    const char *sfx[2] = {"", "_c4"}, *names[2] = {"ppl", "ppl_c4"};
    double worst = INFINITY;
    enum verdict v_ppl = V_PASS;
    int n_corpora = 0;
    for (int i = 0; i < 2; i++) {
        char kr[64], klo[64], khi[64], kp[32];
        snprintf(kp, sizeof kp, "ppl%s", sfx[i]);
        double b = metric(p0, kp), v = metric(p1, kp);
        snprintf(kr, sizeof kr, "recovery_ppl%s", sfx[i]);
        snprintf(klo, sizeof klo, "recovery_ppl%s_ci95_lo", sfx[i]);
        snprintf(khi, sizeof khi, "recovery_ppl%s_ci95_hi", sfx[i]);
        if (isnan(b) || isnan(v)) {
            /* A corpus that was not scored (no data file) keeps its columns, as null: tables show it missing. */
            cJSON_AddNullToObject(m, kr), cJSON_AddNullToObject(m, klo), cJSON_AddNullToObject(m, khi);
            continue;
        }
        char k1[64], k2[64];
        snprintf(k1, sizeof k1, "ppl%s_ratio_ci95_lo", sfx[i]);
        snprintf(k2, sizeof k2, "ppl%s_ratio_ci95_hi", sfx[i]);
        double rlo = metric(p1, k1), rhi = metric(p1, k2);
        double rec = b / v, lo = 1.0 / rhi, hi = 1.0 / rlo;     /* NaN stays NaN */
        enum verdict vc = verdict_at_least(lo, hi, target);
        v_ppl = verdict_and(v_ppl, vc);
        worst = fmin(worst, rec);
        n_corpora++;
        cJSON_AddNumberToObject(m, kr, rec);
        put_num(m, klo, lo), put_num(m, khi, hi);
        add_case(cases, names[i], b, v, rec, lo, hi, NAN, NAN, NAN, target, vc,
                 isnan(lo) ? "no paired interval in the e02 result (older than issue 11)" : NULL);
    }
    if (!n_corpora) die("%s: no perplexity in the e02 results", r->name);
    cJSON_AddNumberToObject(m, "recovery_min", worst);
    add_verdict(m, "verdict_ppl", "pass_ppl", v_ppl);
    /* Tasks (e04), when the recipe was scored: recovery >= target and drop <= 5 points, each on its paired
     * bootstrap interval. A task whose BF16 score is 0 has no recovery (undefined): not resolvable. */
    int n_tasks = 0;
    enum verdict v_tasks = V_PASS;
    double min_rec = INFINITY, max_drop = -INFINITY;
    if (t1) {
        for (size_t k = 0; k < sizeof E04_HEADLINES / sizeof E04_HEADLINES[0]; k++) {
            const char *key = E04_HEADLINES[k][1];
            double v = metric_sfx(t1, key, ""), b = metric_sfx(t1, key, "_bf16");
            if (isnan(v) || isnan(b)) continue;          /* the task was not run */
            double rec = metric_sfx(t1, key, "_recovery");
            double rlo = metric_sfx(t1, key, "_recovery_ci95_lo"), rhi = metric_sfx(t1, key, "_recovery_ci95_hi");
            double d = metric_sfx(t1, key, "_diff_bf16");
            double dlo = metric_sfx(t1, key, "_diff_bf16_ci95_lo"), dhi = metric_sfx(t1, key, "_diff_bf16_ci95_hi");
            /* Scores are fractions in [0, 1]: drop = 100 (bf16 - recipe) points = -100 diff; no drop over 5
             * points <=> -diff <= 0.05 <=> diff >= -0.05. */
            double drop = -100.0 * d, drop_lo = -100.0 * dhi, drop_hi = -100.0 * dlo;
            enum verdict vr = verdict_at_least(rlo, rhi, target);
            enum verdict vd = verdict_at_least(dlo, dhi, -E08_MAX_DROP_POINTS / 100.0);
            enum verdict vt = verdict_and(vr, vd);
            char kn[96];
            snprintf(kn, sizeof kn, "%s_n", E04_HEADLINES[k][0]);
            double n_items = metric(t1, kn);
            const char *note = isnan(rec) ? "recovery undefined: BF16 scores 0 on these items" : NULL;
            if (!(n_items >= E08_MIN_TASK_ITEMS)) {
                vt = V_UNRESOLVED;
                note = "fewer than 30 items: the bootstrap interval cannot decide";
            }
            v_tasks = verdict_and(v_tasks, vt);
            if (!isnan(rec)) min_rec = fmin(min_rec, rec);
            max_drop = fmax(max_drop, drop);
            n_tasks++;
            char name[128];
            snprintf(name, sizeof name, "task:%s", E04_HEADLINES[k][0]);
            add_case(cases, name, b, v, rec, rlo, rhi, drop, drop_lo, drop_hi, target, vt, note);
        }
    }
    cJSON_AddNumberToObject(m, "tasks", n_tasks);
    put_num(m, "recovery_tasks_min", n_tasks && !isinf(min_rec) ? min_rec : NAN);
    put_num(m, "drop_points_max", n_tasks ? max_drop : NAN);
    if (n_tasks) add_verdict(m, "verdict_tasks", "pass_tasks", v_tasks);
    else cJSON_AddNullToObject(m, "verdict_tasks"), cJSON_AddNullToObject(m, "pass_tasks");
    /* The targets are about task scores: they decide where they exist, paired perplexity otherwise. BF16 is
     * the baseline compared with itself: PASS by definition (its cases above show recovery 1). */
    enum verdict v = n_tasks ? v_tasks : v_ppl;
    if (recipe_is_baseline(r)) v = V_PASS;
    cJSON_AddStringToObject(m, "basis", n_tasks ? "tasks" : "ppl");
    add_verdict(m, "verdict", "pass", v);
    *out = v;
    return m;
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct e08_params p = {.model = "models/qwen3-tiny", .results = "results", .recipes = "all", .force = 0};
    e08_parse_args(&p, argc, argv);
    char mbuf[4096];
    const char *model = manifest_model_name(p.model, mbuf, sizeof mbuf);
    const struct recipe **recipes = xmalloc((size_t)recipe_count() * sizeof *recipes);
    int n_rec = recipe_parse_list(p.recipes, recipes, "--recipes");

    char *p0_path = result_path(&p, model, "e02-perplexity", "bf16");
    if (!file_exists(p0_path))
        die("%s: missing: e08 compares every recipe with BF16\nhint: run e02-perplexity first "
            "(make run EXP=e02-perplexity)", p0_path);
    char *t0_path = result_path(&p, model, "e04-tasks", "bf16");
    cJSON *p0 = json_read_file(p0_path), *t0 = file_exists(t0_path) ? json_read_file(t0_path) : NULL;
    int n_run = 0, n_hit = 0, n_skip = 0;
    for (int i = 0; i < n_rec; i++) {
        const struct recipe *r = recipes[i];
        char *p1_path = result_path(&p, model, "e02-perplexity", r->name);
        char *t1_path = result_path(&p, model, "e04-tasks", r->name);
        if (!file_exists(p1_path)) {
            warn("%s: no e02 result (%s): skipped", r->name, p1_path);
            free(p1_path), free(t1_path);
            n_skip++;
            continue;
        }
        int tasks = t0 && file_exists(t1_path);
        /* The inputs are the results files themselves: any rerun upstream changes their hash. */
        struct manifest man;
        manifest_init(&man, p.results, E08_NAME, model, r->name);
        manifest_param_num(&man, "target_fp8", E08_TARGET_FP8);
        manifest_param_num(&man, "target_fp4", E08_TARGET_FP4);
        manifest_param_num(&man, "max_drop_points", E08_MAX_DROP_POINTS);
        manifest_param_str(&man, "rule", "95% interval: PASS lo >= target, FAIL hi < target, else not resolvable");
        manifest_param_int(&man, "min_task_items", E08_MIN_TASK_ITEMS);
        manifest_input(&man, "e02-perplexity/bf16.json", p0_path, NULL);
        manifest_input(&man, "e02-perplexity/recipe.json", p1_path, NULL);
        if (tasks) {
            manifest_input(&man, "e04-tasks/bf16.json", t0_path, NULL);
            manifest_input(&man, "e04-tasks/recipe.json", t1_path, NULL);
        }
        manifest_seal(&man);
        if (!p.force && manifest_cache_hit(&man)) {
            fprintf(stderr, "%s: %-12s cache hit (%s)\n", check_progname(), r->name, man.result_path);
            n_hit++;
        } else {
            cJSON *p1 = json_read_file(p1_path), *t1 = tasks ? json_read_file(t1_path) : NULL;
            cJSON *cases = cJSON_CreateArray();
            enum verdict v;
            cJSON *metrics = judge(r, p0, p1, t1, cases, &v);
            fprintf(stderr, "%s: %-12s worst ppl recovery %.4f (target %.2f), basis %s: %s\n", check_progname(),
                    r->name, cJSON_GetObjectItemCaseSensitive(metrics, "recovery_min")->valuedouble, target_of(r),
                    t1 ? "tasks" : "ppl", VERDICT_NAMES[v]);
            manifest_write_result(&man, metrics, cases);
            cJSON_Delete(p1);
            cJSON_Delete(t1);
            n_run++;
        }
        manifest_free(&man);
        free(p1_path), free(t1_path);
    }
    fprintf(stderr, "%s: %d recipe(s) judged, %d cache hit(s), %d without e02 results\n", check_progname(), n_run,
            n_hit, n_skip);
    cJSON_Delete(p0);
    cJSON_Delete(t0);
    free(p0_path), free(t0_path), free(recipes);
    return 0;
}
