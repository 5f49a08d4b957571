/* numfmt -- the one number formatter of every report, in every language.
 * A format is a short spec: "sigN" (N significant digits, 1..9; the default is sig3), "fixN" (N decimals,
 * 0..9), "pct" (the value times 100, three significant digits, no % sign: the prose writes it) or "int"
 * (rounded to an integer). Rounding is printf's, i.e. to nearest on the binary value, ties to even.
 * sig and pct switch to "1.23e-4" style when |v| < 1e-3 or |v| >= 1e6 after rounding; the digits never
 * depend on the locale (only '.' and '-'). NaN (a JSON null) prints as an em dash, +-inf as "∞" / "-∞". */
#ifndef SRC_REPORT_NUMFMT_H
#define SRC_REPORT_NUMFMT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum numfmt_kind { NUMFMT_SIG, NUMFMT_FIX, NUMFMT_PCT, NUMFMT_INT };

struct numfmt {
    enum numfmt_kind kind;
    int digits; /* significant digits (SIG, PCT) or decimals (FIX); unused for INT */
};

/* Longest string numfmt_format can produce, including the NUL ("-1.23456789e-308" and the like). */
#define NUMFMT_MAX 48

/* The default format: three significant digits. */
struct numfmt numfmt_default(void);

/* Parses a spec ("sig3", "fix2", "pct", "int") into *out. Returns 0, or -1 for anything else (out is then
 * left unchanged). An empty string or NULL gives the default. */
int numfmt_parse(const char *spec, struct numfmt *out);

/* Writes the canonical spec of f ("sig3", ...) into buf (at least 8 bytes). */
void numfmt_spec(struct numfmt f, char *buf, size_t n);

/* Formats v with f into buf (n >= NUMFMT_MAX), NUL-terminated; returns buf. Negative zero and values that
 * round to zero print without a sign. */
char *numfmt_format(double v, struct numfmt f, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
