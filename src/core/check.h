/* check -- errors and checked system calls.
 * Two kinds of failure (STYLE.md section 5): a programmer error (a broken invariant) goes through CHECK,
 * which prints file:line and the expression and aborts; an environment or input error (a missing file, a
 * malformed header, a bad flag) goes through die(), which prints one line "prog: error: ..." to stderr and
 * exits with status 1. The x* wrappers never return on failure, so callers need no error paths for them.
 * Exit codes used across the project: 0 success, 1 runtime error, 2 usage error, 77 test skipped. */
#ifndef SRC_CORE_CHECK_H
#define SRC_CORE_CHECK_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_USAGE 2
#define EXIT_SKIP 77

#define CHECK(c, ...) \
    do { if (!(c)) check_fail(__FILE__, __LINE__, #c, __VA_ARGS__); } while (0)

/* Sets the program name used as the prefix of every error line (default "ql"). */
void check_set_progname(const char *name);
const char *check_progname(void);

/* Reports a broken invariant: "prog: file:line: CHECK(expr) failed: message" and abort(). */
void check_fail(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* Reports a user or environment error on one line, "prog: error: message", then exits with status 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Registers fn(arg) to run when die() or die_usage() ends the process (newest first), e.g. to remove a
 * temporary file or folder a writer has not renamed into place yet; check_on_die_remove unregisters it once
 * the writer is done. At most 16 at a time. die() then leaves with _exit after flushing stdio (so LeakSanitizer
 * does not report what an error path abandons). */
void check_on_die(void (*fn)(void *), void *arg);
void check_on_die_remove(void (*fn)(void *), void *arg);

/* For fuzz harnesses only: die() calls handler(status) after the cleanups instead of exiting; the handler
 * must not return (it longjmps back to the harness). NULL restores the default. */
void check_set_die_handler(void (*handler)(int status));

/* For fuzz harnesses only: 1 drops the text of die(), die_usage() and warn() (millions of rejected inputs). */
void check_set_quiet(int quiet);

/* Like die() but exits with status 2 (bad command line). */
void die_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Prints "prog: warning: message" to stderr and returns. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that dies with the requested size on failure; xmalloc(0) returns a valid pointer. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* fopen/fread/fwrite/fclose that die naming the path on failure; xfread dies on a short read
 * ("path: truncated: expected N bytes at offset O, got M"). */
FILE *xfopen(const char *path, const char *mode);
void xfread(void *buf, size_t size, size_t count, FILE *f, const char *path);
void xfwrite(const void *buf, size_t size, size_t count, FILE *f, const char *path);
void xfclose(FILE *f, const char *path);

/* Reads a whole file into a fresh NUL-terminated buffer (caller frees); *len (optional) gets the size
 * without the NUL. Dies naming the path on any error. */
char *file_read_all(const char *path, size_t *len);

/* Returns 1 if path exists (any type), 0 otherwise. */
int file_exists(const char *path);

#ifdef __cplusplus
}
#endif
#endif
