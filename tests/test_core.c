/* test_core -- src/core: SHA-256 against FIPS 180-4 vectors, the RNG's fixed stream and distributions,
 * atomic writes, JSON round trip, and the manifest's cache key. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/cli.h"
#include "core/fileio.h"
#include "core/json_io.h"
#include "core/manifest.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "core/verify.h"
#include "fixture.h"
#include "test.h"

static void test_sha256(void) {
    /* FIPS 180-4 / NIST CSRC example vectors. */
    char hex[SHA256_HEX_LEN];
    sha256_buf("", 0, hex);
    TEST(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256 empty");
    sha256_buf("abc", 3, hex);
    TEST(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256 abc");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_buf(m448, strlen(m448), hex);
    TEST(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256 448-bit");
    /* One million 'a' fed in odd-sized pieces exercises the buffering path. */
    struct sha256_ctx c;
    uint8_t d[32];
    char a[997];
    memset(a, 'a', sizeof a);
    sha256_init(&c);
    size_t left = 1000000;
    while (left) { size_t k = left < sizeof a ? left : sizeof a; sha256_update(&c, a, k); left -= k; }
    sha256_final(&c, d);
    TEST(d[0] == 0xcd && d[1] == 0xc7 && d[31] == 0xd0, "sha256 million a");
}

static void test_rng(void) {
    /* splitmix64 reference: seed 0, first output (Vigna's splitmix64.c with x = 0) is 0xe220a8397b1dcdaf. */
    TEST(rng_hash(0, 0) == UINT64_C(0xe220a8397b1dcdaf), "rng splitmix64 reference value");
    struct rng r1, r2;
    rng_init(&r1, 42);
    rng_init(&r2, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_u64(&r1) == rng_u64(&r2);
    TEST(same, "rng same seed same stream");
    rng_init(&r1, 42);
    TEST(rng_u64(&r1) == rng_hash(42, 0) && rng_u64(&r1) == rng_hash(42, 1), "rng stream is the counter hash");
    /* Moments of N(0,1) over n = 200000 draws: the standard error of the mean is 1/sqrt(n) = 0.0022, of the
     * variance sqrt(2/n) = 0.0032; bounds at about 5 standard errors. */
    double s = 0, s2 = 0;
    int n = 200000;
    rng_init(&r1, 7);
    for (int i = 0; i < n; i++) { double x = rng_normal(&r1); s += x; s2 += x * x; }
    TEST(fabs(s / n) < 0.011 && fabs(s2 / n - 1.0) < 0.016, "rng normal moments (mean %.4f var %.4f)", s / n, s2 / n);
    /* Laplace(b=1) has variance 2. Standard error of the variance ~ sqrt(20/n) = 0.01 (kurtosis 6). */
    s2 = 0;
    for (int i = 0; i < n; i++) { double x = rng_laplace(&r1, 1.0); s2 += x * x; }
    TEST(fabs(s2 / n - 2.0) < 0.05, "rng laplace variance %.4f", s2 / n);
    uint64_t hist[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) hist[rng_below(&r1, 3)]++;
    TEST(hist[0] > 9700 && hist[1] > 9700 && hist[2] > 9700, "rng_below uniform");
}

static void test_atomic_and_json(void) {
    const char *dir = "build/tmp/test_core";
    mkdir_p(dir);
    const char *path = "build/tmp/test_core/a/b/x.json";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pi", 3.141592653589793);
    cJSON_AddNumberToObject(o, "tenth", 0.1);
    cJSON_AddStringToObject(o, "zh", "中文");
    json_write_atomic(path, o);
    cJSON *back = json_read_file(path);
    TEST(json_get_number(back, "pi", path) == 3.141592653589793, "json double round trip");
    TEST(json_get_number(back, "tenth", path) == 0.1, "json 0.1 round trip");
    TEST(!strcmp(json_get_string(back, "zh", path), "中文"), "json utf-8 string");
    size_t len;
    char *text = file_read_all(path, &len);
    TEST(len > 0 && text[len - 1] == '\n', "json file ends with newline");
    free(text);
    TEST(access("build/tmp/test_core/a/b/x.json.tmp", F_OK) != 0, "no temp file left behind");
    cJSON_Delete(o);
    cJSON_Delete(back);
}

static void test_manifest(void) {
    struct manifest a, b, c;
    const char *root = "build/tmp/test_core/results";
    manifest_init(&a, root, "e00-test", "synthetic", "nvfp4");
    manifest_param_int(&a, "seed", 1);
    manifest_param_str(&a, "dist", "gaussian");
    manifest_seal(&a);
    manifest_init(&b, root, "e00-test", "synthetic", "nvfp4");
    manifest_param_int(&b, "seed", 1);
    manifest_param_str(&b, "dist", "gaussian");
    manifest_seal(&b);
    manifest_init(&c, root, "e00-test", "synthetic", "nvfp4");
    manifest_param_int(&c, "seed", 2);
    manifest_param_str(&c, "dist", "gaussian");
    manifest_seal(&c);
    TEST(!strcmp(a.cache_key, b.cache_key), "manifest same params same key");
    TEST(strcmp(a.cache_key, c.cache_key) != 0, "manifest different seed different key");
    unlink(a.result_path);
    TEST(!manifest_cache_hit(&a), "manifest miss before writing");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "x", 1.5);
    manifest_write_result(&a, m, NULL);
    TEST(manifest_cache_hit(&b), "manifest hit after writing");
    TEST(!manifest_cache_hit(&c), "manifest miss for other params");
    TEST(file_exists(a.run_path), "timing sidecar written");
    TEST(manifest_existing_param_is(&b, "dist", "gaussian") && !manifest_existing_param_is(&b, "dist", "laplace") &&
             !manifest_existing_param_is(&b, "missing", "gaussian"),
         "manifest_existing_param_is reads the stored parameters");
    manifest_free(&a);
    manifest_free(&b);
    manifest_free(&c);
}

/* A manifest of the e00 test experiment: windows as the only parameter, optional data=sampled and inputs. */
static void mk(struct manifest *m, int windows, const char *data, int with_c4, const char *device) {
    manifest_init(m, "build/tmp/test_core/guard", "e00-guard", "tiny", "bf16");
    manifest_param_int(m, "windows", windows);
    manifest_param_str(m, "data", data);
    manifest_input_hash(m, "config.json", "aa");
    if (with_c4) manifest_input_hash(m, "c4/c4_validation_2k.jsonl", "bb");
    manifest_device(m, device);
    manifest_seal(m);
}

static cJSON *metrics2(double ppl, int with_c4) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ppl", ppl);
    if (with_c4) cJSON_AddNumberToObject(o, "ppl_c4", 2.5);
    else cJSON_AddNullToObject(o, "ppl_c4");
    return o;
}

static void write_guarded_nulls(void *arg) {
    (void)arg;
    struct manifest m;
    mk(&m, 4, "files", 1, "cpu");  /* another identity (windows), so a cache miss, and nulls for C4 */
    if (manifest_cache_hit(&m)) _exit(3);
    manifest_write_result(&m, metrics2(1.0, 0), NULL);
}

static void hit_on_corrupt(void *arg) {
    struct manifest m;
    mk(&m, 3, "files", 1, "cpu");
    (void)arg;
    manifest_cache_hit(&m);
}

/* Issue 9 item 1: identity vs device, and the evidence guard. */
static void test_manifest_identity(void) {
    struct manifest a, b, c;
    mk(&a, 3, "files", 1, "cpu openblas Zen 2 threads");
    mk(&b, 3, "files", 1, "cpu openblas Haswell 1 threads");
    TEST(!strcmp(a.cache_key, b.cache_key), "identity: the device is recorded, not part of the cache key");
    unlink(a.result_path);
    TEST(!manifest_cache_hit(&a), "identity: miss before writing");
    manifest_write_result(&a, metrics2(1.0, 1), NULL);
    size_t n1, n2;
    char *t1 = file_read_all(a.result_path, &n1);
    TEST(strstr(t1, "\"device\":\t\"cpu openblas Zen 2 threads\"") != NULL, "identity: the device is in the results file");
    TEST(manifest_cache_hit(&b), "identity: a result computed on another CPU type is a cache hit");
    /* forced rewrite (no manifest_cache_hit call) with the same numbers: byte-identical file */
    manifest_free(&a);
    mk(&a, 3, "files", 1, "cpu openblas Zen 2 threads");
    manifest_write_result(&a, metrics2(1.0, 1), NULL);
    char *t2 = file_read_all(a.result_path, &n2);
    TEST(n1 == n2 && !memcmp(t1, t2, n1), "determinism: the same run writes the same bytes");
    free(t1), free(t2);

    /* fewer inputs here (C4 missing): the committed file is kept, reported as a hit */
    mk(&c, 3, "files", 0, "cpu");
    TEST(manifest_cache_hit(&c), "guard: a run lacking an input the result used keeps it (hit with a warning)");
    manifest_free(&c);
    /* sampled text here, data files there: kept */
    mk(&c, 3, "sampled-bf16", 1, "cpu");
    TEST(manifest_cache_hit(&c), "guard: a sampled-data run keeps a file-data result");
    manifest_free(&c);
    /* a different identity whose metrics would be null where the file has numbers: refused, file unchanged */
    char err[2048];
    int st = fixture_in_child(write_guarded_nulls, NULL, err, sizeof err);
    t1 = file_read_all(a.result_path, &n1);
    TEST(st == 1 && fixture_count_lines(err) == 1 && strstr(err, "kept") && strstr(err, "ppl_c4") && strstr(err, "FORCE=1") &&
             strstr(t1, "\"ppl_c4\":\t2.5"),
         "guard: nulls where the committed file has numbers -> exit 1, one line naming the metric and FORCE=1, file kept");
    free(t1);
    /* forced (the driver skipped manifest_cache_hit): replaced */
    mk(&c, 4, "files", 0, "cpu");
    manifest_write_result(&c, metrics2(1.0, 0), NULL);
    t1 = file_read_all(a.result_path, &n1);
    TEST(strstr(t1, "\"ppl_c4\":\tnull") != NULL, "guard: FORCE=1 replaces it");
    free(t1);
    manifest_free(&c);
    /* a corrupt results file: one line saying how to recover */
    FILE *f = xfopen(a.result_path, "w");
    fputs("{\"experiment\": \"e00-guard\", \"metr", f);
    xfclose(f, a.result_path);
    st = fixture_in_child(hit_on_corrupt, NULL, err, sizeof err);
    TEST(st == 1 && fixture_count_lines(err) == 1 && strstr(err, "corrupt results file") && strstr(err, "FORCE=1") &&
             strstr(err, "git checkout"),
         "corrupt results file -> exit 1, one line with the way out (git checkout / FORCE=1)");
    manifest_free(&a);
    manifest_free(&b);
}

/* A full disk, simulated: RLIMIT_FSIZE makes write() fail with EFBIG past 4 KiB (SIGXFSZ ignored). */
static void small_disk(void) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
}

