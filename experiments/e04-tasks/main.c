/* e04-tasks -- task accuracy of every recipe, scored as lm-evaluation-harness scores it; spec: spec.en.md
 * (spec.zh.md). Tasks: hellaswag (0-shot, acc / acc_norm), arc_easy and arc_challenge (0-shot, acc / acc_norm),
 * mmlu (5-shot, acc: micro and macro, per subject), gsm8k (5-shot, greedy, strict-match and flexible-extract),
 * math500 (lm-eval's hendrycks_math500, greedy) and math500_chat (the seed protocol: Qwen3 chat template,
 * thinking off unless --thinking, sampled with fixed seeds, \boxed answer; strip_string and numeric columns).
 * Usage: build/bin/e04-tasks [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--data-dir DIR]
 *        [--recipes LIST|all] [--tasks LIST|all] [--limit TASK=N,...] [--mmlu-subjects K] [--full] [--seed S] [--boot N]
 *        [--gen-max-new N] [--chat-max-new N] [--thinking] [--calib-seqs N] [--calib-len N]
 * Writes: results/<model>/e04-tasks/<recipe>.json (atomically), <recipe>.items.jsonl beside it (every item:
 * prompt hash, scores or output, extracted answer, correctness), and runs/<recipe>.cost.json (items/s per task:
 * timing, kept out of the deterministic results file). The paired statistics against bf16 need bf16's items,
 * so bf16 is always scored (or read from its cached items file) first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, xmalloc, file_read_all
#include "core/cli.h"            // defines: cli_int
#include "harness/harness.h"     // defines: harness_init, harness_open_recipe, harness_manifest_recipe
#include "core/fileio.h"         // defines: file_write_atomic, mkdir_parent
#include "core/json_io.h"        // defines: json_print
#include "core/manifest.h"       // defines: manifest_init, manifest_seal, manifest_cache_hit, manifest_write_result
#include "data/arc.h"            // defines: arc_load, arc_pin
#include "data/gsm8k.h"          // defines: gsm8k_load, gsm8k_contexts
#include "data/hellaswag.h"      // defines: hellaswag_load, hellaswag_pin
#include "data/math500.h"        // defines: math500_load, math500_prompt_lmeval, math500_prompt_chat
#include "data/mmlu.h"           // defines: mmlu_csv_read, mmlu_load_subject
#include "engine/engine.h"       // defines: struct engine
#include "eval/gsm8k_score.h"    // defines: gsm8k_score_strict, gsm8k_score_flexible, gsm8k_score_match
#include "eval/math_equiv.h"     // defines: math_equiv_is_equiv, math_equiv_numeric, math_equiv_last_boxed
#include "eval/mcscore.h"        // defines: mcscore_doc
#include "eval/paired.h"         // defines: paired_bootstrap
#include "eval/subsample.h"      // defines: subsample_indices
#include "eval/task_lm.h"        // defines: task_lm_engine
#include "eval/taskgen.h"        // defines: taskgen_run
#include "model/qwen3.h"         // defines: struct qwen3_model
#include "model/tokenizer.h"     // defines: tokenizer_load, tokenizer_encode
#include "quant/quantize.h"      // defines: struct quant_stats
#include "quant/recipe.h"        // defines: recipe_parse_list, recipe_manifest

/* The default recipe set: every row of src/quant/recipe.c (issue 11: the default run fits all of them in about 10
 * minutes on two idle cores on the tiny model, with the per-task limits below; spec.en.md "Cost"). */
#define E04_DEFAULT_RECIPES "all"
#define E04_NAME "e04-tasks"

/* Default limits on the embedded model, chosen so that every recipe fits in about 10 minutes on two idle cores
 * (issue 11; the measured items/s and the budget are in spec.en.md "Cost"): seeded subsamples of the MC sets,
 * one item per subject over a seeded subsample of MMLU's subjects, and one item of each generation task (the
 * tiny model never stops early, so each costs the full 256 decode steps). --full scores everything. */
#define E04_LIMIT_HELLASWAG 20
#define E04_LIMIT_ARC_EASY 20
#define E04_LIMIT_ARC_CHALLENGE 20
#define E04_MMLU_SUBJECTS 4
#define E04_LIMIT_GEN 1

enum task_id { T_HELLASWAG, T_ARC_EASY, T_ARC_CHALLENGE, T_MMLU, T_GSM8K, T_MATH500, T_MATH500_CHAT, T_COUNT };

/* Per task: name, whether it is multiple choice, the default --limit on the embedded model (0 = all), and the
 * names of its per-item score columns (the first is the headline). Defaults: spec.en.md "Cost". */
static const struct task_def {
    const char *name;
    int mc;
    int64_t default_limit;
    int n_cols;
    const char *cols[3];
} TASKS[T_COUNT] = {
    {"hellaswag", 1, E04_LIMIT_HELLASWAG, 2, {"acc_norm", "acc"}},
    {"arc_easy", 1, E04_LIMIT_ARC_EASY, 2, {"acc", "acc_norm"}},
    {"arc_challenge", 1, E04_LIMIT_ARC_CHALLENGE, 2, {"acc", "acc_norm"}},
    {"mmlu", 1, 1, 1, {"acc"}},                 /* per subject, over E04_MMLU_SUBJECTS subjects */
    {"gsm8k", 0, E04_LIMIT_GEN, 2, {"exact_match_strict", "exact_match_flexible"}},
    {"math500", 0, E04_LIMIT_GEN, 1, {"exact_match"}},
    {"math500_chat", 0, E04_LIMIT_GEN, 2, {"acc", "acc_numeric"}},
};

struct e04_params {
    const char *model, *results, *data_dir, *recipes, *tasks;
    int64_t limit[T_COUNT];
    int64_t mmlu_subjects;           /* --mmlu-subjects K: a seeded subsample of K subjects (0 = all 57) */
    int64_t boot, gen_max_new, chat_max_new, calib_seqs, calib_len, algo_calib_seqs, algo_calib_len;
    const char *backend;
    uint64_t seed;
    int thinking, force;
};

