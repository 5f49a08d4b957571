/* cmd_report -- see cmd_report.h. */
#include "cli/cmd_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"          // defines: die, die_usage, file_read_all, file_exists
#include "core/fileio.h"         // defines: file_write_atomic
#include "report/html_page.h"    // defines: html_page_build
#include "report/i18n.h"         // defines: i18n_lang_ok
#include "report/index_page.h"   // defines: index_page_body
#include "report/placeholders.h" // defines: placeholders_resolve
#include "report/render_md.h"    // defines: render_md_html, render_md_title
#include "quant/recipe.h"
#include "report/results.h"      // defines: results_open

static const char usage[] =
    "usage: ql report [--lang en|zh] [--results DIR] [--model NAME|DIR] [--figures DIR] --out PAGE.html SOURCE.md\n"
    "       ql report --index [--lang en|zh] --out DIR/index.html RESOLVED.md ...\n"
    "  Renders SOURCE.md with its {{placeholders}} filled from the results into PAGE.html (standalone, CSS\n"
    "  embedded) and PAGE.md (the resolved Markdown), and copies each figure it shows, FIG.<lang>.svg, from\n"
    "  the figures folder next to the page. --index writes the index page of the rendered pages.\n"
    "  --lang L        en or zh (default en); never taken from the environment\n"
    "  --results DIR   the results tree (default: results)\n"
    "  --model NAME    model folder for placeholders that name none (default: qwen3-tiny; a path's last part)\n"
    "  --figures DIR   where the drawn figures are (default: build/out)\n";

/* Fresh copy of path with its final ".html" (or ".md") replaced by ext. */
static char *swap_ext(const char *path, const char *from, const char *to) {
    size_t n = strlen(path), fl = strlen(from);
    if (n <= fl || strcmp(path + n - fl, from) != 0) die_usage("report: '%s' must end in %s", path, from);
    char *s = xmalloc(n - fl + strlen(to) + 1);
    memcpy(s, path, n - fl);
    strcpy(s + n - fl, to);
    return s;
}

