/* check_linear_nvfp4 -- kernels/linear_nvfp4.cu (the packed NVFP4 W4A16 GEMV) against its twin: linear_forward on
 * nvfp4-packed weights, whose FP32 view is qtensor_dequantize (nvfp4_dequantize_row_ref). The reference here is
 * that FP32 view times x in double, so the bound covers the kernel's own rounding only.
 * Bound: the A and B values the MMA multiplies are exact (e2m1 d 2^-14 in FP16, linear_nvfp4.h; x is FP16 on
 * both sides), their products exact in the MMA; what rounds is the FP32 accumulation of K products (within the
 * MMA, into its accumulator, over the 8 warps' partial sums). The tensor cores' FP32 accumulation is not
 * documented as round-to-nearest (it may truncate while aligning addends), so take a unit roundoff of 2^-23
 * instead of 2^-24: |y - exact| <= gamma'_{K+24} sum |w_i x_i|, gamma'_n = n 2^-23 / (1 - n 2^-23). The twin's
 * w_i = fl(e2m1_i d / g) are each within 2^-24 |w_i| of e2m1_i d / g, which adds 2^-24 sum |w_i x_i|; the final
 * x 2^14 is exact and the division by g rounds once (2^-24 |y|). Elementwise: |y - ref| <= (gamma'_{K+24} +
 * 2^-23) sum_i |w_i x_i| (+ 2^-126 for underflow). Aggregate: random-walk rounding gives NMSE ~ K 2^-46 (6e-11
 * at K = 4096); bound 1e-9.
 * Shapes: awkward N (1, 3, 7, 1023), K = 16 .. 4096 (every NVFP4 K, K % 16 == 0), every M in 1 .. 8; K = 40 (not a
 * whole number of blocks) must be refused.
 * --bench: after the checks pass, the GEMV at Qwen3-8B shapes against the measured copy bandwidth and cuBLAS
 * BF16 GEMV (cublasGemmEx, FP32 accumulation), JSON lines to build/bench/linear_nvfp4.<gpu>.jsonl (STYLE.md 8).
 * Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.cuh"
#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "formats/nvfp4.h"
#include "formats/qformat.h"
#include "linear_nvfp4.h"
#include "test.h"

/* The linear_nvfp4 launch variant the checks and bench_time run (linear_nvfp4_cuda_cfg). */
static int g_warps = 8, g_unroll = 4;

static double gamma_23(double n) { const double u = ldexp(1.0, -23); return n * u / (1.0 - n * u); }

