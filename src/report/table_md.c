/* table_md -- see table_md.h. */
#include "report/table_md.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/check.h"
#include "core/strbuf.h"

size_t table_md_width(const char *s) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t w = 0;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k <= 0) {
            w++;
            p++;
            continue;
        }
        int cw = utf8proc_charwidth(cp);
        w += cw > 0 ? (size_t)cw : 0;
        p += k;
    }
    return w;
}

/* Escapes one cell: a bare '|' would end the cell early, and a newline would end the table. */
static char *escape_cell(const char *s) {
    struct strbuf b = {0};
    for (const char *p = s; *p; p++) {
        if (*p == '|') strbuf_puts(&b, "\\|");
        else if (*p == '\n' || *p == '\r') strbuf_puts(&b, " ");
        else strbuf_add(&b, p, 1);
    }
    return strbuf_take(&b);
}

static void add_cell(struct strbuf *b, const char *text, size_t width, char align) {
    size_t w = table_md_width(text);
    size_t pad = width > w ? width - w : 0;
    strbuf_puts(b, " ");
    if (align == 'r') strbuf_pad(b, pad, ' ');
    else if (align == 'c') strbuf_pad(b, pad / 2, ' ');
    strbuf_puts(b, text);
    if (align == 'l') strbuf_pad(b, pad, ' ');
    else if (align == 'c') strbuf_pad(b, pad - pad / 2, ' ');
    strbuf_puts(b, " |");
}

char *table_md_render(int n_cols, int n_rows, const char *const *header, const char *const *cells,
                      const char *align) {
    CHECK(n_cols >= 1 && n_rows >= 0, "table_md_render: %d cols, %d rows", n_cols, n_rows);
    /* Escape everything first: column widths are measured on what is printed. */
    int n_all = (n_rows + 1) * n_cols;
    char **esc = xmalloc((size_t)n_all * sizeof *esc);
    for (int c = 0; c < n_cols; c++) esc[c] = escape_cell(header[c]);
    for (int i = 0; i < n_rows * n_cols; i++) esc[n_cols + i] = escape_cell(cells[i]);
    size_t *width = xcalloc((size_t)n_cols, sizeof *width);
    for (int i = 0; i < n_all; i++) {
        size_t w = table_md_width(esc[i]);
        if (w > width[i % n_cols]) width[i % n_cols] = w;
    }
    /* The delimiter row needs at least three characters ("---", ":--", "--:", ":-:"). */
    for (int c = 0; c < n_cols; c++)
        if (width[c] < 3) width[c] = 3;

    struct strbuf b = {0};
    strbuf_puts(&b, "|");
    for (int c = 0; c < n_cols; c++) add_cell(&b, esc[c], width[c], align ? align[c] : 'l');
    strbuf_puts(&b, "\n|");
    for (int c = 0; c < n_cols; c++) {
        char a = align ? align[c] : 'l';
        CHECK(a == 'l' || a == 'r' || a == 'c', "table_md_render: alignment '%c' of column %d", a, c);
        strbuf_puts(&b, a == 'c' ? " :" : " ");
        strbuf_pad(&b, width[c] - (a == 'l' ? 0 : (a == 'c' ? 2 : 1)), '-');
        strbuf_puts(&b, a == 'l' ? " |" : ": |");
    }
    strbuf_puts(&b, "\n");
    for (int r = 0; r < n_rows; r++) {
        strbuf_puts(&b, "|");
        for (int c = 0; c < n_cols; c++)
            add_cell(&b, esc[(r + 1) * n_cols + c], width[c], align ? align[c] : 'l');
        strbuf_puts(&b, "\n");
    }
    for (int i = 0; i < n_all; i++) free(esc[i]);
    free(esc);
    free(width);
    return strbuf_take(&b);
}
