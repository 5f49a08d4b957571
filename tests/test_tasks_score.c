/* test_tasks_score -- the task scorers against lm-evaluation-harness's own definitions, and the scoring
 * mechanics on hand-made models where the answer is known:
 *   - Python's MT19937 / getrandbits / randrange / random.sample (values computed with python3, in the fixture);
 *   - the gsm8k strict-match / flexible-extract filters and exact match on 31 made-up outputs (expected values
 *     from Python's re running gsm8k.yaml's regexes, in the fixture);
 *   - the MATH strip_string / is_equiv port on 75 pairs, last_boxed_only_string / remove_boxed and the "$"
 *     answer rule (expected values from lm-eval's hendrycks_math/utils.py run by python3, in the fixture), and
 *     the separate numeric layer on hand-checked pairs;
 *   - mcscore on a hand-made bigram model (closed-form log-likelihoods, prefix reuse counted, the left cut);
 *   - taskgen on a hand-made model that spells a known text (until strings, stop ids, max_new);
 *   - the paired bootstrap on cases whose interval is known.
 * The fixture tests/fixtures/tasks/lmeval_expect.json comes from tools/lmeval-reference/gen_task_expect.py. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "core/pyrandom.h"
#include "eval/gsm8k_score.h"
#include "eval/math_equiv.h"
#include "eval/mcscore.h"
#include "eval/paired.h"
#include "eval/pystr.h"
#include "eval/taskgen.h"
#include "model/tokenizer.h"
#include "test.h"

#define FIXTURE "tests/fixtures/tasks/lmeval_expect.json"
#define TOKENIZER "models/qwen3-tiny/tokenizer.json"

static cJSON *fx;

static const cJSON *get(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    CHECK(v, "fixture: no key '%s'", k);
    return v;
}

/* ---- Python's random ---- */

static void test_pyrandom(void) {
    const cJSON *pr = get(fx, "pyrandom");
    struct pyrandom r;
    pyrandom_seed(&r, 1234);
    int ok = 1, i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, get(pr, "u32_1234")) ok &= pyrandom_getrandbits(&r, 32) == (uint32_t)v->valuedouble, i++;
    TEST(ok && i == 8, "Random(1234).getrandbits(32) x 8 equals python3");
    pyrandom_seed(&r, (UINT64_C(1) << 40) + 5);
    ok = 1;
    cJSON_ArrayForEach(v, get(pr, "u32_big_seed")) ok &= pyrandom_u32(&r) == (uint32_t)v->valuedouble;
    TEST(ok, "Random(2**40 + 5): a two-word seed key equals python3");
    pyrandom_seed(&r, 1234);
    ok = 1;
    const cJSON *row;
    cJSON_ArrayForEach(row, get(pr, "sample_7473_5")) {
        int64_t s[5];
        pyrandom_sample(&r, 7473, 5, s);
        int k = 0;
        cJSON_ArrayForEach(v, row) ok &= s[k++] == (int64_t)v->valuedouble;
    }
    TEST(ok, "Random(1234).sample(range(7473), 5) x 4 (the gsm8k sampler, set branch) equals python3");
    pyrandom_seed(&r, 0);
    const int64_t shapes[5][2] = {{10, 5}, {30, 7}, {100, 10}, {5, 5}, {1000, 1}};
    ok = 1;
    int t = 0;
    cJSON_ArrayForEach(row, get(pr, "sample_small")) {
        int64_t s[16];
        pyrandom_sample(&r, shapes[t][0], shapes[t][1], s);
        int k = 0;
        cJSON_ArrayForEach(v, row) ok &= s[k++] == (int64_t)v->valuedouble;
        ok &= k == shapes[t][1];
        t++;
    }
    TEST(ok && t == 5, "Random(0).sample: pool branch (n <= setsize), k > 5 setsize rule, k == n, k == 1");
    pyrandom_seed(&r, 7);
    const uint32_t ns[6] = {1, 2, 3, 1000, 7473, 2147483647u};
    ok = 1;
    t = 0;
    cJSON_ArrayForEach(v, get(pr, "randbelow")) ok &= pyrandom_below(&r, ns[t++]) == (uint32_t)v->valuedouble;
    TEST(ok, "Random(7).randrange(n) for n = 1, 2, 3, 1000, 7473, 2^31 - 1 equals python3");
}

