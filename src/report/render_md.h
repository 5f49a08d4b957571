/* render_md -- Markdown to HTML with cmark-gfm (GitHub-flavoured: tables, strikethrough, autolinks).
 * Plain cmark has no tables; the "table" extension of libcmark-gfm-extensions is attached explicitly
 * (cmark_gfm_core_extensions_ensure_registered, cmark_find_syntax_extension, cmark_parser_attach_syntax_extension).
 * Raw HTML passes through (CMARK_OPT_UNSAFE): the sources are the project's own notebooks, and figures
 * are emitted as <figure> blocks. Output is deterministic for a given input and library version. */
#ifndef SRC_REPORT_RENDER_MD_H
#define SRC_REPORT_RENDER_MD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Renders len bytes of Markdown to an HTML fragment (no <html>/<body>); caller frees. Dies if a GFM
 * extension is missing from the installed library. */
char *render_md_html(const char *md, size_t len);

/* The plain text of the first level-1 heading ("# Title"), or NULL if there is none; caller frees. */
char *render_md_title(const char *md, size_t len);

#ifdef __cplusplus
}
#endif
#endif