static struct e04_params e04_defaults(void) {
    struct e04_params p = {.model = "models/qwen3-tiny", .results = "results", .data_dir = NULL, .recipes = E04_DEFAULT_RECIPES,
                           .tasks = "all", .mmlu_subjects = E04_MMLU_SUBJECTS, .boot = 1000, .gen_max_new = 256, .chat_max_new = 256,
                           .calib_seqs = 16, .calib_len = 512, .algo_calib_seqs = -1, .algo_calib_len = -1, .backend = "cpu", .seed = 1, .thinking = 0, .force = 0};
    for (int t = 0; t < T_COUNT; t++) p.limit[t] = TASKS[t].default_limit;
    return p;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: e04-tasks [--force] [--model DIR] [--backend cpu|cuda] [--results DIR] [--data-dir DIR]\n"
            "                 [--recipes LIST|all (default all)] [--tasks LIST|all] [--limit TASK=N,...] [--mmlu-subjects K]\n"
            "                 [--full] [--seed S]\n"
            "                 [--boot N] [--gen-max-new N] [--chat-max-new N] [--thinking]\n"
            "                 [--calib-seqs N] [--calib-len N] [--algo-calib-seqs N] [--algo-calib-len N]\n"
            "Task accuracy per recipe, scored as lm-evaluation-harness does (hellaswag, arc_easy, arc_challenge,\n"
            "mmlu, gsm8k, math500; math500_chat = the seed's chat protocol). --limit draws a seeded subsample\n"
            "(seed --seed) of each named task, N = 0 for all items; mmlu=N is per subject, over a seeded subsample\n"
            "of --mmlu-subjects K subjects (0 = all 57); --full scores every item of every task and subject.\n"
            "Defaults: hellaswag=20,arc_easy=20,arc_challenge=20,mmlu=1 (per subject, 4 subjects),gsm8k=1,\n"
            "math500=1,math500_chat=1. Paired differences to bf16 with bootstrap intervals (--boot resamples).\n");
}

static int task_by_name(const char *s, size_t n) {
    for (int t = 0; t < T_COUNT; t++)
        if (strlen(TASKS[t].name) == n && !strncmp(TASKS[t].name, s, n)) return t;
    return -1;
}

static void parse_limits(struct e04_params *p, const char *arg) {
    for (const char *s = arg; *s;) {
        const char *e = strchr(s, ','), *eq = strchr(s, '=');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (!eq || eq >= s + len) die_usage("--limit: expected TASK=N[,TASK=N...], got '%s'", arg);
        int t = task_by_name(s, (size_t)(eq - s));
        if (t < 0) die_usage("--limit: unknown task '%.*s'", (int)(eq - s), s);
        char num[32];
        snprintf(num, sizeof num, "%.*s", (int)(s + len - eq - 1), eq + 1);
        p->limit[t] = cli_int("--limit", num, 0);
        s += len + (e ? 1 : 0);
    }
}

static void e04_parse_args(struct e04_params *p, int argc, char **argv);

/* ---- the items of every task (loaded once, shared by all recipes) ---- */

struct task_items {
    int on;
    int64_t n_all, n;                /* items in the set, items selected */
    int64_t *idx;                    /* the selected indices (ascending) */
    struct mc_doc *mc;               /* MC tasks: n docs */
    int *subject;                    /* mmlu: subject of each selected doc */
    char **prompt;                   /* generation tasks: n prompts */
    char **gold;                     /* generation tasks: n references */
    char layout[32];                 /* hellaswag: "jsonl-original" | "llamacpp-txt" */
};

struct plan {
    struct e04_params p;
    struct harness h;                  /* model loading, quantization, calibration (src/harness) */
    const char *model;
    struct task_items items[T_COUNT];
    struct tokenizer *tok;
    char mmlu_inputs_sha256[SHA256_HEX_LEN];  /* one hash over the 114 MMLU pins (load_items) */
    char **input_names, **input_paths;  /* every file read, for the manifest */
    const char **input_sha;
    int n_inputs;
};

/* Finds and verifies a pinned file; record: also list it as a manifest input (else the caller records it
 * some other way). NULL when no search directory has it. */
static char *find_verified(struct plan *pl, const struct task_pin *pin, int record) {
    char *path = task_file_find(pin, pl->p.data_dir), hex[SHA256_HEX_LEN];
    if (!path) return NULL;
    task_file_verify(pin, path, hex);
    if (!record) return path;
    pl->input_names = xrealloc(pl->input_names, (size_t)(pl->n_inputs + 1) * sizeof(char *));
    pl->input_paths = xrealloc(pl->input_paths, (size_t)(pl->n_inputs + 1) * sizeof(char *));
    pl->input_sha = xrealloc(pl->input_sha, (size_t)(pl->n_inputs + 1) * sizeof(char *));
    pl->input_names[pl->n_inputs] = xstrdup(pin->name);
    pl->input_paths[pl->n_inputs] = xstrdup(path);
    pl->input_sha[pl->n_inputs] = pin->sha256;
    pl->n_inputs++;
    return path;
}

static char *need(struct plan *pl, const struct task_pin *pin, const char *task) {
    char *p = find_verified(pl, pin, 1);
    if (!p)
        die("%s: %s not found (searched --data-dir, $QL_DATA_DIR, ./data, ../shared/data)\nhint: --tasks leaves a "
            "task out", task, pin->name);
    return p;
}

/* Selects the subsample of task t over n_all items (seed: the run's seed plus the task's index). */
static void select_items(struct plan *pl, int t, int64_t n_all) {
    struct task_items *ti = &pl->items[t];
    ti->n_all = n_all;
    ti->idx = xmalloc((size_t)(n_all ? n_all : 1) * sizeof *ti->idx);
    ti->n = subsample_indices(n_all, pl->p.limit[t], pl->p.seed * 1000 + (uint64_t)t, ti->idx);
}

/* Keeps the selected docs of an MC set (frees the rest). */
static void keep_mc(struct task_items *ti, struct mc_doc *all, int64_t n_all) {
    ti->mc = xcalloc((size_t)(ti->n ? ti->n : 1), sizeof *ti->mc);
    int64_t j = 0;
    for (int64_t i = 0; i < n_all; i++) {
        if (j < ti->n && ti->idx[j] == i) ti->mc[j++] = all[i];
        else mc_doc_free(&all[i]);
    }
    free(all);
}

