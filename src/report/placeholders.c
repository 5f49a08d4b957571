/* placeholders -- see placeholders.h. Scanning is line by line (a placeholder never spans lines), so
 * every error can name its line; parsing goes through a tiny lexer of words, "strings" and '|'. */
#include "report/placeholders.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "report/i18n.h"
#include "core/strbuf.h"
#include "report/table_md.h"

// ---- lexer ----

enum tok_kind { TOK_WORD, TOK_STRING, TOK_PIPE };

struct tok {
    enum tok_kind kind;
    char *text; /* WORD, STRING (unescaped); NULL for PIPE */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void toks_free(struct tok *t, int n) {
    for (int i = 0; i < n; i++) free(t[i].text);
    free(t);
}

static char *xstrndup_(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Splits s[0..n) into tokens. A word is a run of anything but blanks, '|' and '"'; a string is
 * "..." with \" and \\ as its only escapes. Returns the count, or -1 with err set. */
static int lex(const char *s, size_t n, struct tok **out, char *err, size_t errlen) {
    struct tok *t = NULL;
    int nt = 0, cap = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (nt == cap) {
            cap = cap ? 2 * cap : 8;
            t = xrealloc(t, (size_t)cap * sizeof *t);
        }
        if (c == '|') {
            t[nt].kind = TOK_PIPE;
            t[nt++].text = NULL;
            i++;
        } else if (c == '"') {
            struct strbuf b = {0};
            strbuf_puts(&b, "");
            i++;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) i++;
                strbuf_add(&b, s + i, 1);
                i++;
            }
            if (i >= n) {
                strbuf_free(&b);
                toks_free(t, nt);
                set_err(err, errlen, "unterminated string (a \" without its closing \")");
                return -1;
            }
            i++;
            t[nt].kind = TOK_STRING;
            t[nt++].text = strbuf_take(&b);
        } else {
            size_t j = i;
            while (j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '|' && s[j] != '"') j++;
            t[nt].kind = TOK_WORD;
            t[nt++].text = xstrndup_(s + i, j - i);
            i = j;
        }
    }
    *out = t;
    return nt;
}

// ---- parsing ----

/* "[MODEL/]EXP" into p->model (NULL when absent) and p->exp. */
static int parse_source(const char *src, struct placeholder *p, char *err, size_t errlen) {
    const char *slash = strchr(src, '/');
    if (slash) {
        if (strchr(slash + 1, '/')) {
            set_err(err, errlen, "'%s': at most one '/' (MODEL/EXPERIMENT)", src);
            return -1;
        }
        p->model = xstrndup_(src, (size_t)(slash - src));
        p->exp = xstrdup(slash + 1);
        if (!results_name_ok(p->model)) {
            set_err(err, errlen, "bad model name '%s'", p->model);
            return -1;
        }
    } else {
        p->exp = xstrdup(src);
    }
    if (!results_name_ok(p->exp)) {
        set_err(err, errlen, "bad experiment name '%s'", p->exp);
        return -1;
    }
    return 0;
}

/* "METRIC[@CASE]" into fresh strings. */
static int parse_metric(const char *s, char **metric, char **case_name, char *err, size_t errlen) {
    const char *at = strchr(s, '@');
    *metric = at ? xstrndup_(s, (size_t)(at - s)) : xstrdup(s);
    *case_name = at ? xstrdup(at + 1) : NULL;
    if (!results_name_ok(*metric) || (*case_name && !results_name_ok(*case_name))) {
        set_err(err, errlen, "bad metric '%s' (METRIC or METRIC@CASE, names of A-Z a-z 0-9 . _ + -)", s);
        return -1;
    }
    return 0;
}

static int parse_fmt(const char *s, struct numfmt *f, char *err, size_t errlen) {
    if (numfmt_parse(s, f) != 0) {
        set_err(err, errlen, "bad number format '%s' (sigN, fixN, pct, int)", s);
        return -1;
    }
    return 0;
}

