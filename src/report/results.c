/* results -- see results.h. */
#define _POSIX_C_SOURCE 200809L
#include "report/results.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/json_io.h"

/* One cached file: key is "<model>/<exp>/<recipe>", json NULL when the file does not exist (a miss is
 * cached too, so a table over many recipes does not stat the same path twice). */
struct results_entry {
    char *key;
    cJSON *json;
};

struct results {
    char *root;
    struct results_entry *entries;
    int n_entries, cap_entries;
    char **order;                 /* the canonical recipe order (results_set_order), or NULL */
    int n_order;
};

/* The order's position of a name; names outside it come after every listed one. */
static int order_of(const struct results *r, const char *name) {
    for (int i = 0; i < r->n_order; i++)
        if (!strcmp(r->order[i], name)) return i;
    return r->n_order;
}

static const struct results *g_sort_r;   /* qsort has no context argument; set only around one qsort call */

static int cmp_ordered(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int ox = order_of(g_sort_r, x), oy = order_of(g_sort_r, y);
    return ox != oy ? (ox < oy ? -1 : 1) : strcmp(x, y);
}

void results_set_order(struct results *r, const char *const *names, int n) {
    for (int i = 0; i < r->n_order; i++) free(r->order[i]);
    free(r->order);
    r->order = xmalloc((size_t)(n ? n : 1) * sizeof *r->order);
    r->n_order = n;
    for (int i = 0; i < n; i++) r->order[i] = xstrdup(names[i]);
}

struct results *results_open(const char *root) {
    struct results *r = xcalloc(1, sizeof *r);
    r->root = xstrdup(root);
    return r;
}

void results_free(struct results *r) {
    if (!r) return;
    for (int i = 0; i < r->n_order; i++) free(r->order[i]);
    free(r->order);
    for (int i = 0; i < r->n_entries; i++) {
        free(r->entries[i].key);
        cJSON_Delete(r->entries[i].json);
    }
    free(r->entries);
    free(r->root);
    free(r);
}

const char *results_root(const struct results *r) { return r->root; }

