/* e08-targets -- the seed's targets as a pass/fail table per recipe; spec: spec.en.md (spec.zh.md)
 * Usage: build/bin/e08-targets [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--recipes LIST|all]
 * Reads results/<model>/e02-perplexity/<recipe>.json (required) and results/<model>/e04-tasks/<recipe>.json
 * (when present); writes results/<model>/e08-targets/<recipe>.json (atomically), one per recipe. */
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

struct e08_params {
    const char *model, *results, *recipes;
    int force;
};

static void usage(FILE *f) {
    fprintf(f, "usage: e08-targets [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--recipes LIST|all]\n"
               "Pass/fail of every recipe against the seed's targets (FP8 variants >= 95%% of BF16, FP4 variants\n"
               ">= 90%%, no task drop over 5 points), from the e02 perplexities and the e04 task scores when they\n"
               "exist. Writes results/<model>/e08-targets/<recipe>.json. --backend is accepted and ignored.\n");
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

static double target_of(const struct recipe *r) {
    return r->family == RECIPE_FAMILY_FP8 ? E08_TARGET_FP8 : r->family == RECIPE_FAMILY_FP4 ? E08_TARGET_FP4 : 1.0;
}

static const char *family_name(const struct recipe *r) {
    return r->family == RECIPE_FAMILY_FP8 ? "fp8" : r->family == RECIPE_FAMILY_FP4 ? "fp4" : "baseline";
}

/* A number from "metrics" of a results file, or NAN when absent. */
static double metric(const cJSON *root, const char *key) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The primary score of one e04 case: acc_norm when present, else acc, else exact_match (lm-eval's choices). */
static double task_score(const cJSON *case_metrics) {
    const char *keys[] = {"acc_norm", "acc", "exact_match"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(case_metrics, keys[i]);
        if (cJSON_IsNumber(v)) return v->valuedouble;
    }
    return NAN;
}

static const cJSON *find_case(const cJSON *root, const char *name) {
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) return c;
    }
    return NULL;
}

static void add_case(cJSON *cases, const char *name, double base, double value, double recovery, double drop,
                     double target, int pass) {
    cJSON *c = cJSON_CreateObject(), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddNumberToObject(m, "bf16", base);
    cJSON_AddNumberToObject(m, "value", value);
    cJSON_AddNumberToObject(m, "recovery", recovery);
    if (!isnan(drop)) cJSON_AddNumberToObject(m, "drop_points", drop);
    cJSON_AddNumberToObject(m, "target", target);
    cJSON_AddNumberToObject(m, "pass", pass);
    cJSON_AddItemToObject(c, "metrics", m);
    cJSON_AddItemToArray(cases, c);
}

/* Judges one recipe from its parsed inputs; returns the metrics and fills cases. */
static cJSON *judge(const struct recipe *r, const cJSON *p0, const cJSON *p1, const cJSON *t0, const cJSON *t1,
                    cJSON *cases, int *pass_out) {
    const double target = target_of(r);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "family", family_name(r));
    cJSON_AddNumberToObject(m, "target_recovery", target);
    int pass = 1;
    /* Perplexity: recovery = ppl_bf16 / ppl_recipe (lower is better, so the ratio is <= 1 for a loss). */
    const char *ppl_keys[2] = {"ppl", "ppl_c4"};
    const char *rec_keys[2] = {"recovery_ppl", "recovery_ppl_c4"};
    double worst = INFINITY;
    for (int i = 0; i < 2; i++) {
        double b = metric(p0, ppl_keys[i]), v = metric(p1, ppl_keys[i]);
        if (isnan(b) || isnan(v)) {
            /* A corpus that was not scored (no data file) keeps its column, as null: tables show it missing. */
            cJSON_AddNullToObject(m, rec_keys[i]);
            continue;
        }
        double rec = b / v;
        int ok = rec >= target;
        pass &= ok;
        worst = fmin(worst, rec);
        cJSON_AddNumberToObject(m, rec_keys[i], rec);
        add_case(cases, ppl_keys[i], b, v, rec, NAN, target, ok);
    }
    if (isinf(worst)) die("%s: no perplexity in the e02 results", r->name);
    cJSON_AddNumberToObject(m, "recovery_min", worst);
    cJSON_AddNumberToObject(m, "pass_ppl", worst >= target);
    /* Tasks (e04), when both BF16 and the recipe were scored: recovery and the drop in points. */
    int n_tasks = 0, pass_tasks = 1;
    double min_rec = INFINITY, max_drop = -INFINITY;
    if (t0 && t1) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t0, "cases")) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
            const cJSON *c1 = cJSON_IsString(nm) ? find_case(t1, nm->valuestring) : NULL;
            if (!c1) continue;
            double b = task_score(cJSON_GetObjectItemCaseSensitive(c, "metrics"));
            double v = task_score(cJSON_GetObjectItemCaseSensitive(c1, "metrics"));
            if (isnan(b) || isnan(v) || b <= 0) continue;
            /* Scores are fractions in [0, 1]: a drop of 0.05 is 5 points. */
            double rec = v / b, drop = 100.0 * (b - v);
            int ok = rec >= target && drop <= E08_MAX_DROP_POINTS;
            pass_tasks &= ok;
            min_rec = fmin(min_rec, rec);
            max_drop = fmax(max_drop, drop);
            n_tasks++;
            char name[128];
            snprintf(name, sizeof name, "task:%s", nm->valuestring);
            add_case(cases, name, b, v, rec, drop, target, ok);
        }
    }
    cJSON_AddNumberToObject(m, "tasks", n_tasks);
    if (n_tasks) {
        cJSON_AddNumberToObject(m, "recovery_tasks_min", min_rec);
        cJSON_AddNumberToObject(m, "drop_points_max", max_drop);
        cJSON_AddNumberToObject(m, "pass_tasks", pass_tasks);
        pass &= pass_tasks;
    }
    cJSON_AddStringToObject(m, "basis", n_tasks ? "ppl+tasks" : "ppl");
    cJSON_AddNumberToObject(m, "pass", pass);
    *pass_out = pass;
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
            int pass;
            cJSON *metrics = judge(r, p0, p1, tasks ? t0 : NULL, t1, cases, &pass);
            fprintf(stderr, "%s: %-12s worst recovery %.4f (target %.2f) %s\n", check_progname(), r->name,
                    cJSON_GetObjectItemCaseSensitive(metrics, "recovery_min")->valuedouble, target_of(r),
                    pass ? "PASS" : "FAIL");
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