static void write_big(void *path) {
    small_disk();
    size_t n = 1 << 20;
    char *buf = xcalloc(n, 1);
    file_write_atomic(path, buf, n);
}

static void dir_then_die(void *path) {
    struct fileio_tmp t;
    fileio_tmp_begin(&t, path, 1);
    char p[512];
    snprintf(p, sizeof p, "%s/model.safetensors", t.tmp);
    FILE *f = xfopen(p, "w");
    fputs("half", f);
    xfclose(f, p);
    die("%s: simulated failure while writing the folder", (const char *)path);
}

static int any_tmp_left(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d))) any |= strstr(e->d_name, ".tmp") != NULL || strstr(e->d_name, ".old") != NULL;
    closedir(d);
    return any;
}

/* Issue 9 item 3: every writer cleans up after itself on every error path. */
static void test_writers_clean_up(void) {
    const char *dir = "build/tmp/test_core/full";
    fileio_remove_tree(dir);
    mkdir_p(dir);
    char path[256], err[2048];
    snprintf(path, sizeof path, "%s/result.json", dir);
    file_write_atomic(path, "old\n", 4);
    int st = fixture_in_child(write_big, path, err, sizeof err);
    size_t n;
    char *txt = file_read_all(path, &n);
    TEST(st == 1 && fixture_count_lines(err) == 1 && strstr(err, "write failed") && !any_tmp_left(dir) && n == 4 && !memcmp(txt, "old\n", 4),
         "full disk (RLIMIT_FSIZE): file_write_atomic exits 1 with one line, no temp file, old file intact");
    free(txt);
    snprintf(path, sizeof path, "%s/out-model", dir);
    st = fixture_in_child(dir_then_die, path, err, sizeof err);
    TEST(st == 1 && !any_tmp_left(dir) && !file_exists(path), "folder writer: die() mid-way leaves no temp folder");
    struct fileio_tmp t;
    fileio_tmp_begin(&t, path, 1);
    fileio_tmp_commit(&t, 0);
    TEST(file_exists(path) && !any_tmp_left(dir), "folder writer: commit renames the folder into place");
    fileio_tmp_begin(&t, path, 1);
    snprintf(err, sizeof err, "%s/marker", t.tmp);
    file_write_atomic(err, "x", 1);
    fileio_tmp_commit(&t, 1);
    snprintf(err, sizeof err, "%s/marker", path);
    TEST(file_exists(err) && !any_tmp_left(dir), "folder writer: replace swaps in the new folder, removes the old");
    TEST(fileio_same_file(path, "build/tmp/test_core/full/../full/out-model") && !fileio_same_file(path, dir) &&
             !fileio_same_file(path, "build/tmp/test_core/full/none"),
         "fileio_same_file: same inode through another spelling, not for other or missing paths");
    TEST(fileio_dir_nonempty(path) && !fileio_dir_nonempty("build/tmp/test_core/full/none"), "fileio_dir_nonempty");
}