/* value: REF [| FMT] with REF = [MODEL/]EXP:RECIPE:METRIC[@CASE] */
static int parse_value(struct tok *t, int nt, struct placeholder *p, char *err, size_t errlen) {
    p->kind = PLACEHOLDER_VALUE;
    p->fmt = numfmt_default();
    if (nt < 1 || t[0].kind != TOK_WORD || !(nt == 1 || (nt == 3 && t[1].kind == TOK_PIPE && t[2].kind == TOK_WORD))) {
        set_err(err, errlen, "expected [MODEL/]EXPERIMENT:RECIPE:METRIC[@CASE][|FORMAT]");
        return -1;
    }
    const char *ref = t[0].text;
    const char *c1 = strchr(ref, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ':')) {
        set_err(err, errlen, "'%s': expected [MODEL/]EXPERIMENT:RECIPE:METRIC[@CASE]", ref);
        return -1;
    }
    char *src = xstrndup_(ref, (size_t)(c1 - ref));
    int rc = parse_source(src, p, err, errlen);
    free(src);
    if (rc) return -1;
    p->recipe = xstrndup_(c1 + 1, (size_t)(c2 - c1 - 1));
    if (!results_name_ok(p->recipe)) {
        set_err(err, errlen, "bad recipe name '%s'", p->recipe);
        return -1;
    }
    if (parse_metric(c2 + 1, &p->metric, &p->case_name, err, errlen)) return -1;
    if (nt == 3 && parse_fmt(t[2].text, &p->fmt, err, errlen)) return -1;
    return 0;
}

/* Splits "a,b,c" into a fresh list of valid recipe names. */
static int parse_rows(const char *s, struct placeholder *p, char *err, size_t errlen) {
    const char *q = s;
    for (;;) {
        const char *comma = strchr(q, ',');
        size_t n = comma ? (size_t)(comma - q) : strlen(q);
        p->rows = xrealloc(p->rows, (size_t)(p->n_rows + 1) * sizeof *p->rows);
        p->rows[p->n_rows++] = xstrndup_(q, n);
        if (!results_name_ok(p->rows[p->n_rows - 1])) {
            set_err(err, errlen, "bad recipe name '%s' in rows=", p->rows[p->n_rows - 1]);
            return -1;
        }
        if (!comma) break;
        q = comma + 1;
    }
    return 0;
}

/* table SOURCE [rows=..] [sort=[-]M] | COL | COL ... with COL = METRIC[@CASE] ["LABEL"] [FMT] */
static int parse_table(struct tok *t, int nt, struct placeholder *p, char *err, size_t errlen) {
    p->kind = PLACEHOLDER_TABLE;
    if (nt < 2 || t[1].kind != TOK_WORD) {
        set_err(err, errlen, "expected: table [MODEL/]EXPERIMENT [rows=A,B] [sort=[-]METRIC] | COLUMN | ...");
        return -1;
    }
    if (parse_source(t[1].text, p, err, errlen)) return -1;
    int i = 2;
    for (; i < nt && t[i].kind == TOK_WORD; i++) {
        const char *w = t[i].text;
        if (strncmp(w, "rows=", 5) == 0 && !p->rows) {
            if (parse_rows(w + 5, p, err, errlen)) return -1;
        } else if (strncmp(w, "sort=", 5) == 0 && !p->sort_metric) {
            p->sort_desc = w[5] == '-';
            p->sort_metric = xstrdup(w + 5 + p->sort_desc);
            if (!results_name_ok(p->sort_metric)) {
                set_err(err, errlen, "bad sort metric '%s'", p->sort_metric);
                return -1;
            }
        } else {
            set_err(err, errlen, "unknown or repeated table option '%s' (rows=A,B,... sort=[-]METRIC)", w);
            return -1;
        }
    }
    int has_recipe = 0;
    while (i < nt) {
        if (t[i].kind != TOK_PIPE || i + 1 >= nt || t[i + 1].kind != TOK_WORD) {
            set_err(err, errlen, "expected '| METRIC[@CASE] \"LABEL\" [FORMAT]' after column %d", p->n_cols);
            return -1;
        }
        p->cols = xrealloc(p->cols, (size_t)(p->n_cols + 1) * sizeof *p->cols);
        struct placeholder_col *c = &p->cols[p->n_cols++];
        memset(c, 0, sizeof *c);
        c->fmt = numfmt_default();
        if (parse_metric(t[i + 1].text, &c->metric, &c->case_name, err, errlen)) return -1;
        i += 2;
        if (i < nt && t[i].kind == TOK_STRING) c->label = xstrdup(t[i++].text);
        else c->label = xstrdup(c->metric);
        if (i < nt && t[i].kind == TOK_WORD && strcmp(t[i].text, "opt") != 0 &&
            parse_fmt(t[i++].text, &c->fmt, err, errlen)) return -1;
        if (i < nt && t[i].kind == TOK_WORD && strcmp(t[i].text, "opt") == 0) { c->optional = 1; i++; }
        if (strcmp(c->metric, "recipe") == 0) has_recipe = 1;
    }
    if (!has_recipe) {
        set_err(err, errlen, "a table needs a column '| recipe \"LABEL\"' (the row names)");
        return -1;
    }
    return 0;
}

