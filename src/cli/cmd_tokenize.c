/* cmd_tokenize -- see cmd_tokenize.h. */
#include "cli/cmd_tokenize.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/tokenizer.h"

static const char usage[] =
    "usage: ql tokenize --tokenizer PATH [--decode] < input\n"
    "  Reads UTF-8 text on stdin and writes its token ids, space-separated, on one line of stdout.\n"
    "  Special tokens written in the text (<|im_start|>, <|im_end|>, ...) become their ids.\n"
    "  --tokenizer PATH  a tokenizer.json, or a folder holding one (e.g. a Hugging Face checkpoint)\n"
    "  --decode          the other way: ids on stdin (separated by whitespace), the text on stdout\n";

/* All of stdin in a fresh NUL-terminated buffer; *len gets its size. */
static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 == cap) buf = xrealloc(buf, cap *= 2);
        size_t k = fread(buf + n, 1, cap - 1 - n, stdin);
        n += k;
        if (k == 0) break;
    }
    if (ferror(stdin)) die("reading stdin: %s", strerror(errno));
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses whitespace-separated decimal ids; dies on anything else. */
static int32_t *parse_ids(const char *s, size_t *n_out) {
    size_t n = 0, cap = 256;
    int32_t *ids = xmalloc(cap * sizeof *ids);
    for (const char *p = s;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && !strchr(" \t\r\n", *end)))
            die("--decode expects decimal token ids, got '%.*s'", (int)strcspn(p, " \t\r\n"), p);
        if (n == cap) ids = xrealloc(ids, (cap *= 2) * sizeof *ids);
        ids[n++] = (int32_t)v;
        p = end;
    }
    *n_out = n;
    return ids;
}

int cmd_tokenize(int argc, char **argv) {
    const char *path = NULL;
    int decode = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--tokenizer") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(a, "--decode")) decode = 1;
        else die_usage("unknown or incomplete option '%s'\n%s", a, usage);
    }
    if (!path) die_usage("--tokenizer PATH is required\n%s", usage);

    struct tokenizer *t = tokenizer_load(path);
    size_t len, n;
    char *in = read_stdin(&len);
    if (decode) {
        int32_t *ids = parse_ids(in, &n);
        char *text;
        size_t k = tokenizer_decode(t, ids, n, &text);
        fwrite(text, 1, k, stdout);
        free(text);
        free(ids);
    } else {
        int32_t *ids = tokenizer_encode(t, in, len, &n);
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        free(ids);
    }
    if (fflush(stdout) != 0) die("writing stdout: %s", strerror(errno));
    free(in);
    tokenizer_free(t);
    return 0;
}