/* A minimal results file for verify_pair. */
static cJSON *res(const char *device, const char *data, double ppl, double tokens) {
    char txt[1024];
    snprintf(txt, sizeof txt,
             "{\"experiment\": \"e02-perplexity\", \"recipe\": \"bf16\", \"manifest\": {\"params\": {\"data\": \"%s\"},"
             " \"inputs\": [{\"name\": \"config.json\", \"sha256\": \"aa\"}], \"device\": \"%s\", \"binary_sha256\": \"b\"},"
             " \"metrics\": {\"ppl\": %.17g, \"tokens\": %.17g, \"data\": \"%s\"}}", data, device, ppl, tokens, data);
    return cJSON_Parse(txt);
}

/* An e02 results file with a paired ratio interval and its resolved flag. */
static cJSON *flag_res(const char *device, const char *recipe, double lo, double hi, int resolved) {
    char txt[1024];
    snprintf(txt, sizeof txt,
             "{\"experiment\": \"e02-perplexity\", \"recipe\": \"%s\", \"manifest\": {\"params\": {},"
             " \"inputs\": [], \"device\": \"%s\", \"binary_sha256\": \"b\"},"
             " \"metrics\": {\"ppl_ratio_ci95_lo\": %.17g, \"ppl_ratio_ci95_hi\": %.17g, \"ppl_ratio_resolved\": %d}}",
             recipe, device, lo, hi, resolved);
    return cJSON_Parse(txt);
}

