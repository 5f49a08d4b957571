/* test_tasks_data -- every task's prompt strings, byte for byte, against lm-evaluation-harness's definitions:
 * the expected strings in tests/fixtures/tasks/lmeval_expect.json were rendered by
 * tools/lmeval-reference/gen_task_expect.py from lm-eval's own task YAMLs (Jinja doc_to_text / doc_to_target /
 * description), hellaswag/utils.py and hendrycks_math/utils.py at the commit the fixture records, and from
 * Qwen3's Jinja chat template; the C code under test builds its strings from the data files itself. Also: the
 * sha256 pins of every task file, the HellaSwag llama.cpp layout against the original records (what the
 * reconstruction can and cannot reproduce), and GSM8K's shots for a --limit subsample against the full run.
 * Needs ../shared/data (or $QL_SHARED_DIR/data); exits 77 (SKIP) without it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "data/arc.h"
#include "data/gsm8k.h"
#include "data/hellaswag.h"
#include "data/math500.h"
#include "data/mmlu.h"
#include "eval/pystr.h"
#include "eval/subsample.h"
#include "test.h"

#define FIXTURE "tests/fixtures/tasks/lmeval_expect.json"

static cJSON *fx;
static char data_dir[600];

static const cJSON *get(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    CHECK(v, "fixture: no key '%s'", k);
    return v;
}

/* The pinned file's path, verified (dies on a hash mismatch: a failure the runner counts). */
static char *pinned(const struct task_pin *pin) {
    char *p = task_file_find(pin, data_dir), hex[SHA256_HEX_LEN];
    CHECK(p, "%s not under %s", pin->name, data_dir);
    task_file_verify(pin, p, hex);
    return p;
}

/* 1 when d equals the fixture's {context, choices, gold}; prints the first difference otherwise. */
static int mc_equal(const struct mc_doc *d, const cJSON *e) {
    const char *ctx = get(e, "context")->valuestring;
    if (strcmp(d->context, ctx)) {
        size_t i = 0;
        while (d->context[i] && d->context[i] == ctx[i]) i++;
        printf("  %s: context differs at byte %zu: ours '%.40s' lm-eval '%.40s'\n", d->id, i, d->context + i, ctx + i);
        return 0;
    }
    const cJSON *ch = get(e, "choices");
    if (cJSON_GetArraySize(ch) != d->n_choices) return 0;
    for (int c = 0; c < d->n_choices; c++)
        if (strcmp(d->choices[c], cJSON_GetArrayItem(ch, c)->valuestring)) {
            printf("  %s: choice %d '%s' vs '%s'\n", d->id, c, d->choices[c], cJSON_GetArrayItem(ch, c)->valuestring);
            return 0;
        }
    return d->gold == get(e, "gold")->valueint;
}

static void test_hellaswag(void) {
    char *p = pinned(hellaswag_pin(HELLASWAG_FILE_HEAD10));
    struct mc_doc *docs;
    size_t n = hellaswag_load(p, HELLASWAG_JSONL, &docs);
    const cJSON *exp = get(fx, "hellaswag");
    int ok = n == 10 && cJSON_GetArraySize(exp) == 10;
    for (size_t i = 0; ok && i < n; i++) ok &= mc_equal(&docs[i], cJSON_GetArrayItem(exp, (int)i));
    TEST(ok, "hellaswag (original jsonl layout): 10 queries, endings, golds byte-equal to lm-eval's process_docs");
    const cJSON *e;
    int bad = 0, k = 0;
    cJSON_ArrayForEach(e, get(fx, "hellaswag_preprocess")) {
        char *got = hellaswag_preprocess(cJSON_GetArrayItem(e, 0)->valuestring);
        if (strcmp(got, cJSON_GetArrayItem(e, 1)->valuestring)) {
            printf("  preprocess case %d: '%s' vs '%s'\n", k, got, cJSON_GetArrayItem(e, 1)->valuestring);
            bad++;
        }
        free(got);
        k++;
    }
    TEST(bad == 0 && k == 8, "hellaswag preprocess on 8 bracket / space cases equals utils.py");

    /* The llama.cpp layout: its first 10 tasks are the same records. Their endings and golds must agree with
     * lm-eval's; line 1 must be preprocess(activity_label + ": " + ctx_a + " " + ctx_b) (the original ctx, not
     * capitalised), and the reconstructed query (capitalising after the last ". ") must equal lm-eval's. */
    char *pt = pinned(hellaswag_pin(HELLASWAG_FILE_VAL_TXT));
    struct mc_doc *tx;
    size_t nt = hellaswag_load(pt, HELLASWAG_LLAMACPP_TXT, &tx);
    TEST(nt == 10042, "hellaswag llama.cpp layout: 10042 tasks");
    size_t nr;
    cJSON **rows = task_jsonl_read(p, &nr);
    int same_end = 1, same_uncap = 1, same_lmeval = 0;
    for (size_t i = 0; i < 10 && i < nt; i++) {
        const cJSON *x = cJSON_GetArrayItem(exp, (int)i);
        for (int c = 0; c < 4; c++)
            same_end &= !strcmp(tx[i].choices[c], cJSON_GetArrayItem(get(x, "choices"), c)->valuestring);
        same_end &= tx[i].gold == get(x, "gold")->valueint;
        char *raw = pystr_cat(task_json_str(rows[i], "activity_label", p, i), ": ",
                              task_json_str(rows[i], "ctx_a", p, i), " ", task_json_str(rows[i], "ctx_b", p, i),
                              (char *)NULL);
        char *uncap = hellaswag_preprocess(raw);
        char *six = NULL;
        {   /* line 1 of task i, preprocessed, from the file itself */
            size_t l2;
            char *all = file_read_all(pt, &l2), *q = all;
            for (size_t t = 0; t < 6 * i; t++) q = strchr(q, '\n') + 1;
            six = pystr_ndup(q, (size_t)(strchr(q, '\n') - q));
            free(all);
        }
        char *six_pre = hellaswag_preprocess(six);
        same_uncap &= !strcmp(uncap, six_pre);
        free(six), free(six_pre);
        same_lmeval += !strcmp(tx[i].context, get(x, "context")->valuestring);
        free(raw), free(uncap);
    }
    TEST(same_end, "hellaswag llama.cpp layout: endings and golds of tasks 0-9 equal lm-eval's");
    TEST(same_uncap, "hellaswag llama.cpp layout: lines 0-9 = preprocess(label: ctx_a ctx_b), no capitalize");
    TEST(same_lmeval == 10, "hellaswag llama.cpp layout: %d of 10 reconstructed queries byte-equal to lm-eval's",
         same_lmeval);
    task_jsonl_free(rows, nr);
    for (size_t i = 0; i < n; i++) mc_doc_free(&docs[i]);
    for (size_t i = 0; i < nt; i++) mc_doc_free(&tx[i]);
    free(docs), free(tx), free(p), free(pt);
}

