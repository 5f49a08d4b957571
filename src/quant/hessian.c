/* hessian -- accumulation of the GPTQ Hessian; see hessian.h. */
#include "quant/hessian.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/hadamard.h"

void hessian_init(struct hessian *h, int64_t K, int fp64, int transform_block) {
    CHECK(K > 0, "hessian of K=%lld", (long long)K);
    memset(h, 0, sizeof *h);
    h->K = K;
    h->S = xcalloc((size_t)(K * K), sizeof *h->S);
    h->fp64 = fp64;
    h->transform_block = transform_block;
}

void hessian_add(struct hessian *h, const float *x, int64_t T) {
    // x: T x K. S (upper triangle, row-major) += x^T x.
    const int64_t K = h->K;
    h->n_samples++;
    h->n_rows += T;
    if (T == 0) return;
    const float *xs = x;
    float *xt = NULL;
    if (h->transform_block > 0) {
        xt = xmalloc((size_t)(T * K) * sizeof *xt);
        memcpy(xt, x, (size_t)(T * K) * sizeof *xt);
        hadamard_rows_ref(xt, T, K, h->transform_block);
        xs = xt;
    }
    if (h->fp64) {
        double *xd = xmalloc((size_t)(T * K) * sizeof *xd);
        for (int64_t i = 0; i < T * K; i++) xd[i] = xs[i];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)K, (int)T, 1.0, xd, (int)K, 1.0, h->S, (int)K);
        free(xd);
    } else {
        /* FP32 product of this sample, summed into the FP64 total: the per-sample rounding is the references'
         * (their H is FP32 throughout; summing in double only removes the cross-sample drift). */
        float *g = xcalloc((size_t)(K * K), sizeof *g);
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)K, (int)T, 1.0f, xs, (int)K, 0.0f, g, (int)K);
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = i; j < K; j++) h->S[i * K + j] += g[i * K + j];
        free(g);
    }
    free(xt);
}

void hessian_finish(const struct hessian *h, double *out) {
    const int64_t K = h->K;
    const double c = h->n_samples ? 2.0 / (double)h->n_samples : 0.0;
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = i; j < K; j++) out[i * K + j] = out[j * K + i] = c * h->S[i * K + j];
}

void hessian_free(struct hessian *h) {
    free(h->S);
    memset(h, 0, sizeof *h);
}
