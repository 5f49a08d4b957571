/* arc -- ARC readers (see arc.h). */
#include "data/arc.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/pystr.h"

/* From ../shared/data/arc/SHA256SUMS (both equal the hashes of AI2's ARC-V1-Feb2018 release: SOURCES.md 5a). */
static const struct task_pin pins[ARC_SET_COUNT] = {
    {"arc/ARC-Easy-Test.jsonl", "ce32a0774b4beb1977d2c6b16dda5dd2b24fdc9c7f506882c452678676bd09be"},
    {"arc/ARC-Challenge-Test.jsonl", "9fa8ffb3e3a1f88cb302d53dd95aae81e39209ad9bcf974376b319d8fd35717c"},
};

const struct task_pin *arc_pin(enum arc_set s) {
    CHECK(s >= 0 && s < ARC_SET_COUNT, "arc set %d", (int)s);
    return &pins[s];
}

char *arc_prompt(const char *stem) { return pystr_cat("Question: ", stem, "\nAnswer:", (char *)NULL); }

size_t arc_load(const char *path, struct mc_doc **out) {
    size_t n;
    cJSON **rows = task_jsonl_read(path, &n);
    struct mc_doc *docs = xcalloc(n ? n : 1, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = rows[i], *q = cJSON_GetObjectItemCaseSensitive(o, "question");
        if (!cJSON_IsObject(q)) die("%s: record %zu: expected an object \"question\"", path, i);
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(q, "choices");
        int nc = cJSON_GetArraySize(ch);
        if (!cJSON_IsArray(ch) || nc < 1 || nc > MC_MAX_CHOICES)
            die("%s: record %zu: expected 1..%d choices", path, i, MC_MAX_CHOICES);
        const char *key = task_json_str(o, "answerKey", path, i);
        docs[i].id = xstrdup(task_json_str(o, "id", path, i));
        docs[i].context = arc_prompt(task_json_str(q, "stem", path, i));
        docs[i].n_choices = nc;
        docs[i].gold = -1;
        for (int c = 0; c < nc; c++) {
            const cJSON *e = cJSON_GetArrayItem(ch, c);
            docs[i].choices[c] = xstrdup(task_json_str(e, "text", path, i));
            if (docs[i].gold < 0 && !strcmp(task_json_str(e, "label", path, i), key)) docs[i].gold = c;
        }
        if (docs[i].gold < 0) die("%s: %s: answerKey '%s' is not among the labels", path, docs[i].id, key);
    }
    task_jsonl_free(rows, n);
    *out = docs;
    return n;
}
