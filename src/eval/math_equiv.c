/* math_equiv -- lm-eval's MATH answer normalisation, ported (see math_equiv.h). Each static function is the
 * Python function of the same name; "raise" is returning NULL. */
#include "eval/math_equiv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/pystr.h"

/* Replaces s by s.replace(from, to) (s owned). */
static char *repl(char *s, const char *from, const char *to) {
    char *t = pystr_replace(s, from, to);
    free(s);
    return t;
}

static int count_occ(const char *s, const char *pat) {
    int k = 0;
    size_t n = strlen(pat);
    for (const char *p = strstr(s, pat); p; p = strstr(p + n, pat)) k++;
    return k;
}

/* remove_right_units: "\text{ " must occur at most once (assert); the text before it is kept. */
static char *remove_right_units(char *s) {
    if (!strstr(s, "\\text{ ")) return s;
    if (count_occ(s, "\\text{ ") != 1) { free(s); return NULL; }
    *strstr(s, "\\text{ ") = 0;
    return s;
}

/* fix_sqrt: "\sqrt3" -> "\sqrt{3}"; a "\sqrt" followed by nothing raises (split[0] of ""). */
static char *fix_sqrt(char *s) {
    if (!strstr(s, "\\sqrt")) return s;
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1), *o = out;
    const char *p = s, *q = strstr(p, "\\sqrt");
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    p = q + 5;
    for (;;) {
        const char *nx = strstr(p, "\\sqrt");
        size_t len = nx ? (size_t)(nx - p) : strlen(p);
        if (len == 0) { free(out); free(s); return NULL; }
        /* split[0] is one code point in Python; a multi-byte character stays whole. */
        size_t cl = 1;
        while (cl < len && ((unsigned char)p[cl] & 0xC0) == 0x80) cl++;
        if (p[0] != '{') {
            memcpy(o, "\\sqrt{", 6); o += 6;
            memcpy(o, p, cl); o += cl;
            *o++ = '}';
            memcpy(o, p + cl, len - cl); o += len - cl;
        } else {
            memcpy(o, "\\sqrt", 5); o += 5;
            memcpy(o, p, len); o += len;
        }
        if (!nx) break;
        p = nx + 5;
    }
    *o = 0;
    free(s);
    return out;
}

/* Length in bytes of the code point at p (UTF-8 lead byte; a bad byte counts alone). */
static size_t cp_len(const char *p) {
    unsigned char c = (unsigned char)*p;
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    for (size_t i = 1; i < k; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) return 1;
    return k;
}

/* fix_fracs: "\frac12" -> "\frac{1}{2}", "\frac1{72}" -> "\frac{1}{72}"; a substring of fewer than two
 * characters returns the input unchanged; an empty one raises (substr[0]). */
static char *fix_fracs(char *s) {
    const char *q = strstr(s, "\\frac");
    if (!q) return s;
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 16), *o = out;
    memcpy(o, s, (size_t)(q - s));
    o += q - s;
    const char *p = q + 5;
    for (;;) {
        const char *nx = strstr(p, "\\frac");
        size_t len = nx ? (size_t)(nx - p) : strlen(p);
        memcpy(o, "\\frac", 5); o += 5;
        if (len == 0) { free(out); free(s); return NULL; }
        if (p[0] == '{') {
            memcpy(o, p, len); o += len;
        } else {
            size_t la = cp_len(p);
            if (la >= len) { free(out); return s; } /* len(substr) < 2: return string */
            size_t lb = cp_len(p + la);
            if (p[la] != '{') {
                *o++ = '{'; memcpy(o, p, la); o += la; *o++ = '}';
                *o++ = '{'; memcpy(o, p + la, lb); o += lb; *o++ = '}';
                memcpy(o, p + la + lb, len - la - lb); o += len - la - lb;
            } else {
                *o++ = '{'; memcpy(o, p, la); o += la; *o++ = '}';
                memcpy(o, p + la, len - la); o += len - la;
            }
        }
        if (!nx) break;
        p = nx + 5;
    }
    *o = 0;
    free(s);
    return out;
}

/* Python int(s) for ASCII input: surrounding whitespace, an optional sign, digits with single "_" between
 * digits. Writes str(int(s)) into canon (room for strlen(s) + 2). Returns 0 where int() raises ValueError. */