static void load_items(struct plan *pl) {
    struct task_items *it = pl->items;
    if (it[T_HELLASWAG].on) {
        /* The original layout when a user supplies it (exact to lm-eval), else the local llama.cpp file. */
        char *p = find_verified(pl, hellaswag_pin(HELLASWAG_FILE_VAL_JSONL), 1);
        enum hellaswag_layout lay = HELLASWAG_JSONL;
        if (!p) { p = need(pl, hellaswag_pin(HELLASWAG_FILE_VAL_TXT), "hellaswag"); lay = HELLASWAG_LLAMACPP_TXT; }
        snprintf(it[T_HELLASWAG].layout, sizeof it[T_HELLASWAG].layout, "%s",
                 lay == HELLASWAG_JSONL ? "jsonl-original" : "llamacpp-txt");
        struct mc_doc *all;
        size_t n = hellaswag_load(p, lay, &all);
        select_items(pl, T_HELLASWAG, (int64_t)n);
        keep_mc(&it[T_HELLASWAG], all, (int64_t)n);
        free(p);
    }
    for (int s = 0; s < ARC_SET_COUNT; s++) {
        int t = s == ARC_EASY ? T_ARC_EASY : T_ARC_CHALLENGE;
        if (!it[t].on) continue;
        char *p = need(pl, arc_pin((enum arc_set)s), TASKS[t].name);
        struct mc_doc *all;
        size_t n = arc_load(p, &all);
        select_items(pl, t, (int64_t)n);
        keep_mc(&it[t], all, (int64_t)n);
        free(p);
    }
    if (it[T_MMLU].on) {
        /* All subjects in subject order, items in file order: the subsample is over the 14042 items. */
        struct mc_doc *all = NULL;
        int *subj = NULL;
        size_t n = 0;
        /* The 114 files are each verified against their pins; the manifest records one input for all of them:
         * the sha256 of the lines "<sha256>  <name>\n" in subject order (dev, then test). */
        struct sha256_ctx agg;
        sha256_init(&agg);
        for (int s = 0; s < mmlu_n_subjects(); s++) {
            char b1[256], b2[256];
            struct task_pin pd = mmlu_pin_dev(s, b1, sizeof b1), pt = mmlu_pin_test(s, b2, sizeof b2);
            char *p1 = find_verified(pl, &pd, 0), *p2 = find_verified(pl, &pt, 0);
            if (!p1 || !p2) die("mmlu: %s not found (searched --data-dir, $QL_DATA_DIR, ./data, ../shared/data)",
                                p1 ? pt.name : pd.name);
            char line[512];
            int k1 = snprintf(line, sizeof line, "%s  %s\n%s  %s\n", pd.sha256, pd.name, pt.sha256, pt.name);
            sha256_update(&agg, line, (size_t)k1);
            struct mmlu_row *dev, *test;
            size_t nd = mmlu_csv_read(p1, &dev), nt = mmlu_csv_read(p2, &test);
            struct mc_doc *docs;
            size_t k = mmlu_load_subject(s, dev, nd, test, nt, &docs);
            all = xrealloc(all, (n + k) * sizeof *all);
            subj = xrealloc(subj, (n + k) * sizeof *subj);
            for (size_t i = 0; i < k; i++) { all[n + i] = docs[i]; subj[n + i] = s; }
            n += k;
            free(docs);
            mmlu_rows_free(dev, nd), mmlu_rows_free(test, nt);
            free(p1), free(p2);
        }
        uint8_t dig[32];
        sha256_final(&agg, dig);
        for (int b = 0; b < 32; b++) snprintf(pl->mmlu_inputs_sha256 + 2 * b, 3, "%02x", dig[b]);
        /* --limit mmlu=N is per subject, as lm-eval's --limit applies to each mmlu_<subject> task: a seeded
         * subsample of N items within each subject (stream seed * 1000 + 100 + subject), in file order. */
        struct task_items *ti = &it[T_MMLU];
        /* --mmlu-subjects K: K of the 57 subjects, drawn with stream seed * 1000 + 99 (the same set for
         * every recipe: paired); the others contribute no item. */
        int64_t n_s = mmlu_n_subjects(), *subj_sel = xmalloc((size_t)n_s * sizeof *subj_sel);
        int *subj_on = xcalloc((size_t)n_s, sizeof *subj_on);
        int64_t k_s = subsample_indices(n_s, pl->p.mmlu_subjects, pl->p.seed * 1000 + 99, subj_sel);
        for (int64_t j = 0; j < k_s; j++) subj_on[subj_sel[j]] = 1;
        free(subj_sel);
        ti->n_all = (int64_t)n;
        ti->idx = xmalloc((n ? n : 1) * sizeof *ti->idx);
        ti->subject = xmalloc((n ? n : 1) * sizeof(int));
        ti->n = 0;
        int64_t *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
        for (size_t i0 = 0; i0 < n;) {
            size_t i1 = i0;
            while (i1 < n && subj[i1] == subj[i0]) i1++;
            int64_t k = !subj_on[subj[i0]] ? 0 : subsample_indices((int64_t)(i1 - i0), pl->p.limit[T_MMLU],
                                          pl->p.seed * 1000 + 100 + (uint64_t)subj[i0], tmp);
            for (int64_t j = 0; j < k; j++) {
                ti->idx[ti->n] = (int64_t)i0 + tmp[j];
                ti->subject[ti->n++] = subj[i0];
            }
            i0 = i1;
        }
        free(tmp), free(subj_on);
        keep_mc(&it[T_MMLU], all, (int64_t)n);
        free(subj);
    }
    if (it[T_GSM8K].on) {
        char *pt = need(pl, gsm8k_pin(GSM8K_TEST), "gsm8k"), *pr = need(pl, gsm8k_pin(GSM8K_TRAIN), "gsm8k");
        struct gsm8k_doc *test, *train;
        size_t nt = gsm8k_load(pt, &test), nr = gsm8k_load(pr, &train);
        select_items(pl, T_GSM8K, (int64_t)nt);
        struct task_items *ti = &it[T_GSM8K];
        ti->prompt = gsm8k_contexts(test, nt, train, nr, ti->idx, (size_t)ti->n, GSM8K_FEWSHOT_SEED, NULL);
        ti->gold = xmalloc((size_t)(ti->n ? ti->n : 1) * sizeof(char *));
        for (int64_t j = 0; j < ti->n; j++) ti->gold[j] = xstrdup(test[ti->idx[j]].answer);
        gsm8k_free(test, nt), gsm8k_free(train, nr);
        free(pt), free(pr);
    }
    if (it[T_MATH500].on || it[T_MATH500_CHAT].on) {
        char *p = need(pl, math500_pin(), "math500");
        struct math500_doc *docs;
        size_t n = math500_load(p, &docs);
        for (int t = T_MATH500; t <= T_MATH500_CHAT; t++) {
            if (!it[t].on) continue;
            select_items(pl, t, (int64_t)n);
            struct task_items *ti = &it[t];
            ti->prompt = xmalloc((size_t)(ti->n ? ti->n : 1) * sizeof(char *));
            ti->gold = xmalloc((size_t)(ti->n ? ti->n : 1) * sizeof(char *));
            for (int64_t j = 0; j < ti->n; j++) {
                const struct math500_doc *d = &docs[ti->idx[j]];
                ti->prompt[j] = t == T_MATH500 ? math500_prompt_lmeval(d) : math500_prompt_chat(d, pl->p.thinking);
                ti->gold[j] = xstrdup(d->gold);
            }
        }
        math500_free(docs, n);
        free(p);
    }
}

