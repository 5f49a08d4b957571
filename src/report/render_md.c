/* render_md -- see render_md.h. */
#include "report/render_md.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/strbuf.h"

#define RENDER_MD_OPTIONS (CMARK_OPT_UNSAFE | CMARK_OPT_VALIDATE_UTF8)

/* Parses md with the GFM extensions attached; the caller frees the parser (which owns the extension list)
 * after rendering, since cmark_render_html needs that list. */
static cmark_node *parse(const char *md, size_t len, cmark_parser **parser_out) {
    static const char *const ext_names[] = {"table", "strikethrough", "autolink"};
    cmark_gfm_core_extensions_ensure_registered();
    cmark_parser *parser = cmark_parser_new(RENDER_MD_OPTIONS);
    CHECK(parser, "cmark_parser_new failed");
    for (size_t i = 0; i < sizeof ext_names / sizeof ext_names[0]; i++) {
        cmark_syntax_extension *ext = cmark_find_syntax_extension(ext_names[i]);
        if (!ext) die("cmark-gfm: extension '%s' not found (hint: install libcmark-gfm-extensions-dev)", ext_names[i]);
        cmark_parser_attach_syntax_extension(parser, ext);
    }
    cmark_parser_feed(parser, md, len);
    cmark_node *doc = cmark_parser_finish(parser);
    CHECK(doc, "cmark_parser_finish failed");
    *parser_out = parser;
    return doc;
}

char *render_md_html(const char *md, size_t len) {
    cmark_parser *parser;
    cmark_node *doc = parse(md, len, &parser);
    char *html = cmark_render_html(doc, RENDER_MD_OPTIONS, cmark_parser_get_syntax_extensions(parser));
    CHECK(html, "cmark_render_html failed");
    char *out = xstrdup(html);
    /* cmark allocates with its default allocator (malloc); free explicitly to stay allocator-agnostic. */
    cmark_get_default_mem_allocator()->free(html);
    cmark_node_free(doc);
    cmark_parser_free(parser);
    return out;
}

char *render_md_title(const char *md, size_t len) {
    cmark_parser *parser;
    cmark_node *doc = parse(md, len, &parser);
    char *title = NULL;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while (!title && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_HEADING ||
            cmark_node_get_heading_level(n) != 1)
            continue;
        /* The heading's text: the literals of its text and code descendants, in order. */
        struct strbuf b = {0};
        strbuf_puts(&b, "");
        cmark_iter *sub = cmark_iter_new(n);
        cmark_event_type sev;
        while ((sev = cmark_iter_next(sub)) != CMARK_EVENT_DONE) {
            cmark_node *s = cmark_iter_get_node(sub);
            cmark_node_type t = cmark_node_get_type(s);
            if (sev == CMARK_EVENT_ENTER && (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE))
                strbuf_puts(&b, cmark_node_get_literal(s));
            else if (sev == CMARK_EVENT_ENTER && (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK))
                strbuf_puts(&b, " ");
        }
        cmark_iter_free(sub);
        title = strbuf_take(&b);
    }
    cmark_iter_free(it);
    cmark_node_free(doc);
    cmark_parser_free(parser);
    return title;
}
