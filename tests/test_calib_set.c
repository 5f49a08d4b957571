/* test_calib_set -- the calibration sample (quant/calib_set.h, issue 10 "Calibration"):
 *   - calib_set_sample_windows: the same seed draws the same windows, another seed other ones; the windows are
 *     distinct, aligned on seq_len and inside the stream; a stream shorter than n_seqs x seq_len is refused;
 *     every window is reachable (over many seeds, a small stream's windows are all drawn);
 *   - with the pinned data (skipped, exit 77, when ../shared/data or models/qwen3-tiny's tokenizer is absent):
 *     calib_set_tokens on the C4 calibration documents gives n_seqs x seq_len ids, the same for the same seed
 *     and different for another; no drawn window of 64 tokens occurs anywhere in the evaluation streams (the C4
 *     evaluation documents and WikiText-2 test, as e02 / e03 / e05 tokenize them): the no-overlap property;
 *     asking for 512 x 2048 tokens (more than the 535,887 the documents hold) exits 1 with one line naming how
 *     many tokens the source holds; the training-corpus option holds 512 x 2048 (skipped without the file). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "data/dataset.h"
#include "data/train_corpus.h"
#include "model/tokenizer.h"
#include "quant/calib_set.h"
#include "test.h"

#define TINY "models/qwen3-tiny"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_windows(void) {
    int64_t a[50], b[50], c[50];
    TEST(calib_set_sample_windows(100000, 50, 512, 7, a) == 0 && calib_set_sample_windows(100000, 50, 512, 7, b) == 0 &&
         !memcmp(a, b, sizeof a), "same seed: the same 50 windows");
    TEST(calib_set_sample_windows(100000, 50, 512, 8, c) == 0 && memcmp(a, c, sizeof a) != 0,
         "another seed: other windows");
    qsort(a, 50, sizeof *a, cmp_i64);
    int ok = 1;
    for (int i = 0; i < 50; i++) {
        ok &= a[i] % 512 == 0 && a[i] >= 0 && a[i] + 512 <= 100000;
        if (i) ok &= a[i] != a[i - 1];
    }
    TEST(ok, "windows distinct, aligned on 512, inside the 100000-token stream");
    TEST(calib_set_sample_windows(50 * 512 - 1, 50, 512, 7, a) == -1 && calib_set_sample_windows(50 * 512, 50, 512, 7, a) == 0,
         "50 x 512 tokens: one token short is refused, exactly enough accepted");
    /* W = 10 windows, 3 drawn per seed: over 200 seeds every window is drawn at least once. */
    int seen[10] = {0}, all = 1;
    for (uint64_t s = 0; s < 200; s++) {
        int64_t w[3];
        calib_set_sample_windows(10 * 64 + 5, 3, 64, s, w);
        for (int i = 0; i < 3; i++) seen[w[i] / 64] = 1;
    }
    for (int i = 0; i < 10; i++) all &= seen[i];
    TEST(all, "every window of a 10-window stream is drawn by some seed");
}

/* Rolling-free check: sort the hashes of every L-gram of the evaluation streams, look each drawn window up, and
 * confirm a hash match by comparing the ids. */
struct gram { uint64_t h; const int32_t *p; };

static uint64_t hash_ids(const int32_t *p, int64_t L) {
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a over the ids' bytes */
    for (int64_t i = 0; i < L; i++) {
        uint32_t v = (uint32_t)p[i];
        for (int k = 0; k < 4; k++) h = (h ^ ((v >> (8 * k)) & 0xff)) * 1099511628211ULL;
    }
    return h;
}

static int cmp_gram(const void *a, const void *b) {
    uint64_t x = ((const struct gram *)a)->h, y = ((const struct gram *)b)->h;
    return (x > y) - (x < y);
}

static int64_t overlaps(const int32_t *ids, int64_t n_win, int64_t L, const struct dataset_tokens *ev, int n_ev) {
    int64_t n = 0;
    for (int i = 0; i < n_ev; i++) n += ev[i].n >= L ? ev[i].n - L + 1 : 0;
    struct gram *g = xmalloc((size_t)n * sizeof *g);
    int64_t k = 0;
    for (int i = 0; i < n_ev; i++)
        for (int64_t t = 0; t + L <= ev[i].n; t++) g[k].h = hash_ids(ev[i].ids + t, L), g[k].p = ev[i].ids + t, k++;
    qsort(g, (size_t)n, sizeof *g, cmp_gram);
    int64_t hits = 0;
    for (int64_t w = 0; w < n_win; w++) {
        struct gram key = {hash_ids(ids + w * L, L), NULL};
        struct gram *f = bsearch(&key, g, (size_t)n, sizeof *g, cmp_gram);
        if (!f) continue;
        while (f > g && f[-1].h == key.h) f--;
        for (; f < g + n && f->h == key.h; f++)
            if (!memcmp(f->p, ids + w * L, (size_t)L * sizeof *ids)) { hits++; break; }
    }
    free(g);
    return hits;
}