/* ---- one recipe's scores ---- */

/* Per-item score columns of every task, and the per-item log lines. */
struct scores {
    double *col[T_COUNT][3];
    double items_per_s[T_COUNT], seconds[T_COUNT], cpu_seconds[T_COUNT];
    double quantize_cpu_seconds;
    int64_t invalid[T_COUNT][2];        /* gsm8k: strict, flexible "[invalid]"; math: no "$" / no \boxed */
    int64_t tokens_generated[T_COUNT];
    int64_t truncated[T_COUNT];
};

static void scores_alloc(struct scores *s, const struct plan *pl) {
    memset(s, 0, sizeof *s);
    for (int t = 0; t < T_COUNT; t++)
        if (pl->items[t].on)
            for (int c = 0; c < TASKS[t].n_cols; c++)
                s->col[t][c] = xcalloc((size_t)(pl->items[t].n ? pl->items[t].n : 1), sizeof(double));
}

static void scores_free(struct scores *s) {
    for (int t = 0; t < T_COUNT; t++)
        for (int c = 0; c < 3; c++) free(s->col[t][c]);
}

static void add_item_line(char **buf, size_t *len, size_t *cap, cJSON *o) {
    char *line = cJSON_PrintUnformatted(o);
    size_t n = strlen(line);
    while (*len + n + 2 > *cap) *buf = xrealloc(*buf, *cap *= 2);
    memcpy(*buf + *len, line, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = 0;
    free(line);
    cJSON_Delete(o);
}

static void item_common(cJSON *o, const char *task, const char *id, int64_t index, const char *prompt) {
    char hex[SHA256_HEX_LEN];
    sha256_buf(prompt, strlen(prompt), hex);
    cJSON_AddStringToObject(o, "task", task);
    cJSON_AddStringToObject(o, "item", id);
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddStringToObject(o, "prompt_sha256", hex);
}

/* The generation settings of a task. */
static struct taskgen_params gen_params(const struct plan *pl, int t, int64_t j) {
    struct taskgen_params g = {0};
    g.sampling = sampling_defaults();
    int32_t eos = tokenizer_eos_id(pl->tok), im_end = tokenizer_im_end_id(pl->tok);
    if (eos >= 0) g.stop_ids[g.n_stop_ids++] = eos;
    if (t == T_GSM8K) {
        g.max_new = pl->p.gen_max_new;
        g.n_until = 3;
        g.until[0] = "Question:", g.until[1] = "</s>", g.until[2] = "<|im_end|>";
    } else if (t == T_MATH500) {
        g.max_new = pl->p.gen_max_new;
        g.n_until = 1;
        g.until[0] = "Problem:";
    } else {
        g.max_new = pl->p.chat_max_new;
        if (im_end >= 0 && im_end != eos) g.stop_ids[g.n_stop_ids++] = im_end;
        /* Qwen3's recommended settings (model card): thinking T 0.6, top-p 0.95, top-k 20; non-thinking
         * T 0.7, top-p 0.8, top-k 20, presence penalty 1.5. The stream of item j is the run's seed and the
         * item's index in the full set, so a subsample draws the same tokens for an item as the full run. */
        g.sampling.temperature = pl->p.thinking ? 0.6f : 0.7f;
        g.sampling.top_p = pl->p.thinking ? 0.95f : 0.8f;
        g.sampling.top_k = 20;
        g.sampling.presence_penalty = pl->p.thinking ? 0.0f : 1.5f;
        g.sampling.seed = pl->p.seed * 1000003u + (uint64_t)pl->items[t].idx[j];
    }
    return g;
}

static void run_task(const struct plan *pl, const struct task_lm *lm, int t, struct scores *sc, char **buf,
                     size_t *len, size_t *cap) {
    const struct task_items *ti = &pl->items[t];
    double t0 = monotonic_seconds(), c0 = process_cpu_seconds();
    struct mc_cache cache = {0};   /* consecutive items share their contexts' common start (MMLU shots) */
    for (int64_t j = 0; j < ti->n; j++) {
        cJSON *o = cJSON_CreateObject();
        if (TASKS[t].mc) {
            const struct mc_doc *d = &ti->mc[j];
            struct mc_result r;
            mcscore_doc(lm, pl->tok, d, &cache, &r);
            item_common(o, TASKS[t].name, d->id, ti->idx[j], d->context);
            cJSON *ll = cJSON_AddArrayToObject(o, "ll");
            for (int c = 0; c < d->n_choices; c++) cJSON_AddItemToArray(ll, cJSON_CreateNumber(r.ll[c]));
            cJSON_AddNumberToObject(o, "gold", d->gold);
            cJSON_AddNumberToObject(o, "pred", r.pred);
            cJSON_AddNumberToObject(o, "pred_norm", r.pred_norm);
            cJSON_AddNumberToObject(o, "acc", r.acc);
            cJSON_AddNumberToObject(o, "acc_norm", r.acc_norm);
            for (int c = 0; c < TASKS[t].n_cols; c++)
                sc->col[t][c][j] = !strcmp(TASKS[t].cols[c], "acc_norm") ? r.acc_norm : r.acc;
            sc->truncated[t] += r.truncated;
        } else {
            size_t np;
            int32_t *ids = tokenizer_encode(pl->tok, ti->prompt[j], strlen(ti->prompt[j]), &np);
            struct taskgen_params g = gen_params(pl, t, j);
            struct taskgen_result r;
            taskgen_run(lm, pl->tok, ids, (int64_t)np, &g, &r);
            free(ids);
            char id[64];
            snprintf(id, sizeof id, "%s/%lld", TASKS[t].name, (long long)ti->idx[j]);
            item_common(o, TASKS[t].name, id, ti->idx[j], ti->prompt[j]);
            cJSON_AddStringToObject(o, "output", r.text);
            cJSON_AddNumberToObject(o, "n_generated", (double)r.n_generated);
            cJSON_AddNumberToObject(o, "stop", r.stop);
            sc->tokens_generated[t] += r.n_generated;
            sc->truncated[t] += r.n_prompt < (int64_t)np;
            if (t == T_GSM8K) {
                char *st = gsm8k_score_strict(r.text), *fl = gsm8k_score_flexible(r.text);
                char *ref = gsm8k_score_normalize(ti->gold[j]);
                sc->col[t][0][j] = gsm8k_score_match(st, ti->gold[j]);
                sc->col[t][1][j] = gsm8k_score_match(fl, ti->gold[j]);
                sc->invalid[t][0] += !strcmp(st, GSM8K_SCORE_INVALID);
                sc->invalid[t][1] += !strcmp(fl, GSM8K_SCORE_INVALID);
                cJSON_AddStringToObject(o, "reference", ref);
                cJSON_AddStringToObject(o, "extracted_strict", st);
                cJSON_AddStringToObject(o, "extracted_flexible", fl);
                cJSON_AddNumberToObject(o, "correct_strict", sc->col[t][0][j]);
                cJSON_AddNumberToObject(o, "correct_flexible", sc->col[t][1][j]);
                free(st), free(fl), free(ref);
            } else if (t == T_MATH500) {
                char *a = math_equiv_dollar_answer(r.text);
                const char *d1 = strchr(r.text, '$');
                sc->invalid[t][0] += !(d1 && strchr(d1 + 1, '$'));
                sc->col[t][0][j] = math_equiv_is_equiv(a, ti->gold[j]);
                cJSON_AddStringToObject(o, "reference", ti->gold[j]);
                cJSON_AddStringToObject(o, "extracted", a);
                cJSON_AddNumberToObject(o, "correct", sc->col[t][0][j]);
                free(a);
            } else {
                /* The answer is read after the last "</think>" when the model closed a think block. */
                const char *body = r.text, *q;
                for (q = strstr(r.text, "</think>"); q; q = strstr(q + 1, "</think>")) body = q + 8;
                char *box = math_equiv_last_boxed(body), *a = math_equiv_remove_boxed(box);
                sc->invalid[t][0] += a == NULL;
                sc->col[t][0][j] = a && math_equiv_is_equiv(a, ti->gold[j]);
                sc->col[t][1][j] = a && (sc->col[t][0][j] || math_equiv_numeric(a, ti->gold[j]));
                cJSON_AddStringToObject(o, "reference", ti->gold[j]);
                if (a) cJSON_AddStringToObject(o, "extracted", a);
                else cJSON_AddNullToObject(o, "extracted");
                cJSON_AddNumberToObject(o, "correct", sc->col[t][0][j]);
                cJSON_AddNumberToObject(o, "correct_numeric", sc->col[t][1][j]);
                free(box), free(a);
            }
            free(r.text);
        }
        add_item_line(buf, len, cap, o);
    }
    mc_cache_free(lm, &cache);
    sc->seconds[t] = monotonic_seconds() - t0;
    sc->cpu_seconds[t] = process_cpu_seconds() - c0;
    sc->items_per_s[t] = ti->n ? (double)ti->n / sc->seconds[t] : 0;
    fprintf(stderr, "%s: %-14s %lld items, %.1f s, %.2f items/s (%.1f CPU-s)\n", check_progname(), TASKS[t].name,
            (long long)ti->n, sc->seconds[t], sc->items_per_s[t], sc->cpu_seconds[t]);
}

/* ---- reading bf16's cached per-item scores back ---- */

static char *items_path(const struct manifest *m) {
    size_t n = strlen(m->result_path);
    char *p = xmalloc(n + 16);
    memcpy(p, m->result_path, n - 5); /* strip ".json" */
    strcpy(p + n - 5, ".items.jsonl");
    return p;
}

/* Fills the score columns from an items file written by an identical bf16 run (its cache key matched). */
static void scores_read(struct scores *s, const struct plan *pl, const char *path) {
    size_t nr;
    cJSON **rows = task_jsonl_read(path, &nr);
    int64_t pos[T_COUNT] = {0};
    for (size_t i = 0; i < nr; i++) {
        const char *task = task_json_str(rows[i], "task", path, i);
        int t = task_by_name(task, strlen(task));
        if (t < 0 || !pl->items[t].on) continue;
        int64_t j = pos[t]++;
        if (j >= pl->items[t].n) die("%s: more %s items than this run selects", path, task);
        static const char *keys[T_COUNT][3] = {
            {"acc_norm", "acc"}, {"acc", "acc_norm"}, {"acc", "acc_norm"}, {"acc"},
            {"correct_strict", "correct_flexible"}, {"correct"}, {"correct", "correct_numeric"}};
        for (int c = 0; c < TASKS[t].n_cols; c++)
            s->col[t][c][j] = json_get_number(rows[i], keys[t][c], path);
    }
    for (int t = 0; t < T_COUNT; t++)
        if (pl->items[t].on && pos[t] != pl->items[t].n) die("%s: %s items missing", path, TASKS[t].name);
    task_jsonl_free(rows, nr);
}

/* ---- results ---- */

/* Adds one score column's paired statistics; returns 1 when the paired difference is resolved (its 95 %
 * interval excludes 0), which is also written as <prefix>_diff_bf16_resolved. */
static int add_paired(cJSON *o, const char *prefix, const double *a, const double *b, int64_t n,
                      const struct plan *pl, uint64_t seed) {
    struct paired_result r;
    paired_bootstrap(a, b, n, (int)pl->p.boot, seed, 0.95, &r);
    const int resolved = r.diff_lo > 0 || r.diff_hi < 0;
    char k[160];
#define PUT(suffix, v) do { snprintf(k, sizeof k, "%s%s", prefix, suffix); \
        if (isnan(v)) cJSON_AddNullToObject(o, k); else cJSON_AddNumberToObject(o, k, v); } while (0)
    PUT("", r.acc);
    PUT("_ci95_lo", r.acc_lo);
    PUT("_ci95_hi", r.acc_hi);
    PUT("_bf16", r.base);
    PUT("_diff_bf16", r.diff);
    PUT("_diff_bf16_ci95_lo", r.diff_lo);
    PUT("_diff_bf16_ci95_hi", r.diff_hi);
    PUT("_recovery", r.recovery);
    PUT("_recovery_ci95_lo", r.recovery_lo);
    PUT("_recovery_ci95_hi", r.recovery_hi);
    PUT("_diff_bf16_resolved", (double)resolved);
#undef PUT
    return resolved;
}

