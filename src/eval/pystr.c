/* pystr -- Python str operations on UTF-8 (see pystr.h). */
#include "eval/pystr.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/check.h"

int pystr_isspace(int32_t c) {
    /* CPython's _Py_ascii_whitespace and the Unicode White_Space / bidi whitespace it adds (Objects/unicodetype_db.h
     * _PyUnicode_IsWhitespace): the full list. */
    switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return 1;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* Decodes one code point at s[i] (n bytes in all); a bad byte is read as itself (one byte). */
static int32_t next_cp(const char *s, size_t n, size_t i, size_t *len) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
    if (k <= 0) { *len = 1; return (unsigned char)s[i]; }
    *len = (size_t)k;
    return c;
}

char *pystr_ndup(const char *s, size_t n) {
    char *o = xmalloc(n + 1);
    memcpy(o, s, n);
    o[n] = 0;
    return o;
}

size_t pystr_rstrip_len(const char *s, size_t n) {
    /* Walk forward (UTF-8 cannot be decoded backwards safely for bad bytes) and keep the end of the last
     * non-space code point. */
    size_t i = 0, end = 0, len;
    while (i < n) {
        int32_t c = next_cp(s, n, i, &len);
        i += len;
        if (!pystr_isspace(c)) end = i;
    }
    return end;
}

char *pystr_strip(const char *s) {
    size_t n = strlen(s), i = 0, len;
    while (i < n) {
        int32_t c = next_cp(s, n, i, &len);
        if (!pystr_isspace(c)) break;
        i += len;
    }
    size_t end = i + pystr_rstrip_len(s + i, n - i);
    return pystr_ndup(s + i, end - i);
}

int64_t pystr_len(const char *s) {
    size_t n = strlen(s), i = 0, len;
    int64_t k = 0;
    while (i < n) { next_cp(s, n, i, &len); i += len; k++; }
    return k;
}

char *pystr_capitalize(const char *s) {
    size_t n = strlen(s), i = 0, len, o = 0;
    char *out = xmalloc(4 * n + 1); /* a simple case mapping never needs more than 4 bytes per code point */
    int first = 1;
    while (i < n) {
        int32_t c = next_cp(s, n, i, &len);
        int valid = utf8proc_codepoint_valid(c) && !(len == 1 && (unsigned char)s[i] >= 0x80);
        if (valid) {
            int32_t m = first ? utf8proc_totitle(c) : utf8proc_tolower(c);
            o += (size_t)utf8proc_encode_char(m, (utf8proc_uint8_t *)out + o);
        } else {
            memcpy(out + o, s + i, len);
            o += len;
        }
        first = 0;
        i += len;
    }
    out[o] = 0;
    return out;
}

char *pystr_replace(const char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to), n = strlen(s), k = 0;
    CHECK(nf > 0, "replace with an empty pattern");
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from)) k++;
    char *out = xmalloc(n + k * nt + 1), *o = out;
    const char *p = s, *q;
    while ((q = strstr(p, from))) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
        p = q + nf;
    }
    strcpy(o, p);
    return out;
}

char *pystr_cat(const char *first, ...) {
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) n += strlen(a);
    va_end(ap);
    char *out = xmalloc(n + 1), *o = out;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) { size_t k = strlen(a); memcpy(o, a, k); o += k; }
    va_end(ap);
    *o = 0;
    return out;
}
