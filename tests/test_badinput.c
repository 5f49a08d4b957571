/* test_badinput -- the driver-level rows of the bad-input table (README "Bad input"; issue 9): each bad input
 * ends with one error line naming the file and what was expected, a defined exit status, and nothing partial
 * left behind. Runs the real drivers (build/bin/e01-formats, build/bin/e02-perplexity) on the small test
 * checkpoint in temporary results trees. The loader rows live in tests/test_model.c ("bad input: ..."), the
 * results-file and writer rows in tests/test_core.c. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "data/dataset.h"
#include "fixture.h"
#include "test.h"

#define TMP "build/tmp/test_badinput"
#define FIX "tests/fixtures/qwen3/dense-f32"
#define E01 "build/bin/e01-formats --model " FIX " --rows 128 --cols 256"

/* Runs cmd through sh with stderr captured into err (fixture_run), trailing newlines dropped; returns the exit
 * status (128 + signal if killed). */
static int run(const char *cmd, char *err, size_t cap) {
    int st = fixture_run(cmd, TMP "/stderr.txt", err, cap);
    for (size_t k = strlen(err); k && err[k - 1] == '\n'; k--) err[k - 1] = 0;   /* one-line messages print whole */
    return st;
}

/* The last line of s (the error line of a driver that logged progress first). */
static const char *last_line(const char *s) {
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n') n--;
    while (n && s[n - 1] != '\n') n--;
    return s + n;
}

static int count_with(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d))) k += strstr(e->d_name, needle) != NULL;
    closedir(d);
    return k;
}

static int same_file_bytes(const char *a, const char *b) {
    size_t na, nb;
    char *x = file_read_all(a, &na), *y = file_read_all(b, &nb);
    int same = na == nb && !memcmp(x, y, na);
    free(x), free(y);
    return same;
}

/* Every file of dir a/sub also in b/sub with the same bytes (and as many files on both sides); *n_files set. */
static int same_tree(const char *a, const char *b, const char *sub, int *n_files) {
    char da[512], db[512];
    snprintf(da, sizeof da, "%s/%s", a, sub);
    snprintf(db, sizeof db, "%s/%s", b, sub);
    DIR *d = opendir(da);
    *n_files = 0;
    if (!d) return 0;
    int same = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", da, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", db, e->d_name);
        struct stat sb;
        if (stat(pa, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        (*n_files)++;
        same &= file_exists(pb) && same_file_bytes(pa, pb);
    }
    closedir(d);
    return same && *n_files == count_with(db, ".json");
}

/* Lines of s that hold needle. */
static int lines_with(const char *s, const char *needle) {
    int k = 0;
    for (const char *p = s; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *line = xmalloc(n + 1);
        memcpy(line, p, n);
        line[n] = 0;
        k += strstr(line, needle) != NULL;
        free(line);
        p = e ? e + 1 : NULL;
    }
    return k;
}

/* `make data` is `ql data-verify` over src/data/dataset.c's table (issue 9 item 5: one implementation of the
 * pins, not two): a damaged copy where the programs look first is NOT verified, however good a later copy is. */
