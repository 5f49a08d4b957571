/* figdata -- see figdata.h. */
#include "report/figdata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/strbuf.h"

static char *dup_range(const char *a, const char *b) {
    char *d = xmalloc((size_t)(b - a) + 1);
    memcpy(d, a, (size_t)(b - a));
    d[b - a] = '\0';
    return d;
}

static const char *skip_blank(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* Trims trailing blanks (and a '\r') in place. */
static void rtrim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
}

/* "[MODEL/]EXP [optional]" */
static void parse_source(const char *arg, struct figdata_spec *s, const char *path, int line) {
    const char *end = arg;
    while (*end && *end != ' ' && *end != '\t') end++;
    const char *opt = skip_blank(end);
    if (*opt && strcmp(opt, "optional") != 0)
        die("%s:%d: unexpected '%s' after the data source (expected nothing or 'optional')", path, line, opt);
    s->optional = *opt != '\0';
    char *src = dup_range(arg, end);
    const char *slash = strchr(src, '/');
    s->model = slash ? dup_range(src, slash) : NULL;
    s->exp = xstrdup(slash ? slash + 1 : src);
    if ((s->model && !results_name_ok(s->model)) || !results_name_ok(s->exp))
        die("%s:%d: bad data source '%s' (expected [MODEL/]EXPERIMENT)", path, line, src);
    free(src);
}

/* "col METRIC[@CASE] [UNIT, TYPE] description" (the part after "col"). */
static void parse_col(const char *arg, struct figdata_spec *s, const char *path, int line) {
    const char *sp = arg;
    while (*sp && *sp != ' ' && *sp != '\t') sp++;
    char *name = dup_range(arg, sp);
    const char *lb = skip_blank(sp);
    const char *comma = strchr(lb, ',');
    const char *rb = strchr(lb, ']');
    if (*lb != '[' || !comma || !rb || comma > rb)
        die("%s:%d: expected '#%% col METRIC[@CASE] [UNIT, TYPE] description'", path, line);
    s->cols = xrealloc(s->cols, (size_t)(s->n_cols + 1) * sizeof *s->cols);
    struct figdata_col *c = &s->cols[s->n_cols++];
    memset(c, 0, sizeof *c);
    char *at = strchr(name, '@');
    if (at) {
        c->case_name = xstrdup(at + 1);
        *at = '\0';
    }
    c->metric = name;
    c->unit = dup_range(skip_blank(lb + 1), comma);
    rtrim(c->unit);
    c->type = dup_range(skip_blank(comma + 1), rb);
    rtrim(c->type);
    size_t tl = strlen(c->type);
    if (tl && c->type[tl - 1] == '?') { c->optional = 1; c->type[tl - 1] = '\0'; rtrim(c->type); }
    c->desc = xstrdup(skip_blank(rb + 1));
    rtrim(c->desc);
    if (!results_name_ok(c->metric) || (c->case_name && !results_name_ok(c->case_name)))
        die("%s:%d: bad column name '%s%s%s'", path, line, c->metric, c->case_name ? "@" : "",
            c->case_name ? c->case_name : "");
    if (strcmp(c->type, "f64") != 0 && strcmp(c->type, "str") != 0)
        die("%s:%d: column '%s': type '%s' (expected f64 or str)", path, line, c->metric, c->type);
    if (!*c->unit) die("%s:%d: column '%s': empty unit (use 1 for a pure number)", path, line, c->metric);
}

