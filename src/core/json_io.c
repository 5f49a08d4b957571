/* json_io -- see json_io.h. */
#include "core/json_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"

cJSON *json_parse_or_die(const char *text, size_t len, const char *what) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        die("%s: invalid JSON near byte %zu", what, off);
    }
    return root;
}

cJSON *json_read_file(const char *path) {
    size_t len;
    char *text = file_read_all(path, &len);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    free(text);  /* before a die(): nothing is left allocated on the error path */
    if (!root) die("%s: invalid JSON near byte %zu", path, off);
    return root;
}

char *json_print(const cJSON *root) {
    char *s = cJSON_Print(root);
    CHECK(s, "cJSON_Print failed (out of memory?)");
    size_t n = strlen(s);
    char *out = xmalloc(n + 2);
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    cJSON_free(s);
    return out;
}

void json_write_atomic(const char *path, const cJSON *root) {
    char *s = json_print(root);
    file_write_atomic(path, s, strlen(s));
    free(s);
}

const cJSON *json_get(const cJSON *obj, const char *key, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) die("%s: missing key '%s'", what, key);
    return v;
}

double json_get_number(const cJSON *obj, const char *key, const char *what) {
    const cJSON *v = json_get(obj, key, what);
    if (!cJSON_IsNumber(v)) die("%s: key '%s': expected a number", what, key);
    return v->valuedouble;
}

int64_t json_get_int(const cJSON *obj, const char *key, const char *what) {
    double d = json_get_number(obj, key, what);
    if (d != floor(d) || fabs(d) > 9007199254740992.0) die("%s: key '%s': expected an integer, got %g", what, key, d);
    return (int64_t)d;
}

const char *json_get_string(const cJSON *obj, const char *key, const char *what) {
    const cJSON *v = json_get(obj, key, what);
    if (!cJSON_IsString(v)) die("%s: key '%s': expected a string", what, key);
    return v->valuestring;
}

double json_get_number_opt(const cJSON *obj, const char *key, double dflt, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return dflt;
    if (!cJSON_IsNumber(v)) die("%s: key '%s': expected a number", what, key);
    return v->valuedouble;
}

int64_t json_get_int_opt(const cJSON *obj, const char *key, int64_t dflt, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return dflt;
    return json_get_int(obj, key, what);
}

int json_get_bool_opt(const cJSON *obj, const char *key, int dflt, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return dflt;
    if (!cJSON_IsBool(v)) die("%s: key '%s': expected true or false", what, key);
    return cJSON_IsTrue(v);
}

const char *json_duplicate_key(const cJSON *obj) {
    if (!cJSON_IsObject(obj)) return NULL;
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && !strcmp(a->string, b->string)) return a->string;
    return NULL;
}

const char *json_results_duplicate(const cJSON *root, char *buf, size_t n) {
    const char *k = json_duplicate_key(cJSON_GetObjectItemCaseSensitive(root, "metrics"));
    if (k) return snprintf(buf, n, "metric '%s'", k), buf;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    int i = 0;
    for (const cJSON *a = cJSON_IsArray(cases) ? cases->child : NULL; a; a = a->next, i++) {
        const cJSON *na = cJSON_GetObjectItemCaseSensitive(a, "name");
        if (!cJSON_IsString(na)) return snprintf(buf, n, "case %d without a string \"name\"", i), buf;
        k = json_duplicate_key(cJSON_GetObjectItemCaseSensitive(a, "metrics"));
        if (k) return snprintf(buf, n, "case '%s' metric '%s'", cJSON_IsString(na) ? na->valuestring : "?", k), buf;
        for (const cJSON *b = a->next; b && cJSON_IsString(na); b = b->next) {
            const cJSON *nb = cJSON_GetObjectItemCaseSensitive(b, "name");
            if (cJSON_IsString(nb) && !strcmp(na->valuestring, nb->valuestring))
                return snprintf(buf, n, "case '%s'", na->valuestring), buf;
        }
    }
    return NULL;
}
