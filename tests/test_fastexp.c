/* test_fastexp -- fastexp_array against exp() in double: max error in ulps over a dense sweep of [-104, 89],
 * every float in the windows where the edge cases live, special values, and same bits whatever the position,
 * aliasing or scalar/array entry point. Ends with a timing against expf (printed, not asserted). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime: clang with -std=c11 hides it otherwise */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "ops/fastexp.h"
#include "test.h"

/* The bound asserted, in ulps of the exact e^x (not of its FP32 rounding): fastexp.c derives 1.20 ulp for
 * normal results (worst for e^r just below 1) and 1.15 subnormal ulps (2^-149) below 2^-126; 1.25 leaves a
 * little room for the terms the derivation rounds up, nothing more. Measured max: 0.994 ulp, so fastexp is
 * never more than 1 ulp from the correctly rounded result. */
#define ULP_BOUND 1.25

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ulp of the FP32 format at magnitude |v| (v a double): 2^(e - 23) for v in [2^e, 2^(e+1)), and 2^-149 in
 * the subnormal range. */
static double ulp_at(double v) {
    v = fabs(v);
    if (v < 0x1p-126) return 0x1p-149;
    int e;
    frexp(v, &e); /* v = m 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 1 - 23);
}

struct sweep {
    double max_ulp;
    float worst_x;
    int64_t n, n_bad_special, n_exact;
};

/* Error of one value: the exact e^x is approximated by exp() in double (error < 2^-52 relative, far below
 * the FP32 ulp). Values whose exact result overflows FP32 must give +inf; values that underflow below
 * 2^-150 must give +0. */
static void check_one(struct sweep *s, float x, float y) {
    double ref = exp((double)x);
    float ref_f = (float)ref;
    s->n++;
    if (isinf(ref_f) || ref_f == 0.0f) {
        if (f2u(y) != f2u(ref_f)) {
            if (s->n_bad_special++ < 5) printf("  x=%a: got %a, want %a\n", (double)x, (double)y, (double)ref_f);
        }
        return;
    }
    if (isinf(y) || isnan(y)) {
        if (s->n_bad_special++ < 5) printf("  x=%a: got %a, want %a\n", (double)x, (double)y, (double)ref_f);
        return;
    }
    double e = fabs((double)y - ref) / ulp_at(ref);
    if (y == ref_f) s->n_exact++;
    if (e > s->max_ulp) {
        s->max_ulp = e;
        s->worst_x = x;
    }
}

static void check_batch(struct sweep *s, const float *x, float *y, int64_t n) {
    fastexp_array(y, x, n);
    for (int64_t i = 0; i < n; i++) check_one(s, x[i], y[i]);
}

/* All floats from bit pattern lo to hi (inclusive, same sign) with a stride. */
static void sweep_bits(struct sweep *s, uint32_t lo, uint32_t hi, uint32_t stride) {
    enum { CHUNK = 4096 };
    float x[CHUNK], y[CHUNK];
    int64_t k = 0;
    for (uint64_t b = lo; b <= hi; b += stride) {
        x[k++] = u2f((uint32_t)b);
        if (k == CHUNK) {
            check_batch(s, x, y, k);
            k = 0;
        }
    }
    check_batch(s, x, y, k);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
    check_set_progname("test_fastexp");
    struct sweep s = {0};
    // Dense sweep: every 61st bit pattern in [-104, 0] and [0, 89] (about 35M values, ~0.5 s), a prime
    // stride so the samples hit every mantissa residue; then every float in the edge windows.
    sweep_bits(&s, f2u(0.0f), f2u(89.0f), 61);
    sweep_bits(&s, f2u(-0.0f), f2u(-104.0f), 61);
    const float win[][2] = {
        {-104.0f, -103.9f},   /* last subnormal -> 0 */
        {-87.5f, -87.2f},     /* normal/subnormal boundary, e^-87.34 = 2^-126 */
        {88.7f, 89.0f},       /* overflow boundary, ln FLT_MAX = 88.7228 */
        {-0.3467f, -0.3465f}, /* r = -ln2/2: n switches */
        {0.3465f, 0.3467f},   /* r = +ln2/2 */
        {-0x1p-9f, -0x1p-10f}, /* small x, result just below 1 (ulp 2^-24) */
        {0x1p-10f, 0x1p-9f},   /* small x, result just above 1 (ulp 2^-23) */
    };
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        float a = win[w][0], b = win[w][1];
        if (a < 0 && b > 0) {
            sweep_bits(&s, f2u(-0.0f), f2u(a), 1);
            sweep_bits(&s, f2u(0.0f), f2u(b), 1);
        } else if (a < 0) {
            sweep_bits(&s, f2u(b), f2u(a), 1);
        } else {
            sweep_bits(&s, f2u(a), f2u(b), 1);
        }
    }
    printf("swept %lld values: max error %.4f ulp at x=%a (exact e^x), %.2f%% correctly rounded, "
           "%lld special mismatches\n",
           (long long)s.n, s.max_ulp, (double)s.worst_x, 100.0 * (double)s.n_exact / (double)s.n,
           (long long)s.n_bad_special);
    TEST(s.max_ulp <= ULP_BOUND, "sweep [-104, 89]: max error %.4f ulp <= %.2f", s.max_ulp, ULP_BOUND);
    TEST(s.n_bad_special == 0, "sweep: overflow to +inf and underflow to +0 exactly where e^x rounds there");

    // ---- special values ----
    const float sx[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1000.0f, -1000.0f, FLT_MAX, -FLT_MAX,
                        0x1p-149f, -0x1p-149f, FLT_MIN, 88.72283935546875f, 88.72283172607422f, -103.97207f,
                        -103.972085f, 1.0f, -1.0f};
    float sy[sizeof sx / sizeof sx[0]];
    const int n_sx = (int)(sizeof sx / sizeof sx[0]);
    fastexp_array(sy, sx, n_sx);
    TEST(sy[0] == 1.0f && sy[1] == 1.0f, "exp(+-0) = 1 exactly");
    TEST(isinf(sy[2]) && sy[2] > 0, "exp(+inf) = +inf");
    TEST(f2u(sy[3]) == 0, "exp(-inf) = +0");
    TEST(isnan(sy[4]) && isnan(sy[5]), "exp(NaN) = NaN");
    TEST(isinf(sy[6]) && isinf(sy[8]), "exp(1000), exp(FLT_MAX) = +inf");
    TEST(f2u(sy[7]) == 0 && f2u(sy[9]) == 0, "exp(-1000), exp(-FLT_MAX) = +0");
    TEST(sy[10] == 1.0f && sy[11] == 1.0f && sy[12] == 1.0f, "exp(subnormal or FLT_MIN) = 1");
    TEST(isinf(sy[13]), "exp(88.72283935546875) = +inf (e^x > FLT_MAX + ulp/2)");
    TEST(isfinite(sy[14]) && fabs((double)sy[14] - exp((double)sx[14])) <= ULP_BOUND * 0x1p104,
         "exp(88.72283172607422) = %a, finite, near FLT_MAX", (double)sy[14]);
    for (int i = 15; i <= 16; i++) {
        float want = (float)exp((double)sx[i]);
        TEST(sy[i] == want, "exp(%a) = %a near 2^-150 (want %a)", (double)sx[i], (double)sy[i], (double)want);
    }
    TEST(fabs((double)sy[17] - exp(1.0)) <= ULP_BOUND * ulp_at(exp(1.0)), "exp(1) = %a", (double)sy[17]);

    // ---- determinism: position, tail padding, aliasing, scalar entry point ----
    enum { NB = 100 };
    float xs[NB], y0[NB], y1[NB + 7], y2[NB];
    for (int i = 0; i < NB; i++) xs[i] = -30.0f + 0.61f * (float)i;
    fastexp_array(y0, xs, NB);
    int same = 1;
    for (int off = 0; off < 7; off++) { /* shift by off: elements move between whole blocks and the tail */
        fastexp_array(y1 + off, xs, NB);
        same &= memcmp(y1 + off, y0, sizeof y0) == 0;
    }
    for (int n = 1; n < 40; n++) { /* every tail length */
        fastexp_array(y1, xs + 3, n);
        same &= memcmp(y1, y0 + 3, (size_t)n * sizeof(float)) == 0;
    }
    TEST(same, "same bits at any offset and tail length");
    memcpy(y2, xs, sizeof xs);
    fastexp_array(y2, y2, NB);
    TEST(memcmp(y2, y0, sizeof y0) == 0, "in place (y == x) gives the same bits");
    same = 1;
    for (int i = 0; i < NB; i++) same &= f2u(fastexp(xs[i])) == f2u(y0[i]);
    for (int i = 0; i < n_sx; i++) {
        float a = fastexp(sx[i]);
        same &= f2u(a) == f2u(sy[i]) || (isnan(a) && isnan(sy[i]));
    }
    TEST(same, "fastexp (scalar) equals fastexp_array bit for bit");
    y1[0] = 42.0f;
    fastexp_array(y1, xs, 0);
    TEST(y1[0] == 42.0f, "n = 0 writes nothing");

    // ---- timing (printed, not asserted) ----
    enum { NT = 4096, REP = 200 };
    static float tx[NT], ty[NT];
    for (int i = 0; i < NT; i++) tx[i] = -20.0f + 20.0f * (float)i / NT;
    double best_f = 1e30, best_e = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        for (int k = 0; k < REP; k++) fastexp_array(ty, tx, NT);
        best_f = fmin(best_f, now_s() - t0);
        t0 = now_s();
        for (int k = 0; k < REP; k++)
            for (int i = 0; i < NT; i++) ty[i] = expf(tx[i]);
        best_e = fmin(best_e, now_s() - t0);
    }
    printf("bench: fastexp_array %.2f ns/value, expf loop %.2f ns/value (best of 5)\n", best_f * 1e9 / (NT * REP),
           best_e * 1e9 / (NT * REP));
    return TEST_REPORT();
}
