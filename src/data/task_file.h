/* task_file -- the pinned input files of the task evaluators (e04-tasks): a table row per file (its name
 * under DATA_DIR and sha256), found by the same search as the corpora (eval/dataset.h dataset_find: a
 * --data-dir, $QL_DATA_DIR, ./data, ../shared/data) and verified before use (a mismatch dies naming both
 * hashes); and the JSON-lines reader every task file uses (one cJSON object per non-empty line; a line that
 * does not parse dies naming the file and line). The tables themselves live with each task (src/data/<task>.c).
 * API: struct task_pin, task_file_find, task_file_verify, task_jsonl_read, task_jsonl_free. */
#ifndef SRC_DATA_TASK_FILE_H
#define SRC_DATA_TASK_FILE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

struct task_pin {
    const char *name;     /* e.g. "arc/ARC-Easy-Test.jsonl" */
    const char *sha256;
};

/* The local path of pin->name (fresh string) or NULL when no search directory holds it. */
char *task_file_find(const struct task_pin *pin, const char *data_dir);

/* Hashes path (cached by path, size, mtime) and dies unless it equals pin->sha256; hex receives the hash. */
void task_file_verify(const struct task_pin *pin, const char *path, char hex[SHA256_HEX_LEN]);

/* Every line of path parsed as JSON: *n objects (caller frees with task_jsonl_free). */
cJSON **task_jsonl_read(const char *path, size_t *n);
void task_jsonl_free(cJSON **rows, size_t n);

/* A string field of a JSON object, or die naming path, row and key. */
const char *task_json_str(const cJSON *o, const char *key, const char *path, size_t row);

#ifdef __cplusplus
}
#endif
#endif
