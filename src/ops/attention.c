/* attention -- causal GQA with sgemm per kv head and query block; see attention.h. */
#include "ops/attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/cpu_exec.h"
#include "ops/fastexp.h"

/* Queries per block. A block ending at query t1 needs keys up to pos0 + t1 only, so the causal triangle costs
 * about half of the full T x n_ctx products during prefill; the diagonal blocks still compute their upper
 * triangles (then multiply them by zero), which is T ATT_BLOCK / 2 extra score entries per head. 32 measured
 * best for D_h = 64 and T = 256 on 2 Zen cores: 64 wastes 24% of the causal work, 16 makes sgemm calls too
 * small for OpenBLAS to amortise its packing and its thread hand-off. */
enum { ATT_BLOCK = 32 };

// ---- per-thread scratch ----

/* Q of one kv group and block, its scores and its outputs. Kept per thread and grown on demand: allocated per
 * call, a prefill's S (above glibc's mmap threshold) cost page faults in every layer. */
static _Thread_local struct {
    float *buf;
    size_t n;
} att_scratch;

static float *att_scratch_get(size_t n) {
    if (att_scratch.n < n) {
        free(att_scratch.buf);
        att_scratch.buf = xmalloc(n * sizeof(float));
        att_scratch.n = n;
    }
    return att_scratch.buf;
}

/* Softmax of the n_vis visible scores of one row, in place; the n_keys - n_vis future positions get
 * probability 0, which is what the -inf mask gives after softmax. The maximum is exact in any order; the sum
 * is in double with four partial sums combined in a fixed order (independent of threads and calls), which
 * breaks the 4-cycle add latency chain of a single running sum. */
static void softmax_causal_row(float *s, int64_t n_vis, int64_t n_keys) {
    float m0 = s[0], m1 = s[0], m2 = s[0], m3 = s[0];
    int64_t j = 0;
    for (; j + 4 <= n_vis; j += 4) {
        m0 = s[j] > m0 ? s[j] : m0;
        m1 = s[j + 1] > m1 ? s[j + 1] : m1;
        m2 = s[j + 2] > m2 ? s[j + 2] : m2;
        m3 = s[j + 3] > m3 ? s[j + 3] : m3;
    }
    for (; j < n_vis; j++) m0 = s[j] > m0 ? s[j] : m0;
    m0 = m1 > m0 ? m1 : m0;
    m2 = m3 > m2 ? m3 : m2;
    const float mx = m2 > m0 ? m2 : m0;
    // e^(s - mx) by fastexp, vectorized and within 1 ulp of the correctly rounded value (glibc's expf, used
    // before, is also within 1 ulp; torch's FP32 softmax is another such exp, so neither is bit-exact with
    // torch). The subtraction is the same FP32 operation as before. The sum is unrolled by four so each
    // partial sum waits on one add in four.
    for (j = 0; j < n_vis; j++) s[j] -= mx;
    fastexp_array(s, s, n_vis);
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (j = 0; j + 4 <= n_vis; j += 4) {
        a0 += s[j];
        a1 += s[j + 1];
        a2 += s[j + 2];
        a3 += s[j + 3];
    }
    for (; j < n_vis; j++) a0 += s[j];
    const float inv = (float)(1.0 / ((a0 + a1) + (a2 + a3)));
    for (j = 0; j < n_vis; j++) s[j] *= inv;
    memset(s + n_vis, 0, (size_t)(n_keys - n_vis) * sizeof(float));
}

/* Causal GQA. Prefill works per kv head g and block of queries: the blocks of the n_rep query heads sharing g
 * are stacked into one matrix (n_rep nb rows), so K_g and V_g are packed by OpenBLAS once for all of them and
 * each sgemm is n_rep times taller (fewer, larger calls: OpenBLAS wakes its threads for every call). Decode
 * (T = 1) uses GEMVs per head, which read the cache once without packing it. */