void figdata_spec_parse(const char *text, size_t len, const char *path, struct figdata_spec *s) {
    memset(s, 0, sizeof *s);
    int line = 0;
    size_t pos = 0;
    while (pos < len) {
        line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t le = nl ? (size_t)(nl - text) : len;
        char *ln = dup_range(text + pos, text + le);
        pos = nl ? le + 1 : len;
        if (strncmp(ln, "#%", 2) != 0) {
            free(ln);
            continue;
        }
        rtrim(ln);
        const char *kw = skip_blank(ln + 2);
        const char *ke = kw;
        while (*ke && *ke != ' ' && *ke != '\t') ke++;
        const char *arg = skip_blank(ke);
        size_t kl = (size_t)(ke - kw);
        if (kl == 4 && strncmp(kw, "data", 4) == 0) {
            if (s->exp) die("%s:%d: a second '#%% data' line", path, line);
            parse_source(arg, s, path, line);
        } else if (kl == 4 && strncmp(kw, "rows", 4) == 0) {
            /* Whitespace-separated recipe names. */
            const char *p = arg;
            while (*p) {
                const char *e = p;
                while (*e && *e != ' ' && *e != '\t') e++;
                s->rows = xrealloc(s->rows, (size_t)(s->n_rows + 1) * sizeof *s->rows);
                s->rows[s->n_rows++] = dup_range(p, e);
                if (!results_name_ok(s->rows[s->n_rows - 1]))
                    die("%s:%d: bad recipe name '%s'", path, line, s->rows[s->n_rows - 1]);
                p = skip_blank(e);
            }
            if (!s->n_rows) die("%s:%d: '#%% rows' with no recipe", path, line);
        } else if (kl == 4 && strncmp(kw, "sort", 4) == 0) {
            s->sort_desc = arg[0] == '-';
            free(s->sort_metric);
            s->sort_metric = xstrdup(arg + s->sort_desc);
            if (!results_name_ok(s->sort_metric)) die("%s:%d: bad sort metric '%s'", path, line, s->sort_metric);
        } else if (kl == 3 && strncmp(kw, "col", 3) == 0) {
            parse_col(arg, s, path, line);
        } else {
            die("%s:%d: unknown figure-data line '%s' (data, rows, sort, col)", path, line, ln);
        }
        free(ln);
    }
    if (!s->exp) die("%s: no '#%% data [MODEL/]EXPERIMENT' line", path);
    if (!s->n_cols) die("%s: no '#%% col ...' line", path);
}

void figdata_spec_free(struct figdata_spec *s) {
    free(s->model);
    free(s->exp);
    for (int i = 0; i < s->n_rows; i++) free(s->rows[i]);
    free(s->rows);
    free(s->sort_metric);
    for (int i = 0; i < s->n_cols; i++) {
        free(s->cols[i].metric);
        free(s->cols[i].case_name);
        free(s->cols[i].unit);
        free(s->cols[i].type);
        free(s->cols[i].desc);
    }
    free(s->cols);
    memset(s, 0, sizeof *s);
}

/* A string cell must not break the TSV: no tab, no line break. */
static void add_str_cell(struct strbuf *b, const char *v, const char *spec_path, const char *col) {
    if (strpbrk(v, "\t\r\n")) die("%s: column '%s': value '%s' holds a tab or line break", spec_path, col, v);
    strbuf_puts(b, v);
}

/* The rows of an optional source: those of results_rows that have a results file (explicit rows without one
 * are dropped, in order), and none at all, without dying, when the folder holds no results. */
static char **optional_rows(const struct figdata_spec *s, struct results *r, const char *model,
                            const char *spec_path, int *n) {
    int n_have = 0;
    char **have = results_list_recipes(r, model, s->exp, &n_have);
    results_list_free(have, n_have);
    *n = 0;
    if (n_have == 0) return xmalloc(sizeof(char *));
    char **keep = NULL;
    int n_keep = 0;
    if (s->rows && s->rows[0][0] != '-') {
        keep = xmalloc((size_t)s->n_rows * sizeof *keep);
        for (int i = 0; i < s->n_rows; i++)
            if (results_get(r, model, s->exp, s->rows[i])) keep[n_keep++] = s->rows[i];
        if (n_keep == 0) {
            free(keep);
            return xmalloc(sizeof(char *));
        }
    }
    char **rows = results_rows(r, model, s->exp, keep ? keep : s->rows, keep ? n_keep : s->n_rows, s->sort_metric,
                               s->sort_desc, spec_path, n);
    free(keep);
    return rows;
}

