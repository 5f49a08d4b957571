/* test_eval -- src/eval: statistics, perplexity and KL divergence on hand-computed cases, the reference file,
 * the corpus joining rules, hash pinning and the sampling fallback. The pinned data files are checked where
 * ../shared/data (or $QL_SHARED_DIR/data) exists; those cases print "skip" lines otherwise, the rest always
 * runs. Everything here takes well under a second. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "data/dataset.h"
#include "eval/kld.h"
#include "eval/perplexity.h"
#include "eval/stats.h"
#include "test.h"

static char TMP[64];

/* 1e-12 relative: every hand value below is a few double operations away from the code's result. */
static int near(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b)); }

/* ---- stats ---- */

static void test_stats(void) {
    const double x[] = {4, 1, 3, 2};
    TEST(near(stats_mean(x, 4), 2.5), "mean");
    /* Sample variance of 1..4: sum (x - 2.5)^2 / 3 = 5/3. */
    TEST(near(stats_stddev(x, 4), sqrt(5.0 / 3.0)) && near(stats_stderr(x, 4), sqrt(5.0 / 3.0) / 2),
         "stddev and stderr (n - 1 divisor)");
    /* Type 7: h = (n - 1) p over 1 2 3 4: p = 0.5 -> 2.5, p = 0.99 -> h = 2.97 -> 3.97, p = 0 -> 1, 1 -> 4. */
    TEST(near(stats_quantile(x, 4, 0.5), 2.5) && near(stats_quantile(x, 4, 0.99), 3.97) &&
             stats_quantile(x, 4, 0) == 1 && stats_quantile(x, 4, 1) == 4,
         "quantiles by linear interpolation (type 7)");
    TEST(x[0] == 4 && x[3] == 2, "stats_quantile leaves its input alone");
    double big[1001];
    for (int i = 0; i <= 1000; i++) big[i] = (double)((i * 7919) % 1001);   /* a permutation of 0..1000 */
    TEST(stats_quantile(big, 1001, 0.5) == 500 && near(stats_quantile(big, 1001, 0.99), 990),
         "quickselect median and p99 of a permutation");
    double c[50], lo, hi;
    for (int i = 0; i < 50; i++) c[i] = 0.25;
    stats_bootstrap_ci(c, 50, stats_fn_mean, NULL, 200, 1, 7, 0.95, &lo, &hi);
    TEST(lo == 0.25 && hi == 0.25, "bootstrap of a constant is that constant");
    /* N(0, 1) sample of 2000: the 95 % interval of the mean has half-width about 1.96 / sqrt(2000) = 0.044. */
    double g[2000];
    struct rng r;
    rng_init(&r, 3);
    for (int i = 0; i < 2000; i++) g[i] = rng_normal(&r);
    double m = stats_mean(g, 2000), lo2, hi2;
    stats_bootstrap_ci(g, 2000, stats_fn_mean, NULL, 500, 1, 11, 0.95, &lo, &hi);
    stats_bootstrap_ci(g, 2000, stats_fn_mean, NULL, 500, 1, 11, 0.95, &lo2, &hi2);
    TEST(lo < m && m < hi && hi - lo > 0.06 && hi - lo < 0.12, "bootstrap CI of a mean [%.4f, %.4f]", lo, hi);
    TEST(lo == lo2 && hi == hi2, "bootstrap is reproducible from its seed");
    stats_bootstrap_ci(g, 2000, stats_fn_mean, NULL, 500, 64, 11, 0.95, &lo2, &hi2);
    TEST(lo2 < m && m < hi2, "block bootstrap (blocks of 64) CI [%.4f, %.4f]", lo2, hi2);
    double sq[] = {3, 4};
    TEST(near(stats_fn_rms(sq, 2, NULL), sqrt(12.5)), "rms");
}

/* ---- perplexity ---- */

/* A "model" whose next-token distribution at every position is P = (1/8, 2/8, 5/8) over V = 3. */
static void fixed_logits(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    (void)ctx, (void)ids;
    for (int64_t t = 0; t < T; t++) {
        logits[t * 3 + 0] = 0.0f;
        logits[t * 3 + 1] = (float)log(2.0);
        logits[t * 3 + 2] = (float)log(5.0);
    }
}

