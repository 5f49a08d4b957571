/* json_io -- reading and writing JSON through cJSON, with errors that name the file.
 * Writing is deterministic: keys keep insertion order, numbers print with cJSON's shortest round-trip format
 * ("%1.15g", else "%1.17g"), cJSON's tab indentation and a final newline. Reads die with the file
 * name and the byte offset of a parse error; getters die naming the file and the missing or mistyped key. */
#ifndef SRC_CORE_JSON_IO_H
#define SRC_CORE_JSON_IO_H

#include <cjson/cJSON.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a JSON file; dies "path: invalid JSON near byte N" on error. Caller frees with cJSON_Delete. */
cJSON *json_read_file(const char *path);

/* Parses a buffer; `what` names the source in errors. */
cJSON *json_parse_or_die(const char *text, size_t len, const char *what);

/* Serialises (formatted, with a trailing newline) and writes atomically. */
void json_write_atomic(const char *path, const cJSON *root);

/* Returns a freshly allocated formatted serialisation (caller frees). */
char *json_print(const cJSON *root);

/* The first key that occurs twice among obj's members (cJSON keeps both and every lookup sees the first),
 * or NULL. Readers of results files reject such files: a duplicated metric is ambiguous. */
const char *json_duplicate_key(const cJSON *obj);

/* The same for a results file as a whole: a duplicate among "metrics", among the case "name"s, or inside a
 * case's "metrics", or a case without a string "name" (it cannot be told apart). Writes "metric 'x'" /
 * "case 'y'" / "case 'y' metric 'x'" / "case 3 without ..." into buf; returns buf or NULL. */
const char *json_results_duplicate(const cJSON *root, char *buf, size_t n);

/* Getters: `what` names the file or object for the error message. The _opt forms return `dflt` when the key
 * is absent (but still die if it is present with the wrong type). */
const cJSON *json_get(const cJSON *obj, const char *key, const char *what);
double json_get_number(const cJSON *obj, const char *key, const char *what);
int64_t json_get_int(const cJSON *obj, const char *key, const char *what);
const char *json_get_string(const cJSON *obj, const char *key, const char *what);
double json_get_number_opt(const cJSON *obj, const char *key, double dflt, const char *what);
int64_t json_get_int_opt(const cJSON *obj, const char *key, int64_t dflt, const char *what);
int json_get_bool_opt(const cJSON *obj, const char *key, int dflt, const char *what);

#ifdef __cplusplus
}
#endif
#endif
