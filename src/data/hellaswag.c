/* hellaswag -- HellaSwag readers and lm-eval's preprocessing (see hellaswag.h). */
#include "data/hellaswag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/pystr.h"

/* sha256 of each file: the first from ../shared/data/SOURCES.md section 4 (the canonical rowanz file, not
 * present here), the others from ../shared/data/hellaswag/SHA256SUMS. */
static const struct task_pin pins[HELLASWAG_FILE_COUNT] = {
    {"hellaswag/hellaswag_val.jsonl", "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588"},
    {"hellaswag/hellaswag_val_full.txt", "d572539320eb2050e858ca34b495bbe2103e3b3f1391a9c3bcdf215b0bb93bd1"},
    {"hellaswag/hellaswag_val_head10.jsonl", "81f92a875382688e163f703f1e524c0e328b6a2148f6841a74d0667f04c51f70"},
};

const struct task_pin *hellaswag_pin(enum hellaswag_file f) {
    CHECK(f >= 0 && f < HELLASWAG_FILE_COUNT, "hellaswag file %d", (int)f);
    return &pins[f];
}

char *hellaswag_preprocess(const char *text) {
    char *a = pystr_strip(text);
    char *b = pystr_replace(a, " [title]", ". ");
    free(a);
    /* re.sub("\\[.*?\\]", "", b): at each "[", the shortest run up to the first "]" with no newline between;
     * a "[" with no such "]" is kept and the scan moves on by one character. */
    size_t n = strlen(b), o = 0;
    char *c = xmalloc(n + 1);
    for (size_t i = 0; i < n;) {
        if (b[i] == '[') {
            size_t j = i + 1;
            while (j < n && b[j] != ']' && b[j] != '\n') j++;
            if (j < n && b[j] == ']') { i = j + 1; continue; }
        }
        c[o++] = b[i++];
    }
    c[o] = 0;
    free(b);
    char *d = pystr_replace(c, "  ", " ");
    free(c);
    return d;
}

char *hellaswag_query(const char *activity_label, const char *ctx_a, const char *ctx_b) {
    char *cap = pystr_capitalize(ctx_b);
    char *raw = pystr_cat(activity_label, ": ", ctx_a, " ", cap, (char *)NULL);
    char *q = hellaswag_preprocess(raw);
    free(raw);
    free(cap);
    return q;
}

/* label: an integer, or a decimal string as on the HF hub. */
static int json_label(const cJSON *o, const char *path, size_t row) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "label");
    if (cJSON_IsNumber(v)) return v->valueint;
    if (cJSON_IsString(v) && v->valuestring[0] >= '0' && v->valuestring[0] <= '3' && !v->valuestring[1])
        return v->valuestring[0] - '0';
    die("%s: record %zu: expected \"label\" 0..3", path, row);
}

static size_t load_jsonl(const char *path, struct mc_doc **out) {
    size_t n;
    cJSON **rows = task_jsonl_read(path, &n);
    struct mc_doc *docs = xcalloc(n ? n : 1, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = rows[i];
        const cJSON *ends = cJSON_GetObjectItemCaseSensitive(o, "endings");
        if (!cJSON_IsArray(ends) || cJSON_GetArraySize(ends) != 4)
            die("%s: record %zu: expected \"endings\" with 4 strings", path, i);
        const cJSON *ind = cJSON_GetObjectItemCaseSensitive(o, "ind");
        char id[64];
        snprintf(id, sizeof id, "hellaswag/%d", cJSON_IsNumber(ind) ? ind->valueint : (int)i);
        docs[i].id = xstrdup(id);
        docs[i].context = hellaswag_query(task_json_str(o, "activity_label", path, i),
                                          task_json_str(o, "ctx_a", path, i), task_json_str(o, "ctx_b", path, i));
        docs[i].n_choices = 4;
        for (int c = 0; c < 4; c++) {
            const cJSON *e = cJSON_GetArrayItem(ends, c);
            if (!cJSON_IsString(e)) die("%s: record %zu: ending %d is not a string", path, i, c);
            docs[i].choices[c] = hellaswag_preprocess(e->valuestring);
        }
        docs[i].gold = json_label(o, path, i);
    }
    task_jsonl_free(rows, n);
    *out = docs;
    return n;
}

static size_t load_txt(const char *path, struct mc_doc **out) {
    size_t len;
    char *text = file_read_all(path, &len);
    /* Split into lines ("\n"; a trailing "\r" is dropped). */
    size_t n_lines = 0, cap = 4096;
    char **lines = xmalloc(cap * sizeof *lines);
    for (char *p = text; p < text + len;) {
        char *e = memchr(p, '\n', (size_t)(text + len - p));
        if (!e) e = text + len;
        *e = 0;
        if (e > p && e[-1] == '\r') e[-1] = 0;
        if (n_lines == cap) lines = xrealloc(lines, (cap *= 2) * sizeof *lines);
        lines[n_lines++] = p;
        p = e + 1;
    }
    if (n_lines % 6) die("%s: %zu lines: expected 6 lines per task (llama.cpp hellaswag layout)", path, n_lines);
    size_t n = n_lines / 6;
    struct mc_doc *docs = xcalloc(n ? n : 1, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        char **l = lines + 6 * i, id[64];
        if (!(l[1][0] >= '0' && l[1][0] <= '3' && !l[1][1]))
            die("%s: line %zu: expected the gold label 0..3, got '%s'", path, 6 * i + 2, l[1]);
        snprintf(id, sizeof id, "hellaswag/%zu", i);
        docs[i].id = xstrdup(id);
        docs[i].context = hellaswag_txt_query(l[0]);
        docs[i].n_choices = 4;
        for (int c = 0; c < 4; c++) docs[i].choices[c] = hellaswag_preprocess(l[2 + c]);
        docs[i].gold = l[1][0] - '0';
    }
    free(lines);
    free(text);
    *out = docs;
    return n;
}

char *hellaswag_txt_query(const char *line) {
    char *q = hellaswag_preprocess(line);
    /* ctx_b starts after the last ". " of the context (after "label: "), or at the context's start. */
    char *ctx = strstr(q, ": ");
    ctx = ctx ? ctx + 2 : q;
    char *b = ctx, *k;
    for (k = strstr(ctx, ". "); k; k = strstr(k + 1, ". ")) b = k + 2;
    if (*b) {
        /* capitalize() of the first code point only: split at the second code point. */
        size_t l = 1;
        while (b[l] && ((unsigned char)b[l] & 0xC0) == 0x80) l++;
        char *first = pystr_ndup(b, l), *cap = pystr_capitalize(first);
        *b = 0;
        char *r = pystr_cat(q, cap, b + l, (char *)NULL);
        free(first), free(cap), free(q);
        q = r;
    }
    return q;
}

size_t hellaswag_load(const char *path, enum hellaswag_layout layout, struct mc_doc **docs) {
    return layout == HELLASWAG_JSONL ? load_jsonl(path, docs) : load_txt(path, docs);
}
