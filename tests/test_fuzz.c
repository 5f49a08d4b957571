/* test_fuzz -- replays every kept fuzz input (tests/fuzz/<target>/regress/: the crashers found, fixed and kept
 * as regression tests; tests/fuzz/<target>/seed/: the seed corpus) through its target (tests/fuzz/targets.c).
 * Each input must end as "accepted" or "one error line" (die, caught): a crash, a sanitizer report (under
 * make test SANITIZE=1) or a broken property fails the program. One "ok" line per input. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "fuzz/fuzz.h"
#include "test.h"

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
        size_t len;
        char *buf = file_read_all(p, &len);
        t->fn((const uint8_t *)buf, len);
        free(buf);
        TEST(1, "fuzz %s %s/%s: ends accepted or with one error", t->name, kind, e->d_name);
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
