/* numfmt -- see numfmt.h. */
#include "report/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

struct numfmt numfmt_default(void) {
    struct numfmt f = {NUMFMT_SIG, 3};
    return f;
}

int numfmt_parse(const char *spec, struct numfmt *out) {
    if (!spec || !*spec) {
        *out = numfmt_default();
        return 0;
    }
    if (strcmp(spec, "pct") == 0) {
        out->kind = NUMFMT_PCT;
        out->digits = 3;
        return 0;
    }
    if (strcmp(spec, "int") == 0) {
        out->kind = NUMFMT_INT;
        out->digits = 0;
        return 0;
    }
    /* sigN with N in 1..9, fixN with N in 0..9: exactly one digit, so "sig10" and "sig03" are rejected. */
    enum numfmt_kind kind;
    if (strncmp(spec, "sig", 3) == 0) kind = NUMFMT_SIG;
    else if (strncmp(spec, "fix", 3) == 0) kind = NUMFMT_FIX;
    else return -1;
    const char *d = spec + 3;
    if (d[0] < '0' || d[0] > '9' || d[1] != '\0') return -1;
    if (kind == NUMFMT_SIG && d[0] == '0') return -1;
    out->kind = kind;
    out->digits = d[0] - '0';
    return 0;
}

void numfmt_spec(struct numfmt f, char *buf, size_t n) {
    switch (f.kind) {
    case NUMFMT_SIG: snprintf(buf, n, "sig%d", f.digits); break;
    case NUMFMT_FIX: snprintf(buf, n, "fix%d", f.digits); break;
    case NUMFMT_PCT: snprintf(buf, n, "pct"); break;
    case NUMFMT_INT: snprintf(buf, n, "int"); break;
    }
}

/* A printed number that is all zeros ("-0", "-0.00") loses its sign: a reader should not see a negative
 * zero that only says "a tiny negative value rounded away". */
static void drop_negative_zero(char *buf) {
    if (buf[0] != '-') return;
    for (const char *p = buf + 1; *p; p++)
        if (*p != '0' && *p != '.') return;
    memmove(buf, buf + 1, strlen(buf));
}

/* Significant-digit formatting. printf("%.*e") rounds first, so its exponent already accounts for a carry
 * (9.996 -> "1.00e+01"); the fixed form then uses exactly sig-1-exp decimals, which rounds at the same
 * digit and so prints the same sig digits ("10.0"). */
static void format_sig(double v, int sig, char *buf, size_t n) {
    char e[NUMFMT_MAX];
    snprintf(e, sizeof e, "%.*e", sig - 1, v);
    const char *epos = strchr(e, 'e');
    CHECK(epos, "printf %%e produced no exponent: %s", e);
    int exp10 = atoi(epos + 1);
    if (v != 0.0 && (exp10 < -3 || exp10 >= 6)) {
        /* Scientific: mantissa as printed, exponent without '+' and leading zeros ("1.23e-4"). */
        snprintf(buf, n, "%.*se%d", (int)(epos - e), e, exp10);
        return;
    }
    int decimals = sig - 1 - exp10;
    if (decimals < 0) decimals = 0;
    snprintf(buf, n, "%.*f", decimals, v);
}

char *numfmt_format(double v, struct numfmt f, char *buf, size_t n) {
    CHECK(n >= NUMFMT_MAX, "numfmt buffer too small: %zu", n);
    if (isnan(v)) {
        snprintf(buf, n, "\xe2\x80\x94"); /* U+2014 em dash: the value is null / not measured */
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "\xe2\x88\x9e" : "-\xe2\x88\x9e"); /* U+221E */
        return buf;
    }
    switch (f.kind) {
    case NUMFMT_SIG: format_sig(v, f.digits, buf, n); break;
    case NUMFMT_PCT: format_sig(v * 100.0, f.digits, buf, n); break;
    case NUMFMT_FIX: snprintf(buf, n, "%.*f", f.digits, v); break;
    case NUMFMT_INT:
        /* Beyond 1e18 "%.0f" still prints every digit, which no report wants: fall back to sig 3. */
        if (fabs(v) >= 1e18) format_sig(v, 3, buf, n);
        else snprintf(buf, n, "%.0f", v);
        break;
    }
    drop_negative_zero(buf);
    return buf;
}
