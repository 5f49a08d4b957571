/* test_fuzz -- replays every kept fuzz input (tests/fuzz/<target>/regress/: the crashers found, fixed and kept
 * as regression tests; tests/fuzz/<target>/seed/: the seed corpus) through its target (tests/fuzz/targets.c),
 * each in a forked child with the ordinary die() (no longjmp): it must exit 0 (accepted) or 1 (one error
 * line), and print no sanitizer report; a crash, a leak on the accepted path (LSan, under make test
 * SANITIZE=1), a broken property (abort) fails. One "ok" line per input. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "fixture.h"
#include "fuzz/fuzz.h"
#include "test.h"

struct replay_arg {
    const struct fuzz_target *t;
    const char *path;
};

/* The child of one replay: the target on the file's bytes. */
static void replay_one(void *arg) {
    const struct replay_arg *a = arg;
    check_set_die_handler(NULL);  /* the real exit path of a reader that rejects its input */
    check_set_quiet(0);
    size_t len;
    char *buf = file_read_all(a->path, &len);
    a->t->fn((const uint8_t *)buf, len);
    free(buf);
    exit(0);  /* exit, not _exit: LeakSanitizer checks the accepted path */
}

static int replay_dir(const struct fuzz_target *t, const char *kind) {
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/%s/%s", t->name, kind);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        char err[8192];
        struct replay_arg a = {t, p};
        int code = fixture_in_child(replay_one, &a, err, sizeof err);
        int lines = fixture_count_lines(err);
        int ok = (code == 0 || (code == 1 && lines >= 1)) && !strstr(err, "Sanitizer") && !strstr(err, "runtime error");
        TEST(ok, "fuzz %s %s/%s: exit %d (0 accepted, 1 rejected with an error line)", t->name, kind, e->d_name, code);
        if (!ok) printf("  stderr: %.2000s\n", err);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    fuzz_init();
    int total = 0;
    for (int i = 0; i < FUZZ_N_TARGETS; i++) {
        int n = replay_dir(&FUZZ_TARGETS[i], "seed") + replay_dir(&FUZZ_TARGETS[i], "regress");
        TEST(n > 0, "fuzz %s: %d kept inputs replayed", FUZZ_TARGETS[i].name, n);
        total += n;
    }
    printf("replayed %d inputs\n", total);
    return TEST_REPORT();
}