/* figure NAME "CAPTION" */
static int parse_figure(struct tok *t, int nt, struct placeholder *p, char *err, size_t errlen) {
    p->kind = PLACEHOLDER_FIGURE;
    if (nt != 3 || t[1].kind != TOK_WORD || t[2].kind != TOK_STRING) {
        set_err(err, errlen, "expected: figure NAME \"CAPTION\"");
        return -1;
    }
    p->fig = xstrdup(t[1].text);
    p->caption = xstrdup(t[2].text);
    if (!results_name_ok(p->fig)) {
        set_err(err, errlen, "bad figure name '%s'", p->fig);
        return -1;
    }
    return 0;
}

/* if SOURCE[:RECIPE] | else | end */
static int parse_block(struct tok *t, int nt, struct placeholder *p, char *err, size_t errlen) {
    const char *w = t[0].text;
    if (strcmp(w, "else") == 0 || strcmp(w, "end") == 0) {
        p->kind = w[0] == 'e' && w[1] == 'l' ? PLACEHOLDER_ELSE : PLACEHOLDER_END;
        if (nt != 1) {
            set_err(err, errlen, "'%s' takes nothing after it", w);
            return -1;
        }
        return 0;
    }
    p->kind = PLACEHOLDER_IF;
    if (nt != 2 || t[1].kind != TOK_WORD) {
        set_err(err, errlen, "expected: if [MODEL/]EXPERIMENT[:RECIPE[:METRIC[@CASE]]]");
        return -1;
    }
    const char *ref = t[1].text;
    const char *colon = strchr(ref, ':');
    const char *colon2 = colon ? strchr(colon + 1, ':') : NULL;
    if (colon2 && strchr(colon2 + 1, ':')) {
        set_err(err, errlen, "'%s': expected if [MODEL/]EXPERIMENT[:RECIPE[:METRIC[@CASE]]]", ref);
        return -1;
    }
    char *src = colon ? xstrndup_(ref, (size_t)(colon - ref)) : xstrdup(ref);
    int rc = parse_source(src, p, err, errlen);
    free(src);
    if (rc) return -1;
    if (colon) {
        p->recipe = colon2 ? xstrndup_(colon + 1, (size_t)(colon2 - colon - 1)) : xstrdup(colon + 1);
        if (!results_name_ok(p->recipe)) {
            set_err(err, errlen, "bad recipe name '%s' in if", p->recipe);
            return -1;
        }
        if (colon2 && parse_metric(colon2 + 1, &p->metric, &p->case_name, err, errlen)) return -1;
    }
    return 0;
}