static void test_perplexity(void) {
    /* NLL by hand: target 2 -> -ln(5/8), target 0 -> ln 8. logsumexp of (0, ln2, ln5) is ln 8 in exact
     * arithmetic; the logits are FP32, so ln 2 and ln 5 carry a rounding of 2^-24 relative: 1e-7 slack. */
    const int32_t ids[] = {1, 2, 0, 2};
    float lg[12];
    fixed_logits(NULL, ids, 4, lg);
    double nll[3];
    perplexity_nll_window(lg, ids, 4, 3, nll);
    TEST(fabs(nll[0] - log(8.0 / 5.0)) < 1e-7 && fabs(nll[1] - log(8.0)) < 1e-7 && fabs(nll[2] - log(8.0 / 5.0)) < 1e-7,
         "NLL of each next token (%.9f %.9f %.9f)", nll[0], nll[1], nll[2]);
    /* Two windows of 4 from 9 ids (the tail id is dropped); scored: ids 1..3 and 5..7. */
    const int32_t s[] = {0, 2, 2, 0, 1, 2, 0, 0, 1};
    TEST(perplexity_n_windows(9, 4, 0) == 2 && perplexity_n_windows(9, 4, 1) == 1 && perplexity_n_windows(3, 4, 0) == 0,
         "window count: floor(n / ctx), capped");
    struct perplexity_result res;
    double all[6];
    perplexity_run(fixed_logits, NULL, 3, s, 9, 4, 2, all, &res);
    /* Targets 2 2 0 | 2 0 0: NLLs a a b | a b b with a = ln(8/5), b = ln 8: mean (3a + 3b) / 6. */
    double a = log(8.0 / 5.0), b = log(8.0), mean = (a + b) / 2;
    TEST(res.n_tokens == 6 && res.n_windows == 2, "tokens scored = windows x (ctx - 1)");
    TEST(fabs(res.nll_mean - mean) < 1e-7 && fabs(res.ppl - exp(mean)) < 1e-6 * exp(mean),
         "ppl = exp(mean NLL) = %.6f (hand %.6f)", res.ppl, exp(mean));
    /* Delta method: sd of {a,a,b,a,b,b} = |b - a| sqrt(6/4) / 2 ... computed directly. */
    double sd = stats_stddev(all, 6);
    TEST(fabs(res.ppl_stderr - res.ppl * sd / sqrt(6.0)) < 1e-12, "ppl stderr = ppl sd / sqrt(n)");
    /* Window means (2a + b)/3 and (a + 2b)/3: sd = |b - a| / (3 sqrt 2) x sqrt 2 ... checked numerically. */
    double wm[2] = {(2 * a + b) / 3, (a + 2 * b) / 3};
    TEST(fabs(res.ppl_stderr_windows - res.ppl * stats_stderr(wm, 2)) < 1e-6 * res.ppl, "ppl stderr over windows");
}

/* ---- KL divergence ---- */

static void test_kld(void) {
    /* V = 2: P = (1/2, 1/2) (a tie: argmax is the first index), Q = (1/4, 3/4). By hand:
     * KL = 1/2 ln(2) + 1/2 ln(2/3); top-1 differs (0 vs 1); dp for target 1 = 3/4 - 1/2. */
    const int32_t ids[] = {0, 1};
    float p[4] = {0, 0, 0, 0}, q[4] = {0, (float)log(3.0), 0, 0};
    double kld[1], dp[1], top1[1];
    kld_window(p, q, ids, 2, 2, kld, dp, top1);
    double want = 0.5 * log(2.0) + 0.5 * log(2.0 / 3.0);
    TEST(fabs(kld[0] - want) < 1e-7, "KL((1/2,1/2) || (1/4,3/4)) = %.9f (hand %.9f)", kld[0], want);
    TEST(top1[0] == 0 && fabs(dp[0] - 0.25) < 1e-7, "top-1 disagreement and delta-p = +0.25");
    /* Identical logits: exactly zero KL, full agreement, zero delta-p (the bf16-against-itself case). */
    const int64_t T = 33, V = 1000;
    float *z = xmalloc((size_t)(T * V) * sizeof *z);
    int32_t *zi = xmalloc((size_t)T * sizeof *zi);
    struct rng r;
    rng_init(&r, 17);
    for (int64_t i = 0; i < T * V; i++) z[i] = (float)(3 * rng_normal(&r));
    for (int64_t t = 0; t < T; t++) zi[t] = (int32_t)rng_below(&r, V);
    double k2[32], d2[32], t2[32];
    kld_window(z, z, zi, T, V, k2, d2, t2);
    int zero = 1;
    for (int i = 0; i < 32; i++) zero &= k2[i] == 0.0 && d2[i] == 0.0 && t2[i] == 1.0;
    TEST(zero, "identical logits give KL exactly 0, top-1 1, delta-p 0");
    struct kld_result res;
    kld_summarize(k2, d2, t2, 32, 100, 4, 1, &res);
    TEST(res.kld_mean.value == 0 && res.kld_p99.hi == 0 && res.top1_agree.lo == 1 && res.rms_dp.value == 0,
         "summary of a perfect match: all zero, agreement 1");
    /* A shifted copy (every logit + 5) is the same distribution: KL 0 up to rounding. */
    float *z2 = xmalloc((size_t)(T * V) * sizeof *z2);
    for (int64_t i = 0; i < T * V; i++) z2[i] = z[i] + 5.0f;
    kld_window(z, z2, zi, T, V, k2, d2, t2);
    double mx = 0;
    for (int i = 0; i < 32; i++) mx = fmax(mx, fabs(k2[i]));
    TEST(mx < 1e-9, "softmax shift invariance: |KL| %.2e < 1e-9", mx);
    free(z), free(z2), free(zi);

    /* The reference file round trip. */
    char path[128];
    snprintf(path, sizeof path, "%s/ref.bin", TMP);
    struct kld_ref w, rd;
    float h[2][6];
    for (int i = 0; i < 12; i++) h[i / 6][i % 6] = (float)i * 0.5f;
    kld_ref_create(&w, path, 2, 3, 2);
    kld_ref_append(&w, h[0]);
    kld_ref_append(&w, h[1]);
    kld_ref_close(&w);
    float back[6];
    int ok = kld_ref_open(&rd, path, 2, 3, 2) == 0;
    if (ok) {
        kld_ref_read(&rd, 1, back);
        ok = memcmp(back, h[1], sizeof back) == 0;
        kld_ref_close(&rd);
    }
    TEST(ok, "reference file: write, reopen, read window 1");
    TEST(kld_ref_open(&rd, path, 3, 3, 2) == -1, "reference file with other dimensions is a miss");
}

