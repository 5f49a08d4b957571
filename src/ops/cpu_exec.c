/* cpu_exec -- the CPU execution policy; see cpu_exec.h. */
#include "ops/cpu_exec.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>

#include "core/check.h"
#include "ops/qgemv.h"

static struct cpu_exec g_exec;     /* zeroed: CPU_THREADS_BLAS, no packed decode */
static int g_blas_threads;         /* OpenBLAS's own count at the first cpu_exec_set (0: not read yet) */

void cpu_exec_set(const struct cpu_exec *e) {
    CHECK(e && (e->threads == CPU_THREADS_BLAS || e->threads == CPU_THREADS_OWN), "cpu_exec threads");
    if (!g_blas_threads) g_blas_threads = openblas_get_num_threads();
    g_exec = *e;
    openblas_set_num_threads(e->threads == CPU_THREADS_OWN ? 1 : g_blas_threads);
}

const struct cpu_exec *cpu_exec_get(void) { return &g_exec; }

int cpu_exec_threads(void) { return omp_get_max_threads(); }

/* Column blocks of W: a multiple of 64 rows (so that each call's M edge stays on the kernels' unrolls for
 * the shapes of Qwen3, all multiples of 64), about 4 blocks per thread so that a descheduled thread leaves
 * at most a quarter of its share to wait for. */
static int64_t own_block(int64_t N, int nt) {
    int64_t b = (N + 4 * nt - 1) / (4 * nt);
    b = (b + 63) / 64 * 64;
    return b < 64 ? 64 : b;
}

void cpu_exec_gemm_nt(const float *x, int64_t ldx, const float *w, int64_t ldw, float *y, int64_t ldy, int64_t T,
                      int64_t N, int64_t K, float alpha) {
    CHECK(T > 0 && N > 0 && K > 0, "gemm %lld x %lld x %lld", (long long)T, (long long)N, (long long)K);
    if (g_exec.threads == CPU_THREADS_BLAS) {
        if (T == 1)  // a GEMV reads W once; sgemm with M = 1 would first pack (copy) all of W
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)K, alpha, w, (int)ldw, x, 1, 0.0f, y, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)N, (int)K, alpha, x, (int)ldx, w,
                        (int)ldw, 0.0f, y, (int)ldy);
        return;
    }
    if (T == 1 && alpha == 1.0f) {  // decode: the engine's own FP32 GEMV (ops/qgemv.h), rows over threads
        qgemv_f32(w, ldw, x, y, N, K);
        return;
    }
    const int nt = cpu_exec_threads();
    const int64_t blk = own_block(N, nt), nblk = (N + blk - 1) / blk;
    const int par = nblk > 1 && (T > 1 || N * K * (int64_t)sizeof(float) >= CPU_EXEC_PAR_MIN_BYTES);
#pragma omp parallel for schedule(dynamic, 1) if (par)
    for (int64_t b = 0; b < nblk; b++) {
        const int64_t n0 = b * blk, nn = N - n0 < blk ? N - n0 : blk;
        if (T == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nn, (int)K, alpha, w + n0 * ldw, (int)ldw, x, 1, 0.0f,
                        y + n0, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)nn, (int)K, alpha, x, (int)ldx,
                        w + n0 * ldw, (int)ldw, 0.0f, y + n0, (int)ldy);
    }
}

const char *cpu_exec_desc(void) {
    static char desc[160];
    if (g_exec.threads == CPU_THREADS_OWN)
        snprintf(desc, sizeof desc, "openblas %s 1 thread x %d engine threads%s", openblas_get_corename(),
                 cpu_exec_threads(), g_exec.packed_decode ? " packed-decode" : "");
    else
        snprintf(desc, sizeof desc, "openblas %s %d threads%s", openblas_get_corename(), openblas_get_num_threads(),
                 g_exec.packed_decode ? " packed-decode" : "");
    return desc;
}