int results_name_ok(const char *s) {
    if (!s || !*s || s[0] == '.') return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '+' || c == '@' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

static char *path_of(const struct results *r, const char *model, const char *exp, const char *recipe) {
    size_t n = strlen(r->root) + strlen(model) + strlen(exp) + (recipe ? strlen(recipe) : 0) + 16;
    char *p = xmalloc(n);
    if (recipe) snprintf(p, n, "%s/%s/%s/%s.json", r->root, model, exp, recipe);
    else snprintf(p, n, "%s/%s/%s", r->root, model, exp);
    return p;
}

/* A results file must say which experiment and recipe it holds, and agree with its path: a copied or
 * renamed file would otherwise put one recipe's numbers under another's name in a report. */
static void check_identity(const cJSON *j, const char *path, const char *exp, const char *recipe) {
    const char *e = json_get_string(j, "experiment", path);
    const char *rc = json_get_string(j, "recipe", path);
    if (strcmp(e, exp) != 0) die("%s: \"experiment\" is '%s', expected '%s' (the folder name)", path, e, exp);
    if (strcmp(rc, recipe) != 0) die("%s: \"recipe\" is '%s', expected '%s' (the file name)", path, rc, recipe);
}

const cJSON *results_get(struct results *r, const char *model, const char *exp, const char *recipe) {
    CHECK(results_name_ok(model) && results_name_ok(exp) && results_name_ok(recipe),
          "results_get: bad name part in '%s/%s/%s' (callers validate with results_name_ok)", model, exp, recipe);
    size_t kn = strlen(model) + strlen(exp) + strlen(recipe) + 3;
    char *key = xmalloc(kn);
    snprintf(key, kn, "%s/%s/%s", model, exp, recipe);
    for (int i = 0; i < r->n_entries; i++) {
        if (strcmp(r->entries[i].key, key) == 0) {
            free(key);
            return r->entries[i].json;
        }
    }
    char *path = path_of(r, model, exp, recipe);
    cJSON *j = NULL;
    if (file_exists(path)) {
        j = json_read_file(path);
        check_identity(j, path, exp, recipe);
        char dup[256];
        if (json_results_duplicate(j, dup, sizeof dup))
            die("%s: ambiguous: %s (a lookup would see only the first match): a damaged results file", path, dup);
    }
    free(path);
    if (r->n_entries == r->cap_entries) {
        r->cap_entries = r->cap_entries ? 2 * r->cap_entries : 16;
        r->entries = xrealloc(r->entries, (size_t)r->cap_entries * sizeof *r->entries);
    }
    r->entries[r->n_entries].key = key;
    r->entries[r->n_entries].json = j;
    r->n_entries++;
    return j;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **results_list_recipes(struct results *r, const char *model, const char *exp, int *n) {
    *n = 0;
    CHECK(results_name_ok(model) && results_name_ok(exp), "results_list_recipes: bad name '%s/%s'", model, exp);
    char *dir = path_of(r, model, exp, NULL);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return NULL;
    }
    char **list = NULL;
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        /* Only "<recipe>.json" with a valid recipe name: temp files of an atomic write in progress
         * ("x.json.tmp.123") and editor backups are not results. */
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0) continue;
        char *name = xstrdup(de->d_name);
        name[len - 5] = '\0';
        if (!results_name_ok(name)) {
            free(name);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            list = xrealloc(list, (size_t)cap * sizeof *list);
        }
        list[(*n)++] = name;
    }
    closedir(d);
    free(dir);
    /* readdir order depends on the file system: sort, so every figure and table has one row order. */
    if (*n > 1) qsort(list, (size_t)*n, sizeof *list, cmp_str);
    /* Then the canonical order, when the caller gave one (names outside it keep name order, after it). */
    if (*n > 1 && r->n_order) {
        g_sort_r = r;
        qsort(list, (size_t)*n, sizeof *list, cmp_ordered);
        g_sort_r = NULL;
    }
    return list;
}

void results_list_free(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

/* Finds the cJSON item of a metric; returns a status and sets *item on RESULTS_OK. */
static enum results_status find_metric(struct results *r, const char *model, const char *exp, const char *recipe,
                                       const char *metric, const char *case_name, const cJSON **item) {
    if (!results_name_ok(model) || !results_name_ok(exp) || !results_name_ok(recipe) || !results_name_ok(metric) ||
        (case_name && !results_name_ok(case_name)))
        return RESULTS_BAD_NAME;
    const cJSON *j = results_get(r, model, exp, recipe);
    if (!j) return RESULTS_NO_FILE;
    const cJSON *metrics = NULL;
    if (case_name) {
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(j, "cases");
        const cJSON *c;
        cJSON_ArrayForEach(c, cases) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
            if (cJSON_IsString(nm) && strcmp(nm->valuestring, case_name) == 0) {
                metrics = cJSON_GetObjectItemCaseSensitive(c, "metrics");
                break;
            }
        }
        if (!metrics && !c) return RESULTS_NO_CASE;
    } else {
        metrics = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(metrics, metric);
    if (!v) return RESULTS_NO_METRIC;
    *item = v;
    return RESULTS_OK;
}

enum results_status results_metric(struct results *r, const char *model, const char *exp, const char *recipe,
                                   const char *metric, const char *case_name, double *out) {
    const cJSON *v = NULL;
    enum results_status st = find_metric(r, model, exp, recipe, metric, case_name, &v);
    if (st != RESULTS_OK) return st;
    /* JSON has no inf or NaN: writers store a non-finite value as null. */
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return RESULTS_NULL;
    }
    if (!cJSON_IsNumber(v)) return RESULTS_NOT_NUMBER;
    *out = v->valuedouble;
    return RESULTS_OK;
}

