/* figdata -- the data behind one figure, extracted from results JSON into a TSV that gnuplot reads.
 * Each figures/<fig>.gp declares what it plots in "#%" comment lines, so the data contract lives next to
 * the plot and no figure is hard-coded in C:
 *   #% data [MODEL/]EXPERIMENT [optional]  (required; no MODEL: the configured one; optional: see below)
 *   #% rows RECIPE RECIPE ...              (optional: these rows in this order; default every results file)
 *   #% sort [-]METRIC                      (optional: order rows by a metric, '-' for descending)
 *   #% col METRIC[@CASE] [UNIT, TYPE] text (one per column, in order; TYPE f64 or str; METRIC "recipe" = row name;
 *          TYPE f64? / str?: optional, NaN for results files that predate the metric)
 * The TSV starts with Maneage-style comments ("# Column 2: sqnr_db_gaussian [dB, f64] SQNR, Gaussian") and
 * one "# Input:" line per run with its cache key, then one tab-separated row per recipe; null is "NaN".
 * An optional source may lack results (e.g. a second model on which an experiment has not run yet): rows
 * without a results file are left out, and with none left the TSV holds its header, a "# No results" line
 * and no data line, which the script detects (stats finds no valid point) and draws as a note. */
#ifndef SRC_REPORT_FIGDATA_H
#define SRC_REPORT_FIGDATA_H

#include <stddef.h>

#include "report/results.h"

#ifdef __cplusplus
extern "C" {
#endif

struct figdata_col {
    char *metric;    /* "recipe" for the row name */
    char *case_name; /* NULL: the flat "metrics" object */
    char *unit;      /* e.g. "dB", "bit", "name" */
    char *type;      /* "f64" | "str" */
    int optional;    /* TYPE written "f64?" / "str?": a file without the metric gives NaN, not an error */
    char *desc;      /* free text, may be empty */
};

struct figdata_spec {
    char *model; /* NULL: the configured model */
    char *exp;
    int optional; /* 1: "#% data ... optional": missing results are left out, not an error */
    char **rows;  /* NULL: every results file */
    int n_rows;
    char *sort_metric;
    int sort_desc;
    struct figdata_col *cols;
    int n_cols;
};

/* Parses the "#%" lines of a figure script (text of len bytes; path names it in errors). Dies
 * "path:line: ..." on a malformed line, and "path: ..." when there is no data line or no column. */
void figdata_spec_parse(const char *text, size_t len, const char *path, struct figdata_spec *s);
void figdata_spec_free(struct figdata_spec *s);

/* Builds the TSV (caller frees). fig names the figure and spec_path its script in the header comments.
 * Dies naming spec_path and the results file on a missing file or metric, a number where str was declared
 * or the reverse, or a string holding a tab or newline. */
char *figdata_tsv(const struct figdata_spec *s, struct results *r, const char *default_model, const char *fig,
                  const char *spec_path);

#ifdef __cplusplus
}
#endif
#endif