int placeholder_parse(const char *body, size_t len, struct placeholder *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    struct tok *t = NULL;
    int nt = lex(body, len, &t, err, errlen);
    if (nt < 0) return -1;
    int rc;
    if (nt == 0) {
        set_err(err, errlen, "empty placeholder");
        rc = -1;
    } else if (t[0].kind == TOK_WORD && strcmp(t[0].text, "table") == 0) {
        rc = parse_table(t, nt, p, err, errlen);
    } else if (t[0].kind == TOK_WORD && strcmp(t[0].text, "figure") == 0) {
        rc = parse_figure(t, nt, p, err, errlen);
    } else if (t[0].kind == TOK_WORD &&
               (strcmp(t[0].text, "if") == 0 || strcmp(t[0].text, "else") == 0 || strcmp(t[0].text, "end") == 0)) {
        rc = parse_block(t, nt, p, err, errlen);
    } else {
        rc = parse_value(t, nt, p, err, errlen);
    }
    toks_free(t, nt);
    if (rc) placeholder_free(p);
    return rc;
}

void placeholder_free(struct placeholder *p) {
    free(p->model);
    free(p->exp);
    free(p->recipe);
    free(p->metric);
    free(p->case_name);
    for (int i = 0; i < p->n_rows; i++) free(p->rows[i]);
    free(p->rows);
    free(p->sort_metric);
    for (int i = 0; i < p->n_cols; i++) {
        free(p->cols[i].metric);
        free(p->cols[i].case_name);
        free(p->cols[i].label);
    }
    free(p->cols);
    free(p->fig);
    free(p->caption);
    memset(p, 0, sizeof *p);
}

char *placeholder_key(const struct placeholder *p) {
    struct strbuf b = {0};
    char spec[16];
    if (p->kind == PLACEHOLDER_FIGURE) {
        strbuf_printf(&b, "figure %s", p->fig);
        return strbuf_take(&b);
    }
    if (p->kind == PLACEHOLDER_ELSE || p->kind == PLACEHOLDER_END) {
        strbuf_puts(&b, p->kind == PLACEHOLDER_ELSE ? "else" : "end");
        return strbuf_take(&b);
    }
    if (p->kind == PLACEHOLDER_IF) {
        strbuf_printf(&b, "if %s%s%s%s%s", p->model ? p->model : "", p->model ? "/" : "", p->exp,
                      p->recipe ? ":" : "", p->recipe ? p->recipe : "");
        if (p->metric)
            strbuf_printf(&b, ":%s%s%s", p->metric, p->case_name ? "@" : "", p->case_name ? p->case_name : "");
        return strbuf_take(&b);
    }
    if (p->kind == PLACEHOLDER_TABLE) strbuf_puts(&b, "table ");
    if (p->model) strbuf_printf(&b, "%s/", p->model);
    strbuf_puts(&b, p->exp);
    if (p->kind == PLACEHOLDER_VALUE) {
        numfmt_spec(p->fmt, spec, sizeof spec);
        strbuf_printf(&b, ":%s:%s%s%s|%s", p->recipe, p->metric, p->case_name ? "@" : "",
                      p->case_name ? p->case_name : "", spec);
        return strbuf_take(&b);
    }
    if (p->n_rows) {
        strbuf_puts(&b, " rows=");
        for (int i = 0; i < p->n_rows; i++) strbuf_printf(&b, "%s%s", i ? "," : "", p->rows[i]);
    }
    if (p->sort_metric) strbuf_printf(&b, " sort=%s%s", p->sort_desc ? "-" : "", p->sort_metric);
    for (int i = 0; i < p->n_cols; i++) {
        const struct placeholder_col *c = &p->cols[i];
        strbuf_printf(&b, " | %s%s%s", c->metric, c->case_name ? "@" : "", c->case_name ? c->case_name : "");
        if (strcmp(c->metric, "recipe") != 0) {
            numfmt_spec(c->fmt, spec, sizeof spec);
            strbuf_printf(&b, " %s%s", spec, c->optional ? " opt" : "");
        }
    }
    return strbuf_take(&b);
}

