/* pretokenize -- the Qwen2/Qwen3 split pattern, by hand, over UTF-8 text (see pretokenize.h).
 *
 * The pattern, one alternative per line, tried in this order at each position (leftmost-first, as a
 * backtracking engine does; the first alternative that matches wins, not the longest):
 *
 *   1  (?i:'s|'t|'re|'ve|'m|'ll|'d)        contractions, any case
 *   2  [^\r\n\p{L}\p{N}]?\p{L}+            a word, with at most one leading non-letter (" the", "(foo", "\tx")
 *   3  \p{N}                               one digit: numbers are split digit by digit
 *   4   ?[^\s\p{L}\p{N}]+[\r\n]*           punctuation/symbols, an optional leading space, trailing newlines
 *   5  \s*[\r\n]+                          whitespace up to and including the last newline of the run
 *   6  \s+(?!\S)                           whitespace not followed by a non-space: all but the last char of
 *                                          a run that precedes text, or the whole run at the end
 *   7  \s+                                 whatever whitespace is left (a single space before text)
 *
 * Every character is a letter, a number, whitespace or "other", so some alternative always matches and the
 * split never leaves a gap. The text is first decoded into one class byte per character; each alternative is
 * then a few loops over those bytes. Semantics follow HF tokenizers (Oniguruma): \s is the Unicode
 * White_Space property, which includes U+0085 and excludes U+FEFF (JavaScript's \s has it the other way). */
#include "model/pretokenize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/check.h"

/* Character classes, as bits: a character is exactly one of L, N, WS or none ("other"); NL and SP refine WS. */
enum {
    PRETOK_L = 1,   /* \p{L}: general category Lu, Ll, Lt, Lm, Lo */
    PRETOK_N = 2,   /* \p{N}: Nd, Nl, No */
    PRETOK_WS = 4,  /* \s: Unicode White_Space */
    PRETOK_NL = 8,  /* \r or \n */
    PRETOK_SP = 16, /* U+0020, the only character the literal ' ' in alternative 4 matches */
};

/* Unicode White_Space (PropList.txt): the set Oniguruma's \s uses for UTF-8 text. */
static int is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

static uint8_t char_class(uint32_t c) {
    if (c < 0x80) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return PRETOK_L;
        if (c >= '0' && c <= '9') return PRETOK_N;
        if (c == ' ') return PRETOK_WS | PRETOK_SP;
        if (c == '\n' || c == '\r') return PRETOK_WS | PRETOK_NL;
        if (c >= 0x09 && c <= 0x0D) return PRETOK_WS;
        return 0;
    }
    if (is_white_space(c)) return PRETOK_WS;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) return PRETOK_L;
    if (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO) return PRETOK_N;
    return 0;
}

/* What a character case-folds to, as far as alternative 1 cares: the apostrophe, an ASCII letter in lower
 * case, or 's' for U+017F LATIN SMALL LETTER LONG S, whose simple case folding is 's' (CaseFolding.txt), so
 * Oniguruma's (?i:'s) matches "'ſ". Everything else folds to 0 and cannot take part in a contraction. */
static uint8_t contraction_fold(uint32_t c) {
    if (c == '\'') return '\'';
    if (c < 0x80 && (c | 0x20) >= 'a' && (c | 0x20) <= 'z') return (uint8_t)(c | 0x20);
    if (c == 0x17F) return 's';
    return 0;
}