/* ---- corpora ---- */

static void write_file(const char *path, const char *s) { file_write_atomic(path, s, strlen(s)); }

/* Runs f in a child with stderr captured; returns the exit status and the first stderr line in msg. */
static int run_child(void (*f)(void), char *msg, size_t n) {
    char errpath[128];
    snprintf(errpath, sizeof errpath, "%s/child.err", TMP);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        if (!freopen(errpath, "w", stderr)) _exit(99);
        f();
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    msg[0] = 0;
    FILE *e = fopen(errpath, "r");
    if (e) {
        if (!fgets(msg, (int)n, e)) msg[0] = 0;
        fclose(e);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the e03 reference cache: damaged copies and failed writes (issue 9 item 3) ---- */

static char g_ref_path[256];

/* A full disk, simulated: RLIMIT_FSIZE makes write() fail with EFBIG past 4 KiB (SIGXFSZ ignored); the
 * reference being written needs 2 x 64 x 64 x 4 = 32 KiB. */
static void ref_write_full_disk(void) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    struct kld_ref w;
    float *h = xcalloc(64 * 64, sizeof *h);
    kld_ref_create(&w, g_ref_path, 2, 64, 64);
    kld_ref_append(&w, h);
    kld_ref_append(&w, h);
    kld_ref_close(&w);
}

static void ref_open_child(void) {
    struct kld_ref rd;
    int r = kld_ref_open(&rd, g_ref_path, 2, 3, 2);
    fflush(stderr);   /* a freopen()ed stderr is buffered, and _exit() does not flush */
    _exit(r == -1 ? 3 : 4);
}

static int ref_tmp_left(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d))) any |= strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    return any;
}

static void write_ref(const char *path, const float *h0, const float *h1) {
    struct kld_ref w;
    kld_ref_create(&w, path, 2, 3, 2);
    kld_ref_append(&w, h0);
    kld_ref_append(&w, h1);
    kld_ref_close(&w);
}