// ---- scanning ----

/* Called for each placeholder with the byte range it replaces: the "{{...}}" of a value, the whole line
 * (without its '\n') of a table or figure. Returns nothing: resolution dies on its own errors. */
typedef void (*scan_fn)(void *user, const struct placeholder *p, int line, size_t start, size_t end);

static int blank(const char *s, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Walks the document line by line. Returns 0, or -1 with *err_line and err set on a syntax error. */
static int scan(const char *text, size_t len, scan_fn fn, void *user, int *err_line, char *err, size_t errlen) {
    int line = 0, in_fence = 0;
    size_t pos = 0;
    while (pos < len) {
        line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ls = pos, le = nl ? (size_t)(nl - text) : len;
        pos = nl ? le + 1 : len;
        /* A fence (``` or ~~~ after at most three spaces) opens or closes a code block: the syntax may be
         * shown there verbatim. */
        size_t k = ls;
        while (k < le && k - ls < 3 && text[k] == ' ') k++;
        if (le - k >= 3 && (strncmp(text + k, "```", 3) == 0 || strncmp(text + k, "~~~", 3) == 0)) {
            in_fence = !in_fence;
            continue;
        }
        if (in_fence) continue;
        size_t i = ls;
        while (i + 1 < le) {
            if (text[i] != '{' || text[i + 1] != '{') {
                i++;
                continue;
            }
            if (i > ls && text[i - 1] == '\\') { /* "\{{": literal braces */
                i += 2;
                continue;
            }
            /* The closing "}}" is the first one outside a "string", on the same line. */
            size_t j = i + 2;
            int in_q = 0, found = 0;
            for (; j < le; j++) {
                if (in_q) {
                    if (text[j] == '\\') j++;
                    else if (text[j] == '"') in_q = 0;
                } else if (text[j] == '"') {
                    in_q = 1;
                } else if (text[j] == '}' && j + 1 < le && text[j + 1] == '}') {
                    found = 1;
                    break;
                }
            }
            *err_line = line;
            if (!found) {
                set_err(err, errlen, "unterminated '{{' (a placeholder ends with '}}' on the same line)");
                return -1;
            }
            struct placeholder p;
            if (placeholder_parse(text + i + 2, j - i - 2, &p, err, errlen)) return -1;
            if (p.kind != PLACEHOLDER_VALUE) {
                if (!blank(text, ls, i) || !blank(text, j + 2, le)) {
                    static const char *const kind_name[] = {"a value", "a table", "a figure", "an if", "an else", "an end"};
                    set_err(err, errlen, "%s placeholder must be alone on its line", kind_name[p.kind]);
                    placeholder_free(&p);
                    return -1;
                }
                fn(user, &p, line, ls, le);
            } else {
                fn(user, &p, line, i, j + 2);
            }
            placeholder_free(&p);
            i = j + 2;
        }
    }
    return 0;
}

// ---- keys ----

struct keys_state {
    char **keys;
    int n;
};

static void keys_fn(void *user, const struct placeholder *p, int line, size_t start, size_t end) {
    (void)line, (void)start, (void)end;
    struct keys_state *st = user;
    st->keys = xrealloc(st->keys, (size_t)(st->n + 1) * sizeof *st->keys);
    st->keys[st->n++] = placeholder_key(p);
}

char **placeholders_keys(const char *text, size_t len, int *n, char *err, size_t errlen) {
    struct keys_state st = {NULL, 0};
    int line = 0;
    char msg[512];
    if (scan(text, len, keys_fn, &st, &line, msg, sizeof msg)) {
        set_err(err, errlen, "line %d: %s", line, msg);
        placeholders_keys_free(st.keys, st.n);
        *n = 0;
        return NULL;
    }
    *n = st.n;
    if (!st.keys) st.keys = xmalloc(sizeof *st.keys); /* non-NULL even when empty: NULL means error */
    return st.keys;
}

void placeholders_keys_free(char **keys, int n) {
    for (int i = 0; i < n; i++) free(keys[i]);
    free(keys);
}

// ---- resolution ----

#define PLACEHOLDERS_MAX_DEPTH 8

struct resolve_state {
    const char *text;
    size_t len;
    const char *path;
    struct placeholders_ctx *ctx;
    struct strbuf out;
    size_t done; /* text[0..done) is already in out */
    int n_fig;   /* figures numbered so far */
    /* Open if-blocks, innermost last: whether its current branch is kept, and whether an else was seen. */
    struct { int keep, in_else, line; } blocks[PLACEHOLDERS_MAX_DEPTH];
    int depth;
    int skipping; /* number of open blocks whose current branch is dropped (0: text is kept) */
};

/* Does the condition of an if hold: its metric in that recipe's results, a results file for its recipe, or
 * any for its experiment? */
static int block_holds(const struct resolve_state *st, const struct placeholder *p) {
    const char *model = p->model ? p->model : st->ctx->default_model;
    if (p->metric) {
        /* The metric is there (a null counts: it prints as a dash), e.g. a field newer than some results. */
        double v;
        enum results_status rs = results_metric(st->ctx->res, model, p->exp, p->recipe, p->metric, p->case_name, &v);
        return rs == RESULTS_OK || rs == RESULTS_NULL || rs == RESULTS_NOT_NUMBER;
    }
    if (p->recipe) return results_get(st->ctx->res, model, p->exp, p->recipe) != NULL;
    int n = 0;
    char **list = results_list_recipes(st->ctx->res, model, p->exp, &n);
    results_list_free(list, n);
    return n > 0;
}

/* Opens, switches or closes a block; dies on an else or end without its if, a second else, or nesting
 * deeper than PLACEHOLDERS_MAX_DEPTH. */
static void resolve_block(struct resolve_state *st, const struct placeholder *p, int line) {
    if (p->kind == PLACEHOLDER_IF) {
        if (st->depth == PLACEHOLDERS_MAX_DEPTH)
            die("%s:%d: if-blocks nested deeper than %d", st->path, line, PLACEHOLDERS_MAX_DEPTH);
        /* Inside a dropped branch the condition is not looked up: the whole inner block is dropped. */
        int keep = st->skipping ? 0 : block_holds(st, p);
        st->blocks[st->depth].keep = keep;
        st->blocks[st->depth].in_else = 0;
        st->blocks[st->depth].line = line;
        st->depth++;
        st->skipping += !keep;
        return;
    }
    if (st->depth == 0) die("%s:%d: {{%s}} without an open {{if}}", st->path, line, p->kind == PLACEHOLDER_ELSE ? "else" : "end");
    int top = st->depth - 1;
    int outer_skipping = st->skipping - !st->blocks[top].keep;
    if (p->kind == PLACEHOLDER_ELSE) {
        if (st->blocks[top].in_else)
            die("%s:%d: a second {{else}} for the {{if}} of line %d", st->path, line, st->blocks[top].line);
        st->blocks[top].in_else = 1;
        /* The else branch is kept when the if branch was not, unless an outer block drops both. */
        st->blocks[top].keep = outer_skipping ? 0 : !st->blocks[top].keep;
        st->skipping = outer_skipping + !st->blocks[top].keep;
        return;
    }
    st->depth--;
    st->skipping = outer_skipping;
}

static const char *model_of(const struct resolve_state *st, const struct placeholder *p) {
    return p->model ? p->model : st->ctx->default_model;
}

/* Dies naming the document, line, the reference and the file it was looked up in. */
static void die_key(const struct resolve_state *st, int line, const struct placeholder *p, const char *recipe,
                    const char *metric, const char *case_name, const char *why) {
    die("%s:%d: unknown key '%s/%s:%s:%s%s%s': %s (%s/%s/%s/%s.json)", st->path, line, model_of(st, p), p->exp,
        recipe, metric, case_name ? "@" : "", case_name ? case_name : "", why, results_root(st->ctx->res),
        model_of(st, p), p->exp, recipe);
}

/* The formatted value of one metric, or death. A null value prints as an em dash (numfmt). */
static void format_metric(struct resolve_state *st, int line, const struct placeholder *p, const char *recipe,
                          const char *metric, const char *case_name, struct numfmt fmt, int optional,
                          struct strbuf *dst) {
    const char *model = model_of(st, p);
    char num[NUMFMT_MAX];
    if (strncmp(metric, "manifest.", 9) == 0 && !case_name) {
        /* Provenance, e.g. manifest.cache_key: the content hash that identifies the run. */
        const cJSON *j = results_get(st->ctx->res, model, p->exp, recipe);
        if (!j) die_key(st, line, p, recipe, metric, case_name, results_status_str(RESULTS_NO_FILE));
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "manifest");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, metric + 9);
        if (cJSON_IsString(v)) strbuf_puts(dst, v->valuestring);
        else if (cJSON_IsNumber(v)) strbuf_puts(dst, numfmt_format(v->valuedouble, fmt, num, sizeof num));
        else die_key(st, line, p, recipe, metric, case_name, "no such string or number in the manifest");
        return;
    }
    double v;
    enum results_status rs = results_metric(st->ctx->res, model, p->exp, recipe, metric, case_name, &v);
    if (rs == RESULTS_OK || rs == RESULTS_NULL) {
        strbuf_puts(dst, numfmt_format(v, fmt, num, sizeof num));
        return;
    }
    const char *s;
    if (rs == RESULTS_NOT_NUMBER &&
        results_metric_str(st->ctx->res, model, p->exp, recipe, metric, case_name, &s) == RESULTS_OK) {
        strbuf_puts(dst, s);
        return;
    }
    if (optional && (rs == RESULTS_NO_METRIC || rs == RESULTS_NO_CASE)) {
        strbuf_puts(dst, numfmt_format(NAN, fmt, num, sizeof num));   /* the em dash of a null */
        return;
    }
    die_key(st, line, p, recipe, metric, case_name, results_status_str(rs));
}