size_t pretokenize_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    uint32_t c = s[0], v;
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xC2) return 0; /* a continuation byte, or the start of an overlong 2-byte form */
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        v = ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0; /* overlong or a surrogate */
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        v = ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
            (s[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

int pretokenize_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) { i++; continue; }
        size_t k = pretokenize_utf8_decode(u + i, n - i, &cp);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

char *pretokenize_utf8_repair(const char *s, size_t n, size_t *n_out) {
    const unsigned char *u = (const unsigned char *)s;
    char *out = xmalloc(3 * n + 1); /* worst case: every byte becomes the 3-byte U+FFFD */
    size_t o = 0;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t k = pretokenize_utf8_decode(u + i, n - i, &cp);
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *n_out = o;
    return out;
}

/* End (exclusive) of the run of characters from i whose class has a bit of `mask` set. */
static size_t run_end(const uint8_t *cls, size_t n, size_t i, uint8_t mask) {
    while (i < n && (cls[i] & mask)) i++;
    return i;
}

static int is_other(uint8_t c) { return !(c & (PRETOK_L | PRETOK_N | PRETOK_WS)); }

/* The end (exclusive, in characters) of the match that starts at character i; always > i. */
static size_t match_at(const uint8_t *cls, const uint8_t *fold, size_t n, size_t i) {
    uint8_t c = cls[i];

    /* 1: 's 't 're 've 'm 'll 'd, case-insensitively; the alternatives share no prefix, so order is moot. */
    if (fold[i] == '\'' && i + 1 < n) {
        uint8_t a = fold[i + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if (i + 2 < n) {
            uint8_t b = fold[i + 2];
            if ((a == 'r' || a == 'v') && b == 'e') return i + 3;
            if (a == 'l' && b == 'l') return i + 3;
        }
    }

    /* 2: the optional prefix is greedy, but a letter at i cannot be the prefix, so it starts the run; a
     * non-letter at i (not \r, \n or a number) is the prefix only when a letter follows it. */
    if (c & PRETOK_L) return run_end(cls, n, i, PRETOK_L);
    if (!(c & (PRETOK_NL | PRETOK_N)) && i + 1 < n && (cls[i + 1] & PRETOK_L))
        return run_end(cls, n, i + 1, PRETOK_L);

    /* 3 */
    if (c & PRETOK_N) return i + 1;

    /* 4: with the space if "other" follows it; without a space the run must start at i (a space at i is
     * whitespace, so then it fails). Trailing \r\n are taken greedily. */
    size_t j = i;
    if ((c & PRETOK_SP) && i + 1 < n && is_other(cls[i + 1])) j = i + 1;
    if (is_other(cls[j])) {
        while (j < n && is_other(cls[j])) j++;
        return run_end(cls, n, j, PRETOK_NL);
    }

    /* Only whitespace is left at i. Let [i, j) be its whole run. */
    CHECK(c & PRETOK_WS, "character class %u at %zu fits no alternative", (unsigned)c, i);
    j = run_end(cls, n, i, PRETOK_WS);

    /* 5: \s* backtracks from the end of the run to the last \r or \n in it. */
    for (size_t k = j; k > i; k--)
        if (cls[k - 1] & PRETOK_NL) return k;

    /* 6: the whole run at the end of the text; else the run minus its last character, which then
     * prefixes the next word or symbol. 7: a single space before text. */
    if (j == n || j - i == 1) return j;
    return j - 1;
}

void pretokenize_split(const char *s, size_t n, pretokenize_emit_fn emit, void *ctx) {
    if (n == 0) return;
    const unsigned char *u = (const unsigned char *)s;

    /* Decode once: byte offset, class and contraction fold of each character (at most n characters). */
    size_t *off = xmalloc((n + 1) * sizeof *off);
    uint8_t *cls = xmalloc(n), *fold = xmalloc(n);
    size_t n_chars = 0;
    for (size_t i = 0; i < n; n_chars++) {
        uint32_t cp;
        size_t k = pretokenize_utf8_decode(u + i, n - i, &cp);
        CHECK(k > 0, "pretokenize_split: invalid UTF-8 at byte %zu (callers repair input first)", i);
        off[n_chars] = i;
        cls[n_chars] = char_class(cp);
        fold[n_chars] = contraction_fold(cp);
        i += k;
    }
    off[n_chars] = n;

    for (size_t i = 0; i < n_chars;) {
        size_t j = match_at(cls, fold, n_chars, i);
        emit(ctx, s + off[i], off[j] - off[i]);
        i = j;
    }
    free(off);
    free(cls);
    free(fold);
}
