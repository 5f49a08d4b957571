/* gsm8k -- GSM8K readers, lm-eval's few-shot sampler and prompt (see gsm8k.h). */
#include "data/gsm8k.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/pyrandom.h"
#include "eval/pystr.h"

/* From ../shared/data/gsm8k/SHA256SUMS (openai/grade-school-math@3101c7d5; SOURCES.md section 2). */
static const struct task_pin pins[GSM8K_SPLIT_COUNT] = {
    {"gsm8k/test.jsonl", "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"},
    {"gsm8k/train.jsonl", "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"},
};

const struct task_pin *gsm8k_pin(enum gsm8k_split s) {
    CHECK(s >= 0 && s < GSM8K_SPLIT_COUNT, "gsm8k split %d", (int)s);
    return &pins[s];
}

size_t gsm8k_load(const char *path, struct gsm8k_doc **out) {
    size_t n;
    cJSON **rows = task_jsonl_read(path, &n);
    struct gsm8k_doc *docs = xcalloc(n ? n : 1, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        docs[i].question = xstrdup(task_json_str(rows[i], "question", path, i));
        docs[i].answer = xstrdup(task_json_str(rows[i], "answer", path, i));
    }
    task_jsonl_free(rows, n);
    *out = docs;
    return n;
}

void gsm8k_free(struct gsm8k_doc *docs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(docs[i].question);
        free(docs[i].answer);
    }
    free(docs);
}

char *gsm8k_doc_to_text(const struct gsm8k_doc *d) {
    return pystr_cat("Question: ", d->question, "\nAnswer:", (char *)NULL);
}

void gsm8k_fewshot(size_t n_test, size_t n_train, uint64_t seed, int64_t *shots) {
    struct pyrandom r;
    pyrandom_seed(&r, seed);
    for (size_t i = 0; i < n_test; i++) pyrandom_sample(&r, (int64_t)n_train, GSM8K_N_SHOTS, shots + i * GSM8K_N_SHOTS);
}

char *gsm8k_context(const struct gsm8k_doc *d, const struct gsm8k_doc *train, const int64_t *shot_idx) {
    char *ctx = xstrdup("");
    for (int k = 0; k < GSM8K_N_SHOTS; k++) {
        const struct gsm8k_doc *s = &train[shot_idx[k]];
        char *q = gsm8k_doc_to_text(s);
        char *t = pystr_cat(ctx, q, " ", s->answer, "\n\n", (char *)NULL);
        free(q);
        free(ctx);
        ctx = t;
    }
    char *q = gsm8k_doc_to_text(d);
    char *t = pystr_cat(ctx, q, (char *)NULL);
    free(q);
    free(ctx);
    return t;
}

char **gsm8k_contexts(const struct gsm8k_doc *test, size_t n_test, const struct gsm8k_doc *train, size_t n_train,
                      const int64_t *idx, size_t n_idx, uint64_t seed, int64_t *shots_out) {
    int64_t *shots = xmalloc((n_test ? n_test : 1) * GSM8K_N_SHOTS * sizeof *shots);
    gsm8k_fewshot(n_test, n_train, seed, shots);
    char **out = xmalloc((n_idx ? n_idx : 1) * sizeof *out);
    for (size_t j = 0; j < n_idx; j++) {
        CHECK(idx[j] >= 0 && (size_t)idx[j] < n_test, "gsm8k item %lld of %zu", (long long)idx[j], n_test);
        const int64_t *s = shots + (size_t)idx[j] * GSM8K_N_SHOTS;
        out[j] = gsm8k_context(&test[idx[j]], train, s);
        if (shots_out) memcpy(shots_out + j * GSM8K_N_SHOTS, s, GSM8K_N_SHOTS * sizeof *s);
    }
    free(shots);
    return out;
}
