/* results -- read access to the results tree, results/<model>/<experiment>/<recipe>.json (DESIGN.md
 * "Results files"), for figures and reports. Files are parsed once and cached for the life of the store.
 * A file must name the experiment and recipe it sits under (keys "experiment", "recipe"); a mismatch is a
 * hard error. Metrics are looked up in "metrics" (flat names) or, with a case name, in the "metrics" of the
 * element of "cases" whose "name" matches. Name parts may hold [A-Za-z0-9._+@-] only and never "..", so a
 * placeholder cannot reach outside the tree. */
#ifndef SRC_REPORT_RESULTS_H
#define SRC_REPORT_RESULTS_H

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

struct results; /* opaque store */

/* Outcome of a metric lookup; results_status_str gives the English explanation for error messages. */
enum results_status {
    RESULTS_OK,          /* *out holds the number */
    RESULTS_NULL,        /* present but null (not measured, or not finite): *out = NaN */
    RESULTS_NO_FILE,     /* no results/<model>/<exp>/<recipe>.json */
    RESULTS_NO_METRIC,   /* the file has no such metric */
    RESULTS_NO_CASE,     /* no element of "cases" has that name */
    RESULTS_NOT_NUMBER,  /* the metric is a string, object, ... */
    RESULTS_BAD_NAME     /* a name part with characters outside [A-Za-z0-9._+@-] */
};

/* Opens a store over the directory root (e.g. "results"); nothing is read yet. root need not exist:
 * every lookup then reports RESULTS_NO_FILE. Free with results_free. */
struct results *results_open(const char *root);
void results_free(struct results *r);

/* The root given to results_open. */
const char *results_root(const struct results *r);

/* Returns 1 if s is a valid name part (non-empty, [A-Za-z0-9._+@-], not "." or ".." and not starting with '.'). */
int results_name_ok(const char *s);

/* The parsed JSON of one run, or NULL when the file does not exist; dies on invalid JSON or on an
 * "experiment" / "recipe" that disagrees with the path. The store owns the result. */
const cJSON *results_get(struct results *r, const char *model, const char *exp, const char *recipe);

/* The recipes that have a results file under <root>/<model>/<exp>/, sorted by strcmp; *n gets the count
 * (0 when the folder is missing). Free with results_list_free. */
char **results_list_recipes(struct results *r, const char *model, const char *exp, int *n);
void results_list_free(char **list, int n);

/* Looks up one metric (case_name NULL for the flat "metrics" object). Never dies on a missing key: the
 * caller decides, and names its own context in the error. */
enum results_status results_metric(struct results *r, const char *model, const char *exp, const char *recipe,
                                   const char *metric, const char *case_name, double *out);

/* Like results_metric for string-valued metrics (e.g. a scheme's family name); *out points into the store. */
enum results_status results_metric_str(struct results *r, const char *model, const char *exp,
                                       const char *recipe, const char *metric, const char *case_name,
                                       const char **out);

/* The rows of a table or figure. rows != NULL: exactly those recipes, in that order; else every recipe
 * with a results file, sorted by name. Then, with sort_metric, a sort by that metric (descending when
 * desc), nulls last, ties by name. Dies "what: ..." when there are no rows or a row lacks the sort metric
 * (what names the caller's context, e.g. "notebooks-md/en/01-formats.md:12"). Free with results_list_free. */
/* Sets the canonical row order (recipe names, e.g. the recipe table's order, given by the caller so this room
 * needs no knowledge of recipes): results_list_recipes and every default row list follow it; names outside it
 * come last in name order. */
void results_set_order(struct results *r, const char *const *names, int n);

/* rows: the explicit selection; a list made only of "-name" entries means every result except those. */
char **results_rows(struct results *r, const char *model, const char *exp, char *const *rows, int n_rows,
                    const char *sort_metric, int desc, const char *what, int *n);

/* "no results file", "no such metric", ... */
const char *results_status_str(enum results_status st);

#ifdef __cplusplus
}
#endif
#endif
