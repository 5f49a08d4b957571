/* strbuf -- a growable NUL-terminated byte string, the way every report output (Markdown, HTML, TSV) is
 * built before one atomic write. The buffer is always NUL-terminated once anything was added; a zeroed
 * struct strbuf is an empty, valid buffer. Allocation failures die (xrealloc). */
#ifndef SRC_CORE_STRBUF_H
#define SRC_CORE_STRBUF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct strbuf {
    char *s;    /* NULL until the first append */
    size_t len; /* bytes, without the NUL */
    size_t cap;
};

/* Appends n bytes of s (which may hold NULs). */
void strbuf_add(struct strbuf *b, const char *s, size_t n);

/* Appends a NUL-terminated string. */
void strbuf_puts(struct strbuf *b, const char *s);

/* Appends c n times. */
void strbuf_pad(struct strbuf *b, size_t n, char c);

/* Appends printf-formatted text. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s with HTML's five special characters escaped (& < > " '). */
void strbuf_html(struct strbuf *b, const char *s);

/* Hands the string to the caller (never NULL: "" when empty) and resets b. */
char *strbuf_take(struct strbuf *b);

/* Frees the buffer and resets b. */
void strbuf_free(struct strbuf *b);

#ifdef __cplusplus
}
#endif
#endif