void attention_ref(float *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0,
                   int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride) {
    // q, out: T x H x D_h; k, v: n_ctx x (kv_stride >= H_kv x D_h)
    // Qg, Og: (n_rep x nb) x D_h, row r nb + i = query t0 + i of head g n_rep + r; S: (n_rep x nb) x n_keys
    CHECK(H % H_kv == 0, "H=%lld not a multiple of H_kv=%lld", (long long)H, (long long)H_kv);
    CHECK(kv_stride >= H_kv * D_h, "kv_stride %lld", (long long)kv_stride);
    const int64_t n_ctx = pos0 + T, n_rep = H / H_kv, qs = H * D_h;
    // 1/sqrt(D_h) as an FP32 constant, as HF's self.scaling = head_dim ** -0.5 then multiplied in FP32.
    const float scale = (float)(1.0 / sqrt((double)D_h));

    const int own = cpu_exec_get()->threads == CPU_THREADS_OWN;
    if (T == 1) {
        // OWN threading (ops/cpu_exec.h): heads in parallel, each with its thread's scratch; the same calls.
#pragma omp parallel for schedule(dynamic, 1) if (own && H > 1 && 2 * n_ctx * H_kv * D_h * (int64_t)sizeof(float) >= CPU_EXEC_PAR_MIN_BYTES)
        for (int64_t h = 0; h < H; h++) {
            float *S = att_scratch_get((size_t)n_ctx);
            const int64_t g = h / n_rep;
            // s = scale * K_g q over the cached rows; o = V_g^T p.
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n_ctx, (int)D_h, scale, k + g * D_h, (int)kv_stride,
                        q + h * D_h, 1, 0.0f, S, 1);
            softmax_causal_row(S, n_ctx, n_ctx);
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)n_ctx, (int)D_h, 1.0f, v + g * D_h, (int)kv_stride, S, 1,
                        0.0f, out + h * D_h, 1);
        }
        return;
    }

    const int64_t nb_max = T < ATT_BLOCK ? T : ATT_BLOCK, m_max = n_rep * nb_max;
    const int64_t n_blk = (T + ATT_BLOCK - 1) / ATT_BLOCK;
    // Items (kv head g, query block): one after the other in order, or (OWN threading, ops/cpu_exec.h) in
    // parallel, each with its thread's scratch. The calls and their arguments are the same either way.
#pragma omp parallel for schedule(dynamic, 1) if (own && H_kv * n_blk > 1)
    for (int64_t item = 0; item < H_kv * n_blk; item++) {
        const int64_t g = item / n_blk, t0 = (item % n_blk) * ATT_BLOCK;
        float *Qg = att_scratch_get((size_t)(m_max * (2 * D_h + n_ctx)));
        float *Og = Qg + m_max * D_h, *S = Og + m_max * D_h;
        const float *kg = k + g * D_h, *vg = v + g * D_h;
        const int64_t nb = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK, n_keys = pos0 + t0 + nb, M = n_rep * nb;
        for (int64_t r = 0; r < n_rep; r++)
            for (int64_t i = 0; i < nb; i++)
                memcpy(Qg + (r * nb + i) * D_h, q + (t0 + i) * qs + (g * n_rep + r) * D_h,
                       (size_t)D_h * sizeof(float));
        // S = scale * Q_g K_g^T over the keys this block can see (a strided view into the cache).
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)n_keys, (int)D_h, scale, Qg,
                    (int)D_h, kg, (int)kv_stride, 0.0f, S, (int)n_keys);
        for (int64_t r = 0; r < n_rep; r++)
            for (int64_t i = 0; i < nb; i++) softmax_causal_row(S + (r * nb + i) * n_keys, pos0 + t0 + i + 1, n_keys);
        // O_g = P V_g, then each row back into its head slot of out.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)D_h, (int)n_keys, 1.0f, S,
                    (int)n_keys, vg, (int)kv_stride, 0.0f, Og, (int)D_h);
        for (int64_t r = 0; r < n_rep; r++)
            for (int64_t i = 0; i < nb; i++)
                memcpy(out + (t0 + i) * qs + (g * n_rep + r) * D_h, Og + (r * nb + i) * D_h,
                       (size_t)D_h * sizeof(float));
    }
}

/* The FLOP count of the causal triangle (what an exact kernel must do), not of the blocked computation. */
double attention_flops(int64_t T, int64_t pos0, int64_t H, int64_t D_h) {
    // sum_{t<T} (pos0 + t + 1) visible keys, each 2 D_h for QK and 2 D_h for PV.
    double vis = (double)T * (double)pos0 + (double)T * (double)(T + 1) / 2.0;
    return 4.0 * (double)H * (double)D_h * vis;
}