enum results_status results_metric_str(struct results *r, const char *model, const char *exp,
                                       const char *recipe, const char *metric, const char *case_name,
                                       const char **out) {
    const cJSON *v = NULL;
    enum results_status st = find_metric(r, model, exp, recipe, metric, case_name, &v);
    if (st != RESULTS_OK) return st;
    if (cJSON_IsNull(v)) return RESULTS_NULL;
    if (!cJSON_IsString(v)) return RESULTS_NOT_NUMBER;
    *out = v->valuestring;
    return RESULTS_OK;
}

/* A recipe and the value it is sorted by. */
struct row_key {
    char *name;
    double v;
};

/* Nulls (NaN) sort last in both directions; ties keep name order, so the result never depends on qsort. */
static int cmp_rows(const struct row_key *a, const struct row_key *b, int desc) {
    int an = isnan(a->v), bn = isnan(b->v);
    if (an != bn) return an - bn;
    if (!an && a->v != b->v) return (a->v < b->v) != desc ? -1 : 1;
    return strcmp(a->name, b->name);
}
static int cmp_rows_asc(const void *a, const void *b) { return cmp_rows(a, b, 0); }
static int cmp_rows_desc(const void *a, const void *b) { return cmp_rows(a, b, 1); }

char **results_rows(struct results *r, const char *model, const char *exp, char *const *rows, int n_rows,
                    const char *sort_metric, int desc, const char *what, int *n) {
    char **names;
    /* A list made only of "-name" entries selects every result but those. */
    int exclude = rows && n_rows > 0;
    for (int i = 0; exclude && i < n_rows; i++) exclude = rows[i][0] == '-';
    if (exclude) {
        int all;
        char **list = results_list_recipes(r, model, exp, &all);
        names = xmalloc((size_t)(all ? all : 1) * sizeof *names);
        *n = 0;
        for (int i = 0; i < all; i++) {
            int drop = 0;
            for (int j = 0; j < n_rows; j++) drop |= !strcmp(rows[j] + 1, list[i]);
            if (drop) free(list[i]);
            else names[(*n)++] = list[i];
        }
        free(list);
    } else if (rows) {
        *n = n_rows;
        names = xmalloc((size_t)(n_rows ? n_rows : 1) * sizeof *names);
        for (int i = 0; i < n_rows; i++) names[i] = xstrdup(rows[i]);
    } else {
        names = results_list_recipes(r, model, exp, n);
    }
    if (*n == 0)
        die("%s: no results in %s/%s/%s/ (hint: run the experiment first, e.g. make figures)", what, r->root, model,
            exp);
    if (!sort_metric) return names;
    struct row_key *keys = xmalloc((size_t)*n * sizeof *keys);
    for (int i = 0; i < *n; i++) {
        keys[i].name = names[i];
        enum results_status st = results_metric(r, model, exp, names[i], sort_metric, NULL, &keys[i].v);
        if (st != RESULTS_OK && st != RESULTS_NULL)
            die("%s: cannot sort by '%s': %s (%s/%s/%s/%s.json)", what, sort_metric, results_status_str(st), r->root,
                model, exp, names[i]);
    }
    qsort(keys, (size_t)*n, sizeof *keys, desc ? cmp_rows_desc : cmp_rows_asc);
    for (int i = 0; i < *n; i++) names[i] = keys[i].name;
    free(keys);
    return names;
}

const char *results_status_str(enum results_status st) {
    switch (st) {
    case RESULTS_OK: return "ok";
    case RESULTS_NULL: return "value is null";
    case RESULTS_NO_FILE: return "no results file";
    case RESULTS_NO_METRIC: return "no such metric in the results file";
    case RESULTS_NO_CASE: return "no case of that name in the results file";
    case RESULTS_NOT_NUMBER: return "value has the wrong type";
    case RESULTS_BAD_NAME: return "bad name (allowed: A-Z a-z 0-9 . _ + @ -)";
    }
    return "?";
}