static int py_int(const char *s, char *canon) {
    char *t = pystr_strip(s);
    const char *p = t;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    char *d = xmalloc(strlen(p) + 1);
    size_t nd = 0;
    int ok = *p >= '0' && *p <= '9';
    for (; ok && *p; p++) {
        if (*p >= '0' && *p <= '9') d[nd++] = *p;
        else if (*p == '_' && p[1] >= '0' && p[1] <= '9' && p[-1] != '_') continue;
        else ok = 0;
    }
    if (ok) {
        size_t z = 0;
        while (z + 1 < nd && d[z] == '0') z++;
        int zero = nd - z == 1 && d[z] == '0';
        char *c = canon;
        if (neg && !zero) *c++ = '-';
        memcpy(c, d + z, nd - z);
        c[nd - z] = 0;
    }
    free(d);
    free(t);
    return ok;
}

/* fix_a_slash_b: exactly one "/" between two canonical integers -> "\frac{a}{b}"; non-integers raise. */
static char *fix_a_slash_b(char *s) {
    char *slash = strchr(s, '/');
    if (!slash || strchr(slash + 1, '/')) return s;
    size_t n = strlen(s);
    char *a = pystr_ndup(s, (size_t)(slash - s)), *ca = xmalloc(n + 3), *cb = xmalloc(n + 3);
    int ok = py_int(a, ca) && py_int(slash + 1, cb);
    free(a);
    if (!ok) { free(ca); free(cb); free(s); return NULL; } /* ValueError: not caught in fix_a_slash_b */
    char *canon = pystr_cat(ca, "/", cb, (char *)NULL);
    char *res = s;
    if (!strcmp(canon, s)) { res = pystr_cat("\\frac{", ca, "}{", cb, "}", (char *)NULL); free(s); }
    free(canon);
    free(ca);
    free(cb);
    return res;
}

char *math_equiv_strip(const char *in) {
    char *s = xstrdup(in);
    s = repl(s, "\n", "");                 /* linebreaks */
    s = repl(s, "\\!", "");                /* inverse spaces */
    s = repl(s, "\\\\", "\\");             /* \\ -> \ */
    s = repl(s, "tfrac", "frac");
    s = repl(s, "dfrac", "frac");
    s = repl(s, "\\left", "");
    s = repl(s, "\\right", "");
    s = repl(s, "^{\\circ}", "");
    s = repl(s, "^\\circ", "");
    s = repl(s, "\\$", "");
    if (!(s = remove_right_units(s))) return NULL;
    s = repl(s, "\\%", "");                /* both "\\%" and "\%" in the Python source are these two bytes */
    s = repl(s, " .", " 0.");
    s = repl(s, "{.", "{0.");
    if (!s[0]) return s;
    if (s[0] == '.') { char *t = pystr_cat("0", s, (char *)NULL); free(s); s = t; }
    /* "k = 3" -> "3" when there is exactly one "=" and at most two characters before it */
    char *eq = strchr(s, '=');
    if (eq && !strchr(eq + 1, '=')) {
        char *lhs = pystr_ndup(s, (size_t)(eq - s));
        int short_lhs = pystr_len(lhs) <= 2;
        free(lhs);
        if (short_lhs) { char *t = xstrdup(eq + 1); free(s); s = t; }
    }
    if (!(s = fix_sqrt(s))) return NULL;
    s = repl(s, " ", "");
    if (!(s = fix_fracs(s))) return NULL;
    if (!strcmp(s, "0.5")) { free(s); s = xstrdup("\\frac{1}{2}"); }
    return fix_a_slash_b(s);
}

int math_equiv_is_equiv(const char *a, const char *b) {
    char *sa = math_equiv_strip(a), *sb = sa ? math_equiv_strip(b) : NULL;
    int eq = sa && sb ? !strcmp(sa, sb) : !strcmp(a, b);
    free(sa);
    free(sb);
    return eq;
}

char *math_equiv_last_boxed(const char *s) {
    const char *sp = strstr(s, "\\boxed ");
    if (sp) {
        /* "\\boxed " + string.split("\\boxed ")[-1].split("$")[0] */
        const char *last = sp;
        for (const char *q = sp; q; q = strstr(q + 1, "\\boxed ")) last = q;
        const char *tail = last + 7, *dol = strchr(tail, '$');
        char *t = pystr_ndup(tail, dol ? (size_t)(dol - tail) : strlen(tail));
        char *r = pystr_cat("\\boxed ", t, (char *)NULL);
        free(t);
        return r;
    }
    const char *idx = NULL;
    for (const char *q = strstr(s, "\\boxed"); q; q = strstr(q + 1, "\\boxed")) idx = q;
    if (!idx)
        for (const char *q = strstr(s, "\\fbox"); q; q = strstr(q + 1, "\\fbox")) idx = q;
    if (!idx) return NULL;
    int open = 0;
    for (const char *p = idx; *p; p++) {
        if (*p == '{') open++;
        if (*p == '}') {
            open--;
            if (open == 0) return pystr_ndup(idx, (size_t)(p + 1 - idx));
        }
    }
    return NULL;
}