static void test_kld_ref_cache(void) {
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/refcache", TMP);
    mkdir_p(dir);
    snprintf(g_ref_path, sizeof g_ref_path, "%s/m-wikitext2-0123456789abcdef.bin", dir);
    float h[2][6];
    for (int i = 0; i < 12; i++) h[i / 6][i % 6] = (float)i * 0.25f;
    write_ref(g_ref_path, h[0], h[1]);
    size_t n;
    char *good = file_read_all(g_ref_path, &n);   /* 40 + 2 * 3 * 2 * 4 = 88 bytes */

    /* Truncated (a copy cut short), at every length in the data and in the header: a warning naming the
     * file, then a miss (the caller recomputes); never a die(), never a read of the short data. */
    int all_miss = 1, all_warn = 1;
    const size_t cuts[] = {0, 7, 39, 40, 41, 87};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        file_write_atomic(g_ref_path, good, cuts[c]);
        int st = run_child(ref_open_child, err, sizeof err);
        all_miss &= st == 3;
        all_warn &= cuts[c] == 0 || (strstr(err, g_ref_path) && strstr(err, "recomputing") != NULL);
    }
    TEST(all_miss && all_warn && n == 88, "e03 reference cache truncated (0..87 of 88 bytes): a warning and a miss");

    /* One byte longer: also a miss (the size is exact). */
    char *longer = xmalloc(n + 1);
    memcpy(longer, good, n);
    longer[n] = 0;
    file_write_atomic(g_ref_path, longer, n + 1);
    int st = run_child(ref_open_child, err, sizeof err);
    TEST(st == 3 && strstr(err, "89 bytes, expected 88"), "e03 reference cache with trailing bytes: a warning and a miss");
    free(longer);

    /* A bad magic and a bad version: warnings and misses, not errors. */
    char *bad = xmalloc(n);
    memcpy(bad, good, n);
    bad[0] = 'X';
    file_write_atomic(g_ref_path, bad, n);
    st = run_child(ref_open_child, err, sizeof err);
    TEST(st == 3 && strstr(err, "magic"), "e03 reference cache with a bad magic: a warning and a miss");
    memcpy(bad, good, n);
    bad[8] = 9;
    file_write_atomic(g_ref_path, bad, n);
    st = run_child(ref_open_child, err, sizeof err);
    TEST(st == 3 && strstr(err, "version"), "e03 reference cache with version 9: a warning and a miss");

    /* The recompute replaces the damaged copy; what is read back is what was written. */
    write_ref(g_ref_path, h[0], h[1]);
    struct kld_ref rd;
    float back[6];
    int ok = kld_ref_open(&rd, g_ref_path, 2, 3, 2) == 0;
    if (ok) {
        kld_ref_read(&rd, 1, back);
        ok = !memcmp(back, h[1], sizeof back);
        kld_ref_close(&rd);
    }
    TEST(ok, "e03 reference cache rewritten over a damaged copy reads back exactly");

    /* An injected write failure (a full disk) while recomputing: exit 1 with one line, no temporary left, the
     * old file untouched (the new one is renamed into place only when complete). */
    st = run_child(ref_write_full_disk, err, sizeof err);
    size_t n2;
    char *after = file_read_all(g_ref_path, &n2);
    TEST(st == 1 && strstr(err, ".tmp.") && strstr(err, "write error") && !ref_tmp_left(dir) && n2 == n && !memcmp(after, good, n),
         "e03 reference cache write fails (RLIMIT_FSIZE): exit 1, no partial file, old cache intact");
    free(after);
    /* The same with no previous file: nothing at all is left. */
    unlink(g_ref_path);
    st = run_child(ref_write_full_disk, err, sizeof err);
    TEST(st == 1 && !ref_tmp_left(dir) && !file_exists(g_ref_path),
         "e03 reference cache write fails with no previous file: nothing left behind");
    free(bad), free(good);
}

static void load_wikitext_child(void) {
    struct dataset_text d;
    dataset_load(&d, DATASET_WIKITEXT2, NULL);
}

static void test_corpora(void) {
    /* WikiText rows: " \n" -> "", " = A = \n" kept, " \n" -> "", " text\n" kept; joined with "\n\n". */
    const char *raw = " \n = A = \n \n text\n";
    size_t n;
    char *j = dataset_wikitext2_join(raw, strlen(raw), &n);
    TEST(!strcmp(j, "\n\n = A = \n\n\n\n\n text\n") && n == strlen(j), "WikiText-2 rows joined with \"\\n\\n\"");
    free(j);
    const char *jl = "{\"text\":\"a b\",\"url\":\"u\"}\n{\"text\":\"c\\nd\"}\n{\"text\":\"e\"}\n";
    j = dataset_c4_join(jl, strlen(jl), 0, 2, "t", &n);
    TEST(!strcmp(j, "a b c\nd"), "C4 documents [0, 2) joined with \" \"");
    free(j);
    j = dataset_c4_join(jl, strlen(jl), 2, 3, "t", &n);
    TEST(!strcmp(j, "e"), "C4 documents [2, 3) (the calibration side)");
    free(j);

    /* Hash pinning: a file with other bytes is a mismatch that names both hashes. */
    char dir[128], path[192], err[512], found[SHA256_HEX_LEN];
    snprintf(dir, sizeof dir, "%s/data", TMP);
    snprintf(path, sizeof path, "%s/wikitext-2/wiki.test.raw", dir);
    mkdir_parent(path);
    write_file(path, " = not WikiText = \n");
    const struct dataset_file *f = dataset_file_by_name("wikitext-2/wiki.test.raw");
    int rc = dataset_verify(path, f->name, f->sha256, err, sizeof err, found);
    TEST(rc == -1 && strstr(err, f->sha256) && strstr(err, found) && strstr(err, "mismatch"),
         "hash mismatch reported with expected and found hash");
    /* dataset_load on that file dies (exit 1) naming both hashes. */
    setenv("QL_DATA_DIR", dir, 1);
    char msg[1024];
    int code = run_child(load_wikitext_child, msg, sizeof msg);
    TEST(code == 1 && strstr(msg, "sha256 mismatch") && strstr(msg, f->sha256),
         "dataset_load dies on a hash mismatch (exit %d: %.80s...)", code, msg);
    char *p = dataset_find(f->name, NULL);
    TEST(p && !strcmp(p, path), "QL_DATA_DIR comes first in the search order");
    free(p);
    p = dataset_find(f->name, "/nonexistent");
    TEST(p && !strcmp(p, path), "an explicit directory without the file falls through to QL_DATA_DIR");
    free(p);
    unsetenv("QL_DATA_DIR");
    TEST(dataset_corpus_by_name("c4") == DATASET_C4 && dataset_corpus_by_name("c5") == -1, "corpus names");
}