static void write_result(struct plan *pl, struct manifest *man, const struct scores *sc,
                         const struct scores *base, const struct quant_stats *st) {
    cJSON *metrics = cJSON_CreateObject(), *cases = cJSON_CreateArray();
    int n_cols = 0, n_resolved = 0;
    for (int t = 0; t < T_COUNT; t++) {
        const struct task_items *ti = &pl->items[t];
        if (!ti->on) continue;
        cJSON *cs = cJSON_CreateObject(), *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cs, "name", TASKS[t].name);
        for (int c = 0; c < TASKS[t].n_cols; c++) {
            char key[96];
            snprintf(key, sizeof key, "%s_%s", TASKS[t].name, TASKS[t].cols[c]);
            uint64_t seed = pl->p.seed * 7919 + (uint64_t)(t * 8 + c);   /* the same for every recipe: paired */
            n_resolved += add_paired(metrics, key, sc->col[t][c], base->col[t][c], ti->n, pl, seed);
            n_cols++;
            add_paired(cm, TASKS[t].cols[c], sc->col[t][c], base->col[t][c], ti->n, pl, seed);
        }
        cJSON_AddNumberToObject(cm, "n", (double)ti->n);
        cJSON_AddNumberToObject(cm, "n_all", (double)ti->n_all);
        if (TASKS[t].mc) {
            double chance = 0;
            for (int64_t j = 0; j < ti->n; j++) chance += 1.0 / ti->mc[j].n_choices;
            cJSON_AddNumberToObject(cm, "chance", ti->n ? chance / (double)ti->n : 0);
            cJSON_AddNumberToObject(cm, "n_left_cut", (double)sc->truncated[t]);
        } else {
            cJSON_AddNumberToObject(cm, "tokens_generated", (double)sc->tokens_generated[t]);
            cJSON_AddNumberToObject(cm, "n_prompt_cut", (double)sc->truncated[t]);
            if (t == T_GSM8K) {
                cJSON_AddNumberToObject(cm, "invalid_rate_strict", ti->n ? (double)sc->invalid[t][0] / ti->n : 0);
                cJSON_AddNumberToObject(cm, "invalid_rate_flexible", ti->n ? (double)sc->invalid[t][1] / ti->n : 0);
            } else {
                cJSON_AddNumberToObject(cm, "invalid_rate", ti->n ? (double)sc->invalid[t][0] / ti->n : 0);
            }
        }
        if (t == T_HELLASWAG) cJSON_AddStringToObject(cm, "input_layout", ti->layout);
        char k2[96];
        snprintf(k2, sizeof k2, "%s_n", TASKS[t].name);
        cJSON_AddNumberToObject(metrics, k2, (double)ti->n);
        cJSON_AddItemToObject(cs, "metrics", cm);
        cJSON_AddItemToArray(cases, cs);
        if (t == T_MMLU) {
            /* Per subject, and the macro average over the subjects present in the sample. */
            double macro = 0;
            int n_subj = 0;
            for (int s = 0; s < mmlu_n_subjects(); s++) {
                double sum = 0;
                int64_t k = 0;
                for (int64_t j = 0; j < ti->n; j++)
                    if (ti->subject[j] == s) { sum += sc->col[t][0][j]; k++; }
                if (!k) continue;
                cJSON *ss = cJSON_CreateObject(), *sm = cJSON_CreateObject();
                char name[128];
                snprintf(name, sizeof name, "mmlu/%s", mmlu_subject(s));
                cJSON_AddStringToObject(ss, "name", name);
                cJSON_AddNumberToObject(sm, "acc", sum / (double)k);
                cJSON_AddNumberToObject(sm, "n", (double)k);
                cJSON_AddItemToObject(ss, "metrics", sm);
                cJSON_AddItemToArray(cases, ss);
                macro += sum / (double)k;
                n_subj++;
            }
            cJSON_AddNumberToObject(metrics, "mmlu_acc_macro", n_subj ? macro / n_subj : 0);
            cJSON_AddNumberToObject(metrics, "mmlu_subjects", n_subj);
        }
    }
    if (pl->items[T_HELLASWAG].on) cJSON_AddStringToObject(metrics, "hellaswag_input", pl->items[T_HELLASWAG].layout);
    /* How many of this recipe's paired differences to BF16 are resolved, of how many score columns: at 95 %,
     * about 1 in 20 is expected by chance alone when nothing differs. */
    cJSON_AddNumberToObject(metrics, "n_diff_bf16_resolved", n_resolved);
    cJSON_AddNumberToObject(metrics, "n_diff_bf16", n_cols);
    cJSON_AddNumberToObject(metrics, "bits_per_weight", st->bits_per_weight);
    cJSON_AddNumberToObject(metrics, "weight_bytes", (double)st->weight_bytes);
    manifest_write_result(man, metrics, cases);
}

