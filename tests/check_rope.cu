/* check_rope -- kernels/rope.cu against its twin rope_apply_ref (src/ops/rope.c): bit-exact (the same FP32
 * table and the same two rounded products and rounded sum, kernels/rope.h), bound 0 ulps. Odd head counts, the
 * head dims of Qwen3 (64, 128) and awkward ones (2, 6), decode (T = 1) and positions deep into the context
 * (pos0 = 40000, where the FP32 angle is large). Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "ops/rope.h"
#include "rope.h"
#include "test.h"

static void check_case(int64_t T, int64_t H, int64_t Dh, int64_t pos0, double theta, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    const int64_t n = T * H * Dh, half = Dh / 2, n_pos = pos0 + T;
    float *x = (float *)xmalloc(sizeof(float) * n), *ref = (float *)xmalloc(sizeof(float) * n);
    float *got = (float *)xmalloc(sizeof(float) * n), *inv = (float *)xmalloc(sizeof(float) * half);
    float *cs = (float *)xmalloc(sizeof(float) * n_pos * half), *sn = (float *)xmalloc(sizeof(float) * n_pos * half);
    for (int64_t i = 0; i < n; i++) x[i] = (float)rng_normal(&r);
    rope_inv_freq(inv, Dh, theta);
    rope_table_host(inv, half, n_pos, cs, sn);
    float *dx, *dc, *ds;
    CUDA_CHECK(cudaMalloc(&dx, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&dc, sizeof(float) * n_pos * half));
    CUDA_CHECK(cudaMalloc(&ds, sizeof(float) * n_pos * half));
    CUDA_CHECK(cudaMemcpy(dx, x, sizeof(float) * n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dc, cs, sizeof(float) * n_pos * half, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(ds, sn, sizeof(float) * n_pos * half, cudaMemcpyHostToDevice));
    rope_apply_cuda(dx, T, H, Dh, pos0, dc, ds, NULL);
    CUDA_CHECK(cudaMemcpy(got, dx, sizeof(float) * n, cudaMemcpyDeviceToHost));
    memcpy(ref, x, sizeof(float) * n);
    rope_apply_ref(ref, T, H, Dh, pos0, inv);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&got[i], &ref[i], 4) != 0 && bad++ < 10)
            printf("  mismatch at %lld: got %.9g ref %.9g\n", (long long)i, (double)got[i], (double)ref[i]);
    TEST(bad == 0, "rope T=%lld H=%lld D_h=%lld pos0=%lld theta=%g bit-exact (%lld mismatches, bound 0)", (long long)T,
         (long long)H, (long long)Dh, (long long)pos0, theta, (long long)bad);
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dc));
    CUDA_CHECK(cudaFree(ds));
    free(x); free(ref); free(got); free(inv); free(cs); free(sn);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_case(1, 1, 2, 0, 1e4, 1);
    check_case(3, 5, 6, 2, 1e4, 2);
    check_case(7, 3, 64, 0, 1e4, 3);
    check_case(17, 16, 128, 0, 1e6, 4);
    check_case(1, 8, 128, 1023, 1e6, 5);
    check_case(5, 2, 128, 40000, 1e6, 6);
    check_case(129, 4, 64, 31, 1e6, 7);
    return TEST_REPORT();
}