char *figdata_tsv(const struct figdata_spec *s, struct results *r, const char *default_model, const char *fig,
                  const char *spec_path) {
    const char *model = s->model ? s->model : default_model;
    if (!results_name_ok(model)) die("bad model name '%s'", model);
    int n = 0;
    char **rows;
    if (s->optional) {
        rows = optional_rows(s, r, model, spec_path, &n);
    } else {
        rows = results_rows(r, model, s->exp, s->rows, s->n_rows, s->sort_metric, s->sort_desc, spec_path, &n);
    }
    struct strbuf b = {0};
    /* Header: what, from where, which runs (cache keys make each number traceable), then the columns. */
    strbuf_printf(&b, "# Figure data: %s, written by ql figdata from %s; do not edit.\n", fig, spec_path);
    strbuf_printf(&b, "# Source: %s/%s/%s/<recipe>.json, %d rows%s%s%s\n", results_root(r), model, s->exp, n,
                  s->sort_metric ? ", sorted by " : "", s->sort_metric && s->sort_desc ? "-" : "",
                  s->sort_metric ? s->sort_metric : "");
    for (int i = 0; i < n; i++) {
        const cJSON *j = results_get(r, model, s->exp, rows[i]);
        if (!j) die("%s: no results file %s/%s/%s/%s.json", spec_path, results_root(r), model, s->exp, rows[i]);
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "manifest"), "cache_key");
        strbuf_printf(&b, "# Input: %s cache_key=%s\n", rows[i], cJSON_IsString(key) ? key->valuestring : "(none)");
    }
    if (n == 0) strbuf_printf(&b, "# No results: %s/%s/%s/ holds none of the rows (optional source)\n",
                              results_root(r), model, s->exp);
    for (int c = 0; c < s->n_cols; c++) {
        const struct figdata_col *col = &s->cols[c];
        strbuf_printf(&b, "# Column %d: %s%s%s [%s, %s]%s%s\n", c + 1, col->metric, col->case_name ? "@" : "",
                      col->case_name ? col->case_name : "", col->unit, col->type, *col->desc ? " " : "", col->desc);
    }
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < s->n_cols; c++) {
            const struct figdata_col *col = &s->cols[c];
            if (c) strbuf_puts(&b, "\t");
            if (strcmp(col->metric, "recipe") == 0 && !col->case_name) {
                add_str_cell(&b, rows[i], spec_path, col->metric);
                continue;
            }
            enum results_status st;
            if (strcmp(col->type, "str") == 0) {
                const char *v = NULL;
                st = results_metric_str(r, model, s->exp, rows[i], col->metric, col->case_name, &v);
                if (st == RESULTS_OK) add_str_cell(&b, v, spec_path, col->metric);
                else if (st == RESULTS_NULL) strbuf_puts(&b, "NaN");
            } else {
                double v;
                st = results_metric(r, model, s->exp, rows[i], col->metric, col->case_name, &v);
                /* %.9g: more than any plot resolves, and stable text for the same double. */
                if (st == RESULTS_OK && isfinite(v)) strbuf_printf(&b, "%.9g", v);
                else if (st == RESULTS_OK || st == RESULTS_NULL) strbuf_puts(&b, "NaN");
            }
            /* An optional column ("f64?") that a results file lacks (written before the metric existed) is NaN. */
            if (col->optional && (st == RESULTS_NO_METRIC || st == RESULTS_NO_CASE)) {
                strbuf_puts(&b, "NaN");
                continue;
            }
            if (st != RESULTS_OK && st != RESULTS_NULL)
                die("%s: column '%s%s%s' (%s): %s (%s/%s/%s/%s.json)", spec_path, col->metric,
                    col->case_name ? "@" : "", col->case_name ? col->case_name : "", col->type,
                    results_status_str(st), results_root(r), model, s->exp, rows[i]);
        }
        strbuf_puts(&b, "\n");
    }
    results_list_free(rows, n);
    return strbuf_take(&b);
}
