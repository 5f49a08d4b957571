/* check_rmsnorm -- kernels/rmsnorm.cu against its twin rmsnorm_ref (src/ops/rmsnorm.c): bit-exact (the kernel
 * keeps the twin's summation order and rounding, kernels/rmsnorm.h), so the bound is 0 ulps, NaN matching NaN.
 * Awkward lengths (1, 2, 3, 5, 7, 127, 1023), the Qwen3 rows (D_h = 64, 128; D = 1024, 4096, 5120), a zero
 * row, outliers, a NaN row, and in place (the QK-norm). Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "ops/rmsnorm.h"
#include "rmsnorm.h"
#include "test.h"

static int same_bits(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }

static void check_case(int64_t rows, int64_t n, int in_place, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    float *x = (float *)xmalloc(sizeof(float) * rows * n), *w = (float *)xmalloc(sizeof(float) * n);
    float *ref = (float *)xmalloc(sizeof(float) * rows * n), *got = (float *)xmalloc(sizeof(float) * rows * n);
    for (int64_t i = 0; i < rows * n; i++) x[i] = (float)rng_normal(&r) * (rng_uniform(&r) < 0.01 ? 100.0f : 1.0f);
    for (int64_t i = 0; i < n; i++) w[i] = (float)(1.0 + 0.3 * rng_normal(&r));
    if (rows > 2) memset(x + n, 0, sizeof(float) * n);   /* a zero row: eps keeps it finite, result 0 */
    if (rows > 3) x[3 * n + n / 2] = NAN;                /* a NaN row stays NaN */
    float *dx, *dy, *dw;
    CUDA_CHECK(cudaMalloc(&dx, sizeof(float) * rows * n));
    CUDA_CHECK(cudaMalloc(&dy, sizeof(float) * rows * n));
    CUDA_CHECK(cudaMalloc(&dw, sizeof(float) * n));
    CUDA_CHECK(cudaMemcpy(dx, x, sizeof(float) * rows * n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dw, w, sizeof(float) * n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dy, 0xFF, sizeof(float) * rows * n));   /* poison: NaN everywhere */
    rmsnorm_cuda(in_place ? dx : dy, dx, dw, rows, n, 1e-6f, NULL);
    CUDA_CHECK(cudaMemcpy(got, in_place ? dx : dy, sizeof(float) * rows * n, cudaMemcpyDeviceToHost));
    rmsnorm_ref(ref, x, w, rows, n, 1e-6f);
    int64_t bad = 0;
    for (int64_t i = 0; i < rows * n; i++)
        if (!same_bits(got[i], ref[i]) && bad++ < 10)
            printf("  mismatch at %lld: got %.9g ref %.9g\n", (long long)i, (double)got[i], (double)ref[i]);
    TEST(bad == 0, "rmsnorm %lld x %lld%s bit-exact (%lld mismatches, bound 0)", (long long)rows, (long long)n,
         in_place ? " in place" : "", (long long)bad);
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
    CUDA_CHECK(cudaFree(dw));
    free(x);
    free(w);
    free(ref);
    free(got);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    const int64_t shapes[][2] = {{1, 1}, {3, 2}, {5, 3}, {7, 5}, {2, 7}, {9, 127}, {4, 1023}, {33, 64}, {257, 128},
                                 {5, 1024}, {6, 4096}, {3, 5120}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        check_case(shapes[i][0], shapes[i][1], 0, 100 + i);
        check_case(shapes[i][0], shapes[i][1], 1, 200 + i);
    }
    return TEST_REPORT();
}