/* ---- gsm8k ---- */

static void test_gsm8k(void) {
    const cJSON *e;
    int n = 0, bad = 0;
    cJSON_ArrayForEach(e, get(fx, "gsm8k_extract")) {
        const char *out = get(e, "output")->valuestring, *ref = get(e, "reference")->valuestring;
        char *st = gsm8k_score_strict(out), *fl = gsm8k_score_flexible(out);
        char *ns = gsm8k_score_normalize(st), *nf = gsm8k_score_normalize(fl);
        int ok = !strcmp(st, get(e, "strict")->valuestring) && !strcmp(fl, get(e, "flexible")->valuestring) &&
                 !strcmp(ns, get(e, "norm_strict")->valuestring) &&
                 !strcmp(nf, get(e, "norm_flexible")->valuestring) &&
                 gsm8k_score_match(st, ref) == cJSON_IsTrue(get(e, "strict_ok")) &&
                 gsm8k_score_match(fl, ref) == cJSON_IsTrue(get(e, "flexible_ok"));
        if (!ok) {
            bad++;
            printf("  gsm8k output %d: strict '%s' flexible '%s' norm '%s' '%s'\n", n, st, fl, ns, nf);
        }
        TEST(ok, "gsm8k filters and exact match, output %d (python re on gsm8k.yaml's regexes)", n);
        n++;
        free(st), free(fl), free(ns), free(nf);
    }
    TEST(n >= 25 && bad == 0, "gsm8k: %d made-up outputs (commas, $, negatives, decimals, final '.', none)", n);
}

/* ---- MATH ---- */

static void test_math(void) {
    const cJSON *e;
    int n = 0, bad = 0;
    cJSON_ArrayForEach(e, get(fx, "math_pairs")) {
        const char *a = get(e, "a")->valuestring, *b = get(e, "b")->valuestring;
        const cJSON *ea = get(e, "strip_a"), *eb = get(e, "strip_b");
        char *sa = math_equiv_strip(a), *sb = math_equiv_strip(b);
        int ok_a = cJSON_IsNull(ea) ? sa == NULL : sa && !strcmp(sa, ea->valuestring);
        int ok_b = cJSON_IsNull(eb) ? sb == NULL : sb && !strcmp(sb, eb->valuestring);
        int ok = ok_a && ok_b && math_equiv_is_equiv(a, b) == cJSON_IsTrue(get(e, "equiv"));
        if (!ok) {
            bad++;
            printf("  math pair %d: '%s' -> %s | '%s' -> %s\n", n, a, sa ? sa : "(raises)", b, sb ? sb : "(raises)");
        }
        n++;
        free(sa), free(sb);
    }
    TEST(n >= 60 && bad == 0, "MATH strip_string and is_equiv on %d pairs equal lm-eval's utils.py (%d differ)", n,
         bad);
    n = bad = 0;
    cJSON_ArrayForEach(e, get(fx, "math_boxed")) {
        const char *s = get(e, "s")->valuestring;
        const cJSON *el = get(e, "last"), *ei = get(e, "inner");
        char *lb = math_equiv_last_boxed(s), *in = math_equiv_remove_boxed(lb);
        int ok = (cJSON_IsNull(el) ? lb == NULL : lb && !strcmp(lb, el->valuestring)) &&
                 (cJSON_IsNull(ei) ? in == NULL : in && !strcmp(in, ei->valuestring));
        if (!ok) printf("  boxed %d: '%s' -> '%s' / '%s'\n", n, s, lb ? lb : "(none)", in ? in : "(none)");
        bad += !ok;
        n++;
        free(lb), free(in);
    }
    TEST(bad == 0 && n == 8, "last_boxed_only_string / remove_boxed (nested braces, \\fbox, \"\\boxed \" form)");
    bad = 0;
    cJSON_ArrayForEach(e, get(fx, "math_dollar")) {
        char *a = math_equiv_dollar_answer(get(e, "s")->valuestring);
        bad += strcmp(a, get(e, "answer")->valuestring) != 0;
        free(a);
    }
    TEST(bad == 0, "hendrycks_math process_results: the answer between the first and the last '$'");
    /* The numeric layer (ours, the seed protocol's extra column): hand-checked values. */
    static const struct { const char *a, *b; int eq; } num[] = {
        {"5", "5.0", 1}, {"2,000", "2000", 1}, {"0.50", "\\frac{1}{2}", 1}, {"\\dfrac{9}{4}", "2.25", 1},
        {"3\\sqrt{2}", "\\sqrt{18}", 1}, {"\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", 1}, {"1/4", "0.25", 1},
        {"6\\%", "6%", 1}, {"-\\frac{3}{4}", "-0.75", 1}, {"\\frac{-3}{4}", "-0.75", 1}, {"0.333", "\\frac13", 0},
        {"25\\%", "0.25", 0}, {"x", "x", 0}, {"(1,2)", "(1,2)", 0}, {"\\pi", "3.14159", 0}, {"1,000,000", "10^6", 0},
        {"\\frac{1}{0}", "1", 0}, {"05", "5", 1}, {"10 \\text{ cm}", "10.0", 1}, {"k = 7", "7.00", 1},
    };
    bad = 0;
    for (size_t i = 0; i < sizeof num / sizeof num[0]; i++) {
        int got = math_equiv_numeric(num[i].a, num[i].b);
        if (got != num[i].eq) printf("  numeric '%s' vs '%s': %d\n", num[i].a, num[i].b, got);
        bad += got != num[i].eq;
    }
    TEST(bad == 0, "numeric layer: integers, decimals, thousands commas, fractions, a/b, radicals, percent");
}

