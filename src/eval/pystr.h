/* pystr -- the few Python str operations that lm-evaluation-harness's task definitions apply, on UTF-8 bytes:
 * str.strip / rstrip (Python's whitespace set: str.isspace, i.e. Unicode White_Space plus U+001C..U+001F),
 * str.capitalize (first code point to title case, the rest to lower case: utf8proc's simple case mappings,
 * so the rare full mappings such as "ß" -> "Ss" are not applied; no task text here has one), len() in code
 * points, str.replace, and string concatenation. Every function returns a fresh NUL-terminated string the
 * caller frees; input that is not valid UTF-8 is treated byte by byte (each bad byte one code point).
 * API: pystr_isspace / pystr_strip / pystr_rstrip_len / pystr_capitalize / pystr_len / pystr_replace /
 *      pystr_cat / pystr_ndup. */
#ifndef SRC_EVAL_PYSTR_H
#define SRC_EVAL_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when code point c is whitespace for Python's str.isspace(). */
int pystr_isspace(int32_t c);

/* s.strip(): a fresh copy without leading and trailing whitespace. */
char *pystr_strip(const char *s);

/* The byte length of s.rstrip() (s's first n bytes). */
size_t pystr_rstrip_len(const char *s, size_t n);

/* s.capitalize(). */
char *pystr_capitalize(const char *s);

/* len(s) in code points. */
int64_t pystr_len(const char *s);

/* s.replace(from, to) (every non-overlapping occurrence, left to right; from non-empty). */
char *pystr_replace(const char *s, const char *from, const char *to);

/* The concatenation of the NULL-terminated list of strings. */
char *pystr_cat(const char *first, ...);

/* A fresh copy of the first n bytes of s. */
char *pystr_ndup(const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
