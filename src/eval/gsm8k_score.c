/* gsm8k_score -- the gsm8k filters and exact match (see gsm8k_score.h). */
#include "eval/gsm8k_score.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/pystr.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int in_strict(char c) { return is_digit(c) || c == '.' || c == ','; }       /* [0-9\.\,] */
static int in_flex(char c) { return is_digit(c) || c == '$' || c == '.' || c == ','; } /* [$0-9.,] */

/* Python's .strip() of the extracted group (the groups hold no whitespace, but the filter strips anyway). */
static char *stripped(const char *s, size_t n) {
    char *t = pystr_ndup(s, n), *u = pystr_strip(t);
    free(t);
    return u;
}

char *gsm8k_score_strict(const char *s) {
    /* re.findall scans left to right; the first match is the first "#### " followed by -?[0-9.,]+. "-?" is
     * greedy but backtracks: "#### -x" has no match at that position ("-" is not in the class). */
    for (const char *p = strstr(s, "#### "); p; p = strstr(p + 1, "#### ")) {
        const char *g = p + 5, *e = g;
        if (*e == '-' && in_strict(e[1])) e++;
        if (!in_strict(*e)) continue;
        while (in_strict(*e)) e++;
        return stripped(g, (size_t)(e - g));
    }
    return xstrdup(GSM8K_SCORE_INVALID);
}

char *gsm8k_score_flexible(const char *s) {
    /* At each position: alternative 1, -?[$0-9.,]{2,} (greedy; with the "-" first, then without), else
     * alternative 2, -?[0-9]+; no match -> the next position; after a match, scanning resumes at its end. */
    const char *last = NULL;
    size_t last_n = 0;
    const char *p = s;
    while (*p) {
        const char *e = NULL;
        /* alternative 1 with "-" */
        if (*p == '-') {
            const char *q = p + 1;
            while (in_flex(*q)) q++;
            if (q - (p + 1) >= 2) e = q;
        }
        /* alternative 1 without "-" */
        if (!e) {
            const char *q = p;
            while (in_flex(*q)) q++;
            if (q - p >= 2) e = q;
        }
        /* alternative 2 */
        if (!e) {
            const char *q = p;
            if (*q == '-' && is_digit(q[1])) q++;
            if (is_digit(*q)) {
                while (is_digit(*q)) q++;
                e = q;
            }
        }
        if (e) { last = p; last_n = (size_t)(e - p); p = e; }
        else p++;
    }
    return last ? stripped(last, last_n) : xstrdup(GSM8K_SCORE_INVALID);
}

char *gsm8k_score_normalize(const char *s) {
    char *a = pystr_replace(s, ",", ""), *b = pystr_replace(a, "$", "");
    free(a);
    /* (?s).*#### : greedy, so the match ends at the last "#### "; re.sub then finds nothing after it. */
    const char *cut = b, *q;
    for (q = strstr(b, "#### "); q; q = strstr(q + 1, "#### ")) cut = q + 5;
    char *c = xstrdup(cut);
    free(b);
    /* \.$ : "$" matches at the end and before a final "\n"; at most one "." can sit at either place and be
     * matched (the two positions are adjacent only in ".\n", whose "." is the one before the newline). */
    size_t n = strlen(c);
    if (n >= 1 && c[n - 1] == '.') c[n - 1] = 0;
    else if (n >= 2 && c[n - 1] == '\n' && c[n - 2] == '.') { c[n - 2] = '\n'; c[n - 1] = 0; }
    for (char *t = c; *t; t++)
        if (*t >= 'A' && *t <= 'Z') *t = (char)(*t - 'A' + 'a');
    return c;
}

int gsm8k_score_match(const char *extracted, const char *reference) {
    char *a = gsm8k_score_normalize(extracted), *b = gsm8k_score_normalize(reference);
    int eq = strcmp(a, b) == 0;
    free(a);
    free(b);
    return eq;
}