static void check_case(int64_t M, int64_t N, int64_t K, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    float *w = (float *)xmalloc(sizeof(float) * N * K), *wd = (float *)xmalloc(sizeof(float) * N * K);
    float *x = (float *)xmalloc(sizeof(float) * M * K), *y = (float *)xmalloc(sizeof(float) * M * N);
    for (int64_t i = 0; i < N * K; i++) w[i] = (float)(0.02 * rng_normal(&r) * (rng_uniform(&r) < 0.001 ? 20 : 1));
    // A16: x is FP16; the reference multiplies the same FP16 values (exactly converted back to FP32).
    uint16_t *xh = (uint16_t *)xmalloc(sizeof(uint16_t) * M * K);
    for (int64_t i = 0; i < M * K; i++) {
        const __half h = __float2half_rn((float)rng_normal(&r));
        memcpy(&xh[i], &h, 2);
        x[i] = __half2float(h);
    }
    struct qtensor q;
    qtensor_quantize(&q, QFORMAT_NVFP4, w, N, K, NULL);
    qtensor_dequantize(&q, wd);
    size_t cb, sb;
    linear_nvfp4_packed_bytes(N, K, &cb, &sb);
    uint8_t *codes = (uint8_t *)xmalloc(cb), *scales = (uint8_t *)xmalloc(sb);
    linear_nvfp4_pack_host(&q, codes, scales);
    uint8_t *dc, *ds;
    uint16_t *dx;
    float *dy;
    CUDA_CHECK(cudaMalloc(&dc, cb));
    CUDA_CHECK(cudaMalloc(&ds, sb));
    CUDA_CHECK(cudaMalloc(&dx, sizeof(uint16_t) * M * K));
    CUDA_CHECK(cudaMalloc(&dy, sizeof(float) * M * N));
    CUDA_CHECK(cudaMemcpy(dc, codes, cb, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(ds, scales, sb, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dx, xh, sizeof(uint16_t) * M * K, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dy, 0xFF, sizeof(float) * M * N));
    linear_nvfp4_cuda_cfg(dc, ds, q.global_scale, dx, dy, M, N, K, g_warps, g_unroll, NULL);
    CUDA_CHECK(cudaMemcpy(y, dy, sizeof(float) * M * N, cudaMemcpyDeviceToHost));
    const double g = gamma_23((double)K + 24) + ldexp(1.0, -23);
    int64_t bad = 0;
    double num = 0, den = 0, worst = 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double ref = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                ref += (double)wd[n * K + k] * x[m * K + k];
                mag += fabs((double)wd[n * K + k] * x[m * K + k]);
            }
            const double d = fabs((double)y[m * N + n] - ref), tol = g * mag + ldexp(1.0, -126);
            num += d * d;
            den += ref * ref;
            worst = fmax(worst, isnan(d) ? INFINITY : d / tol);
            if (!(d <= tol) && bad++ < 10)
                printf("  mismatch at (%lld, %lld): got %.9g ref %.9g (|d| %.3g > %.3g)\n", (long long)m, (long long)n,
                       (double)y[m * N + n], ref, d, tol);
        }
    TEST(bad == 0 && num / den <= 1e-9, "linear_nvfp4 (warps %d, unroll %d) M=%lld N=%lld K=%lld (worst |d|/bound %.3g, nmse=%.3g "
         "bound=1e-9)", g_warps, g_unroll, (long long)M, (long long)N, (long long)K, worst, num / den);
    CUDA_CHECK(cudaFree(dc));
    CUDA_CHECK(cudaFree(ds));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
    qtensor_free(&q);
    free(w); free(wd); free(x); free(xh); free(y); free(codes); free(scales);
}

/* K = 40 (not a multiple of the 16-element block) must die with exit status 1, before any CUDA call. */
static void check_rejects_k(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        linear_nvfp4_cuda(NULL, NULL, 1.0f, NULL, NULL, 1, 16, 40, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    TEST(WIFEXITED(st) && WEXITSTATUS(st) == 1, "linear_nvfp4 refuses K=40 (exit status 1)");
}

// ---- benchmark ----

/* Random device bytes (never zeros): codes any nibble, scales UE4M3 codes 0x30 .. 0x4F (finite, 2^-1 .. 2^2). */
static __global__ void fill_bytes_kernel(uint8_t *p, int64_t n, uint64_t seed, int scale_bytes) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint64_t h = rng_hash(seed, (uint64_t)i);
        p[i] = scale_bytes ? (uint8_t)(0x30 + (h & 0x1F)) : (uint8_t)h;
    }
}

static __global__ void fill_bf16_kernel(__nv_bfloat16 *p, int64_t n, uint64_t seed) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        p[i] = __float2bfloat16((float)(0.04 * (rng_to_unit(rng_hash(seed, (uint64_t)i)) - 0.5)));
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

enum { BENCH_REPS = 50 };

/* Median, p10, p90 of BENCH_REPS timed runs after 5 warm-ups; before every run the L2 (60 MB on the H200) is
 * flushed by writing a 256 MiB buffer, so each run reads its weights from HBM. kind: 0 copy, 1 nvfp4, 2 bf16. */
struct bench_ctx {
    cudaEvent_t e0, e1;
    uint8_t *flush;
    cublasHandle_t blas;
};