char *math_equiv_remove_boxed(const char *s) {
    if (!s) return NULL;
    if (strstr(s, "\\boxed ")) {
        if (strncmp(s, "\\boxed ", 7)) return NULL;
        return xstrdup(s + 7);
    }
    size_t n = strlen(s);
    if (strncmp(s, "\\boxed{", 7) || n < 8 || s[n - 1] != '}') return NULL;
    return pystr_ndup(s + 7, n - 8);
}

char *math_equiv_dollar_answer(const char *out) {
    const char *first = strchr(out, '$'), *last = strrchr(out, '$');
    if (!first || first == last) return xstrdup(out);
    return pystr_ndup(first + 1, (size_t)(last - first - 1));
}

/* ---- the numeric layer ---- */

/* Parses a plain number at *p: [-]digits[.digits] or [-].digits, thousands commas "1,234,567" allowed.
 * Advances *p; returns 0 when no number starts there. */
static int parse_plain(const char **p, double *v) {
    const char *s = *p;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    char buf[128];
    size_t n = 0;
    const char *start = s;
    while (*s >= '0' && *s <= '9' && n < 100) {
        buf[n++] = *s++;
        /* a comma followed by exactly three digits continues the integer part */
        if (*s == ',' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' &&
            s[3] <= '9' && !(s[4] >= '0' && s[4] <= '9'))
            s++;
    }
    if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
        buf[n++] = *s++;
        while (*s >= '0' && *s <= '9' && n < 120) buf[n++] = *s++;
    }
    if (s == start || n == 0) return 0;
    buf[n] = 0;
    *v = (neg ? -1 : 1) * strtod(buf, NULL);
    *p = s;
    return 1;
}

static int parse_value(const char **p, double *v);

/* "{" value "}" */
static int parse_braced(const char **p, double *v) {
    const char *s = *p;
    if (*s != '{') return 0;
    s++;
    if (!parse_value(&s, v) || *s != '}') return 0;
    *p = s + 1;
    return 1;
}

/* One term: [-] ( \frac{x}{y} | [k]\sqrt{n} | plain ). */
static int parse_term(const char **p, double *v) {
    const char *s = *p;
    double sign = 1, k = 1, x, y;
    if (*s == '-' && (!strncmp(s + 1, "\\frac", 5) || !strncmp(s + 1, "\\sqrt", 5))) { sign = -1; s++; }
    if (!strncmp(s, "\\frac", 5)) {
        s += 5;
        if (!parse_braced(&s, &x) || !parse_braced(&s, &y) || y == 0) return 0;
        *v = sign * x / y;
        *p = s;
        return 1;
    }
    int has_k = 0;
    if (strncmp(s, "\\sqrt", 5)) {
        if (!parse_plain(&s, &k)) return 0;
        has_k = 1;
    }
    if (!strncmp(s, "\\sqrt", 5)) {
        s += 5;
        if (!parse_braced(&s, &x) || x < 0) return 0;
        *v = sign * k * sqrt(x);
    } else {
        if (!has_k) return 0;
        *v = sign * k;
    }
    *p = s;
    return 1;
}

/* value := term [ "/" term ]  */
static int parse_value(const char **p, double *v) {
    const char *s = *p;
    double a, b;
    if (!parse_term(&s, &a)) return 0;
    if (*s == '/') {
        s++;
        if (!parse_term(&s, &b) || b == 0) return 0;
        a /= b;
    }
    *v = a;
    *p = s;
    return 1;
}

static int parse_number(const char *in, double *v) {
    char *t = pystr_replace(in, " ", "");
    size_t n = strlen(t);
    if (n && t[n - 1] == '%') t[--n] = 0;                      /* a plain percent sign */
    const char *s = t;
    int ok = parse_value(&s, v) && *s == 0 && isfinite(*v);
    free(t);
    return ok;
}

int math_equiv_numeric(const char *a, const char *b) {
    char *sa = math_equiv_strip(a), *sb = math_equiv_strip(b);
    double x, y;
    int eq = sa && sb && parse_number(sa, &x) && parse_number(sb, &y);
    /* Tolerance: answers are exact small rationals or radicals, so two correct forms agree to double rounding
     * (~1e-16 relative); 1e-9 is far above that and far below any two distinct answers of MATH (given to at
     * most ~8 significant digits). */
    if (eq) eq = fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
    free(sa);
    free(sb);
    return eq;
}
