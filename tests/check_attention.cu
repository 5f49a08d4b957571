/* check_attention -- kernels/attention.cu against its twin attention_ref (src/ops/attention.c). Not bit-exact:
 * the two differ in the FP32 summation order of the score and value products (kernels/attention.h).
 * Bound, derived per case from the data (u = 2^-24, gamma_n = n u / (1 - n u), Higham's bound for a dot
 * product of n terms in any order: |fl(a.b) - a.b| <= gamma_n sum |a_i b_i|):
 *   scores: each engine is within gamma_Dh scale sum_i |q_i k_i| of the exact score, so they differ by at
 *     most ds = 2 gamma_Dh max_j scale sum_i |q_i k_ji| (+ the rounding of the scale product, u |s|);
 *   softmax: a perturbation ds of every score changes p_j by at most p_j (e^(2 ds) - 1) ~ 2 ds p_j, and
 *     fastexp / the double sum / the FP32 normalisation are the same bits on both sides given the same input;
 *   values: sum_j |dp_j| |v_j| <= 2 ds max|v| (sum p_j = 1), plus each engine's PV rounding gamma_n max|v|;
 * so |out_gpu - out_cpu| <= atol = (2 ds + 2 u + 2 gamma_{n_keys}) max|v| elementwise. The aggregate bound:
 * rounding errors behave like a random walk (sqrt(n) u, not n u), so NMSE ~ (sqrt(n_keys) u)^2 << 1e-10;
 * 1e-10 still fails any real defect (a wrong mask or softmax gives NMSE ~ 1). Cases: GQA 1:1, 2:1, 4:1, 8:1,
 * head dims 2, 32, 64, 128, decode at a long history, prefill with pos0 > 0 (chunked prefill), a padded
 * kv_stride. Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "ops/attention.h"
#include "test.h"

static double gamma_n(double n) { const double u = ldexp(1.0, -24); return n * u / (1.0 - n * u); }

static void check_case(int64_t T, int64_t pos0, int64_t H, int64_t Hkv, int64_t Dh, int64_t pad, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    const int64_t n_ctx = pos0 + T, stride = Hkv * Dh + pad, nq = T * H * Dh, nkv = n_ctx * stride;
    float *q = (float *)xmalloc(sizeof(float) * nq), *k = (float *)xmalloc(sizeof(float) * nkv);
    float *v = (float *)xmalloc(sizeof(float) * nkv), *ref = (float *)xmalloc(sizeof(float) * nq);
    float *got = (float *)xmalloc(sizeof(float) * nq);
    // Scores of order several units (peaked softmax rows as well as flat ones): q, k ~ N(0, 1) * 1.5.
    for (int64_t i = 0; i < nq; i++) q[i] = (float)(1.5 * rng_normal(&r));
    for (int64_t i = 0; i < nkv; i++) k[i] = (float)(1.5 * rng_normal(&r));
    for (int64_t i = 0; i < nkv; i++) v[i] = (float)rng_normal(&r);
    const double scale = 1.0 / sqrt((double)Dh);
    double sabs = 0.0, vmax = 0.0;
    for (int64_t t = 0; t < T; t++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t j = 0; j <= pos0 + t; j++) {
                double s = 0.0;
                const int64_t g = h / (H / Hkv);
                for (int64_t i = 0; i < Dh; i++) s += fabs((double)q[(t * H + h) * Dh + i] * k[j * stride + g * Dh + i]);
                sabs = fmax(sabs, scale * s);
            }
    for (int64_t i = 0; i < nkv; i++) vmax = fmax(vmax, fabs((double)v[i]));
    const double ds = 2.0 * gamma_n((double)Dh) * sabs + ldexp(sabs, -23);
    const double atol = (2.0 * ds + ldexp(1.0, -23) + 2.0 * gamma_n((double)n_ctx)) * vmax;
    float *dq, *dk, *dv, *dout;
    CUDA_CHECK(cudaMalloc(&dq, sizeof(float) * nq));
    CUDA_CHECK(cudaMalloc(&dk, sizeof(float) * nkv));
    CUDA_CHECK(cudaMalloc(&dv, sizeof(float) * nkv));
    CUDA_CHECK(cudaMalloc(&dout, sizeof(float) * nq));
    CUDA_CHECK(cudaMemcpy(dq, q, sizeof(float) * nq, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dk, k, sizeof(float) * nkv, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dv, v, sizeof(float) * nkv, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dout, 0xFF, sizeof(float) * nq));
    attention_cuda(dout, dq, dk, dv, T, pos0, H, Hkv, Dh, stride, NULL);
    CUDA_CHECK(cudaMemcpy(got, dout, sizeof(float) * nq, cudaMemcpyDeviceToHost));
    attention_ref(ref, q, k, v, T, pos0, H, Hkv, Dh, stride);
    int64_t bad = 0;
    double num = 0.0, den = 0.0, maxd = 0.0;
    for (int64_t i = 0; i < nq; i++) {
        const double d = fabs((double)got[i] - ref[i]);
        num += d * d;
        den += (double)ref[i] * ref[i];
        maxd = fmax(maxd, isnan(d) ? INFINITY : d);
        if (!(d <= atol) && bad++ < 10)
            printf("  mismatch at %lld: got %.9g ref %.9g (|d| %.3g > %.3g)\n", (long long)i, (double)got[i],
                   (double)ref[i], d, atol);
    }
    const double nmse = num / den;
    TEST(bad == 0 && nmse <= 1e-10, "attention T=%lld pos0=%lld H=%lld H_kv=%lld D_h=%lld stride+%lld (max|d| %.3g "
         "atol %.3g, nmse=%.3g bound=1e-10)", (long long)T, (long long)pos0, (long long)H, (long long)Hkv,
         (long long)Dh, (long long)pad, maxd, atol, nmse);
    CUDA_CHECK(cudaFree(dq));
    CUDA_CHECK(cudaFree(dk));
    CUDA_CHECK(cudaFree(dv));
    CUDA_CHECK(cudaFree(dout));
    free(q); free(k); free(v); free(ref); free(got);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_case(1, 0, 1, 1, 2, 0, 1);
    check_case(1, 5, 4, 2, 64, 0, 2);
    check_case(3, 0, 2, 1, 32, 0, 3);
    check_case(7, 13, 4, 4, 64, 0, 4);
    check_case(17, 0, 8, 2, 128, 0, 5);
    check_case(33, 100, 16, 8, 128, 0, 6);
    check_case(1, 2047, 16, 8, 128, 0, 7);
    check_case(100, 0, 4, 2, 64, 3, 8);
    check_case(5, 1000, 32, 4, 128, 0, 9);
    return TEST_REPORT();
}