static void test_data(const struct tokenizer *tok) {
    struct calib_set cs;
    calib_set_init(&cs, NULL, 512, 64, 1000001);
    struct dataset_tokens a = {0}, b = {0}, c = {0};
    calib_set_tokens(&cs, tok, TINY, &a);
    calib_set_tokens(&cs, tok, TINY, &b);
    cs.sample_seed = 1000002;
    calib_set_tokens(&cs, tok, TINY, &c);
    TEST(a.n == 512 * 64 && b.n == a.n && !memcmp(a.ids, b.ids, (size_t)a.n * sizeof *a.ids),
         "C4 calibration: 512 x 64 ids, the same for the same seed");
    TEST(c.n == a.n && memcmp(a.ids, c.ids, (size_t)a.n * sizeof *a.ids) != 0, "another seed: another sample");
    struct dataset_tokens ev[2] = {{0}, {0}};
    CHECK(dataset_tokens_load(&ev[0], DATASET_C4, NULL, tok) == 0, "c4 evaluation documents");
    CHECK(dataset_tokens_load(&ev[1], DATASET_WIKITEXT2, NULL, tok) == 0, "wikitext-2 test");
    const int64_t hits = overlaps(a.ids, 512, 64, ev, 2) + overlaps(c.ids, 512, 64, ev, 2);
    TEST(hits == 0, "no overlap: none of 2 x 512 drawn 64-token windows occurs in the C4 evaluation documents "
         "(%lld tokens) or WikiText-2 test (%lld tokens): %lld found", (long long)ev[0].n, (long long)ev[1].n,
         (long long)hits);
    /* Control: the check finds a window that is there (a piece of the evaluation stream itself). */
    TEST(overlaps(ev[0].ids + 1000, 1, 64, ev, 2) == 1, "control: an evaluation window is found by the same check");
    dataset_tokens_free(&a), dataset_tokens_free(&b), dataset_tokens_free(&c);
    dataset_tokens_free(&ev[0]), dataset_tokens_free(&ev[1]);
    calib_set_free(&cs);

    /* Too few tokens: a child asks for 512 x 2048; expected exit 1 and one line naming the source's count. */
    char path[] = "/tmp/test_calib_set.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        struct calib_set big;
        calib_set_init(&big, NULL, 512, 2048, 1000001);
        struct dataset_tokens t = {0};
        calib_set_tokens(&big, tok, TINY, &t);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char buf[1024] = {0};
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    int lines = 0;
    for (ssize_t i = 0; i < got; i++) lines += buf[i] == '\n';
    TEST(WIFEXITED(status) && WEXITSTATUS(status) == 1 && lines == 1 && strstr(buf, "hold 535887 tokens") &&
         strstr(buf, "512 x 2048 = 1048576"), "512 x 2048: exit 1 with one line: %.*s", (int)(got > 0 ? got - 1 : 0), buf);
}

/* The training-corpus option: the full protocol's GPTQ 512 x 2048 fits there. */
static void test_train(const struct tokenizer *tok) {
    struct calib_set cs;
    calib_set_init(&cs, NULL, 512, 2048, 1000001);
    calib_set_use_train(&cs);
    struct dataset_tokens a = {0}, b = {0};
    calib_set_tokens(&cs, tok, TINY, &a);
    calib_set_tokens(&cs, tok, TINY, &b);
    TEST(cs.source == CALIB_SOURCE_TRAIN && a.n == 512 * 2048 && b.n == a.n &&
         !memcmp(a.ids, b.ids, (size_t)a.n * sizeof *a.ids), "train corpus: 512 x 2048 ids, the same for the same seed");
    dataset_tokens_free(&a), dataset_tokens_free(&b);
    calib_set_free(&cs);
}

int main(void) {
    check_set_progname("test_calib_set");
    test_windows();
    char *c4 = dataset_find(dataset_corpus_file(DATASET_C4_CALIB)->name, NULL);
    char *wt = dataset_find(dataset_corpus_file(DATASET_WIKITEXT2)->name, NULL);
    if (!c4 || !wt || !file_exists(TINY "/tokenizer.json")) {
        printf("SKIP: the pinned C4 slice / WikiText-2 test or %s/tokenizer.json not found (data checks)\n", TINY);
        free(c4), free(wt);
        return TEST_REPORT() ? 1 : 77;
    }
    struct tokenizer *tok = tokenizer_load(TINY);
    test_data(tok);
    char *tc = train_corpus_find();
    if (tc) test_train(tok);
    else printf("SKIP: %s not found (training-corpus option)\n", TRAIN_CORPUS_NAME);
    free(tc);
    tokenizer_free(tok);
    free(c4), free(wt);
    return TEST_REPORT();
}
