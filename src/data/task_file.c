/* task_file -- pinned task files and JSON lines (see task_file.h). */
#include "data/task_file.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/dataset.h"

char *task_file_find(const struct task_pin *pin, const char *data_dir) { return dataset_find(pin->name, data_dir); }

void task_file_verify(const struct task_pin *pin, const char *path, char hex[SHA256_HEX_LEN]) {
    char err[512];
    if (dataset_verify(path, pin->name, pin->sha256, err, sizeof err, hex) != 0)
        die("%s\nhint: the task files are pinned in src/data/*.c; a different copy gives different scores", err);
}

cJSON **task_jsonl_read(const char *path, size_t *n) {
    size_t len;
    char *text = file_read_all(path, &len);
    size_t cap = 1024, k = 0, line = 0;
    cJSON **rows = xmalloc(cap * sizeof *rows);
    char *p = text;
    while (p < text + len) {
        char *e = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(text + len - p);
        line++;
        if (l > 0 && !(l == 1 && p[0] == '\r')) {
            cJSON *o = cJSON_ParseWithLength(p, l);
            if (!o || !cJSON_IsObject(o)) die("%s: line %zu: expected one JSON object per line", path, line);
            if (k == cap) rows = xrealloc(rows, (cap *= 2) * sizeof *rows);
            rows[k++] = o;
        }
        p += l + 1;
    }
    free(text);
    *n = k;
    return rows;
}

void task_jsonl_free(cJSON **rows, size_t n) {
    for (size_t i = 0; i < n; i++) cJSON_Delete(rows[i]);
    free(rows);
}

const char *task_json_str(const cJSON *o, const char *key, const char *path, size_t row) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v)) die("%s: record %zu: expected a string field \"%s\"", path, row, key);
    return v->valuestring;
}
