/* test_nll_cache -- src/eval/nll_cache: a written file reads back bit for bit under its key; a different key,
 * part count or part length, a flipped payload byte, a truncated or extended file and a missing file are each
 * refused with a reason (the caller then recomputes), and a refused read never dies. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "eval/nll_cache.h"
#include "test.h"

static const char KEY[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char KEY2[] = "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static long file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void flip_byte(const char *p, long off) {
    FILE *f = fopen(p, "r+b");
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
}

int main(void) {
    char dir[] = "/tmp/test_nll_cache.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char path[256];
    snprintf(path, sizeof path, "%s/sub/x.nll", dir);
    double a[5] = {1.5, -0.25, 3e-300, 7.0, 1e300}, b[3] = {0.0, -0.0, 2.0};
    const double *parts[2] = {a, b};
    int64_t n[2] = {5, 3};
    nll_cache_write(path, KEY, 2, n, parts);
    double ra[5], rb[3];
    double *rp[2] = {ra, rb};
    char why[256];
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 0 && !memcmp(a, ra, sizeof a) &&
             !memcmp(b, rb, sizeof b), "round trip, bit for bit (parent folder created)");
    TEST(nll_cache_read(path, KEY2, 2, n, rp, why, sizeof why) == 1 && strstr(why, "key differs"), "other key: %s", why);
    int64_t n2[2] = {5, 4};
    TEST(nll_cache_read(path, KEY, 2, n2, rp, why, sizeof why) == 1 && strstr(why, "part 1"), "other length: %s", why);
    TEST(nll_cache_read(path, KEY, 1, n, rp, why, sizeof why) == 1 && strstr(why, "parts"), "other part count: %s", why);
    long sz = file_size(path);
    flip_byte(path, sz - 2);
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 1 && strstr(why, "sha256"), "flipped payload: %s", why);
    flip_byte(path, sz - 2);
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 0, "restored byte reads again");
    flip_byte(path, 0);
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 1 && strstr(why, "magic"), "bad magic: %s", why);
    flip_byte(path, 0);
    TEST(truncate(path, sz - 8) == 0 && nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 1 &&
             strstr(why, "truncated"), "truncated: %s", why);
    nll_cache_write(path, KEY, 2, n, parts);
    FILE *f = fopen(path, "ab");
    fputc(0, f);
    fclose(f);
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 1 && strstr(why, "trailing"), "extended: %s", why);
    nll_cache_write(path, KEY, 2, n, parts);   /* a rewrite replaces the file */
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 0, "rewritten file reads");
    char tmpname[300];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%d", path, (int)getpid());
    TEST(access(tmpname, F_OK) != 0, "no temporary file left");
    snprintf(path, sizeof path, "%s/absent.nll", dir);
    TEST(nll_cache_read(path, KEY, 2, n, rp, why, sizeof why) == 1 && !strcmp(why, "absent"), "absent: %s", why);
    fileio_remove_tree(dir);
    return TEST_REPORT();
}