/* The folder part of path ("." when none), fresh. */
static char *dir_name(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    char *d = xstrdup(path);
    d[slash - path] = '\0';
    return d;
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Copies FIG.<lang>.svg from the figures folder next to the page; the page refers to it relatively. */
static void copy_figure(const char *fig_dir, const char *fig, const char *lang, const char *page_dir,
                        const char *source) {
    size_t n = strlen(fig_dir) + strlen(page_dir) + strlen(fig) + 16;
    char *src = xmalloc(n), *dst = xmalloc(n);
    snprintf(src, n, "%s/%s.%s.svg", fig_dir, fig, lang);
    snprintf(dst, n, "%s/%s.%s.svg", page_dir, fig, lang);
    if (!file_exists(src))
        die("%s: figure '%s': %s does not exist (hint: make figures; a figure needs figures/%s.gp)", source, fig, src,
            fig);
    size_t len;
    char *data = file_read_all(src, &len);
    file_write_atomic(dst, data, len);
    free(data);
    free(src);
    free(dst);
}

static int render_page(const char *lang, const char *results_dir, const char *model, const char *fig_dir,
                       const char *out, const char *source) {
    char *out_md = swap_ext(out, ".html", ".md");
    char *page_dir = dir_name(out);
    size_t len;
    char *text = file_read_all(source, &len);
    struct results *res = results_open(results_dir);
    /* Rows follow the recipe table's order (bf16, the FP8 variants, the FP4 variants, then the algorithms). */
    const char *order[64];
    int n_order = 0;
    for (int i = 0; i < recipe_count() && n_order < 64; i++) order[n_order++] = recipe_at(i)->name;
    results_set_order(res, order, n_order);
    struct placeholders_ctx ctx = {res, model, lang, NULL, 0};
    char *md = placeholders_resolve(text, len, source, &ctx);
    char *title = render_md_title(md, strlen(md));
    if (!title) die("%s: no title (the page needs a level-1 heading, '# ...')", source);
    char *body = render_md_html(md, strlen(md));
    struct html_page pg = {lang, title, body, base_of(out), 0};
    char *html = html_page_build(&pg);
    /* Figures and the resolved Markdown first, the page last: make's target only appears once complete. */
    for (int i = 0; i < ctx.n_figures; i++) copy_figure(fig_dir, ctx.figures[i], lang, page_dir, source);
    file_write_atomic(out_md, md, strlen(md));
    file_write_atomic(out, html, strlen(html));
    free(html);
    free(body);
    free(title);
    free(md);
    placeholders_ctx_free(&ctx);
    results_free(res);
    free(text);
    free(page_dir);
    free(out_md);
    return 0;
}

static int render_index(const char *lang, const char *out, char **pages, int n) {
    struct index_entry *e = xcalloc((size_t)n, sizeof *e);
    char **titles = xcalloc((size_t)n, sizeof *titles), **hrefs = xcalloc((size_t)n, sizeof *hrefs);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *md = file_read_all(pages[i], &len);
        titles[i] = render_md_title(md, len);
        if (!titles[i]) die("%s: no title (level-1 heading)", pages[i]);
        free(md);
        hrefs[i] = swap_ext(base_of(pages[i]), ".md", ".html");
        e[i].href = hrefs[i];
        e[i].title = titles[i];
        e[i].is_paper = strcmp(base_of(pages[i]), "paper.md") == 0;
    }
    char *body = index_page_body(lang, e, n);
    struct html_page pg = {lang, i18n_str(lang, I18N_INDEX_TITLE), body, base_of(out), 1};
    char *html = html_page_build(&pg);
    file_write_atomic(out, html, strlen(html));
    free(html);
    free(body);
    for (int i = 0; i < n; i++) {
        free(titles[i]);
        free(hrefs[i]);
    }
    free(titles);
    free(hrefs);
    free(e);
    return 0;
}

int cmd_report(int argc, char **argv) {
    const char *lang = "en", *results_dir = "results", *model_arg = "qwen3-tiny", *fig_dir = "build/out";
    const char *out = NULL;
    int index = 0;
    char **pos = xcalloc((size_t)argc, sizeof *pos);
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            free(pos);
            return 0;
        }
        if (strcmp(a, "--index") == 0) index = 1;
        else if (strcmp(a, "--lang") == 0 && has_val) lang = argv[++i];
        else if (strcmp(a, "--results") == 0 && has_val) results_dir = argv[++i];
        else if (strcmp(a, "--model") == 0 && has_val) model_arg = argv[++i];
        else if (strcmp(a, "--figures") == 0 && has_val) fig_dir = argv[++i];
        else if (strcmp(a, "--out") == 0 && has_val) out = argv[++i];
        else if (a[0] == '-') die_usage("report: unknown or incomplete option '%s'\n%s", a, usage);
        else pos[n_pos++] = argv[i];
    }
    if (!i18n_lang_ok(lang)) die_usage("report: --lang must be en or zh, got '%s'", lang);
    if (!out) die_usage("report: --out is required\n%s", usage);
    int rc;
    if (index) {
        if (n_pos == 0) die_usage("report: --index needs the resolved pages (PAGE.md ...)\n%s", usage);
        rc = render_index(lang, out, pos, n_pos);
    } else {
        if (n_pos != 1) die_usage("report: exactly one SOURCE.md per page (got %d)\n%s", n_pos, usage);
        /* A model given as a folder (models/qwen3-tiny/) is named by its last component. */
        char *model = xstrdup(model_arg);
        size_t ml = strlen(model);
        while (ml > 1 && model[ml - 1] == '/') model[--ml] = '\0';
        rc = render_page(lang, results_dir, base_of(model), fig_dir, out, pos[0]);
        free(model);
    }
    free(pos);
    return rc;
}