static void resolve_table(struct resolve_state *st, const struct placeholder *p, int line) {
    char what[512];
    snprintf(what, sizeof what, "%s:%d: table", st->path, line);
    int n = 0;
    char **names = results_rows(st->ctx->res, model_of(st, p), p->exp, p->rows, p->n_rows, p->sort_metric,
                                p->sort_desc, what, &n);
    const char **header = xmalloc((size_t)p->n_cols * sizeof *header);
    char *align = xmalloc((size_t)p->n_cols + 1);
    char **cells = xmalloc((size_t)(n * p->n_cols) * sizeof *cells + 1);
    for (int c = 0; c < p->n_cols; c++) {
        header[c] = p->cols[c].label;
        align[c] = strcmp(p->cols[c].metric, "recipe") == 0 ? 'l' : 'r';
    }
    for (int r = 0; r < n; r++) {
        for (int c = 0; c < p->n_cols; c++) {
            const struct placeholder_col *col = &p->cols[c];
            struct strbuf cell = {0};
            if (strcmp(col->metric, "recipe") == 0) strbuf_printf(&cell, "`%s`", names[r]);
            else format_metric(st, line, p, names[r], col->metric, col->case_name, col->fmt, col->optional, &cell);
            cells[r * p->n_cols + c] = strbuf_take(&cell);
        }
    }
    char *md = table_md_render(p->n_cols, n, header, (const char *const *)cells, align);
    /* Blank lines around the table: a GFM table must not continue a paragraph. */
    strbuf_puts(&st->out, "\n");
    strbuf_add(&st->out, md, strlen(md));
    free(md);
    for (int i = 0; i < n * p->n_cols; i++) free(cells[i]);
    results_list_free(names, n);
    free(cells);
    free(align);
    free(header);
}

