/* index_page -- the body of build/report/<lang>/index.html: the notebooks in file-name order, then the
 * paper, each a link to its page with the page's title (its first "# " heading). The surrounding page
 * comes from html_page; the strings from i18n. */
#ifndef SRC_REPORT_INDEX_PAGE_H
#define SRC_REPORT_INDEX_PAGE_H

#ifdef __cplusplus
extern "C" {
#endif

struct index_entry {
    const char *href;  /* "01-formats.html" */
    const char *title; /* plain text */
    int is_paper;      /* 1: listed under the paper heading */
};

/* Returns the HTML fragment (caller frees). Entries keep their given order within each group. */
char *index_page_body(const char *lang, const struct index_entry *entries, int n);

#ifdef __cplusplus
}
#endif
#endif
