/* test_report -- the reporting half: number formatter, placeholder parsing (value, table, figure),
 * unknown keys as hard errors (in a forked child: exit status 1 and a message naming file:line), Markdown
 * tables and their rendering by cmark-gfm, figure-data TSVs, and the language rule: every notebook and
 * the paper use the same placeholder keys and figures in en and zh, and labels_en.gp / labels_zh.gp define
 * the same variables. Runs from the repository root; builds its own small results tree under /tmp. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "report/figdata.h"
#include "report/numfmt.h"
#include "report/placeholders.h"
#include "report/render_md.h"
#include "report/results.h"
#include "report/table_md.h"
#include "test.h"

static char g_tmp[64]; /* the fake results tree: <g_tmp>/results/... */

// ---- helpers ----

static void write_text(const char *path, const char *text) { file_write_atomic(path, text, strlen(text)); }

/* One fake e01-style results file with a flat metric set and one case. */
static void write_result(const char *model, const char *exp, const char *recipe, double bits, double sqnr,
                         const char *extra) {
    char path[512], json[2048];
    snprintf(path, sizeof path, "%s/results/%s/%s/%s.json", g_tmp, model, exp, recipe);
    snprintf(json, sizeof json,
             "{\"experiment\": \"%s\", \"model\": \"%s\", \"recipe\": \"%s\",\n"
             " \"manifest\": {\"cache_key\": \"key-%s\", \"seed\": 1},\n"
             " \"metrics\": {\"bits_per_element\": %.17g, \"sqnr_db_gaussian\": %.17g, \"maybe\": null%s},\n"
             " \"cases\": [{\"name\": \"gaussian\", \"metrics\": {\"sqnr_db\": %.17g}}]}\n",
             exp, model, recipe, recipe, bits, sqnr, extra, sqnr);
    write_text(path, json);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int contains(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

/* Runs fn(arg) in a child with stderr captured; returns the exit status (-1 if killed) and the stderr
 * text in *err (caller frees). A child that returns from fn exits 0. */
static int run_child(void (*fn)(void *), void *arg, char **err) {
    char errpath[128];
    snprintf(errpath, sizeof errpath, "%s/child.err", g_tmp);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        if (!freopen(errpath, "w", stderr)) _exit(99);
        fn(arg);
        fflush(stderr);
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid failed");
    *err = file_read_all(errpath, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---- number formatter ----

static void test_numfmt(void) {
    static const struct {
        double v;
        const char *spec, *want;
    } cases[] = {
        {20.123, "sig3", "20.1"},       {4.5, "sig3", "4.50"},          {16.0, "sig3", "16.0"},
        {9.996, "sig3", "10.0"},        {0.0123456, "sig3", "0.0123"},  {1234.5, "sig3", "1234"},
        {0.000123, "sig3", "1.23e-4"},  {2.5e7, "sig3", "2.50e7"},      {999999.0, "sig3", "1.00e6"},
        {0.0, "sig3", "0.00"},          {-0.0, "sig3", "0.00"},         {-3.14159, "sig2", "-3.1"},
        {4.125, "sig3", "4.12"},        {8.001953125, "sig4", "8.002"}, {0.987654, "pct", "98.8"},
        {20.9, "fix2", "20.90"},        {-0.001, "fix2", "0.00"},       {1536.0, "int", "1536"},
        {2.5, "int", "2"},              {1235.5, "sig3", "1236"},              {1e-3, "sig3", "0.00100"},
    };
    char buf[NUMFMT_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct numfmt f;
        int rc = numfmt_parse(cases[i].spec, &f);
        numfmt_format(cases[i].v, f, buf, sizeof buf);
        TEST(rc == 0 && strcmp(buf, cases[i].want) == 0, "numfmt %.17g %s -> '%s' (got '%s')", cases[i].v,
             cases[i].spec, cases[i].want, buf);
    }
    numfmt_format(NAN, numfmt_default(), buf, sizeof buf);
    TEST(strcmp(buf, "\xe2\x80\x94") == 0, "numfmt NaN (a JSON null) -> em dash");
    numfmt_format(-INFINITY, numfmt_default(), buf, sizeof buf);
    TEST(strcmp(buf, "-\xe2\x88\x9e") == 0, "numfmt -inf -> -infinity sign");
    struct numfmt f;
    static const char *const bad[] = {"sig0", "sig10", "fix", "pct2", "%.3f", "int8", "SIG3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TEST(numfmt_parse(bad[i], &f) == -1, "numfmt_parse rejects '%s'", bad[i]);
    TEST(numfmt_parse("", &f) == 0 && f.kind == NUMFMT_SIG && f.digits == 3, "numfmt_parse '' = sig3");
}

// ---- placeholder parsing ----

static int parse(const char *body, struct placeholder *p, char *err, size_t n) {
    return placeholder_parse(body, strlen(body), p, err, n);
}

static void test_parse(void) {
    struct placeholder p;
    char err[256];

    int rc = parse("synthetic/e01-formats:nvfp4:sqnr_db_gaussian", &p, err, sizeof err);
    TEST(rc == 0 && p.kind == PLACEHOLDER_VALUE && !strcmp(p.model, "synthetic") && !strcmp(p.exp, "e01-formats") &&
             !strcmp(p.recipe, "nvfp4") && !strcmp(p.metric, "sqnr_db_gaussian") && !p.case_name &&
             p.fmt.kind == NUMFMT_SIG && p.fmt.digits == 3,
         "parse value with model");
    char *key = rc == 0 ? placeholder_key(&p) : NULL;
    TEST(key && !strcmp(key, "synthetic/e01-formats:nvfp4:sqnr_db_gaussian|sig3"), "key of a value: '%s'", key);
    free(key);
    placeholder_free(&p);

    rc = parse(" e02-perplexity:gptq:ppl@wikitext2 | sig4 ", &p, err, sizeof err);
    TEST(rc == 0 && !p.model && !strcmp(p.case_name, "wikitext2") && p.fmt.digits == 4,
         "parse value without model, with case and format");
    placeholder_free(&p);

    rc = parse("table synthetic/e01-formats rows=bf16,nvfp4 sort=-bits_per_element | recipe \"Format\" | "
               "bits_per_element \"Bits | per \\\"element\\\"\" sig4 | sqnr_db@gaussian \"SQNR\"",
               &p, err, sizeof err);
    TEST(rc == 0 && p.kind == PLACEHOLDER_TABLE && p.n_rows == 2 && !strcmp(p.rows[1], "nvfp4") && p.sort_desc &&
             !strcmp(p.sort_metric, "bits_per_element") && p.n_cols == 3 &&
             !strcmp(p.cols[1].label, "Bits | per \"element\"") && p.cols[1].fmt.digits == 4 &&
             !strcmp(p.cols[2].case_name, "gaussian"),
         "parse table with rows, sort, quoted labels holding '|' and '\"'");
    key = rc == 0 ? placeholder_key(&p) : NULL;
    TEST(key && !strcmp(key, "table synthetic/e01-formats rows=bf16,nvfp4 sort=-bits_per_element | recipe | "
                             "bits_per_element sig4 | sqnr_db@gaussian sig3"),
         "key of a table drops labels: '%s'", key);
    free(key);
    placeholder_free(&p);

    /* The same table in another language: only the labels differ, so the key is the same. */
    struct placeholder a, b;
    int ra = parse("table m/e | recipe \"Format\" | x \"Bits\"", &a, err, sizeof err);
    int rb = parse("table m/e | recipe \"格式\" | x \"比特\"", &b, err, sizeof err);
    char *ka = ra == 0 ? placeholder_key(&a) : NULL, *kb = rb == 0 ? placeholder_key(&b) : NULL;
    TEST(ka && kb && !strcmp(ka, kb), "en and zh labels give one key");
    free(ka), free(kb);
    placeholder_free(&a), placeholder_free(&b);

    rc = parse("figure e01-sqnr \"SQNR per format\"", &p, err, sizeof err);
    TEST(rc == 0 && p.kind == PLACEHOLDER_FIGURE && !strcmp(p.fig, "e01-sqnr") && !strcmp(p.caption, "SQNR per format"),
         "parse figure");
    key = rc == 0 ? placeholder_key(&p) : NULL;
    TEST(key && !strcmp(key, "figure e01-sqnr"), "key of a figure: '%s'", key);
    free(key);
    placeholder_free(&p);

    static const char *const bad[] = {
        "",                                  /* empty */
        "e01-formats:nvfp4",                 /* two parts */
        "e01-formats:nvfp4:x:y",             /* four parts */
        "a/b/e01:nvfp4:x",                   /* two slashes */
        "e01:../x:sqnr",                     /* path escape */
        "e01:nvfp4:sqnr|sig12",              /* bad format */
        "e01:nvfp4:sqnr extra",              /* trailing word */
        "table e01 | x \"X\"",               /* no recipe column */
        "table e01 colour=red | recipe \"R\"", /* unknown option */
        "table e01 | recipe \"R",            /* unterminated string */
        "figure e01-sqnr",                   /* no caption */
        "figure ../etc \"x\"",               /* bad name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        rc = parse(bad[i], &p, err, sizeof err);
        TEST(rc == -1 && err[0], "parse rejects '%s' (%s)", bad[i], err);
        if (rc == 0) placeholder_free(&p);
    }
}

// ---- tables ----

static void test_table_md(void) {
    const char *header[] = {"Format", "比特"};
    const char *cells[] = {"`nvfp4`", "4.50", "a|b", "16.0"};
    char *md = table_md_render(2, 2, header, cells, "lr");
    const char *want = "| Format  | 比特 |\n"
                       "| ------- | ---: |\n"
                       "| `nvfp4` | 4.50 |\n"
                       "| a\\|b    | 16.0 |\n";
    TEST(!strcmp(md, want), "table_md_render: padding by display width (CJK = 2), '|' escaped");
    if (strcmp(md, want)) printf("%s", md);
    char *html = render_md_html(md, strlen(md));
    TEST(contains(html, "<table>") && contains(html, "<td align=\"right\">4.50</td>") &&
             contains(html, "<td>a|b</td>") && contains(html, "<code>nvfp4</code>"),
         "cmark-gfm renders the table (table extension attached)");
    free(html);
    free(md);
    TEST(table_md_width("ab中文") == 6, "table_md_width counts wide characters as 2");
}

// ---- resolution ----

static void make_tree(void) {
    write_result("synthetic", "e01-formats", "bf16", 16.0, 52.04, "");
    write_result("synthetic", "e01-formats", "nvfp4", 4.5, 20.123, ", \"family\": \"fp4\"");
    write_result("synthetic", "e01-formats", "mxfp4", 4.25, 16.5, "");
    write_result("qwen3-tiny", "e02-perplexity", "bf16", 16.0, 0, ", \"ppl\": 20.93");
    /* Not results: an atomic write in progress, and a file named for another recipe. */
    char path[256];
    snprintf(path, sizeof path, "%s/results/synthetic/e01-formats/nvfp4.json.tmp.123", g_tmp);
    write_text(path, "{");
}

static struct results *g_res;

static char *resolve(const char *doc, const char *lang, struct placeholders_ctx *ctx) {
    struct placeholders_ctx c = {g_res, "qwen3-tiny", lang, NULL, 0};
    *ctx = c;
    return placeholders_resolve(doc, strlen(doc), "doc.md", ctx);
}

static void test_resolve(void) {
    struct placeholders_ctx ctx;
    const char *doc = "# Title\n\n"
                      "NVFP4: {{synthetic/e01-formats:nvfp4:sqnr_db_gaussian}} dB, "
                      "{{synthetic/e01-formats:nvfp4:bits_per_element|sig2}} bits, case "
                      "{{synthetic/e01-formats:nvfp4:sqnr_db@gaussian|fix1}}, null {{synthetic/e01-formats:nvfp4:maybe}}, "
                      "family {{synthetic/e01-formats:nvfp4:family}}, key {{synthetic/e01-formats:nvfp4:manifest.cache_key}}; "
                      "default model {{e02-perplexity:bf16:ppl}}; literal \\{{not:a:key}}.\n"
                      "```\n{{inside:a:fence}}\n```\n"
                      "{{table synthetic/e01-formats sort=-bits_per_element | recipe \"Format\" | bits_per_element \"Bits\" sig3}}\n"
                      "{{figure e01-sqnr \"Caption <1>\"}}\n"
                      "{{figure e01-bits \"Second\"}}\n";
    char *md = resolve(doc, "en", &ctx);
    TEST(contains(md, "NVFP4: 20.1 dB, 4.5 bits, case 20.1, null \xe2\x80\x94, family fp4, key key-nvfp4;"),
         "values: sig3, sig2, case, null, string, manifest");
    TEST(contains(md, "default model 20.9;"), "a reference without model uses the configured one");
    TEST(contains(md, "literal \\{{not:a:key}}.") && contains(md, "```\n{{inside:a:fence}}\n```"),
         "escaped braces and fenced code are left alone");
    TEST(contains(md, "| `bf16`  | 16.0 |\n| `nvfp4` | 4.50 |\n| `mxfp4` | 4.25 |\n"),
         "table rows sorted by -bits_per_element, formatted sig3");
    TEST(contains(md, "<img src=\"e01-sqnr.en.svg\" alt=\"Caption &lt;1&gt;\">") &&
             contains(md, "<figcaption>Figure 1. Caption &lt;1&gt;</figcaption>") &&
             contains(md, "<figcaption>Figure 2. Second</figcaption>"),
         "figures: numbered, caption escaped, language-specific file");
    TEST(ctx.n_figures == 2 && !strcmp(ctx.figures[0], "e01-sqnr") && !strcmp(ctx.figures[1], "e01-bits"),
         "figures reported for copying, in order");
    char *html = render_md_html(md, strlen(md));
    TEST(contains(html, "<figure id=\"figure-1\">") && contains(html, "<table>"), "figure HTML block survives cmark");
    char *title = render_md_title(md, strlen(md));
    TEST(title && !strcmp(title, "Title"), "render_md_title");
    free(title);
    free(html);
    free(md);
    placeholders_ctx_free(&ctx);

    md = resolve("{{figure e01-sqnr \"高斯\"}}\n", "zh", &ctx);
    TEST(contains(md, "e01-sqnr.zh.svg") && contains(md, "图 1　高斯"), "zh figure: zh file and caption prefix");
    free(md);
    placeholders_ctx_free(&ctx);

    /* An `opt` column: rows whose file lacks the metric (written before it existed) show an em dash; the
     * same column unmarked is a hard error (test_errors). Only nvfp4's file has "family". */
    md = resolve("{{table synthetic/e01-formats rows=bf16,nvfp4 | recipe \"R\" | family \"F\" opt | bits_per_element \"B\" fix1 opt}}\n",
                 "en", &ctx);
    TEST(contains(md, "| `bf16`  |   \xe2\x80\x94 | 16.0 |") && contains(md, "| `nvfp4` | fp4 |  4.5 |"),
         "opt column: missing metric -> em dash, present values as usual");
    free(md);
    placeholders_ctx_free(&ctx);

    /* if/else/end: kept or dropped by whether results exist; the dropped part is neither resolved (its
     * references name results that do not exist) nor copied, and the block lines leave no blank line. */
    md = resolve("a\n{{if synthetic/e01-formats}}\nhave {{synthetic/e01-formats:nvfp4:bits_per_element}}\n{{else}}\n"
                 "none\n{{end}}\nb\n{{if qwen3-tiny-moe/e04-tasks}}\n{{qwen3-tiny-moe/e04-tasks:bf16:acc}}\n"
                 "{{if synthetic/e01-formats}}\n{{figure e01-sqnr \"x\"}}\n{{end}}\n{{else}}\nno e04\n{{end}}\n"
                 "{{if synthetic/e01-formats:nvfp5}}\nnvfp5\n{{end}}\n{{if synthetic/e01-formats:nvfp4}}\nnvfp4\n{{end}}\n"
                 "{{if synthetic/e01-formats:nvfp4:family}}\nfam\n{{end}}\n{{if synthetic/e01-formats:nvfp4:maybe}}\nnull\n{{end}}\n"
                 "{{if synthetic/e01-formats:nvfp4:ln_ratio}}\nnew\n{{else}}\nold\n{{end}}\nc\n",
                 "en", &ctx);
    TEST(md && !strcmp(md, "a\nhave 4.50\nb\nno e04\nnvfp4\nfam\nnull\nold\nc\n"), "if/else/end blocks: '%s'", md ? md : "(null)");
    TEST(ctx.n_figures == 0, "a figure in a dropped block is not reported");
    free(md);
    placeholders_ctx_free(&ctx);
    struct placeholder pb;
    char perr[256];
    TEST(parse("if qwen3-tiny-moe/e04-tasks:bf16", &pb, perr, sizeof perr) == 0 && pb.kind == PLACEHOLDER_IF,
         "parse an if");
    char *kb = placeholder_key(&pb);
    TEST(kb && !strcmp(kb, "if qwen3-tiny-moe/e04-tasks:bf16"), "key of an if: '%s'", kb);
    free(kb);
    placeholder_free(&pb);
    TEST(parse("if e02-perplexity:nvfp4:ppl@c4", &pb, perr, sizeof perr) == 0 && !strcmp(pb.metric, "ppl") &&
             !strcmp(pb.case_name, "c4"),
         "parse an if on a metric");
    kb = placeholder_key(&pb);
    TEST(kb && !strcmp(kb, "if e02-perplexity:nvfp4:ppl@c4"), "key of an if on a metric: '%s'", kb);
    free(kb);
    placeholder_free(&pb);

    /* Every table over the default listing skips temp files ("nvfp4.json.tmp.123"). */
    int n = 0;
    char **names = results_list_recipes(g_res, "synthetic", "e01-formats", &n);
    TEST(n == 3 && !strcmp(names[0], "bf16") && !strcmp(names[1], "mxfp4") && !strcmp(names[2], "nvfp4"),
         "results_list_recipes: sorted, temp files skipped");
    results_list_free(names, n);
}

/* Children for the hard-error cases: each resolves one bad document and must die with status 1. */
static void child_resolve(void *arg) {
    struct placeholders_ctx ctx;
    char *md = resolve(arg, "en", &ctx);
    free(md);
}

static void test_errors(void) {
    static const struct {
        const char *doc, *want, *name;
    } cases[] = {
        {"# T\n\nok {{synthetic/e01-formats:bf16:bits_per_element}}\n{{synthetic/e01-formats:nvfp5:sqnr_db_gaussian}}\n",
         "doc.md:4: unknown key 'synthetic/e01-formats:nvfp5:sqnr_db_gaussian': no results file", "unknown recipe"},
        {"{{synthetic/e01-formats:nvfp4:sqnr_db_laplace}}", "doc.md:1: unknown key", "unknown metric"},
        {"x\n{{synthetic/e01-formats:nvfp4:sqnr_db@laplace}}", "doc.md:2: unknown key", "unknown case"},
        {"{{e01-formats:nvfp4:sqnr_db_gaussian}}", "qwen3-tiny/e01-formats", "missing under the default model"},
        {"{{synthetic/e01-formats:nvfp4:manifest.nothing}}", "no such string or number in the manifest",
         "unknown manifest key"},
        {"{{table synthetic/e99 | recipe \"R\"}}", "doc.md:1: table: no results", "table over no results"},
        {"{{table synthetic/e01-formats | recipe \"R\" | ppl \"P\"}}", "unknown key", "table with an unknown metric"},
        {"{{table synthetic/e01-formats | recipe \"R\" | family \"F\"}}", "unknown key", "unmarked column missing in some rows"},
        {"a {{synthetic/e01-formats:nvfp4:sqnr_db_gaussian", "doc.md:1: unterminated", "unterminated placeholder"},
        {"see {{figure e01-sqnr \"x\"}} here", "alone on its line", "figure inside a paragraph line"},
        {"x {{if synthetic/e01-formats}}\n{{end}}\n", "alone on its line", "if inside a paragraph line"},
        {"{{if synthetic/e01-formats}}\nx\n", "doc.md:1: {{if}} without its {{end}}", "unterminated if"},
        {"x\n{{end}}\n", "doc.md:2: {{end}} without an open {{if}}", "end without if"},
        {"{{if e99}}\n{{else}}\n{{else}}\n{{end}}\n", "doc.md:3: a second {{else}}", "two else"},
        {"{{if e99 extra}}\n{{end}}\n", "expected: if", "if with two words"},
        {"{{if synthetic/e01-formats}}\n{{synthetic/e01-formats:nvfp5:x}}\n{{end}}\n", "doc.md:2: unknown key",
         "a kept block resolves its references"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        int st = run_child(child_resolve, (void *)cases[i].doc, &err);
        TEST(st == 1 && contains(err, cases[i].want), "hard error (exit 1): %s -> %d, '%s'", cases[i].name, st,
             err ? strtok(err, "\n") : "");
        free(err);
    }
}

// ---- figure data ----

static void test_figdata(void) {
    const char *gp = "# comment\n#% data synthetic/e01-formats\n#% sort bits_per_element\n"
                     "#% col recipe [name, str] scheme\n#% col bits_per_element [bit, f64] storage\n"
                     "#% col sqnr_db@gaussian [dB, f64] SQNR, Gaussian\n#% col maybe [1, f64]\nplot x\n";
    struct figdata_spec s;
    figdata_spec_parse(gp, strlen(gp), "t.gp", &s);
    TEST(s.n_cols == 4 && !s.sort_desc && !strcmp(s.model, "synthetic") && !strcmp(s.cols[2].case_name, "gaussian"),
         "figdata_spec_parse");
    char *tsv = figdata_tsv(&s, g_res, "qwen3-tiny", "t", "t.gp");
    TEST(contains(tsv, "# Column 1: recipe [name, str] scheme\n") &&
             contains(tsv, "# Column 3: sqnr_db@gaussian [dB, f64] SQNR, Gaussian\n") &&
             contains(tsv, "# Column 4: maybe [1, f64]\n") && contains(tsv, "# Input: nvfp4 cache_key=key-nvfp4\n"),
         "figdata header: Maneage-style columns and input cache keys");
    TEST(contains(tsv, "mxfp4\t4.25\t16.5\tNaN\nnvfp4\t4.5\t20.123\tNaN\nbf16\t16\t52.04\tNaN\n"),
         "figdata rows sorted by bits, null as NaN");
    free(tsv);
    figdata_spec_free(&s);
    /* An optional column ("f64?"): NaN where a file lacks the metric ("family" exists only for nvfp4). */
    const char *gp4 = "#% data synthetic/e01-formats\n#% rows bf16 nvfp4\n#% col recipe [name, str] scheme\n"
                      "#% col family [name, str?] family\n";
    figdata_spec_parse(gp4, strlen(gp4), "t4.gp", &s);
    tsv = figdata_tsv(&s, g_res, "qwen3-tiny", "t4", "t4.gp");
    TEST(s.cols[1].optional && !strcmp(s.cols[1].type, "str") && contains(tsv, "bf16\tNaN\nnvfp4\tfp4\n"),
         "figdata optional column: missing metric -> NaN");
    free(tsv);
    figdata_spec_free(&s);

    /* An optional source: rows without a results file are left out; with none left, a header and no row. */
    const char *gp2 = "#% data synthetic/e01-formats optional\n#% rows bf16 nvfp5 nvfp4\n#% col recipe [name, str] r\n"
                      "#% col bits_per_element [bit, f64] b\n";
    figdata_spec_parse(gp2, strlen(gp2), "t2.gp", &s);
    TEST(s.optional == 1 && s.n_rows == 3, "figdata_spec_parse: optional");
    tsv = figdata_tsv(&s, g_res, "qwen3-tiny", "t2", "t2.gp");
    TEST(contains(tsv, "\nbf16\t16\nnvfp4\t4.5\n") && !contains(tsv, "nvfp5") && !contains(tsv, "# No results"),
         "figdata optional: the row without a file is left out");
    free(tsv);
    figdata_spec_free(&s);
    const char *gp3 = "#% data qwen3-tiny-moe/e04-tasks optional\n#% col recipe [name, str] r\n#% col acc [1, f64] a\n";
    figdata_spec_parse(gp3, strlen(gp3), "t3.gp", &s);
    tsv = figdata_tsv(&s, g_res, "qwen3-tiny", "t3", "t3.gp");
    TEST(contains(tsv, "# No results: ") && contains(tsv, "# Column 2: acc [1, f64] a\n") &&
             !strstr(tsv, "\n\n") && strstr(tsv, "# Column 2: acc [1, f64] a\n")[strlen("# Column 2: acc [1, f64] a\n")] == '\0',
         "figdata optional with no results: header only");
    free(tsv);
    figdata_spec_free(&s);
}

// ---- the real notebooks and paper: en and zh agree ----

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The sorted, de-duplicated key set of a file, joined by '\n' (caller frees); NULL on a syntax error. */
static char *key_set(const char *path) {
    size_t len;
    char *text = file_read_all(path, &len);
    char err[512];
    int n;
    char **keys = placeholders_keys(text, len, &n, err, sizeof err);
    free(text);
    if (!keys) {
        printf("  %s: %s\n", path, err);
        return NULL;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_str);
    size_t total = 1;
    for (int i = 0; i < n; i++) total += strlen(keys[i]) + 1;
    char *out = xmalloc(total), *p = out;
    *p = '\0';
    for (int i = 0; i < n; i++) {
        if (i && !strcmp(keys[i], keys[i - 1])) continue;
        p += sprintf(p, "%s\n", keys[i]);
    }
    placeholders_keys_free(keys, n);
    return out;
}

/* Every "figure NAME" key must have its script figures/NAME.gp. */
static void check_figures_exist(const char *keys, const char *path) {
    for (const char *k = strstr(keys, "figure "); k; k = strstr(k + 1, "\nfigure ")) {
        if (*k == '\n') k++;
        char name[128], gp[192];
        sscanf(k + 7, "%127[^\n]", name);
        snprintf(gp, sizeof gp, "figures/%s.gp", name);
        TEST(file_exists(gp), "%s: figure '%s' has %s", path, name, gp);
    }
}

static void compare_pair(const char *en, const char *zh) {
    TEST(file_exists(zh), "%s has its Chinese twin %s", en, zh);
    if (!file_exists(zh)) return;
    char *ke = key_set(en), *kz = key_set(zh);
    TEST(ke && kz && !strcmp(ke, kz), "%s and %s: identical placeholder sets and figure references", en, zh);
    if (ke && kz && strcmp(ke, kz)) printf("  en:\n%s  zh:\n%s", ke, kz);
    if (ke) check_figures_exist(ke, en);
    TEST(ke && strlen(ke) > 0, "%s uses placeholders", en);
    free(ke);
    free(kz);
}

/* Names of the *.md files in dir, sorted; *n gets the count. */
static char **md_files(const char *dir, int *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **list = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".md")) continue;
        list = xrealloc(list, (size_t)(*n + 1) * sizeof *list);
        list[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n > 1) qsort(list, (size_t)*n, sizeof *list, cmp_str);
    return list;
}

/* The variable names assigned in a gnuplot labels file ("name = ..."), sorted and joined. */
static char *label_vars(const char *path) {
    size_t len;
    char *text = file_read_all(path, &len);
    char **vars = NULL;
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        if (line[0] == '#' || sscanf(line, " %63[A-Za-z0-9_] =", name) != 1 || !strchr(line, '=')) continue;
        vars = xrealloc(vars, (size_t)(n + 1) * sizeof *vars);
        vars[n++] = xstrdup(name);
    }
    free(text);
    qsort(vars, (size_t)n, sizeof *vars, cmp_str);
    char *out = xcalloc(1, (size_t)n * 66 + 1);
    for (int i = 0; i < n; i++) {
        strcat(out, vars[i]);
        strcat(out, "\n");
        free(vars[i]);
    }
    free(vars);
    return out;
}

static void test_languages(void) {
    if (!file_exists("notebooks-md/en") || !file_exists("paper/en/paper.md")) {
        TEST(0, "notebooks-md/ and paper/ found (run from the repository root)");
        return;
    }
    int n_en, n_zh;
    char **en = md_files("notebooks-md/en", &n_en), **zh = md_files("notebooks-md/zh", &n_zh);
    TEST(n_en >= 1 && n_en == n_zh, "notebooks: %d in en, %d in zh", n_en, n_zh);
    for (int i = 0; i < n_en; i++) {
        char pe[512], pz[512];
        snprintf(pe, sizeof pe, "notebooks-md/en/%s", en[i]);
        snprintf(pz, sizeof pz, "notebooks-md/zh/%s", en[i]);
        compare_pair(pe, pz);
    }
    results_list_free(en, n_en);
    results_list_free(zh, n_zh);
    compare_pair("paper/en/paper.md", "paper/zh/paper.md");
    char *le = label_vars("figures/labels_en.gp"), *lz = label_vars("figures/labels_zh.gp");
    TEST(strlen(le) > 0 && !strcmp(le, lz), "labels_en.gp and labels_zh.gp define the same variables");
    free(le);
    free(lz);
}

/* Every figure script's "#%" lines parse (in a child: figdata_spec_parse dies on an error). */
static void child_parse_gp(void *arg) {
    size_t len;
    char *text = file_read_all(arg, &len);
    struct figdata_spec s;
    figdata_spec_parse(text, len, arg, &s);
    figdata_spec_free(&s);
    free(text);
}

static void test_figure_specs(void) {
    DIR *d = opendir("figures");
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".gp") || de->d_name[0] != 'e') continue;
        char path[512], *err = NULL;
        snprintf(path, sizeof path, "figures/%s", de->d_name);
        int st = run_child(child_parse_gp, path, &err);
        TEST(st == 0, "%s: figure-data spec parses %s", path, err && *err ? err : "");
        free(err);
    }
    closedir(d);
}

int main(void) {
    check_set_progname("test_report");
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_report.XXXXXX");
    CHECK(mkdtemp(g_tmp), "mkdtemp failed");
    char root[128];
    snprintf(root, sizeof root, "%s/results", g_tmp);
    make_tree();
    g_res = results_open(root);

    test_numfmt();
    test_parse();
    test_table_md();
    test_resolve();
    test_errors();
    test_figdata();
    test_languages();
    test_figure_specs();

    results_free(g_res);
    nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_REPORT();
}
