/* attention -- causal GQA with sgemm per head; see attention.h. */
#include "ops/attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "core/check.h"

/* Causal GQA, one head at a time: the two products are sgemm calls on strided views of q and the cache,
 * so no head is ever copied out; see attention.h for the blocking. */
void attention_ref(float *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0,
                   int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride) {
    // q, out: T x H x D_h; k, v: n_ctx x (kv_stride >= H_kv x D_h); S: T x n_ctx scores of one head
    CHECK(H % H_kv == 0, "H=%lld not a multiple of H_kv=%lld", (long long)H, (long long)H_kv);
    CHECK(kv_stride >= H_kv * D_h, "kv_stride %lld", (long long)kv_stride);
    const int64_t n_ctx = pos0 + T, n_rep = H / H_kv, qs = H * D_h;
    // 1/sqrt(D_h) as an FP32 constant, as HF's self.scaling = head_dim ** -0.5 then multiplied in FP32.
    const float scale = (float)(1.0 / sqrt((double)D_h));
    float *S = xmalloc((size_t)((T < 64 ? T : 64) * n_ctx) * sizeof(float));

    // Rows are processed in blocks of ATT_BLOCK queries: a block ending at query t1 needs keys up to pos0 + t1
    // only, so the causal triangle costs about half of the full T x n_ctx products during prefill.
    enum { ATT_BLOCK = 64 };
    for (int64_t h = 0; h < H; h++) {
        const int64_t g = h / n_rep;
        const float *kg = k + g * D_h, *vg = v + g * D_h;
        for (int64_t t0 = 0; t0 < T; t0 += ATT_BLOCK) {
            const int64_t nb = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK, n_keys = pos0 + t0 + nb;
            const float *qh = q + t0 * qs + h * D_h;
            // S = scale * Q_h K_g^T: strided views into the T x H x D_h and n_ctx x H_kv x D_h layouts.
            if (nb == 1) // decode: s = scale * K_g q as a GEMV over the cached rows
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n_keys, (int)D_h, scale, kg, (int)kv_stride, qh, 1, 0.0f,
                            S, 1);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)n_keys, (int)D_h, scale, qh,
                            (int)qs, kg, (int)kv_stride, 0.0f, S, (int)n_keys);
            for (int64_t i = 0; i < nb; i++) {
                float *s = S + i * n_keys;
                const int64_t n_vis = pos0 + t0 + i + 1;
                float mx = s[0];
                for (int64_t j = 1; j < n_vis; j++) mx = s[j] > mx ? s[j] : mx;
                double sum = 0.0;
                // expf is correctly rounded to within 1 ulp in glibc, as torch's FP32 softmax; the sum is double.
                for (int64_t j = 0; j < n_vis; j++) {
                    s[j] = expf(s[j] - mx);
                    sum += s[j];
                }
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j < n_vis; j++) s[j] *= inv;
                // Future positions get probability 0, which is what the -inf mask gives after softmax.
                for (int64_t j = n_vis; j < n_keys; j++) s[j] = 0.0f;
            }
            // O_h = P V_g, written straight into its head slot of out.
            if (nb == 1) // decode: o = V_g^T p
                cblas_sgemv(CblasRowMajor, CblasTrans, (int)n_keys, (int)D_h, 1.0f, vg, (int)kv_stride, S, 1, 0.0f,
                            out + t0 * qs + h * D_h, 1);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)D_h, (int)n_keys, 1.0f, S,
                            (int)n_keys, vg, (int)kv_stride, 0.0f, out + t0 * qs + h * D_h, (int)qs);
        }
    }
    free(S);
}

/* The FLOP count of the causal triangle (what an exact kernel must do), not of the blocked computation. */
double attention_flops(int64_t T, int64_t pos0, int64_t H, int64_t D_h) {
    // sum_{t<T} (pos0 + t + 1) visible keys, each 2 D_h for QK and 2 D_h for PV.
    double vis = (double)T * (double)pos0 + (double)T * (double)(T + 1) / 2.0;
    return 4.0 * (double)H * (double)D_h * vis;
}