/* ---- a hand-made model: logit(v | prev) = w[v] + 3 [v == (7 prev + 1) mod V] ---- */

struct toy {
    int64_t V, max_len;
    int n_seq_new;
    int64_t n_appended;
    const int32_t *script;   /* when set: the model puts 10 on script[len - script_from] (spelling a text) */
    int64_t script_len, script_from;
};
struct toy_seq {
    struct toy *m;
    int32_t *ids;
    int64_t len, cap;
};

/* Multiples of 1/64 below 2: exact in float, so the rows the model returns are exact. */
static double toy_w(int64_t v) { return (double)(v % 97) / 64.0; }

static void toy_row(const struct toy_seq *s, float *row) {
    struct toy *m = s->m;
    int32_t prev = s->ids[s->len - 1];
    for (int64_t v = 0; v < m->V; v++) row[v] = (float)toy_w(v);
    row[(7 * (int64_t)prev + 1) % m->V] += 3.0f;
    if (m->script) {
        int64_t k = s->len - m->script_from;
        if (k >= 0 && k < m->script_len) row[m->script[k]] += 10.0f;
    }
}

static void *toy_new(void *ctx, int64_t cap) {
    struct toy *m = ctx;
    m->n_seq_new++;
    struct toy_seq *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->cap = cap;
    s->ids = xmalloc((size_t)cap * sizeof(int32_t));
    return s;
}
static void toy_free(void *p) {
    struct toy_seq *s = p;
    free(s->ids);
    free(s);
}
static void toy_append(void *p, const int32_t *ids, int64_t T, float *logits, int last_only) {
    struct toy_seq *s = p;
    CHECK(s->len + T <= s->cap && s->len + T <= s->m->max_len, "toy: over capacity");
    s->m->n_appended += T;
    for (int64_t t = 0; t < T; t++) {
        s->ids[s->len++] = ids[t];
        if (logits && (!last_only || t == T - 1)) toy_row(s, logits + (last_only ? 0 : t) * s->m->V);
    }
}
static void toy_truncate(void *p, int64_t len) { ((struct toy_seq *)p)->len = len; }

static struct task_lm toy_lm(struct toy *m) {
    struct task_lm lm = {m, m->V, m->max_len, toy_new, toy_free, toy_append, toy_truncate};
    return lm;
}

/* The closed-form log-probability of token v after prev under the toy model (no script). */
static double toy_logprob(int64_t V, int32_t prev, int32_t v) {
    double z = 0;
    int32_t hot = (int32_t)((7 * (int64_t)prev + 1) % V);
    for (int64_t u = 0; u < V; u++) z += exp(toy_w(u) + (u == hot ? 3.0 : 0.0));
    return toy_w(v) + (v == hot ? 3.0 : 0.0) - log(z);
}