static void test_data_verify(void) {
    char err[8192];
    const char *WT = "wikitext-2/wiki.test.raw";
    const struct dataset_file *wt = dataset_file_by_name(WT);
    mkdir_p(TMP "/dd/wikitext-2");
    FILE *f = xfopen(TMP "/dd/wikitext-2/wiki.test.raw", "w");
    fputs(" = Not WikiText = \n", f);
    xfclose(f, "dd");
    int st = run("QL_DATA_DIR=" TMP "/dd build/bin/ql data-verify", err, sizeof err);
    TEST(st == 1 && lines_with(err, "error:") == 1 && lines_with(err, "NOT verified") == 1 &&
             strstr(err, TMP "/dd/wikitext-2/wiki.test.raw: sha256 mismatch") && strstr(err, wt->sha256) &&
             !strstr(err, "\xe2\x9c\x93 wikitext-2"),
         "bad input: make data / ql data-verify with a damaged DATA_DIR copy -> NOT verified, one error line, exit 1");
    st = run("build/bin/ql data-verify --data-dir " TMP "/dd", err, sizeof err);
    TEST(st == 1 && lines_with(err, "NOT verified") == 1, "ql data-verify --data-dir with a damaged copy -> exit 1");
    st = run("build/bin/ql data-verify --data-dir " TMP "/does-not-exist", err, sizeof err);
    TEST(st == 2 && strstr(err, "not a folder"), "ql data-verify --data-dir /does/not/exist -> usage error (exit 2)");

    /* Nothing anywhere (run from a folder with no ./data and no ../shared): every file missing, exit 1, and the
     * fetch list holds the downloadable ones with the URL and download hash of dataset.c's table. */
    mkdir_p(TMP "/nowhere/cwd");
    st = run("(cd " TMP "/nowhere/cwd && QL_DATA_DIR= ../../../../../build/bin/ql data-verify --fetch-list ../fetch.tsv)",
             err, sizeof err);
    size_t n = 0;
    char *list = file_exists(TMP "/nowhere/fetch.tsv") ? file_read_all(TMP "/nowhere/fetch.tsv", &n) : xstrdup("");
    char row[1024];
    snprintf(row, sizeof row, "%s\t%s\t%s\t%s\n", wt->name, wt->url, wt->url_sha256, wt->member);
    TEST(st == 1 && lines_with(err, "not found") == dataset_file_count() && !strcmp(list, row),
         "ql data-verify with no data anywhere -> exit 1, one 'not found' line per file, fetch list from dataset.c");
    free(list);

    /* --install: a download with the wrong bytes is removed, never installed. */
    f = xfopen(TMP "/dl.bad", "w");
    fputs("not the file\n", f);
    xfclose(f, "dl");
    st = run("build/bin/ql data-verify --install wikitext-2/wiki.test.raw " TMP "/dl.bad --data-dir " TMP "/inst", err, sizeof err);
    TEST(st == 1 && lines_with(err, "") == 1 && strstr(err, "NOT installed") && !file_exists(TMP "/dl.bad") &&
             !file_exists(TMP "/inst/wikitext-2/wiki.test.raw"),
         "ql data-verify --install of a download with another hash -> exit 1, removed, nothing installed");

    /* The positive side needs the real files. */
    if (!file_exists("../shared/data/wikitext-2/wiki.test.raw")) {
        printf("skip ql data-verify on the real files: ../shared/data not found\n");
        return;
    }
    st = run("QL_DATA_DIR= build/bin/ql data-verify", err, sizeof err);
    TEST(st == 0 && lines_with(err, "(verified: ../shared/data/") == dataset_file_count() && !strstr(err, "error"),
         "ql data-verify over ../shared/data -> every pinned file verified, exit 0 (got %d)", st);
    st = run("cp ../shared/data/wikitext-2/wiki.test.raw " TMP "/dl.good && build/bin/ql data-verify --install "
             "wikitext-2/wiki.test.raw " TMP "/dl.good --data-dir " TMP "/inst", err, sizeof err);
    TEST(st == 0 && same_file_bytes(TMP "/inst/wikitext-2/wiki.test.raw", "../shared/data/wikitext-2/wiki.test.raw") &&
             !file_exists(TMP "/dl.good"),
         "ql data-verify --install of the pinned file -> moved into DATA_DIR");
}

