/* check_swiglu -- kernels/swiglu.cu (and the device fastexp of kernels/fastexp.cuh it uses) against the twins
 * swiglu_ref and fastexp (src/ops/swiglu.c, src/ops/fastexp.c): bit-exact, bound 0 ulps. fastexp is swept over
 * 2^22 evenly spaced points of [-110, 95] (both clamps, the subnormal range, overflow) plus +-0, +-Inf, NaN;
 * swiglu over awkward lengths (1, 2, 3, 5, 7, 255 .. 257, 1023) with g spread over [-100, 100] (g < -88.7 makes
 * e^-g overflow: h = -0) and in place. Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "ops/fastexp.h"
#include "ops/swiglu.h"
#include "swiglu.h"
#include "test.h"

static int same_bits(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }

static void check_fastexp(void) {
    const int64_t n = (1 << 22) + 6;
    float *x = (float *)xmalloc(sizeof(float) * n), *got = (float *)xmalloc(sizeof(float) * n), *dx;
    for (int64_t i = 0; i < n - 6; i++) x[i] = (float)(-110.0 + 205.0 * (double)i / (double)(n - 7));
    const float sp[6] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.72283935546875f};
    memcpy(x + n - 6, sp, sizeof sp);
    CUDA_CHECK(cudaMalloc(&dx, sizeof(float) * n));
    CUDA_CHECK(cudaMemcpy(dx, x, sizeof(float) * n, cudaMemcpyHostToDevice));
    fastexp_cuda(dx, dx, n, NULL);
    CUDA_CHECK(cudaMemcpy(got, dx, sizeof(float) * n, cudaMemcpyDeviceToHost));
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!same_bits(got[i], fastexp(x[i])) && bad++ < 10)
            printf("  mismatch at x=%.9g: got %.9g ref %.9g\n", (double)x[i], (double)got[i], (double)fastexp(x[i]));
    TEST(bad == 0, "fastexp device == host over %lld points of [-110, 95] and specials (%lld mismatches, bound 0)",
         (long long)n, (long long)bad);
    CUDA_CHECK(cudaFree(dx));
    free(x);
    free(got);
}

static void check_case(int64_t n, int in_place, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    float *g = (float *)xmalloc(sizeof(float) * n), *u = (float *)xmalloc(sizeof(float) * n);
    float *ref = (float *)xmalloc(sizeof(float) * n), *got = (float *)xmalloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++) {
        g[i] = (float)(rng_uniform(&r) < 0.05 ? 200.0 * rng_uniform(&r) - 100.0 : 3.0 * rng_normal(&r));
        u[i] = (float)rng_normal(&r);
    }
    float *dg, *du, *dh;
    CUDA_CHECK(cudaMalloc(&dg, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&du, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&dh, sizeof(float) * n));
    CUDA_CHECK(cudaMemcpy(dg, g, sizeof(float) * n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(du, u, sizeof(float) * n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dh, 0xFF, sizeof(float) * n));
    float *out = in_place ? dg : dh;
    swiglu_cuda(out, dg, du, n, NULL);
    CUDA_CHECK(cudaMemcpy(got, out, sizeof(float) * n, cudaMemcpyDeviceToHost));
    swiglu_ref(ref, g, u, n);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!same_bits(got[i], ref[i]) && bad++ < 10)
            printf("  mismatch at %lld: got %.9g ref %.9g\n", (long long)i, (double)got[i], (double)ref[i]);
    TEST(bad == 0, "swiglu n=%lld%s bit-exact (%lld mismatches, bound 0)", (long long)n, in_place ? " in place" : "",
         (long long)bad);
    CUDA_CHECK(cudaFree(dg));
    CUDA_CHECK(cudaFree(du));
    CUDA_CHECK(cudaFree(dh));
    free(g); free(u); free(ref); free(got);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_fastexp();
    const int64_t ns[] = {1, 2, 3, 5, 7, 255, 256, 257, 1023, 3 * 3072 + 1, 1 << 20};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        check_case(ns[i], 0, 10 + i);
        check_case(ns[i], 1, 30 + i);
    }
    return TEST_REPORT();
}