static void test_mcscore(const struct tokenizer *tok) {
    int64_t V = (int64_t)tokenizer_n_vocab(tok);
    struct toy m = {V, 4096, 0, 0, NULL, 0, 0};
    struct task_lm lm = toy_lm(&m);
    struct mc_doc d = {xstrdup("toy/0"), xstrdup("Question: Which colour is the sky?\nAnswer:"), 3,
                       {xstrdup("blue"), xstrdup("green as grass"), xstrdup("red")}, 0};
    struct mc_result r;
    mcscore_doc(&lm, tok, &d, NULL, &r);
    /* Expected: whole = encode(ctx + " " + choice), cont = whole[len(encode(ctx)):], ll = sum of the closed form
     * over cont given the token before each. */
    size_t nc;
    int32_t *ctx = tokenizer_encode(tok, d.context, strlen(d.context), &nc);
    double want[3];
    int64_t sum_m = 0;
    int ok = 1;
    for (int c = 0; c < 3; c++) {
        char *w = pystr_cat(d.context, " ", d.choices[c], (char *)NULL);
        size_t nw;
        int32_t *ids = tokenizer_encode(tok, w, strlen(w), &nw);
        want[c] = 0;
        for (size_t t = nc; t < nw; t++) want[c] += toy_logprob(V, ids[t - 1], ids[t]);
        ok &= r.n_cont[c] == (int64_t)(nw - nc);
        sum_m += (int64_t)(nw - nc);
        free(ids), free(w);
    }
    /* 1e-9: the model's logits are floats (w and 3 are exact in binary, so rows are exact) and the log-sum-exp
     * runs in double over V = 8k terms in both codes, in a different order: ~1e-13 apart. */
    for (int c = 0; c < 3; c++) ok &= fabs(r.ll[c] - want[c]) < 1e-9;
    TEST(ok, "mcscore: summed continuation log-likelihoods equal the closed form (%.6f %.6f %.6f)", r.ll[0], r.ll[1],
         r.ll[2]);
    int best = 0, best_n = 0;
    for (int c = 1; c < 3; c++) {
        if (want[c] > want[best]) best = c;
        if (want[c] / (double)strlen(d.choices[c]) > want[best_n] / (double)strlen(d.choices[best_n])) best_n = c;
    }
    TEST(r.pred == best && r.pred_norm == best_n && r.acc == (best == 0) && r.acc_norm == (best_n == 0),
         "mcscore: acc = arg-max ll (%d), acc_norm = arg-max ll / len(choice) (%d)", best, best_n);
    TEST(m.n_seq_new == 1 && m.n_appended == (int64_t)nc + sum_m - 3,
         "mcscore: one context pass, then each continuation but its last token (%lld tokens appended)",
         (long long)m.n_appended);
    /* The left cut: max_len = len(ctx) + 1 forces it for every multi-token choice; under the toy model (a bigram)
     * the cut keeps the previous token of every scored one, so the scores must not change. */
    struct toy m2 = {V, (int64_t)nc + 1, 0, 0, NULL, 0, 0};
    struct task_lm lm2 = toy_lm(&m2);
    struct mc_result r2;
    mcscore_doc(&lm2, tok, &d, NULL, &r2);
    ok = r2.truncated;
    for (int c = 0; c < 3; c++) ok &= fabs(r2.ll[c] - want[c]) < 1e-9;
    TEST(ok, "mcscore: lm-eval's left cut (ctx + cont)[-(L+1):][:-1] when the input is too long");
    /* A cache shared by consecutive items: the second item with the same context runs one context token (its
     * last, for the row) and scores the same; a different context reuses only the common start. */
    struct mc_cache cache = {0};
    struct mc_result ra, rb, rc;
    mcscore_doc(&lm, tok, &d, &cache, &ra);
    mcscore_doc(&lm, tok, &d, &cache, &rb);
    struct mc_doc dq = {xstrdup("toy/3"), xstrdup("Question: Which colour is grass?\nAnswer:"), 3,
                        {xstrdup("blue"), xstrdup("green as grass"), xstrdup("red")}, 1};
    mcscore_doc(&lm, tok, &dq, &cache, &rc);
    struct mc_result rq;
    mcscore_doc(&lm, tok, &dq, NULL, &rq);
    ok = ra.n_ctx_run == (int64_t)nc && rb.n_ctx_run == 1 && rc.n_ctx_run < rc.n_ctx && rc.n_ctx_run > 1;
    for (int c = 0; c < 3; c++) ok &= ra.ll[c] == r.ll[c] && rb.ll[c] == r.ll[c] && rc.ll[c] == rq.ll[c];
    TEST(ok, "mcscore: a cache across items reruns only the new context tokens (%lld, %lld, %lld of %lld), same "
             "scores", (long long)ra.n_ctx_run, (long long)rb.n_ctx_run, (long long)rc.n_ctx_run,
         (long long)rc.n_ctx);
    mc_cache_free(&lm, &cache);
    mc_doc_free(&dq);
    /* Ties go to the first choice: two identical choices. */
    struct mc_doc d2 = {xstrdup("toy/1"), xstrdup("A:"), 2, {xstrdup("same"), xstrdup("same")}, 1};
    mcscore_doc(&lm, tok, &d2, NULL, &r);
    TEST(r.pred == 0 && r.pred_norm == 0 && !r.acc, "mcscore: ties go to the first choice");
    /* A context ending in a space: the space moves to the continuation (_encode_pair). */
    struct mc_doc d3 = {xstrdup("toy/2"), xstrdup("Answer: "), 1, {xstrdup("yes")}, 0};
    mcscore_doc(&lm, tok, &d3, NULL, &r);
    {
        size_t n1, n2;
        int32_t *c1 = tokenizer_encode(tok, "Answer:", 7, &n1), *c2 = tokenizer_encode(tok, "Answer:  yes", 12, &n2);
        double w = 0;
        for (size_t t = n1; t < n2; t++) w += toy_logprob(V, c2[t - 1], c2[t]);
        TEST(r.n_ctx == (int64_t)n1 && fabs(r.ll[0] - w) < 1e-9,
             "mcscore: trailing context whitespace moves to the continuation");
        free(c1), free(c2);
    }
    mc_doc_free(&d), mc_doc_free(&d2), mc_doc_free(&d3);
    free(ctx);
}

