/* table_md -- GitHub-flavoured Markdown tables (the cmark-gfm "table" extension's syntax).
 * A table is a header row plus n_rows rows of n_cols cells, all strings; alignment per column is 'l', 'r'
 * or 'c'. Cells are escaped ('|' becomes "\|", line breaks become spaces) and padded to a common display
 * width, counting East Asian wide characters as two columns (utf8proc), so the resolved Markdown stays
 * readable as plain text in both languages. */
#ifndef SRC_REPORT_TABLE_MD_H
#define SRC_REPORT_TABLE_MD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Renders a table: header[n_cols], cells[n_rows * n_cols] row-major, align[n_cols] (NULL: all 'l').
 * Returns a fresh NUL-terminated string ending in '\n' (caller frees). n_cols >= 1, n_rows >= 0. */
char *table_md_render(int n_cols, int n_rows, const char *const *header, const char *const *cells,
                      const char *align);

/* Display width of a UTF-8 string in terminal columns (wide CJK = 2); invalid bytes count 1 each. */
size_t table_md_width(const char *s);

#ifdef __cplusplus
}
#endif
#endif
