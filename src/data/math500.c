/* math500 -- MATH-500 reader and prompts (see math500.h). */
#include "data/math500.h"

#include <stdlib.h>

#include "core/check.h"
#include "eval/math_equiv.h"
#include "eval/pystr.h"
#include "model/chat_template.h"

/* From ../shared/data/math500/SHA256SUMS (equal to prm800k's LFS oid: SOURCES.md section 3). */
static const struct task_pin pin = {"math500/test.jsonl",
                                    "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132"};

const struct task_pin *math500_pin(void) { return &pin; }

size_t math500_load(const char *path, struct math500_doc **out) {
    size_t n;
    cJSON **rows = task_jsonl_read(path, &n);
    struct math500_doc *docs = xcalloc(n ? n : 1, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        struct math500_doc *d = &docs[i];
        d->problem = xstrdup(task_json_str(rows[i], "problem", path, i));
        d->solution = xstrdup(task_json_str(rows[i], "solution", path, i));
        d->answer = xstrdup(task_json_str(rows[i], "answer", path, i));
        d->subject = xstrdup(task_json_str(rows[i], "subject", path, i));
        d->unique_id = xstrdup(task_json_str(rows[i], "unique_id", path, i));
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(rows[i], "level");
        d->level = cJSON_IsNumber(lv) ? lv->valueint : 0;
        char *box = math_equiv_last_boxed(d->solution);
        d->gold = math_equiv_remove_boxed(box);
        free(box);
        if (!d->gold) die("%s: %s: the solution has no \\boxed{...} answer", path, d->unique_id);
    }
    task_jsonl_free(rows, n);
    *out = docs;
    return n;
}

void math500_free(struct math500_doc *docs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct math500_doc *d = &docs[i];
        free(d->problem);
        free(d->solution);
        free(d->answer);
        free(d->subject);
        free(d->unique_id);
        free(d->gold);
    }
    free(docs);
}

char *math500_prompt_lmeval(const struct math500_doc *d) {
    return pystr_cat("Problem: ", d->problem, "\nAnswer:", (char *)NULL);
}

char *math500_prompt_chat(const struct math500_doc *d, int thinking) {
    char *u = pystr_cat(d->problem, " Please reason step by step, and put your final answer within \\boxed{}.",
                        (char *)NULL);
    struct chat_message m = {"user", u, NULL};
    char *r = chat_template_render(&m, 1, 1, thinking);
    free(u);
    return r;
}