static void test_taskgen(const struct tokenizer *tok) {
    int64_t V = (int64_t)tokenizer_n_vocab(tok);
    const char *text = " The answer is 42.\nQuestion: next one";
    size_t ns;
    int32_t *script = tokenizer_encode(tok, text, strlen(text), &ns);
    size_t np;
    int32_t *prompt = tokenizer_encode(tok, "Question: 6 * 7?\nAnswer:", 24, &np);
    struct toy m = {V, 2048, 0, 0, script, (int64_t)ns, (int64_t)np};
    struct task_lm lm = toy_lm(&m);
    struct taskgen_params p = {.max_new = 256, .sampling = sampling_defaults(), .n_until = 3,
                               .until = {"Question:", "</s>", "<|im_end|>"}, .n_stop_ids = 0};
    struct taskgen_result r;
    taskgen_run(&lm, tok, prompt, (int64_t)np, &p, &r);
    TEST(!strcmp(r.text, " The answer is 42.\n") && r.stop == 2 && r.n_prompt == (int64_t)np,
         "taskgen: greedy, stops at the until string and cuts before it ('%s')", r.text);
    free(r.text);
    /* A stop id inside the script ends generation before it; its text is never output. */
    p.n_stop_ids = 1;
    p.stop_ids[0] = script[3];
    taskgen_run(&lm, tok, prompt, (int64_t)np, &p, &r);
    char *want = NULL;
    tokenizer_decode(tok, script, 3, &want);
    TEST(!strcmp(r.text, want) && r.stop == 1 && r.n_generated == 3, "taskgen: a stop id ends it ('%s')", r.text);
    free(r.text), free(want);
    p.n_stop_ids = 0;
    p.max_new = 2;
    taskgen_run(&lm, tok, prompt, (int64_t)np, &p, &r);
    tokenizer_decode(tok, script, 2, &want);
    TEST(!strcmp(r.text, want) && r.stop == 0 && r.n_generated == 2, "taskgen: max_new ends it");
    free(r.text), free(want);
    /* lm-eval's prompt cut: max_len - max_new positions for the prompt. */
    struct toy m2 = {V, (int64_t)np + 2 - 3, 0, 0, script, (int64_t)ns, (int64_t)np - 3};
    struct task_lm lm2 = toy_lm(&m2);
    taskgen_run(&lm2, tok, prompt, (int64_t)np, &p, &r);
    TEST(r.n_prompt == (int64_t)np - 3 && r.n_generated == 2, "taskgen: the prompt is cut on the left to max_len - max_new");
    free(r.text);
    free(script), free(prompt);
}

