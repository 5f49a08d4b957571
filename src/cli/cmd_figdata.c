/* cmd_figdata -- see cmd_figdata.h. */
#include "cli/cmd_figdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"   // defines: die, die_usage, file_read_all
#include "core/fileio.h"  // defines: file_write_atomic
#include "report/figdata.h"
#include "quant/recipe.h"
#include "report/results.h"

static const char usage[] =
    "usage: ql figdata [--results DIR] [--model NAME|DIR] --out FILE.tsv FIGURE.gp\n"
    "  Writes the data of one figure as a TSV with Maneage-style column comments, from the '#%' lines of\n"
    "  FIGURE.gp and the results files results/<model>/<experiment>/<recipe>.json.\n"
    "  --results DIR   the results tree (default: results)\n"
    "  --model NAME    model folder for sources that name none (default: qwen3-tiny; a path's last part)\n"
    "  --out FILE      the TSV to write (atomically), e.g. build/out/data/e01-sqnr.tsv\n";

/* The last path component of s without a trailing '/', and without ext if it ends so (fresh string). */
static char *base_name(const char *s, const char *ext) {
    char *d = xstrdup(s);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') d[--n] = '\0';
    char *slash = strrchr(d, '/');
    char *b = xstrdup(slash ? slash + 1 : d);
    free(d);
    size_t bl = strlen(b), el = ext ? strlen(ext) : 0;
    if (ext && bl > el && strcmp(b + bl - el, ext) == 0) b[bl - el] = '\0';
    return b;
}

int cmd_figdata(int argc, char **argv) {
    const char *results_dir = "results", *model_arg = "qwen3-tiny", *out = NULL, *spec_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        int has_val = i + 1 < argc;
        if (strcmp(a, "--results") == 0 && has_val) results_dir = argv[++i];
        else if (strcmp(a, "--model") == 0 && has_val) model_arg = argv[++i];
        else if (strcmp(a, "--out") == 0 && has_val) out = argv[++i];
        else if (a[0] == '-') die_usage("figdata: unknown or incomplete option '%s'\n%s", a, usage);
        else if (!spec_path) spec_path = a;
        else die_usage("figdata: one FIGURE.gp at a time (got '%s' and '%s')\n%s", spec_path, a, usage);
    }
    if (!out || !spec_path) die_usage("figdata: --out and FIGURE.gp are required\n%s", usage);
    char *model = base_name(model_arg, NULL);
    char *fig = base_name(spec_path, ".gp");
    size_t len;
    char *text = file_read_all(spec_path, &len);
    struct figdata_spec spec;
    figdata_spec_parse(text, len, spec_path, &spec);
    struct results *res = results_open(results_dir);
    /* Rows follow the recipe table's order (bf16, the FP8 variants, the FP4 variants, then the algorithms). */
    const char *order[64];
    int n_order = 0;
    for (int i = 0; i < recipe_count() && n_order < 64; i++) order[n_order++] = recipe_at(i)->name;
    results_set_order(res, order, n_order);
    char *tsv = figdata_tsv(&spec, res, model, fig, spec_path);
    file_write_atomic(out, tsv, strlen(tsv));
    free(tsv);
    results_free(res);
    figdata_spec_free(&spec);
    free(text);
    free(fig);
    free(model);
    return 0;
}