static void bench_time(struct bench_ctx *b, int kind, int64_t M, int64_t N, int64_t K, void *w, void *s, void *x,
                       void *y, size_t copy_bytes, float out[3]) {
    float t[BENCH_REPS];
    for (int it = 0; it < BENCH_REPS + 5; it++) {
        CUDA_CHECK(cudaMemsetAsync(b->flush, it & 0xFF, (size_t)256 << 20));
        CUDA_CHECK(cudaEventRecord(b->e0));
        if (kind == 0) CUDA_CHECK(cudaMemcpyAsync(y, w, copy_bytes, cudaMemcpyDeviceToDevice));
        if (kind == 1)
            linear_nvfp4_cuda_cfg((uint8_t *)w, (uint8_t *)s, 1.0f, (uint16_t *)x, (float *)y, M, N, K, g_warps, g_unroll,
                                  NULL);
        if (kind == 2) {
            const float one = 1.0f, zero = 0.0f;
            if (cublasGemmEx(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)M, (int)K, &one, w, CUDA_R_16BF, (int)K, x,
                             CUDA_R_16BF, (int)K, &zero, y, CUDA_R_32F, (int)N, CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
                die("cublasGemmEx failed");
        }
        CUDA_CHECK(cudaEventRecord(b->e1));
        CUDA_CHECK(cudaEventSynchronize(b->e1));
        if (it >= 5) CUDA_CHECK(cudaEventElapsedTime(&t[it - 5], b->e0, b->e1));
    }
    qsort(t, BENCH_REPS, sizeof(float), cmp_float);
    out[0] = t[BENCH_REPS / 2];
    out[1] = t[BENCH_REPS / 10];
    out[2] = t[BENCH_REPS * 9 / 10];
}

/* Steady state, as layers follow each other in a decode step: n_copies distinct weight buffers (together at
 * least 512 MiB, 8 times the L2, so no launch finds its weights cached), reps launches cycling through them
 * back to back between one pair of events; the time per launch is the total over reps. kind 1: linear_nvfp4,
 * 2: cuBLAS BF16. Returns ms per launch. */
static double bench_stream(struct bench_ctx *b, int kind, int64_t M, int64_t N, int64_t K, void *x, void *y) {
    size_t cb, sb;
    linear_nvfp4_packed_bytes(N, K, &cb, &sb);
    const size_t one = kind == 1 ? cb + sb : (size_t)(N * K) * 2;
    int n_copies = (int)(((size_t)512 << 20) / one) + 1;
    if (n_copies < 2) n_copies = 2;
    if (n_copies > 64) n_copies = 64;
    uint8_t *buf;
    CUDA_CHECK(cudaMalloc(&buf, one * (size_t)n_copies));
    if (kind == 1) {
        for (int c = 0; c < n_copies; c++) {
            fill_bytes_kernel<<<1024, 256>>>(buf + c * one, (int64_t)cb, 31 + c, 0);
            fill_bytes_kernel<<<1024, 256>>>(buf + c * one + cb, (int64_t)sb, 37 + c, 1);
        }
    } else {
        fill_bf16_kernel<<<1024, 256>>>((__nv_bfloat16 *)buf, (int64_t)(one / 2) * n_copies, 41);
    }
    CUDA_CHECK_LAUNCH();
    const int reps = n_copies * (n_copies < 20 ? (20 + n_copies - 1) / n_copies : 1);
    float t3[3];
    for (int trial = 0; trial < 3; trial++) {   /* the median of 3 trials of reps launches each */
        CUDA_CHECK(cudaMemsetAsync(b->flush, trial, (size_t)256 << 20));
        CUDA_CHECK(cudaEventRecord(b->e0));
        for (int r = 0; r < reps; r++) {
            uint8_t *w = buf + (size_t)(r % n_copies) * one;
            if (kind == 1) linear_nvfp4_cuda(w, w + cb, 1.0f, (uint16_t *)x, (float *)y, M, N, K, NULL);
            else {
                const float f1 = 1.0f, f0 = 0.0f;
                if (cublasGemmEx(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)M, (int)K, &f1, w, CUDA_R_16BF, (int)K,
                                 x, CUDA_R_16BF, (int)K, &f0, y, CUDA_R_32F, (int)N, CUBLAS_COMPUTE_32F,
                                 CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
                    die("cublasGemmEx failed");
            }
        }
        CUDA_CHECK(cudaEventRecord(b->e1));
        CUDA_CHECK(cudaEventSynchronize(b->e1));
        float ms;
        CUDA_CHECK(cudaEventElapsedTime(&ms, b->e0, b->e1));
        t3[trial] = ms / (float)reps;
    }
    qsort(t3, 3, sizeof(float), cmp_float);
    CUDA_CHECK(cudaFree(buf));
    return t3[1];
}

static void bench(const cudaDeviceProp *prop) {
    struct bench_ctx b;
    CUDA_CHECK(cudaEventCreate(&b.e0));
    CUDA_CHECK(cudaEventCreate(&b.e1));
    CUDA_CHECK(cudaMalloc(&b.flush, (size_t)256 << 20));
    if (cublasCreate(&b.blas) != CUBLAS_STATUS_SUCCESS) die("cublasCreate failed");
    int drv = 0, rt = 0;
    CUDA_CHECK(cudaDriverGetVersion(&drv));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    const char *rev = getenv("QL_GIT_REV") ? getenv("QL_GIT_REV") : "unknown";
    char gpu[256], path[512];
    snprintf(gpu, sizeof gpu, "%s", prop->name);
    for (char *c = gpu; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-')) *c = '_';
    size_t cap = 1 << 16, jn = 0;
    char *jl = (char *)xmalloc(cap);
    // The ceiling: a 1 GiB device-to-device copy (reads and writes 1 GiB: GB/s = 2 bytes / t).
    const size_t cb = (size_t)1 << 30;
    void *c0, *c1;
    CUDA_CHECK(cudaMalloc(&c0, cb));
    CUDA_CHECK(cudaMalloc(&c1, cb));
    fill_bytes_kernel<<<1024, 256>>>((uint8_t *)c0, (int64_t)cb, 7, 0);
    CUDA_CHECK_LAUNCH();
    float tc[3];
    bench_time(&b, 0, 0, 0, 0, c0, NULL, NULL, c1, cb, tc);
    const double copy_gbps = 2.0 * (double)cb / (tc[0] * 1e-3) / 1e9;
    printf("bench copy 1 GiB: median %.3f ms (p10 %.3f, p90 %.3f), %.0f GB/s (the roofline)\n", tc[0], tc[1], tc[2],
           copy_gbps);
    jn += (size_t)snprintf(jl + jn, cap - jn, "{\"kernel\": \"copy\", \"bytes\": %zu, \"median_ms\": %.4f, \"p10_ms\": "
                           "%.4f, \"p90_ms\": %.4f, \"gbps\": %.1f, \"gpu\": \"%s\", \"driver\": %d, \"cuda_runtime\": "
                           "%d, \"git\": \"%s\"}\n", cb, tc[0], tc[1], tc[2], copy_gbps, prop->name, drv, rt, rev);
    CUDA_CHECK(cudaFree(c0));
    CUDA_CHECK(cudaFree(c1));
    // Qwen3-8B decode shapes (N x K): q / o 4096 x 4096, k / v 1024 x 4096, gate / up 12288 x 4096, down
    // 4096 x 12288, lm_head 151936 x 4096 (not quantized by the recipes; the largest steady-state read).
    const int64_t shapes[][2] = {{4096, 4096}, {1024, 4096}, {12288, 4096}, {4096, 12288}, {151936, 4096}};
    const int64_t Ms[] = {1, 2, 4, 8};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int64_t N = shapes[si][0], K = shapes[si][1];
        uint8_t *dc, *ds;
        void *dwb, *dxb;
        float *dy;
        size_t cb, sb;
        linear_nvfp4_packed_bytes(N, K, &cb, &sb);
        CUDA_CHECK(cudaMalloc(&dc, cb));
        CUDA_CHECK(cudaMalloc(&ds, sb));
        CUDA_CHECK(cudaMalloc(&dwb, (size_t)(N * K) * 2));
        CUDA_CHECK(cudaMalloc(&dxb, (size_t)(8 * K) * 2));
        CUDA_CHECK(cudaMalloc(&dy, sizeof(float) * 8 * N));
        fill_bytes_kernel<<<1024, 256>>>(dc, (int64_t)cb, 11 + si, 0);
        fill_bytes_kernel<<<1024, 256>>>(ds, (int64_t)sb, 13 + si, 1);
        fill_bf16_kernel<<<1024, 256>>>((__nv_bfloat16 *)dwb, N * K, 17 + si);
        fill_bf16_kernel<<<256, 256>>>((__nv_bfloat16 *)dxb, 8 * K, 23 + si);
        CUDA_CHECK_LAUNCH();
        for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
            const int64_t M = Ms[mi];
            for (int kind = 1; kind <= 2; kind++) {
                float t[3];
                bench_time(&b, kind, M, N, K, kind == 1 ? (void *)dc : dwb, ds, dxb, dy, 0, t);
                // Bytes that must move: the weights once (codes + scales, or BF16), x (16-bit), and y (FP32).
                const double bytes = (kind == 1 ? N * K * (0.5 + 1.0 / 16) : 2.0 * N * K) + 2.0 * M * K + 4.0 * M * N;
                const double gbps = bytes / (t[0] * 1e-3) / 1e9, tflops = 2.0 * M * N * K / (t[0] * 1e-3) / 1e12;
                const char *name = kind == 1 ? "linear_nvfp4" : "cublas_bf16_gemv";
                printf("bench %s M=%lld N=%lld K=%lld: median %.4f ms (p10 %.4f, p90 %.4f), %.0f GB/s, %.3f TFLOP/s, "
                       "%.2f of copy\n", name, (long long)M, (long long)N, (long long)K, t[0], t[1], t[2], gbps, tflops,
                       gbps / copy_gbps);
                jn += (size_t)snprintf(jl + jn, cap - jn, "{\"kernel\": \"%s\", \"M\": %lld, \"N\": %lld, \"K\": %lld, "
                                       "\"median_ms\": %.5f, \"p10_ms\": %.5f, \"p90_ms\": %.5f, \"bytes\": %.0f, \"gbps\": "
                                       "%.1f, \"tflops\": %.4f, \"roofline_frac\": %.4f, \"copy_gbps\": %.1f, \"gpu\": "
                                       "\"%s\", \"driver\": %d, \"cuda_runtime\": %d, \"git\": \"%s\"}\n", name,
                                       (long long)M, (long long)N, (long long)K, t[0], t[1], t[2], bytes, gbps, tflops,
                                       gbps / copy_gbps, copy_gbps, prop->name, drv, rt, rev);
                CHECK(jn < cap, "bench line buffer");
            }
        }
        // Steady state (back-to-back launches over distinct buffers), M = 1 and 8, both kernels.
        for (int64_t M = 1; M <= 8; M += 7)
            for (int kind = 1; kind <= 2; kind++) {
                const double ms = bench_stream(&b, kind, M, N, K, dxb, dy);
                const double bytes = (kind == 1 ? N * K * (0.5 + 1.0 / 16) : 2.0 * N * K) + 2.0 * M * K + 4.0 * M * N;
                const double gbps = bytes / (ms * 1e-3) / 1e9;
                const char *name = kind == 1 ? "linear_nvfp4" : "cublas_bf16_gemv";
                printf("bench %s stream M=%lld N=%lld K=%lld: %.4f ms per launch, %.0f GB/s, %.2f of copy\n", name,
                       (long long)M, (long long)N, (long long)K, ms, gbps, gbps / copy_gbps);
                jn += (size_t)snprintf(jl + jn, cap - jn, "{\"kernel\": \"%s\", \"mode\": \"stream\", \"M\": %lld, \"N\": "
                                       "%lld, \"K\": %lld, \"ms_per_launch\": %.5f, \"gbps\": %.1f, \"roofline_frac\": "
                                       "%.4f, \"copy_gbps\": %.1f, \"gpu\": \"%s\", \"driver\": %d, \"cuda_runtime\": %d, "
                                       "\"git\": \"%s\"}\n", name, (long long)M, (long long)N, (long long)K, ms, gbps,
                                       gbps / copy_gbps, copy_gbps, prop->name, drv, rt, rev);
                CHECK(jn < cap, "bench line buffer");
            }
        // Launch-shape sweep at M = 1 (STYLE.md section 8); the default (8 warps, unroll 4) was timed above.
        const int cfg[3][2] = {{4, 8}, {8, 2}, {16, 2}};
        for (int ci = 0; ci < 3; ci++) {
            float t[3];
            g_warps = cfg[ci][0];
            g_unroll = cfg[ci][1];
            bench_time(&b, 1, 1, N, K, dc, ds, dxb, dy, 0, t);
            const double bytes = N * K * (0.5 + 1.0 / 16) + 2.0 * K + 4.0 * N, gbps = bytes / (t[0] * 1e-3) / 1e9;
            printf("bench linear_nvfp4 (warps %d, unroll %d) M=1 N=%lld K=%lld: median %.4f ms, %.0f GB/s, %.2f of copy\n",
                   g_warps, g_unroll, (long long)N, (long long)K, t[0], gbps, gbps / copy_gbps);
            jn += (size_t)snprintf(jl + jn, cap - jn, "{\"kernel\": \"linear_nvfp4\", \"warps\": %d, \"unroll\": %d, \"M\": 1, "
                                   "\"N\": %lld, \"K\": %lld, \"median_ms\": %.5f, \"p10_ms\": %.5f, \"p90_ms\": %.5f, "
                                   "\"gbps\": %.1f, \"roofline_frac\": %.4f, \"copy_gbps\": %.1f, \"gpu\": \"%s\", "
                                   "\"driver\": %d, \"cuda_runtime\": %d, \"git\": \"%s\"}\n", g_warps, g_unroll,
                                   (long long)N, (long long)K, t[0], t[1], t[2], gbps, gbps / copy_gbps, copy_gbps,
                                   prop->name, drv, rt, rev);
            CHECK(jn < cap, "bench line buffer");
        }
        g_warps = 8;
        g_unroll = 4;
        CUDA_CHECK(cudaFree(dc));
        CUDA_CHECK(cudaFree(ds));
        CUDA_CHECK(cudaFree(dwb));
        CUDA_CHECK(cudaFree(dxb));
        CUDA_CHECK(cudaFree(dy));
    }
    snprintf(path, sizeof path, "build/bench/linear_nvfp4.%s.jsonl", gpu);
    mkdir_p("build/bench");
    file_write_atomic(path, jl, jn);
    printf("bench lines written to %s\n", path);
    free(jl);
    cublasDestroy(b.blas);
    CUDA_CHECK(cudaFree(b.flush));
}

int main(int argc, char **argv) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_rejects_k();
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const int64_t shapes[][2] = {{1, 16}, {3, 48}, {7, 96}, {5, 1024}, {1023, 1040}, {256, 4096}, {6, 12288}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int64_t M = 1; M <= 8; M++) check_case(M, shapes[s][0], shapes[s][1], 1000 * s + (uint64_t)M);
    // Every launch variant of the sweep computes the same function (the bench times them all).
    {
        const int cfg[3][2] = {{4, 8}, {8, 2}, {16, 2}};
        for (int ci = 0; ci < 3; ci++) {
            g_warps = cfg[ci][0];
            g_unroll = cfg[ci][1];
            check_case(3, 1023, 1040, 77 + ci);
        }
        g_warps = 8;
        g_unroll = 4;
    }
    int failed = test_failed_;
    int rc = TEST_REPORT();
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        if (failed) printf("not benchmarking: the correctness pass failed\n");
        else {
            printf("All results match. Starting benchmarks.\n");
            bench(&prop);
        }
    }
    return rc;
}