/* ---- the paired bootstrap ---- */

static void test_paired(void) {
    enum { N = 400 };
    double a[N], b[N];
    for (int i = 0; i < N; i++) { a[i] = i % 2; b[i] = i % 2; }
    struct paired_result r;
    paired_bootstrap(a, b, N, 1000, 1, 0.95, &r);
    TEST(r.diff == 0 && r.diff_lo == 0 && r.diff_hi == 0 && r.recovery == 1 && r.recovery_lo == 1 &&
             r.recovery_hi == 1,
         "paired: identical scores give a zero-width difference interval and recovery 1");
    /* acc 0.5 over 400 items: the bootstrap interval of a mean of Bernoulli(0.5) is about +- 1.96 * 0.025. */
    TEST(r.acc == 0.5 && fabs(r.acc_lo - (0.5 - 0.049)) < 0.012 && fabs(r.acc_hi - (0.5 + 0.049)) < 0.012,
         "paired: acc 0.5 over 400 items has a ~ +-0.049 interval [%.3f, %.3f]", r.acc_lo, r.acc_hi);
    /* b right on 40 items where a is wrong, otherwise equal: diff -0.1 with a paired interval of about
     * -0.1 +- 1.96 sqrt(0.1 * 0.9 / 400) = -0.1 +- 0.029, much narrower than the unpaired +- 0.069. */
    for (int i = 0; i < N; i++) { a[i] = i % 2; b[i] = a[i]; }
    for (int i = 0; i < 80; i += 2) b[i] = 1;
    paired_bootstrap(a, b, N, 2000, 2, 0.95, &r);
    TEST(fabs(r.diff + 0.1) < 1e-12 && r.diff_hi < -0.06 && r.diff_lo > -0.14,
         "paired: a 10-point drop on the same items resolves: [%.3f, %.3f]", r.diff_lo, r.diff_hi);
    TEST(fabs(r.recovery - 0.5 / 0.6) < 1e-12 && r.recovery_lo < r.recovery && r.recovery_hi > r.recovery,
         "paired: recovery %.3f in [%.3f, %.3f]", r.recovery, r.recovery_lo, r.recovery_hi);
    struct paired_result r2;
    paired_bootstrap(a, b, N, 2000, 2, 0.95, &r2);
    TEST(!memcmp(&r, &r2, sizeof r), "paired: same seed, same interval");
    for (int i = 0; i < N; i++) b[i] = 0;
    paired_bootstrap(a, b, N, 100, 3, 0.95, &r);
    TEST(isnan(r.recovery) && r.n_undefined == 100, "paired: recovery undefined when the baseline scores 0");
}

static void test_pystr(void) {
    char *a = pystr_strip(" \t\xc2\x85x y\xc2\xa0\xe3\x80\x80");
    char *b = pystr_capitalize("tHE mAN \xc3\x89T\xc3\x89");
    TEST(!strcmp(a, "x y") && !strcmp(b, "The man \xc3\xa9t\xc3\xa9"),
         "pystr: strip (U+0085, U+00A0, U+3000) and capitalize as Python");
    TEST(pystr_len("a\xc3\xa9\xe4\xb8\xad") == 3, "pystr: len in code points");
    free(a), free(b);
}

int main(void) {
    check_set_progname("test_tasks_score");
    size_t len;
    char *text = file_read_all(FIXTURE, &len);
    fx = cJSON_ParseWithLength(text, len);
    CHECK(fx, "%s: not JSON", FIXTURE);
    free(text);
    test_pystr();
    test_pyrandom();
    test_gsm8k();
    test_math();
    test_paired();
    FILE *f = fopen(TOKENIZER, "r");
    if (f) {
        fclose(f);
        struct tokenizer *tok = tokenizer_load(TOKENIZER);
        test_mcscore(tok);
        test_taskgen(tok);
        tokenizer_free(tok);
    } else {
        printf("skip mcscore / taskgen: %s not found\n", TOKENIZER);
    }
    cJSON_Delete(fx);
    return TEST_REPORT();
}