static void write_cost(const struct plan *pl, const struct manifest *man, const struct scores *sc,
                       const char *recipe, const struct quant_stats *st) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "recipe", recipe);
    cJSON_AddStringToObject(o, "note", "timing of one run; not part of the results' identity");
    /* Quantization (GPTQ / AWQ: calibration forward passes and the solves) is part of a recipe's cost: the
     * harness quantizes in every run, nothing caches a quantized model. */
    cJSON_AddNumberToObject(o, "quantize_seconds", st->seconds);
    cJSON_AddNumberToObject(o, "quantize_cpu_seconds", sc->quantize_cpu_seconds);
    double tasks_s = 0, tasks_cpu = 0;
    for (int t = 0; t < T_COUNT; t++) {
        tasks_s += pl->items[t].on ? sc->seconds[t] : 0;
        tasks_cpu += pl->items[t].on ? sc->cpu_seconds[t] : 0;
    }
    cJSON_AddNumberToObject(o, "tasks_seconds", tasks_s);
    cJSON_AddNumberToObject(o, "tasks_cpu_seconds", tasks_cpu);
    cJSON *tasks = cJSON_AddObjectToObject(o, "tasks");
    for (int t = 0; t < T_COUNT; t++) {
        if (!pl->items[t].on) continue;
        cJSON *x = cJSON_AddObjectToObject(tasks, TASKS[t].name);
        cJSON_AddNumberToObject(x, "items", (double)pl->items[t].n);
        cJSON_AddNumberToObject(x, "seconds", sc->seconds[t]);
        cJSON_AddNumberToObject(x, "items_per_s", sc->items_per_s[t]);
        cJSON_AddNumberToObject(x, "cpu_seconds", sc->cpu_seconds[t]);
        cJSON_AddNumberToObject(x, "items_per_cpu_s", sc->cpu_seconds[t] > 0 ? (double)pl->items[t].n / sc->cpu_seconds[t] : 0);
        if (!TASKS[t].mc) cJSON_AddNumberToObject(x, "tokens_generated", (double)sc->tokens_generated[t]);
    }
    char *dir = xstrdup(man->run_path);
    char *slash = strrchr(dir, '/');
    CHECK(slash, "run path %s", man->run_path);
    *slash = 0;
    char *path = xmalloc(strlen(dir) + strlen(recipe) + 32);
    sprintf(path, "%s/%s.cost.json", dir, recipe);
    mkdir_parent(path);
    char *text = cJSON_Print(o);
    file_write_atomic(path, text, strlen(text));
    free(text), free(path), free(dir);
    cJSON_Delete(o);
}

