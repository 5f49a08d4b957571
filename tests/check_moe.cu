/* check_moe -- kernels/moe.cu (the router) against its twin moe_route_ref (src/ops/moe.c): the same expert
 * ids, and probabilities / weights within 1 ulp (kernels/moe.h: the double exp of CUDA and glibc may differ in
 * the last double bit, which changes the FP32 result only across a rounding boundary; 1 ulp covers that one
 * rounding). E = 8 (the fixture), 128 (Qwen3-30B-A3B), top_k 1, 2, 8, with and without norm_topk_prob,
 * T = 1 .. 300. Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "moe.h"
#include "ops/moe.h"
#include "test.h"

static int within_ulp(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return abs(ia - ib) <= 1;
}

static void check_case(int64_t T, int64_t E, int64_t k, int norm, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    float *lg = (float *)xmalloc(sizeof(float) * T * E), *ref = (float *)xmalloc(sizeof(float) * T * E);
    float *got = (float *)xmalloc(sizeof(float) * T * E);
    int32_t *ids = (int32_t *)xmalloc(sizeof(int32_t) * T * k), *gids = (int32_t *)xmalloc(sizeof(int32_t) * T * k);
    float *w = (float *)xmalloc(sizeof(float) * T * k), *gw = (float *)xmalloc(sizeof(float) * T * k);
    for (int64_t i = 0; i < T * E; i++) lg[i] = (float)(2.0 * rng_normal(&r));
    memcpy(ref, lg, sizeof(float) * T * E);
    moe_route_ref(ref, T, E, k, norm, ids, w);
    float *dl, *dw;
    int32_t *di;
    CUDA_CHECK(cudaMalloc(&dl, sizeof(float) * T * E));
    CUDA_CHECK(cudaMalloc(&dw, sizeof(float) * T * k));
    CUDA_CHECK(cudaMalloc(&di, sizeof(int32_t) * T * k));
    CUDA_CHECK(cudaMemcpy(dl, lg, sizeof(float) * T * E, cudaMemcpyHostToDevice));
    moe_route_cuda(dl, T, E, k, norm, di, dw, NULL);
    CUDA_CHECK(cudaMemcpy(got, dl, sizeof(float) * T * E, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(gids, di, sizeof(int32_t) * T * k, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(gw, dw, sizeof(float) * T * k, cudaMemcpyDeviceToHost));
    int64_t bad_id = 0, bad_p = 0, bad_w = 0, exact = 0;
    for (int64_t i = 0; i < T * k; i++) {
        bad_id += ids[i] != gids[i];
        bad_w += !within_ulp(w[i], gw[i]);
    }
    for (int64_t i = 0; i < T * E; i++) {
        bad_p += !within_ulp(ref[i], got[i]);
        exact += memcmp(&ref[i], &got[i], 4) == 0;
    }
    TEST(bad_id == 0 && bad_p == 0 && bad_w == 0, "moe_route T=%lld E=%lld top_k=%lld norm=%d (id mismatches %lld, "
         "p beyond 1 ulp %lld, w beyond 1 ulp %lld; %lld of %lld p bit-exact)", (long long)T, (long long)E,
         (long long)k, norm, (long long)bad_id, (long long)bad_p, (long long)bad_w, (long long)exact,
         (long long)(T * E));
    CUDA_CHECK(cudaFree(dl));
    CUDA_CHECK(cudaFree(dw));
    CUDA_CHECK(cudaFree(di));
    free(lg); free(ref); free(got); free(ids); free(gids); free(w); free(gw);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_case(1, 8, 2, 1, 1);
    check_case(7, 8, 1, 0, 2);
    check_case(300, 8, 2, 1, 3);
    check_case(5, 128, 8, 1, 4);
    check_case(129, 128, 8, 0, 5);
    return TEST_REPORT();
}