static void test_arc(void) {
    const char *names[ARC_SET_COUNT] = {"easy", "challenge"};
    const size_t counts[ARC_SET_COUNT] = {2376, 1172};
    for (int s = 0; s < ARC_SET_COUNT; s++) {
        char *p = pinned(arc_pin((enum arc_set)s));
        struct mc_doc *docs;
        size_t n = arc_load(p, &docs);
        const cJSON *e;
        int ok = n == counts[s], k = 0;
        cJSON_ArrayForEach(e, get(get(fx, "arc"), names[s])) {
            size_t i = (size_t)get(e, "index")->valueint;
            ok &= i < n && !strcmp(docs[i].id, get(e, "id")->valuestring) && mc_equal(&docs[i], e);
            k++;
        }
        TEST(ok && k == 5, "arc_%s: %zu items; 5 prompts (numeric labels, 3/5 choices) byte-equal to lm-eval's",
             names[s], n);
        for (size_t i = 0; i < n; i++) mc_doc_free(&docs[i]);
        free(docs), free(p);
    }
}

static void test_mmlu(void) {
    const cJSON *e;
    int k = 0, ok = 1;
    cJSON_ArrayForEach(e, get(fx, "mmlu")) {
        const char *subj = get(e, "subject")->valuestring;
        int s = -1;
        for (int t = 0; t < mmlu_n_subjects(); t++)
            if (!strcmp(mmlu_subject(t), subj)) s = t;
        CHECK(s >= 0, "subject %s", subj);
        char b1[256], b2[256];
        struct task_pin pd = mmlu_pin_dev(s, b1, sizeof b1), pt = mmlu_pin_test(s, b2, sizeof b2);
        char *p1 = pinned(&pd), *p2 = pinned(&pt);
        struct mmlu_row *dev, *test;
        size_t nd = mmlu_csv_read(p1, &dev), nt = mmlu_csv_read(p2, &test);
        struct mc_doc *docs;
        size_t n = mmlu_load_subject(s, dev, nd, test, nt, &docs);
        size_t i = (size_t)get(e, "index")->valueint;
        int this_ok = i < n && mc_equal(&docs[i], e);
        TEST(this_ok, "mmlu %s item %zu: the 5-shot prompt byte-equal to lm-eval's", subj, i);
        ok &= this_ok;
        for (size_t j = 0; j < n; j++) mc_doc_free(&docs[j]);
        free(docs);
        mmlu_rows_free(dev, nd), mmlu_rows_free(test, nt);
        free(p1), free(p2);
        k++;
    }
    /* Every subject reads (and verifies) and the test split has 14042 items. */
    size_t total = 0;
    for (int s = 0; s < mmlu_n_subjects(); s++) {
        char b1[256], b2[256];
        struct task_pin pd = mmlu_pin_dev(s, b1, sizeof b1), pt = mmlu_pin_test(s, b2, sizeof b2);
        char *p1 = pinned(&pd), *p2 = pinned(&pt);
        struct mmlu_row *dev, *test;
        size_t nd = mmlu_csv_read(p1, &dev), nt = mmlu_csv_read(p2, &test);
        ok &= nd == 5;
        total += nt;
        mmlu_rows_free(dev, nd), mmlu_rows_free(test, nt);
        free(p1), free(p2);
    }
    TEST(ok && k == 6 && total == 14042 && mmlu_n_subjects() == 57,
         "mmlu: 57 subjects pinned, 5 dev rows each, %zu test items", total);
}