static void resolve_figure(struct resolve_state *st, const struct placeholder *p) {
    struct placeholders_ctx *ctx = st->ctx;
    int seen = 0;
    for (int i = 0; i < ctx->n_figures; i++) seen |= strcmp(ctx->figures[i], p->fig) == 0;
    if (!seen) {
        ctx->figures = xrealloc(ctx->figures, (size_t)(ctx->n_figures + 1) * sizeof *ctx->figures);
        ctx->figures[ctx->n_figures++] = xstrdup(p->fig);
    }
    st->n_fig++;
    /* An HTML block (CommonMark type 6) runs to the next blank line, which the line's own '\n' after
     * "</figure>\n" provides. */
    struct strbuf *o = &st->out;
    strbuf_printf(o, "<figure id=\"figure-%d\">\n<img src=\"%s.%s.svg\" alt=\"", st->n_fig, p->fig, ctx->lang);
    strbuf_html(o, p->caption);
    strbuf_puts(o, "\">\n<figcaption>");
    strbuf_printf(o, i18n_str(ctx->lang, I18N_FIGURE), st->n_fig);
    strbuf_puts(o, i18n_str(ctx->lang, I18N_CAPTION_SEP));
    strbuf_html(o, p->caption);
    strbuf_puts(o, "</figcaption>\n</figure>\n");
}

