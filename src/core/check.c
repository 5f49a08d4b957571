/* check -- see check.h. */
#define _POSIX_C_SOURCE 200809L
#include "core/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_progname = "ql";

void check_set_progname(const char *name) {
    /* Keep only the basename so logs do not depend on where the binary was invoked from. */
    const char *slash = strrchr(name, '/');
    g_progname = slash ? slash + 1 : name;
}

const char *check_progname(void) { return g_progname; }

void check_fail(const char *file, int line, const char *expr, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: %s:%d: CHECK(%s) failed: ", g_progname, file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static int g_quiet;

void check_set_quiet(int quiet) { g_quiet = quiet; }

static void vreport(const char *kind, const char *fmt, va_list ap) {
    if (g_quiet) return;
    fflush(stdout);
    fprintf(stderr, "%s: %s: ", g_progname, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

// ---- leaving on an error ----

#define CHECK_MAX_CLEANUPS 16
static struct { void (*fn)(void *); void *arg; } g_cleanups[CHECK_MAX_CLEANUPS];
static int g_n_cleanups;
static void (*g_die_handler)(int);

void check_on_die(void (*fn)(void *), void *arg) {
    CHECK(g_n_cleanups < CHECK_MAX_CLEANUPS, "more than %d cleanups registered", CHECK_MAX_CLEANUPS);
    g_cleanups[g_n_cleanups].fn = fn;
    g_cleanups[g_n_cleanups].arg = arg;
    g_n_cleanups++;
}

void check_on_die_remove(void (*fn)(void *), void *arg) {
    for (int i = g_n_cleanups - 1; i >= 0; i--)
        if (g_cleanups[i].fn == fn && g_cleanups[i].arg == arg) {
            memmove(&g_cleanups[i], &g_cleanups[i + 1], (size_t)(g_n_cleanups - 1 - i) * sizeof g_cleanups[0]);
            g_n_cleanups--;
            return;
        }
}

void check_set_die_handler(void (*handler)(int status)) { g_die_handler = handler; }

/* Runs the registered cleanups (newest first), then leaves with `status`. _exit, not exit: a process that
 * dies on bad input has nothing else to flush than stdio (flushed here), and skipping the atexit handlers
 * keeps LeakSanitizer from reporting the allocations a die() abandons by design (they would turn the defined
 * exit status 1 into LSan's 23). Leaks on the successful paths are still checked at the normal exit. */
__attribute__((noreturn)) static void leave(int status) {
    while (g_n_cleanups > 0) {
        g_n_cleanups--;
        g_cleanups[g_n_cleanups].fn(g_cleanups[g_n_cleanups].arg);
    }
    if (g_die_handler) g_die_handler(status);
    fflush(NULL);
    _exit(status);
}

void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport("error", fmt, ap);
    va_end(ap);
    leave(1);
}

void die_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport("usage", fmt, ap);
    va_end(ap);
    leave(EXIT_USAGE);
}

void warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport("warning", fmt, ap);
    va_end(ap);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory allocating %zu bytes", n);
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) die("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory reallocating to %zu bytes", n);
    return q;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

FILE *xfopen(const char *path, const char *mode) {
    FILE *f = fopen(path, mode);
    if (!f) die("%s: cannot open (mode %s): %s", path, mode, strerror(errno));
    return f;
}

void xfread(void *buf, size_t size, size_t count, FILE *f, const char *path) {
    long off = ftell(f);
    size_t got = fread(buf, size, count, f);
    if (got != count) {
        if (ferror(f)) die("%s: read error: %s", path, strerror(errno));
        die("%s: truncated: expected %zu bytes at offset %ld, got %zu", path, size * count, off, size * got);
    }
}

void xfwrite(const void *buf, size_t size, size_t count, FILE *f, const char *path) {
    if (fwrite(buf, size, count, f) != count) die("%s: write error: %s", path, strerror(errno));
}

void xfclose(FILE *f, const char *path) {
    if (fclose(f) != 0) die("%s: close failed: %s", path, strerror(errno));
}

char *file_read_all(const char *path, size_t *len) {
    FILE *f = xfopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) die("%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}