static void test_gsm8k(void) {
    char *pt = pinned(gsm8k_pin(GSM8K_TEST)), *pr = pinned(gsm8k_pin(GSM8K_TRAIN));
    struct gsm8k_doc *test, *train;
    size_t nt = gsm8k_load(pt, &test), nr = gsm8k_load(pr, &train);
    TEST(nt == 1319 && nr == 7473, "gsm8k: 1319 test and 7473 train items");
    /* The full run's prompts of all items, then a --limit 5 subsample's: the same strings item for item. */
    int64_t *all = xmalloc(nt * sizeof *all);
    for (size_t i = 0; i < nt; i++) all[i] = (int64_t)i;
    int64_t *shots = xmalloc(nt * GSM8K_N_SHOTS * sizeof *shots);
    char **full = gsm8k_contexts(test, nt, train, nr, all, nt, GSM8K_FEWSHOT_SEED, shots);
    const cJSON *e;
    int ok = 1, k = 0;
    cJSON_ArrayForEach(e, get(fx, "gsm8k")) {
        size_t i = (size_t)get(e, "index")->valueint;
        int same = !strcmp(full[i], get(e, "context")->valuestring);
        const cJSON *s;
        int t = 0;
        cJSON_ArrayForEach(s, get(e, "shots")) same &= shots[i * GSM8K_N_SHOTS + t++] == (int64_t)s->valuedouble;
        TEST(same, "gsm8k item %zu: 5-shot prompt (Random(1234) sampler in full order) byte-equal to lm-eval's", i);
        ok &= same;
        k++;
    }
    int64_t sub[5];
    int64_t ns = subsample_indices((int64_t)nt, 5, 42, sub);
    char **part = gsm8k_contexts(test, nt, train, nr, sub, (size_t)ns, GSM8K_FEWSHOT_SEED, NULL);
    int same = ns == 5;
    for (int64_t j = 0; j < ns; j++) same &= !strcmp(part[j], full[sub[j]]);
    TEST(same, "gsm8k: a --limit subsample (items %lld %lld %lld %lld %lld) gets the full run's shots",
         (long long)sub[0], (long long)sub[1], (long long)sub[2], (long long)sub[3], (long long)sub[4]);
    for (int64_t j = 0; j < ns; j++) free(part[j]);
    for (size_t i = 0; i < nt; i++) free(full[i]);
    free(part), free(full), free(all), free(shots);
    gsm8k_free(test, nt), gsm8k_free(train, nr);
    free(pt), free(pr);
}

static void test_math500(void) {
    char *p = pinned(math500_pin());
    struct math500_doc *docs;
    size_t n = math500_load(p, &docs);
    const cJSON *e;
    int ok = n == 500, k = 0, gold_is_answer = 0;
    cJSON_ArrayForEach(e, get(fx, "math500")) {
        size_t i = (size_t)get(e, "index")->valueint;
        char *a = math500_prompt_lmeval(&docs[i]), *c0 = math500_prompt_chat(&docs[i], 0),
             *c1 = math500_prompt_chat(&docs[i], 1);
        int same = !strcmp(a, get(e, "prompt")->valuestring) && !strcmp(docs[i].gold, get(e, "gold")->valuestring) &&
                   !strcmp(c0, get(e, "chat_nothink")->valuestring) && !strcmp(c1, get(e, "chat_think")->valuestring);
        TEST(same, "math500 item %zu: lm-eval prompt and gold, Qwen3 chat prompt (thinking off / on) byte-equal", i);
        ok &= same;
        free(a), free(c0), free(c1);
        k++;
    }
    for (size_t i = 0; i < n; i++) gold_is_answer += !strcmp(docs[i].gold, docs[i].answer);
    printf("  math500: lm-eval's gold (last \\boxed of the solution) equals the 'answer' field on %d of %zu\n",
           gold_is_answer, n);
    TEST(ok && k == 6, "math500: 500 items");
    math500_free(docs, n);
    free(p);
}

int main(void) {
    check_set_progname("test_tasks_data");
    const char *env = getenv("QL_SHARED_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/data", env && *env ? env : "../shared");
    char probe[700];
    snprintf(probe, sizeof probe, "%s/gsm8k/test.jsonl", data_dir);
    FILE *f = fopen(probe, "r");
    if (!f) {
        printf("SKIP: %s not found (set QL_SHARED_DIR)\n", probe);
        return 77;
    }
    fclose(f);
    size_t len;
    char *text = file_read_all(FIXTURE, &len);
    fx = cJSON_ParseWithLength(text, len);
    CHECK(fx, "%s: not JSON", FIXTURE);
    free(text);
    test_hellaswag();
    test_arc();
    test_mmlu();
    test_gsm8k();
    test_math500();
    cJSON_Delete(fx);
    return TEST_REPORT();
}