static void resolve_fn(void *user, const struct placeholder *p, int line, size_t start, size_t end) {
    struct resolve_state *st = user;
    /* Text before this placeholder is kept only in a kept branch; an if/else/end line leaves no text but
     * its line break, and swallows that too so a block adds no blank line. */
    if (!st->skipping) strbuf_add(&st->out, st->text + st->done, start - st->done);
    st->done = end;
    if (p->kind == PLACEHOLDER_IF || p->kind == PLACEHOLDER_ELSE || p->kind == PLACEHOLDER_END) {
        resolve_block(st, p, line);
        if (st->done < st->len && st->text[st->done] == '\n') st->done++;
        return;
    }
    if (st->skipping) return;
    switch (p->kind) {
    case PLACEHOLDER_VALUE:
        format_metric(st, line, p, p->recipe, p->metric, p->case_name, p->fmt, 0, &st->out);
        break;
    case PLACEHOLDER_TABLE: resolve_table(st, p, line); break;
    case PLACEHOLDER_FIGURE: resolve_figure(st, p); break;
    default: break;
    }
}

char *placeholders_resolve(const char *text, size_t len, const char *path, struct placeholders_ctx *ctx) {
    CHECK(ctx->res && ctx->default_model && i18n_lang_ok(ctx->lang), "placeholders_resolve: incomplete ctx");
    if (!results_name_ok(ctx->default_model)) die("bad model name '%s'", ctx->default_model);
    struct resolve_state st;
    memset(&st, 0, sizeof st);
    st.text = text;
    st.len = len;
    st.path = path;
    st.ctx = ctx;
    strbuf_puts(&st.out, "");
    int line = 0;
    char err[512];
    if (scan(text, len, resolve_fn, &st, &line, err, sizeof err)) die("%s:%d: %s", path, line, err);
    if (st.depth) die("%s:%d: {{if}} without its {{end}}", path, st.blocks[st.depth - 1].line);
    strbuf_add(&st.out, text + st.done, len - st.done);
    return strbuf_take(&st.out);
}

void placeholders_ctx_free(struct placeholders_ctx *ctx) {
    for (int i = 0; i < ctx->n_figures; i++) free(ctx->figures[i]);
    free(ctx->figures);
    ctx->figures = NULL;
    ctx->n_figures = 0;
}