int main(void) {
    char err[8192];
    fileio_remove_tree(TMP);
    mkdir_p(TMP);
    if (!file_exists("build/bin/e01-formats") || !file_exists("build/bin/e02-perplexity")) {
        printf("SKIP: build/bin drivers not built (make all)\n");
        return EXIT_SKIP;
    }

    // A clean run, the reference for the rows below.
    int st = run(E01 " --results " TMP "/ref", err, sizeof err);
    TEST(st == 0, "e01 on the test checkpoint runs (exit %d)", st);

    // Determinism (issue 9): the same run at 1 and at 2 threads writes byte-identical results files (e01 has
    // no BLAS GEMM; its OpenMP loops fill independent elements).
    st = run("OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " E01 " --results " TMP "/t1", err, sizeof err);
    int st2 = run("OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 " E01 " --results " TMP "/t2", err, sizeof err);
    int n1 = 0, n2 = 0;
    int same1 = same_tree(TMP "/ref", TMP "/t1", "synthetic/e01-formats", &n1);
    int same2 = same_tree(TMP "/ref", TMP "/t2", "synthetic/e01-formats", &n2);
    TEST(st == 0 && st2 == 0 && same1 && same2 && n1 > 10 && n1 == n2,
         "determinism: e01 at 1 and 2 threads writes byte-identical files (%d files)", n1);

    // K not a multiple of the block: one line naming the scheme, its block and K, exit 1, no results file.
    st = run("build/bin/e01-formats --model " FIX " --rows 32 --cols 64 --results " TMP "/k", err, sizeof err);
    TEST(st == 1 && strstr(last_line(err), "K=64 is not a multiple of 128") && !file_exists(TMP "/k/synthetic/e01-formats/fp8-block128.json"),
         "bad input: K not a multiple of the block -> exit 1, '%s'", last_line(err));

    // A corrupt results file: the rerun stops with the way out; FORCE=1 (--force) recomputes it.
    mkdir_p(TMP "/corrupt");
    st = run("cp -r " TMP "/ref/synthetic " TMP "/corrupt/", err, sizeof err);
    FILE *f = xfopen(TMP "/corrupt/synthetic/e01-formats/nvfp4.json", "w");
    fputs("{\"experiment\": \"e01-formats\", \"metr", f);
    xfclose(f, "corrupt");
    st = run(E01 " --results " TMP "/corrupt", err, sizeof err);
    TEST(st == 1 && strstr(last_line(err), "nvfp4.json: corrupt results file") && strstr(last_line(err), "FORCE=1"),
         "bad input: corrupt results file -> exit 1, one line with the way out (got %d)", st);
    st = run(E01 " --force --results " TMP "/corrupt", err, sizeof err);
    TEST(st == 0 && same_file_bytes(TMP "/corrupt/synthetic/e01-formats/nvfp4.json", TMP "/ref/synthetic/e01-formats/nvfp4.json"),
         "bad input: corrupt results file, then --force -> recomputed, byte-identical to a clean run");

    // SIGKILL mid-experiment, then a rerun: finished schemes are cache hits, the rest is computed, and every
    // file ends byte-identical to the clean run; nothing half-written is ever read.
    const char *kdir = TMP "/kill/synthetic/e01-formats";
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exec build/bin/e01-formats --model " FIX " --rows 1024 --cols 4096 --results "
              TMP "/kill 2>/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 6000 && count_with(kdir, ".json") < 2; i++) nanosleep(&(struct timespec){0, 5000000}, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    int done = count_with(kdir, ".json") - count_with(kdir, ".tmp.");
    st = run("build/bin/e01-formats --model " FIX " --rows 1024 --cols 4096 --results " TMP "/kill", err, sizeof err);
    int hits = 0;
    for (const char *p = err; (p = strstr(p, "cache hit (")); p++) hits++;
    TEST(st == 0 && done >= 1 && hits >= done - 1 && hits < 14, "SIGKILL mid-run, rerun: %d finished schemes cached (%d hits), the rest computed",
         done, hits);
    st = run("build/bin/e01-formats --model " FIX " --rows 1024 --cols 4096 --force --results " TMP "/kill2", err, sizeof err);
    TEST(same_file_bytes(TMP "/kill/synthetic/e01-formats/mxfp4.json", TMP "/kill2/synthetic/e01-formats/mxfp4.json") &&
             same_file_bytes(TMP "/kill/synthetic/e01-formats/nvfp4.json", TMP "/kill2/synthetic/e01-formats/nvfp4.json"),
         "SIGKILL mid-run, rerun: results byte-identical to an uninterrupted run");

    // A data file whose hash differs from the pin: one line naming the file, the expected and the found hash.
    mkdir_p(TMP "/data/wikitext-2");
    f = xfopen(TMP "/data/wikitext-2/wiki.test.raw", "w");
    fputs(" = Not WikiText = \n", f);
    xfclose(f, "data");
    st = run("build/bin/e02-perplexity --model " FIX " --recipes bf16 --data-dir " TMP "/data --results " TMP "/e02", err, sizeof err);
    TEST(st == 1 && strstr(last_line(err), "wiki.test.raw") && strstr(last_line(err), "sha256 mismatch") &&
             strstr(last_line(err), "expected 173c87a5") && !file_exists(TMP "/e02/dense-f32/e02-perplexity/bf16.json"),
         "bad input: data file hash mismatch -> exit 1, '%.120s...'", last_line(err));

    // ql generate with a temperature that is not a finite number in range: a usage error (exit 2), one line.
    const char *temps[] = {"nan", "inf", "-1", "1e300"};
    for (int i = 0; i < 4; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "build/bin/ql generate -m " FIX " --ids 1 -n 1 -t %s >/dev/null", temps[i]);
        st = run(cmd, err, sizeof err);
        TEST(st == 2 && strstr(err, "-t: expected a finite number"), "bad input: ql generate -t %s -> exit 2 (got %d)",
             temps[i], st);
    }
    // ql quantize: the output is never the input (or inside it), never an existing non-empty folder without
    // --force, and never left half written (a temporary folder renamed at the end).
    if (file_exists("build/bin/ql")) {
        const char *Q = "build/bin/ql quantize -r nvfp4-w4a16 -m " TMP "/qin";
        run("cp -r tests/fixtures/qwen3/dense-bf16 " TMP "/qin", err, sizeof err);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s -o " TMP "/qin", Q);
        st = run(cmd, err, sizeof err);
        TEST(st == 1 && strstr(last_line(err), "is the input checkpoint") &&
                 same_file_bytes(TMP "/qin/model.safetensors", "tests/fixtures/qwen3/dense-bf16/model.safetensors"),
             "bad input: ql quantize -o = -m -> exit 1, the input untouched ('%s')", last_line(err));
        snprintf(cmd, sizeof cmd, "%s -o " TMP "/qin/sub", Q);
        st = run(cmd, err, sizeof err);
        TEST(st == 1 && !file_exists(TMP "/qin/sub"), "bad input: ql quantize -o inside the input -> exit 1, nothing written");
        snprintf(cmd, sizeof cmd, "%s -o " TMP "/qout", Q);
        st = run(cmd, err, sizeof err);
        int st2 = run(cmd, err, sizeof err);
        TEST(st == 0 && st2 == 1 && strstr(last_line(err), "exists and is not empty") && strstr(last_line(err), "--force") &&
                 count_with(TMP, ".tmp.") == 0,
             "bad input: ql quantize over an existing checkpoint -> exit 1 without --force, no temporary left");
        snprintf(cmd, sizeof cmd, "%s -o " TMP "/qout --force", Q);
        st = run(cmd, err, sizeof err);
        TEST(st == 0 && file_exists(TMP "/qout/model.safetensors") && count_with(TMP, ".tmp.") == 0 &&
                 count_with(TMP, ".old") == 0,
             "ql quantize --force replaces the folder in place (no .tmp / .old left)");
    }

    test_data_verify();
    return TEST_REPORT();
}
