/* index_page -- see index_page.h. */
#include "report/index_page.h"

#include "core/check.h"
#include "report/i18n.h"
#include "core/strbuf.h"

/* One <ul> group; returns nothing when the group is empty so the page has no empty headings. */
static void add_group(struct strbuf *b, const char *lang, enum i18n_key heading, const struct index_entry *e,
                      int n, int want_paper) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= e[i].is_paper == want_paper;
    if (!any) return;
    strbuf_printf(b, "<h2>%s</h2>\n<ul>\n", i18n_str(lang, heading));
    for (int i = 0; i < n; i++) {
        if (e[i].is_paper != want_paper) continue;
        strbuf_puts(b, "<li><a href=\"");
        strbuf_html(b, e[i].href);
        strbuf_puts(b, "\">");
        strbuf_html(b, e[i].title);
        strbuf_puts(b, "</a></li>\n");
    }
    strbuf_puts(b, "</ul>\n");
}

char *index_page_body(const char *lang, const struct index_entry *entries, int n) {
    CHECK(i18n_lang_ok(lang) && n >= 0, "index_page_body: bad arguments");
    struct strbuf b = {0};
    strbuf_puts(&b, "<h1>");
    strbuf_html(&b, i18n_str(lang, I18N_INDEX_TITLE));
    strbuf_puts(&b, "</h1>\n<p>");
    strbuf_html(&b, i18n_str(lang, I18N_INDEX_INTRO));
    strbuf_puts(&b, "</p>\n");
    add_group(&b, lang, I18N_NOTEBOOKS, entries, n, 0);
    add_group(&b, lang, I18N_PAPER, entries, n, 1);
    return strbuf_take(&b);
}
