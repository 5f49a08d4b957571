/* check_act_quant -- kernels/act_quant.cu against its twin act_quant_rows (src/ops/act_quant.c): bit-exact
 * (the codecs are the bit-exact kernels of check_quantize and the per-tensor amax is an exact max), bound 0
 * ulps, NaN matching NaN. Every activation format of the recipes (fp8-group128, mxfp8, mxfp4, mxfp4-ceil,
 * nvfp4, fp8-tensor), dynamic and static per-tensor ranges (a static amax below the data saturates), T from 1
 * (decode) to 257 (past act_quant.c's 128-row parallel split), K = 128 .. 4096, a zero tensor, and a NaN
 * that poisons a per-tensor scale. An unsupported format must be refused (act_quant_cuda_supports). Exit 77
 * "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act_quant.h"
#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "ops/act_quant.h"
#include "test.h"

static int same_bits(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }

enum fill { FILL_GAUSS, FILL_ZERO, FILL_NAN };

static void check_case(enum qformat f, float amax, int64_t T, int64_t K, enum fill fill, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    const int64_t n = T * K;
    float *x = (float *)xmalloc(sizeof(float) * n), *ref = (float *)xmalloc(sizeof(float) * n);
    float *got = (float *)xmalloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++)
        x[i] = fill == FILL_ZERO ? 0.0f : (float)(rng_normal(&r) * (rng_uniform(&r) < 0.002 ? 50.0 : 1.0));
    if (fill == FILL_NAN) x[n / 3] = NAN;
    struct qparams p;
    memset(&p, 0, sizeof p);
    p.amax = amax;
    if (f == QFORMAT_MXFP4_CEIL) p.mx_rule = E8M0_RULE_CEIL;
    p = qformat_resolve(f, &p);
    memcpy(ref, x, sizeof(float) * n);
    act_quant_rows(f, &p, ref, T, K);
    float *dx;
    void *ds;
    CUDA_CHECK(cudaMalloc(&dx, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&ds, act_quant_scratch_bytes(f, T, K)));
    CUDA_CHECK(cudaMemcpy(dx, x, sizeof(float) * n, cudaMemcpyHostToDevice));
    act_quant_cuda(f, &p, dx, T, K, ds, NULL);
    CUDA_CHECK(cudaMemcpy(got, dx, sizeof(float) * n, cudaMemcpyDeviceToHost));
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!same_bits(got[i], ref[i]) && bad++ < 10)
            printf("  mismatch at %lld: x %.9g got %.9g ref %.9g\n", (long long)i, (double)x[i], (double)got[i],
                   (double)ref[i]);
    char label[32];
    TEST(bad == 0, "act_quant %s%s %lld x %lld %s bit-exact (%lld mismatches, bound 0)",
         qformat_label(f, &p, label, sizeof label), amax > 0 ? " static" : "", (long long)T, (long long)K,
         fill == FILL_ZERO ? "zeros" : fill == FILL_NAN ? "with NaN" : "gaussian", (long long)bad);
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(ds));
    free(x); free(ref); free(got);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    const enum qformat fs[] = {QFORMAT_FP8_GROUP128, QFORMAT_MXFP8, QFORMAT_MXFP4, QFORMAT_MXFP4_CEIL, QFORMAT_NVFP4,
                               QFORMAT_FP8_TENSOR};
    const int64_t shapes[][2] = {{1, 128}, {3, 256}, {17, 1024}, {257, 384}, {8, 4096}};
    uint64_t seed = 1;
    for (size_t a = 0; a < sizeof fs / sizeof fs[0]; a++) {
        const int per_tensor = fs[a] == QFORMAT_NVFP4 || fs[a] == QFORMAT_FP8_TENSOR;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            check_case(fs[a], 0.0f, shapes[s][0], shapes[s][1], FILL_GAUSS, seed++);
            if (per_tensor) check_case(fs[a], 2.5f, shapes[s][0], shapes[s][1], FILL_GAUSS, seed++);
        }
        check_case(fs[a], 0.0f, 4, 256, FILL_ZERO, seed++);
        check_case(fs[a], 0.0f, 4, 256, FILL_NAN, seed++);
    }
    TEST(!act_quant_cuda_supports(QFORMAT_INT8_CHANNEL) && !act_quant_cuda_supports(QFORMAT_BF16),
         "act_quant_cuda refuses formats it does not implement (int8-channel, bf16)");
    return TEST_REPORT();
}