static void e04_manifest(struct manifest *m, const struct plan *pl, const struct recipe *r) {
    manifest_init(m, pl->p.results, E04_NAME, pl->model, r->name);
    for (int t = 0; t < T_COUNT; t++) {
        char k[64];
        snprintf(k, sizeof k, "limit_%s", TASKS[t].name);
        manifest_param_int(m, k, pl->items[t].on ? pl->p.limit[t] : -1);
    }
    if (pl->items[T_MMLU].on) manifest_param_int(m, "mmlu_subjects", pl->p.mmlu_subjects);
    manifest_param_int(m, "subsample_seed", (int64_t)pl->p.seed);
    manifest_param_int(m, "boot", pl->p.boot);
    manifest_param_int(m, "gen_max_new", pl->p.gen_max_new);
    manifest_param_int(m, "chat_max_new", pl->p.chat_max_new);
    manifest_param_int(m, "thinking", pl->p.thinking);
    manifest_param_int(m, "gsm8k_fewshot_seed", GSM8K_FEWSHOT_SEED);
    if (pl->items[T_HELLASWAG].on) manifest_param_str(m, "hellaswag_input", pl->items[T_HELLASWAG].layout);
    harness_manifest_recipe((struct harness *)&pl->h, m, r);
    manifest_input_checkpoint(m, pl->p.model);
    for (int i = 0; i < pl->n_inputs; i++)
        manifest_input(m, pl->input_names[i], pl->input_paths[i], pl->input_sha[i]);
    if (pl->items[T_MMLU].on) manifest_input_hash(m, "mmlu/{dev,test}/*.csv (114 pinned files)", pl->mmlu_inputs_sha256);
    harness_manifest_end((struct harness *)&pl->h, m);
}

