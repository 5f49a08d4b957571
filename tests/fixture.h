/* fixture -- helpers several test programs share, header-only like test.h (every function static inline, so
 * a program that uses some of them compiles the rest away without a warning):
 *   fixture_in_child(fn, arg, err, cap): runs fn(arg) in a forked child whose stderr is captured into err
 *     (NUL-terminated, at most cap - 1 bytes); returns its exit status, or 128 + the signal that killed it.
 *     The death tests of the readers (one error line, exit 1) use it with the real die(); fn may end the child
 *     itself (exit(0) rather than _exit(0), so that LeakSanitizer checks the accepted path: tests/test_fuzz.c).
 *   fixture_run(cmd, stderr_path, err, cap): runs cmd through sh with its stderr redirected into the file
 *     stderr_path and copied into err (truncated to cap - 1 bytes); returns its exit status, or 128 + signal.
 *   fixture_count_lines(s): the number of '\n' in s (a one-line error has exactly one).
 *   struct fixture_capture + fixture_capture_observe: a linear.observe callback that appends the inputs a
 *     Linear sees (rows x K floats) to a buffer of cap rows (the GPTQ / AWQ tests' fixed inputs).
 *   fixture_seeded_ids(ids, n, V, seed): n token ids uniform in [0, V) from src/core/rng.h. */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/rng.h"
#include "ops/linear.h"

static inline int fixture_in_child(void (*fn)(void *), void *arg, char *err, size_t cap) {
    int fd[2];
    CHECK(pipe(fd) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd[0], err + n, cap - 1 - n)) > 0) n += (size_t)r;
    err[n] = 0;
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline int fixture_run(const char *cmd, const char *stderr_path, char *err, size_t cap) {
    char full[2048];
    snprintf(full, sizeof full, "%s 2>%s", cmd, stderr_path);
    int st = system(full);
    size_t n = 0;
    char *e = file_exists(stderr_path) ? file_read_all(stderr_path, &n) : xstrdup("");
    snprintf(err, cap, "%s", e);
    free(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline int fixture_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

struct fixture_capture {
    int64_t K, rows, cap;
    float *x;   /* cap x K */
};

static inline void fixture_capture_init(struct fixture_capture *c, int64_t K, int64_t cap) {
    c->K = K, c->rows = 0, c->cap = cap;
    c->x = xmalloc((size_t)(cap * K) * sizeof *c->x);
}

static inline void fixture_capture_observe(void *ctx, const struct linear *l, const float *x, int64_t T) {
    (void)l;
    struct fixture_capture *c = (struct fixture_capture *)ctx;
    CHECK(c->rows + T <= c->cap, "capture overflow");
    memcpy(c->x + c->rows * c->K, x, (size_t)(T * c->K) * sizeof *x);
    c->rows += T;
}

static inline void fixture_seeded_ids(int32_t *ids, int64_t n, int64_t V, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)rng_below(&r, (uint64_t)V);
}

#endif
