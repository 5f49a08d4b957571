/* html_page -- the standalone HTML page around a rendered notebook, the paper or the index: UTF-8,
 * <html lang="en"> or <html lang="zh-CN">, embedded CSS (no external requests) with a font stack that has
 * Chinese fonts ("Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei"), navigation to the
 * index and to the same page in the other language (../<other>/<page>), and a small script that, on load,
 * records on <html> how many images there are and how many decoded (data-img-total, data-img-loaded,
 * data-img-state="ok"|"broken"): tools/check-report.sh reads these back from headless Chromium. */
#ifndef SRC_REPORT_HTML_PAGE_H
#define SRC_REPORT_HTML_PAGE_H

#ifdef __cplusplus
extern "C" {
#endif

struct html_page {
    const char *lang;      /* "en" | "zh" */
    const char *title;     /* plain text, escaped here */
    const char *body_html; /* the rendered fragment, inserted as is */
    const char *file_name; /* the page's own file name ("01-formats.html"), for the other-language link */
    int is_index;          /* 1: no "back to index" link */
};

/* Returns the whole page (caller frees). */
char *html_page_build(const struct html_page *pg);

#ifdef __cplusplus
}
#endif
#endif