/* Scores every task for one recipe into sc and its items file; returns the quantization stats. */
static void run_recipe(struct plan *pl, const struct recipe *r, const struct manifest *man, struct scores *sc,
                       struct quant_stats *st) {
    double t0 = monotonic_seconds(), c0 = process_cpu_seconds();
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&pl->h, r, &m, st);
    sc->quantize_cpu_seconds = process_cpu_seconds() - c0;
    struct task_lm lm = task_lm_engine(e);
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    buf[0] = 0;
    for (int t = 0; t < T_COUNT; t++)
        if (pl->items[t].on) run_task(pl, &lm, t, sc, &buf, &len, &cap);
    char *ip = items_path(man);
    mkdir_parent(ip);
    file_write_atomic(ip, buf, len);
    fprintf(stderr, "%s: %-12s wrote %s (%.1f s)\n", check_progname(), r->name, ip, monotonic_seconds() - t0);
    free(ip), free(buf);
    harness_close_recipe(e, m);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct plan pl;
    memset(&pl, 0, sizeof pl);
    pl.p = e04_defaults();
    e04_parse_args(&pl.p, argc, argv);
    char mbuf[4096];
    pl.model = manifest_model_name(pl.p.model, mbuf, sizeof mbuf);
    /* Tasks */
    if (!strcmp(pl.p.tasks, "all")) {
        for (int t = 0; t < T_COUNT; t++) pl.items[t].on = 1;
    } else {
        for (const char *s = pl.p.tasks; *s;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            int t = task_by_name(s, len);
            if (t < 0) die_usage("--tasks: unknown task '%.*s'", (int)len, s);
            pl.items[t].on = 1;
            s += len + (e ? 1 : 0);
        }
    }
    pl.tok = tokenizer_load(pl.p.model);
    double tl = monotonic_seconds();
    load_items(&pl);
    fprintf(stderr, "%s: items loaded in %.1f s:", check_progname(), monotonic_seconds() - tl);
    for (int t = 0; t < T_COUNT; t++)
        if (pl.items[t].on) fprintf(stderr, " %s %lld/%lld", TASKS[t].name, (long long)pl.items[t].n,
                                    (long long)pl.items[t].n_all);
    fprintf(stderr, "\n");
    if (pl.items[T_HELLASWAG].on && strcmp(pl.items[T_HELLASWAG].layout, "jsonl-original"))
        warn("hellaswag: the original hellaswag_val.jsonl was not found; reading the llama.cpp layout "
             "(hellaswag_val_full.txt), with lm-eval's query reconstructed (src/data/hellaswag.h says what differs)");
    /* The harness loads and quantizes (static ranges and GPTQ / AWQ calibration exactly as e02 does). */
    struct harness_opts ho;
    harness_defaults(&ho);
    ho.model = pl.p.model;
    ho.results = pl.p.results;
    ho.data_dir = pl.p.data_dir;
    ho.backend = pl.p.backend;
    ho.calib_seqs = pl.p.calib_seqs;
    ho.calib_len = pl.p.calib_len;
    ho.seed = pl.p.seed;
    if (pl.p.algo_calib_seqs >= 0) ho.algo_calib_seqs = pl.p.algo_calib_seqs;
    if (pl.p.algo_calib_len >= 0) ho.algo_calib_len = pl.p.algo_calib_len;
    harness_init(&pl.h, E04_NAME, &ho);

    /* Recipes, bf16 first (the paired baseline). */
    const struct recipe **rec = xmalloc((size_t)(recipe_count() + 1) * sizeof *rec);
    int n_rec = recipe_parse_list(pl.p.recipes, rec, "--recipes");
    int has_bf16 = 0;
    for (int i = 0; i < n_rec; i++) has_bf16 |= recipe_is_baseline(rec[i]);
    if (!has_bf16) { memmove(rec + 1, rec, (size_t)n_rec * sizeof *rec); rec[0] = recipe_by_name_or_die("bf16", "e04"); n_rec++; }
    for (int i = 0; i < n_rec; i++)
        if (recipe_is_baseline(rec[i]) && i) { const struct recipe *t = rec[0]; rec[0] = rec[i]; rec[i] = t; }

    struct manifest *mans = xcalloc((size_t)n_rec, sizeof *mans);
    for (int i = 0; i < n_rec; i++) e04_manifest(&mans[i], &pl, rec[i]);
    struct scores base;
    scores_alloc(&base, &pl);
    double t0 = monotonic_seconds();
    int n_done = 0;
    for (int i = 0; i < n_rec; i++) {
        int hit = !pl.p.force && manifest_cache_hit(&mans[i]);
        if (i == 0) {
            /* bf16: its scores are needed by every other recipe, computed or read back from its items file. */
            if (hit) {
                char *ip = items_path(&mans[0]);
                fprintf(stderr, "%s: %-12s cache hit (%s); paired baseline from %s\n", check_progname(),
                        rec[0]->name, mans[0].result_path, ip);
                scores_read(&base, &pl, ip);
                free(ip);
                continue;
            }
        } else if (hit) {
            fprintf(stderr, "%s: %-12s cache hit (%s)\n", check_progname(), rec[i]->name, mans[i].result_path);
            continue;
        }
        manifest_print(&mans[i], stderr);
        struct scores sc;
        scores_alloc(&sc, &pl);
        struct quant_stats st;
        run_recipe(&pl, rec[i], &mans[i], i == 0 ? &base : &sc, &st);
        if (i == 0) {
            write_result(&pl, &mans[i], &base, &base, &st);
            write_cost(&pl, &mans[i], &base, rec[i]->name, &st);
        } else {
            write_result(&pl, &mans[i], &sc, &base, &st);
            write_cost(&pl, &mans[i], &sc, rec[i]->name, &st);
        }
        scores_free(&sc);
        n_done++;
    }
    fprintf(stderr, "%s: %d recipe(s) computed in %.1f s, %d cache hit(s)\n", check_progname(), n_done,
            monotonic_seconds() - t0, n_rec - n_done);
    scores_free(&base);
    harness_free(&pl.h, t0);
    for (int i = 0; i < n_rec; i++) manifest_free(&mans[i]);
    free(mans), free(rec);
    tokenizer_free(pl.tok);
    return 0;
}

static void e04_parse_args(struct e04_params *p, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--force")) p->force = 1;
        else if (!strcmp(a, "--full")) { for (int t = 0; t < T_COUNT; t++) p->limit[t] = 0; p->mmlu_subjects = 0; }
        else if (!strcmp(a, "--mmlu-subjects") && has_val) p->mmlu_subjects = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--thinking")) p->thinking = 1;
        else if (!strcmp(a, "--model") && has_val) p->model = argv[++i];
        else if (!strcmp(a, "--results") && has_val) p->results = argv[++i];
        else if (!strcmp(a, "--data-dir") && has_val) p->data_dir = argv[++i];
        else if (!strcmp(a, "--recipes") && has_val) p->recipes = argv[++i];
        else if (!strcmp(a, "--tasks") && has_val) p->tasks = argv[++i];
        else if (!strcmp(a, "--limit") && has_val) parse_limits(p, argv[++i]);
        else if (!strcmp(a, "--seed") && has_val) p->seed = (uint64_t)cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--boot") && has_val) p->boot = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--gen-max-new") && has_val) p->gen_max_new = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--chat-max-new") && has_val) p->chat_max_new = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-seqs") && has_val) p->calib_seqs = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-len") && has_val) p->calib_len = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--backend") && has_val) p->backend = argv[++i];
        else if (!strcmp(a, "--algo-calib-seqs") && has_val) p->algo_calib_seqs = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--algo-calib-len") && has_val) p->algo_calib_len = cli_int(a, argv[++i], 0);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
}