static void test_verify(void) {
    char note[512];
    int sb, sc;
    cJSON *a = res("cpu openblas Zen 2 threads", "files", 318.18061230494152, 6141);
    cJSON *same = res("cpu openblas Zen 2 threads", "files", 318.18061230494152, 6141);
    cJSON *ulp = res("cpu openblas Zen 2 threads", "files", 318.18061230494158, 6141);
    cJSON *other = res("cpu openblas Haswell 2 threads", "files", 318.18061230494158, 6141);
    cJSON *far = res("cpu openblas Haswell 2 threads", "files", 318.18061230494152 * 1.01, 6141);
    cJSON *count = res("cpu openblas Haswell 2 threads", "files", 318.18061230494152, 6140);
    cJSON *sampled = res("cpu openblas Zen 2 threads", "sampled-bf16", 100, 6141);
    TEST(verify_pair(a, same, &sb, &sc, note, sizeof note) == VERIFY_BIT_EQUAL && sb && sc, "verify: same backend, same bits -> bit-equal");
    TEST(verify_pair(a, ulp, NULL, NULL, note, sizeof note) == VERIFY_DIFF, "verify: same backend, one ulp off -> DIFF (%s)", note);
    TEST(verify_pair(a, other, &sb, NULL, note, sizeof note) == VERIFY_WITHIN_TOL && !sb, "verify: other backend, one ulp -> within tolerance");
    TEST(verify_pair(a, far, NULL, NULL, note, sizeof note) == VERIFY_DIFF, "verify: other backend, ppl 1%% off -> DIFF (%s)", note);
    TEST(verify_pair(a, count, NULL, NULL, note, sizeof note) == VERIFY_DIFF, "verify: a token count differs -> DIFF on any backend");
    TEST(verify_pair(a, sampled, NULL, NULL, note, sizeof note) == VERIFY_SKIP, "verify: data missing here (sampled) -> skip (%s)", note);
    TEST(verify_tolerance("e01-formats", "nvfp4", "sqnr_db_gaussian").rel == 0 &&
             verify_tolerance("e02-perplexity", "nvfp4", "tokens").rel == 0 &&
             verify_tolerance("e02-perplexity", "bf16", "ppl").rel < verify_tolerance("e02-perplexity", "nvfp4", "ppl").rel,
         "verify: e01 and counts exact on any backend; weight-only recipes held tighter than activation-quantized");
    cJSON_Delete(a), cJSON_Delete(same), cJSON_Delete(ulp), cJSON_Delete(other), cJSON_Delete(far);
    cJSON_Delete(count), cJSON_Delete(sampled);

    /* A paired "resolved" flag may flip on another backend only where an interval endpoint lies within its
     * tolerance of 1 (fp8, activation-quantized: 3e-2 relative; bf16, weight-only: 1e-5). */
    cJSON *f_edge = flag_res("cpu openblas Zen 2 threads", "fp8", 0.9919, 1.0024, 0);
    cJSON *f_edge_o = flag_res("cpu openblas SkylakeX 2 threads", "fp8", 0.9890, 0.9995, 1);
    cJSON *f_far = flag_res("cpu openblas Zen 2 threads", "fp8", 0.90, 0.95, 1);
    cJSON *f_far_o = flag_res("cpu openblas SkylakeX 2 threads", "fp8", 0.90, 0.95, 0);
    cJSON *f_w = flag_res("cpu openblas Zen 2 threads", "gptq", 0.9919, 1.0024, 0);
    cJSON *f_w_o = flag_res("cpu openblas SkylakeX 2 threads", "gptq", 0.9919, 1.0024, 1);
    cJSON *f_edge_s = flag_res("cpu openblas Zen 2 threads", "fp8", 0.9919, 1.0024, 1);
    TEST(verify_pair(f_edge, f_edge_o, NULL, NULL, note, sizeof note) == VERIFY_WITHIN_TOL,
         "verify: a resolved flag flips on another backend, interval end 0.24%% from 1 -> within tolerance (%s)", note);
    TEST(verify_pair(f_far, f_far_o, NULL, NULL, note, sizeof note) == VERIFY_DIFF,
         "verify: a resolved flag flips with the interval 5%% from 1 -> DIFF (%s)", note);
    TEST(verify_pair(f_w, f_w_o, NULL, NULL, note, sizeof note) == VERIFY_DIFF,
         "verify: a weight-only recipe's flag flips 0.24%% from 1 (tolerance 1e-5) -> DIFF (%s)", note);
    TEST(verify_pair(f_edge, f_edge_s, NULL, NULL, note, sizeof note) == VERIFY_DIFF,
         "verify: on the same backend any flipped flag is a DIFF (%s)", note);
    cJSON_Delete(f_edge), cJSON_Delete(f_edge_o), cJSON_Delete(f_far), cJSON_Delete(f_far_o);
    cJSON_Delete(f_w), cJSON_Delete(f_w_o), cJSON_Delete(f_edge_s);
}

static void test_die_exit_code(void) {
    /* die() must exit 1 with a one-line message; run it in a child. */
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        json_read_file("build/tmp/test_core/does-not-exist.json");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    TEST(WIFEXITED(st) && WEXITSTATUS(st) == 1, "die on missing file exits 1");
}

static void test_cli(void) {
    TEST(cli_int("--n", "42", 1) == 42 && cli_int("--n", "0", 0) == 0, "cli_int accepts integers in range");
    /* Each bad value must be a usage error: exit status 2, in a child. */
    const char *bad[] = {"", "4x", "0", "-3", "99999999999999999999"};
    int all_usage = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stderr);
            cli_int("--n", bad[i], 1);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        all_usage &= WIFEXITED(st) && WEXITSTATUS(st) == EXIT_USAGE;
    }
    TEST(all_usage, "cli_int rejects empty, trailing junk, below min and overflow with exit 2");
}

int main(void) {
    test_cli();
    test_sha256();
    test_rng();
    test_atomic_and_json();
    test_manifest();
    test_manifest_identity();
    test_writers_clean_up();
    test_verify();
    test_die_exit_code();
    return TEST_REPORT();
}