/* The real pinned files, where the shared data folder exists. */
static void test_shared_data(const char *shared) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", shared);
    for (int i = 0; i < dataset_file_count(); i++) {
        const struct dataset_file *f = dataset_file_at(i);
        char *p = dataset_find(f->name, dir);
        char err[512], found[SHA256_HEX_LEN];
        TEST(p && dataset_verify(p, f->name, f->sha256, err, sizeof err, found) == 0, "%s: pinned sha256 matches",
             f->name);
        free(p);
    }
    struct dataset_text d;
    TEST(dataset_load(&d, DATASET_WIKITEXT2, dir) == 0, "WikiText-2 loads");
    /* 4358 lines of 1,290,590 bytes, 1467 of them blank (" \n", 2 bytes, dropped): joined length
     * = 1290590 - 2 * 1467 + 2 * 4357 separators = 1296370. The text starts with the blank first row. */
    TEST(d.len == 1296370 && !strncmp(d.text, "\n\n = Robert Boulter = \n", 23), "WikiText-2 joined: %zu bytes",
         d.len);
    dataset_text_free(&d);
    TEST(dataset_load(&d, DATASET_C4, dir) == 0 && d.len > 1000000, "C4 evaluation documents load (%zu bytes)", d.len);
    dataset_text_free(&d);
    TEST(dataset_load(&d, DATASET_C4_CALIB, dir) == 0 && d.len > 1000000, "C4 calibration documents load");
    dataset_text_free(&d);
}

/* One table of pins (issue 9 item 5): the Makefile's `make data` runs `ql data-verify` over dataset.c's table
 * and keeps no hash of its own, so the two can never disagree again. */
static void test_makefile_table(void) {
    if (!file_exists("Makefile")) {
        printf("skip Makefile data table (not run from the repository root)\n");
        return;
    }
    char *mk = file_read_all("Makefile", NULL);
    int none = 1;
    for (int i = 0; i < dataset_file_count(); i++) {
        const struct dataset_file *f = dataset_file_at(i);
        none &= strstr(mk, f->sha256) == NULL && (!f->url_sha256 || strstr(mk, f->url_sha256) == NULL);
    }
    const char *data = strstr(mk, "\ndata: ");
    TEST(none, "the Makefile holds none of dataset.c's sha256 pins (one table)");
    TEST(data && strstr(data, "build/bin/ql data-verify"), "make data runs ql data-verify (dataset.c's table)");
    free(mk);
}

/* ---- the sampling fallback ---- */

int main(void) {
    check_set_progname("test_eval");
    snprintf(TMP, sizeof TMP, "/tmp/test_eval.XXXXXX");
    CHECK(mkdtemp(TMP), "mkdtemp");
    test_stats();
    test_perplexity();
    test_kld();
    test_corpora();
    test_kld_ref_cache();
    test_makefile_table();
    const char *env = getenv("QL_SHARED_DIR");
    char shared[512];
    snprintf(shared, sizeof shared, "%s", env && *env ? env : "../shared");
    char probe[600];
    snprintf(probe, sizeof probe, "%s/data/wikitext-2/wiki.test.raw", shared);
    if (file_exists(probe)) test_shared_data(shared);
    else printf("skip pinned data files: %s not found (set QL_SHARED_DIR)\n", probe);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    if (system(cmd) != 0) warn("could not remove %s", TMP);
    return TEST_REPORT();
}
