/* placeholders -- {{...}} references in notebooks and the paper, resolved from results (MODEL/ optional:
 * default the configured model, e.g. qwen3-tiny). FMT is a numfmt spec (sig3 default, sigN, fixN, pct, int).
 *   value  {{[MODEL/]EXP:RECIPE:METRIC[@CASE][|FMT]}}; METRIC "manifest.KEY" reads the run's manifest
 *   table  {{table [MODEL/]EXP [rows=R1,R2] [sort=[-]METRIC] | recipe "LABEL" | METRIC[@CASE] "LABEL" [FMT] [opt] ...}}
 *          a column marked `opt` shows an em dash for a row whose file lacks the metric (results written before
 *          the metric existed); unmarked, a missing metric is a hard error as everywhere else
 *   figure {{figure FIG "CAPTION"}}: build/out/FIG.<lang>.svg as a numbered <figure>; table and figure alone on a line
 *   block  {{if [MODEL/]EXP[:RECIPE[:METRIC[@CASE]]]}} ... [{{else}} ...] {{end}}, each alone on its line: the
 *          text between is kept (and its placeholders resolved) only when results exist (any results file of
 *          EXP, that RECIPE's, or that METRIC in it), else the {{else}} part is; for an experiment that may not
 *          have run on a model yet, or a metric newer than the committed results.
 *          Blocks nest; the skipped part is still parsed and counts in the key set.
 * Labels and captions are the only language-specific parts: placeholder_key() drops them, so en and zh
 * sources must give equal key sets. "\{{" and fenced code are left alone. An unknown or missing key is a
 * hard error naming file:line (exit 1). */
#ifndef SRC_REPORT_PLACEHOLDERS_H
#define SRC_REPORT_PLACEHOLDERS_H

#include <stddef.h>

#include "report/numfmt.h"
#include "report/results.h"

#ifdef __cplusplus
extern "C" {
#endif

enum placeholder_kind { PLACEHOLDER_VALUE, PLACEHOLDER_TABLE, PLACEHOLDER_FIGURE, PLACEHOLDER_IF, PLACEHOLDER_ELSE,
                        PLACEHOLDER_END };

/* One table column: metric "recipe" is the row's recipe name itself. */
struct placeholder_col {
    char *metric;
    char *case_name; /* NULL: the flat "metrics" object */
    char *label;
    struct numfmt fmt;
    int optional;    /* `opt`: a missing metric prints an em dash */
};

struct placeholder {
    enum placeholder_kind kind;
    char *model;     /* NULL when the reference names none */
    char *exp;       /* VALUE, TABLE, IF */
    char *recipe;    /* VALUE; IF (NULL: any results file of exp) */
    char *metric;    /* VALUE; IF (may be NULL) */
    char *case_name; /* VALUE, IF; may be NULL */
    struct numfmt fmt;                /* VALUE */
    char **rows;                      /* TABLE: explicit recipe order, NULL for "every results file" */
    int n_rows;
    char *sort_metric;                /* TABLE: NULL, or the metric rows are sorted by */
    int sort_desc;                    /* TABLE: 1 for sort=-METRIC */
    struct placeholder_col *cols;     /* TABLE */
    int n_cols;
    char *fig;                        /* FIGURE */
    char *caption;                    /* FIGURE */
};

/* Parses the text between "{{" and "}}" (len bytes, not NUL-terminated). Returns 0 and fills *p, or -1
 * with a message in err (p is then empty). Free with placeholder_free. */
int placeholder_parse(const char *body, size_t len, struct placeholder *p, char *err, size_t errlen);
void placeholder_free(struct placeholder *p);

/* The language-neutral identity of a placeholder (labels and captions dropped, defaults made explicit),
 * e.g. "synthetic/e01-formats:nvfp4:sqnr_db_gaussian|sig3", "figure e01-sqnr" or "if qwen3-tiny-moe/e04-tasks".
 * Caller frees. */
char *placeholder_key(const struct placeholder *p);

/* Every placeholder key of a document, in order of appearance (duplicates kept). Returns NULL and a
 * "line N: message" in err on a syntax error; *n gets the count. Free with placeholders_keys_free. */
char **placeholders_keys(const char *text, size_t len, int *n, char *err, size_t errlen);
void placeholders_keys_free(char **keys, int n);

/* What resolution needs, and what it reports back. */
struct placeholders_ctx {
    struct results *res;       /* the results tree */
    const char *default_model; /* the model folder for references without one */
    const char *lang;          /* "en" | "zh": figure files are FIG.<lang>.svg, captions "Figure 1" / "图 1" */
    char **figures;            /* out: figure names in order of first use (owned; placeholders_ctx_free) */
    int n_figures;
};

/* Returns the document with every placeholder replaced (caller frees): values by their formatted number,
 * tables by Markdown tables, figures by <figure> HTML blocks referring to FIG.<lang>.svg in the same
 * folder. path names the document in errors. Dies (exit 1) on the first syntax error, unknown key,
 * missing results file or metric, or an unbalanced if/else/end: "path:line: ...". */
char *placeholders_resolve(const char *text, size_t len, const char *path, struct placeholders_ctx *ctx);

/* Frees what resolution stored in ctx (the figure list). */
void placeholders_ctx_free(struct placeholders_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
