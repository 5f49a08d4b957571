/* bench_e06 -- the e06-kernels benchmark (experiments/e06-kernels/README.en.md): GEMV / GEMM time per weight
 * format at the Linear shapes of Qwen3 (0.6B, 4B, 8B, 32B, and 30B-A3B with its experts), against the two
 * ceilings measured in the same run on the same GPU (device copy bandwidth; cuBLAS BF16 GEMM rate, and the
 * cuBLASLt FP8 GEMM rate for the FP8 peer).
 * Usage: build/bin/bench_e06 --out DIR [--models LIST] [--reps N] [--quick] [--sweep]
 * Writes: DIR/<model>@<gpu>/e06-kernels/bench.jsonl (one JSON object per case) and manifest.json (git
 *   revision, sha256 of this binary, GPU, driver, CUDA runtime and cuBLAS versions, SM count, L2 size, the
 *   ceilings, start and end time). These are benchmark records, not cache-keyed results.
 * Kernels: the packed W4A16 GEMVs of kernels/linear_w4a16.h (nvfp4, mxfp4, int4 sym / asym, groups 32 / 64 /
 *   128) at M = 1, 4, 8 (and pipeline depths 1 and 2 at M = 1; with --sweep also other K splits, mode
 *   "sweep", exploration only); cuBLAS BF16 (cublasGemmEx, BF16 in and out,
 *   FP32 accumulation) and cuBLASLt FP8 E4M3 x E4M3 -> BF16 with per-tensor FP32 scales (the nvfp8 recipe's
 *   GEMM) at M = 1, 8, 64, 512, 4096.
 * Timing (METHOD.md, STYLE.md 8): "isolated": the L2 (60 MB) is flushed by reading 256 MiB before every run,
 *   then one launch between two CUDA events; median, p10, p90 of --reps (default 50) after 5 warm-ups.
 *   "stream" (M <= 8): back-to-back launches cycling through copies of the weight that together exceed 512 MiB
 *   (so no launch finds its weight in L2), as the Linears of a decode step follow each other; the time per
 *   launch of the median of 3 trials. Weights are seeded random bytes, never zeros: codes any nibble, scales
 *   finite (UE4M3 0x30..0x4F, E8M0 117..124, BF16 scales in [2^-10, 2^-6)), BF16 / FP8 values uniform.
 * Metrics per case: bytes = the weight as stored (packed codes + scales + zero points, or N K x 2 / x 1) + x
 *   (M K x 2, or x 1 for FP8) + y (M N x 4 for the W4A16 GEMVs, x 2 for the BF16 outputs); flops = 2 M N K;
 *   gbps = bytes / t, tflops = flops / t; frac_copy = gbps / copy_gbps; frac_compute = tflops / (the
 *   measured rate of the unit the kernel uses: BF16 for the FP16 / BF16 tensor cores, FP8 for FP8);
 *   roofline_frac = max(bytes / copy_gbps, flops / rate) / t, the fraction of the roofline attained; isolated
 *   cases also carry their same-size copy (record(): copy_same_ms, frac_copy_same, frac_target, target_ref).
 * Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.cuh"
#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "linear_w4a16.h"

#ifndef E06_GIT_REV
#define E06_GIT_REV "unknown"
#endif

// ---- shapes ----

/* The Linears of each model as N x K (output features x reduction), from the official config.json of each
 * model (huggingface.co/Qwen/<model>): D hidden_size, H / H_kv attention / KV heads, D_h head_dim 128,
 * F intermediate_size (moe_intermediate_size for the experts), V vocab_size 151936:
 *   0.6B: D 1024, H 16, H_kv 8, F 3072      4B: D 2560, H 32, H_kv 8, F 9728
 *   8B:   D 4096, H 32, H_kv 8, F 12288     32B: D 5120, H 64, H_kv 8, F 25600
 *   30B-A3B: D 2048, H 32, H_kv 4, expert F 768 (128 experts, 8 routed per token)
 * q: H D_h x D; k, v: H_kv D_h x D; o: D x H D_h; gate, up: F x D; down: D x F; lm_head V x D (8B only: not
 * quantized by the recipes, the largest steady-state read). Shapes that coincide inside a model are listed
 * once, with every layer name. */
struct shape {
    const char *model, *layer;
    int64_t N, K;
};

static const struct shape SHAPES[] = {
    {"Qwen3-0.6B", "q", 2048, 1024},        {"Qwen3-0.6B", "k,v", 1024, 1024},
    {"Qwen3-0.6B", "o", 1024, 2048},        {"Qwen3-0.6B", "gate,up", 3072, 1024},
    {"Qwen3-0.6B", "down", 1024, 3072},
    {"Qwen3-4B", "q", 4096, 2560},          {"Qwen3-4B", "k,v", 1024, 2560},
    {"Qwen3-4B", "o", 2560, 4096},          {"Qwen3-4B", "gate,up", 9728, 2560},
    {"Qwen3-4B", "down", 2560, 9728},
    {"Qwen3-8B", "q,o", 4096, 4096},        {"Qwen3-8B", "k,v", 1024, 4096},
    {"Qwen3-8B", "gate,up", 12288, 4096},   {"Qwen3-8B", "down", 4096, 12288},
    {"Qwen3-8B", "lm_head", 151936, 4096},
    {"Qwen3-32B", "q", 8192, 5120},         {"Qwen3-32B", "k,v", 1024, 5120},
    {"Qwen3-32B", "o", 5120, 8192},         {"Qwen3-32B", "gate,up", 25600, 5120},
    {"Qwen3-32B", "down", 5120, 25600},
    {"Qwen3-30B-A3B", "q", 4096, 2048},     {"Qwen3-30B-A3B", "k,v", 512, 2048},
    {"Qwen3-30B-A3B", "o", 2048, 4096},     {"Qwen3-30B-A3B", "expert gate,up", 768, 2048},
    {"Qwen3-30B-A3B", "expert down", 2048, 768},
};

struct w4_variant {
    enum qformat f;
    int group;
    const char *label;
};

static const struct w4_variant W4[] = {
    {QFORMAT_NVFP4, 16, "nvfp4"},            {QFORMAT_MXFP4, 32, "mxfp4"},
    {QFORMAT_INT4_SYM, 32, "int4-g32-sym"},  {QFORMAT_INT4_SYM, 64, "int4-g64-sym"},
    {QFORMAT_INT4_SYM, 128, "int4-g128-sym"}, {QFORMAT_INT4_ASYM, 32, "int4-g32-asym"},
    {QFORMAT_INT4_ASYM, 64, "int4-g64-asym"}, {QFORMAT_INT4_ASYM, 128, "int4-g128-asym"},
};

// ---- device fills (seeded, never zero) ----

enum fill_kind { FILL_BYTES, FILL_UE4M3, FILL_E8M0, FILL_BF16_SCALE, FILL_BF16, FILL_E4M3 };

static __global__ void fill_kernel(uint8_t *p, int64_t n, uint64_t seed, int kind) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint64_t h = rng_hash(seed, (uint64_t)i);
        switch (kind) {
        case FILL_BYTES: p[i] = (uint8_t)h; break;
        case FILL_UE4M3: p[i] = (uint8_t)(0x30 + (h & 0x1F)); break;   /* 2^-1 .. 2^2: finite, non-zero */
        case FILL_E8M0: p[i] = (uint8_t)(117 + (h & 7)); break;        /* 2^-10 .. 2^-3 */
        case FILL_BF16_SCALE:   /* uint16 pairs: BF16 in [2^-11, 2^-7) (biased exponent 116..119, any mantissa) */
            p[i] = (i & 1) ? (uint8_t)(0x3A + ((h >> 8) & 1)) : (uint8_t)h;
            break;
        case FILL_BF16: {   /* uint16 pairs: BF16 of uniform(-0.02, 0.02) */
            const __nv_bfloat16 b = __float2bfloat16((float)(0.04 * (rng_to_unit(rng_hash(seed, (uint64_t)(i / 2))) - 0.5)));
            uint16_t u;
            memcpy(&u, &b, 2);
            p[i] = (i & 1) ? (uint8_t)(u >> 8) : (uint8_t)u;
            break;
        }
        default: {   /* E4M3 of uniform(-224, 224), never NaN */
            const float v = (float)(448.0 * (rng_to_unit(h) - 0.5));
            p[i] = (uint8_t)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
            break;
        }
        }
    }
}

static void fill(void *p, size_t n, uint64_t seed, enum fill_kind k) {
    if (n == 0) return;
    fill_kernel<<<2048, 256>>>((uint8_t *)p, (int64_t)n, seed, (int)k);
    CUDA_CHECK_LAUNCH();
}

// ---- timing ----

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

struct bench {
    cudaEvent_t e0, e1;
    uint8_t *flush;
    uint32_t *sink;
    int reps;
    cublasHandle_t blas;
    cublasLtHandle_t lt;
    void *lt_ws;
    size_t lt_ws_bytes;
    double copy_gbps, bf16_tflops, fp8_tflops;
    uint8_t *cbuf;           /* the same-size copies: source and destination halves */
    size_t cbuf_bytes;
    double memo_bytes[4096]; /* same-size copy medians already measured (ms), by byte count */
    float memo_t[4096][3];
    int n_memo, sweep;
    char *jl;
    size_t jn, jcap;
};

#define FLUSH_BYTES ((size_t)256 << 20)

/* The L2 flush: reads the 256 MiB buffer (4 x the 60 MB L2), so the L2 then holds clean lines of it and the
 * timed launch pays for no write-back of dirty ones (a flush by memset would leave 60 MB of dirty lines that
 * the next kernel's reads must evict to HBM). One store per block keeps the reads alive. */
static __global__ void flush_kernel(const uint4 *p, int64_t n, uint32_t *sink) {
    uint32_t acc = 0;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint4 v = __ldcg(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x9E3779B9u) sink[blockIdx.x] = acc;   /* practically never taken, but not provably */
}

static void flush_l2(const uint8_t *buf, uint32_t *sink) {
    flush_kernel<<<1056, 512>>>(reinterpret_cast<const uint4 *>(buf), (int64_t)(FLUSH_BYTES / 16), sink);
    CUDA_CHECK_LAUNCH();
}

/* The case to time: run(ctx, copy) launches it once on the default stream with weight copy `copy`. */
struct runner {
    void (*run)(void *ctx, int copy);
    void *ctx;
};

/* Isolated: flush, event, one launch, event; median / p10 / p90 over b->reps after 5 warm-ups (ms). */
static void time_isolated(struct bench *b, struct runner r, float out[3]) {
    float *t = (float *)xmalloc(sizeof(float) * (size_t)b->reps);
    for (int it = 0; it < b->reps + 5; it++) {
        flush_l2(b->flush, b->sink);
        CUDA_CHECK(cudaEventRecord(b->e0));
        r.run(r.ctx, 0);
        CUDA_CHECK(cudaEventRecord(b->e1));
        CUDA_CHECK(cudaEventSynchronize(b->e1));
        if (it >= 5) CUDA_CHECK(cudaEventElapsedTime(&t[it - 5], b->e0, b->e1));
    }
    qsort(t, (size_t)b->reps, sizeof(float), cmp_float);
    out[0] = t[b->reps / 2];
    out[1] = t[b->reps / 10];
    out[2] = t[b->reps * 9 / 10];
    free(t);
}

/* Stream: n_copies launches over distinct copies back to back, at least 20 launches per trial; the median of
 * 3 trials of the time per launch (ms). */
static float time_stream(struct bench *b, struct runner r, int n_copies) {
    const int reps = n_copies >= 20 ? n_copies : n_copies * ((20 + n_copies - 1) / n_copies);
    float t3[3];
    for (int trial = 0; trial < 3; trial++) {
        r.run(r.ctx, 0);   /* warm (launch path), then flush */
        flush_l2(b->flush, b->sink);
        CUDA_CHECK(cudaEventRecord(b->e0));
        for (int i = 0; i < reps; i++) r.run(r.ctx, i % n_copies);
        CUDA_CHECK(cudaEventRecord(b->e1));
        CUDA_CHECK(cudaEventSynchronize(b->e1));
        float ms;
        CUDA_CHECK(cudaEventElapsedTime(&ms, b->e0, b->e1));
        t3[trial] = ms / (float)reps;
    }
    qsort(t3, 3, sizeof(float), cmp_float);
    return t3[1];
}

// ---- the kernels under test ----

/* The pool of weight copies: copy c of a weight of `one` bytes starts at pool + c * round_up(one, 256). */
struct pool {
    uint8_t *p;
    size_t bytes;
};

static size_t round256(size_t n) { return (n + 255) / 256 * 256; }

static int n_copies_for(const struct pool *pl, size_t one) {
    int n = (int)(((size_t)512 << 20) / round256(one)) + 1;
    if (n < 2) n = 2;
    if (n > 64) n = 64;
    while (n > 1 && (size_t)n * round256(one) > pl->bytes) n--;
    CHECK(n >= 1, "pool too small for one weight of %zu bytes", one);
    return n;
}

struct w4_ctx {
    struct linear_w4a16 w;
    size_t cb, sb, zb, one;
    uint8_t *base;
    const uint16_t *x;
    float *y;
    int64_t M;
    void *ws;
    struct linear_w4a16_cfg cfg;
};

static void w4_run(void *vctx, int copy) {
    struct w4_ctx *c = (struct w4_ctx *)vctx;
    struct linear_w4a16 w = c->w;
    uint8_t *p = c->base + (size_t)copy * round256(c->one);
    w.codes = p;
    w.scales = p + round256(c->cb);
    w.zeros = c->zb ? p + round256(c->cb) + round256(c->sb) : NULL;
    linear_w4a16_cuda_cfg(&w, c->x, c->y, c->M, c->ws, &c->cfg, NULL);
}

struct bf16_ctx {
    cublasHandle_t h;
    uint8_t *base;
    size_t one;
    const void *x;
    void *y;
    int64_t M, N, K;
};

/* y^T (N x M, column-major) = W (row-major N x K, i.e. column-major K x N, op T) x^T (K x M column-major). */
static void bf16_run(void *vctx, int copy) {
    struct bf16_ctx *c = (struct bf16_ctx *)vctx;
    const float one = 1.0f, zero = 0.0f;
    const void *w = c->base + (size_t)copy * round256(c->one);
    if (cublasGemmEx(c->h, CUBLAS_OP_T, CUBLAS_OP_N, (int)c->N, (int)c->M, (int)c->K, &one, w, CUDA_R_16BF,
                     (int)c->K, c->x, CUDA_R_16BF, (int)c->K, &zero, c->y, CUDA_R_16BF, (int)c->N,
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
        die("bench_e06: cublasGemmEx (BF16) failed for M=%lld N=%lld K=%lld", (long long)c->M, (long long)c->N,
            (long long)c->K);
}

struct fp8_ctx {
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulHeuristicResult_t heur;
    uint8_t *base;
    size_t one;
    const void *x;
    void *y;
    void *ws;
    size_t ws_bytes;
};

static void fp8_run(void *vctx, int copy) {
    struct fp8_ctx *c = (struct fp8_ctx *)vctx;
    const float one = 1.0f, zero = 0.0f;
    const void *w = c->base + (size_t)copy * round256(c->one);
    if (cublasLtMatmul(c->lt, c->op, &one, w, c->la, c->x, c->lb, &zero, c->y, c->lc, c->y, c->lc, &c->heur.algo,
                       c->ws, c->ws_bytes, NULL) != CUBLAS_STATUS_SUCCESS)
        die("bench_e06: cublasLtMatmul (FP8) failed");
}

/* Sets up the FP8 GEMM (E4M3 W and x, per-tensor FP32 scales a_scale = b_scale = 1 on the device, BF16 out,
 * FP32 accumulation, TN as cuBLASLt's FP8 requires); returns 0 when cuBLASLt offers no algorithm for it. */
static int fp8_setup(struct bench *b, struct fp8_ctx *c, int64_t M, int64_t N, int64_t K, const float *d_scale) {
    memset(c, 0, sizeof *c);
    c->lt = b->lt;
    c->ws = b->lt_ws;
    c->ws_bytes = b->lt_ws_bytes;
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    if (cublasLtMatmulDescCreate(&c->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS) die("cublasLt desc");
    cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &d_scale, sizeof d_scale);
    cublasLtMatmulDescSetAttribute(c->op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &d_scale, sizeof d_scale);
    cublasLtMatrixLayoutCreate(&c->la, CUDA_R_8F_E4M3, (uint64_t)K, (uint64_t)N, K);
    cublasLtMatrixLayoutCreate(&c->lb, CUDA_R_8F_E4M3, (uint64_t)K, (uint64_t)M, K);
    cublasLtMatrixLayoutCreate(&c->lc, CUDA_R_16BF, (uint64_t)N, (uint64_t)M, N);
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &c->ws_bytes,
                                         sizeof c->ws_bytes);
    int n = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(c->lt, c->op, c->la, c->lb, c->lc, c->lc, pref, 1,
                                                             &c->heur, &n);
    cublasLtMatmulPreferenceDestroy(pref);
    return st == CUBLAS_STATUS_SUCCESS && n > 0;
}

static void fp8_free(struct fp8_ctx *c) {
    cublasLtMatrixLayoutDestroy(c->la);
    cublasLtMatrixLayoutDestroy(c->lb);
    cublasLtMatrixLayoutDestroy(c->lc);
    cublasLtMatmulDescDestroy(c->op);
}

// ---- output ----

static void jprintf(struct bench *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        const int n = vsnprintf(b->jl + b->jn, b->jcap - b->jn, fmt, ap);
        va_end(ap);
        CHECK(n >= 0, "vsnprintf");
        if (b->jn + (size_t)n < b->jcap) {
            b->jn += (size_t)n;
            return;
        }
        b->jcap = 2 * b->jcap + (size_t)n;
        b->jl = (char *)xrealloc(b->jl, b->jcap);
    }
}

/* The same-size copy of a case (experiments/e06-kernels/README.en.md, "Judging small matrices"): a device
 * to device copy whose bytes read + written equal the case's bytes (cudaMemcpyAsync of bytes / 2 rounded up to
 * 4 KiB, as the copy ceiling counts), timed as the isolated cases are (L2 flushed by reading before every run, one call between
 * two events, median of the same reps after 5 warm-ups). Memoized by byte count. */
struct copy_ctx {
    uint8_t *dst;
    const uint8_t *src;
    size_t n;
};

static void copy_run(void *vctx, int copy) {
    (void)copy;
    const struct copy_ctx *c = (const struct copy_ctx *)vctx;
    CUDA_CHECK(cudaMemcpyAsync(c->dst, c->src, c->n, cudaMemcpyDeviceToDevice));
}

static const float *same_size_copy(struct bench *b, double bytes) {
    for (int i = 0; i < b->n_memo; i++)
        if (b->memo_bytes[i] == bytes) return b->memo_t[i];
    // A multiple of 4 KiB, rounded up: cudaMemcpyAsync takes a slower path (20-40% at 2-70 MB on the H200,
    // session 19's records) when the size is not one, which biased the first records' same-size copies.
    const size_t half = ((size_t)(bytes / 2) + 4095) / 4096 * 4096;
    CHECK(2 * half <= b->cbuf_bytes, "bench_e06: copy buffer too small for %.0f bytes", bytes);
    struct copy_ctx c = {b->cbuf + b->cbuf_bytes / 2, b->cbuf, half};
    struct runner r = {copy_run, &c};
    const int i = b->n_memo < 4096 ? b->n_memo++ : 4095;
    b->memo_bytes[i] = bytes;
    time_isolated(b, r, b->memo_t[i]);
    return b->memo_t[i];
}

/* One JSON line and one stdout line for a timed case. rate_tflops: the compute ceiling of the unit used.
 * Isolated cases also carry their same-size copy: copy_same_ms, copy_same_gbps, frac_copy_same = copy time /
 * kernel time (the kernel's GB/s over the same-size copy's), and the fraction the 0.90 target is judged by:
 * frac_target = frac_copy_same where the same-size copy itself stays under 0.90 of the large-copy bandwidth
 * (a latency-bound size: target_ref "same-size copy"), else frac_copy (target_ref "large copy"). */
static void record(struct bench *b, const struct shape *s, const char *kernel, const char *mode, int depth, int64_t M,
                   const float t[3], double bytes, double rate_tflops, const char *ceiling, const char *note) {
    const double flops = 2.0 * (double)M * (double)s->N * (double)s->K, sec = t[0] * 1e-3;
    const double gbps = bytes / sec / 1e9, tflops = flops / sec / 1e12;
    const double floor_s = fmax(bytes / (b->copy_gbps * 1e9), flops / (rate_tflops * 1e12));
    const double frac = floor_s / sec;
    char same[384] = "";
    double fsame = NAN;
    if (strcmp(mode, "isolated") == 0 || strcmp(mode, "sweep") == 0) {
        const float *cs = same_size_copy(b, bytes);
        const double cg = bytes / (cs[0] * 1e-3) / 1e9;
        fsame = cs[0] / t[0];
        const int small = cg < 0.90 * b->copy_gbps;
        snprintf(same, sizeof same, ", \"copy_same_ms\": %.6f, \"copy_same_gbps\": %.2f, \"frac_copy_same\": %.4f, "
                 "\"frac_target\": %.4f, \"target_ref\": \"%s\"", cs[0], cg, fsame, small ? fsame : gbps / b->copy_gbps,
                 small ? "same-size copy" : "large copy");
    }
    printf("%-14s %-15s %5lld x %-6lld M=%-4lld %-15s %-8s d%d %9.4f ms %7.0f GB/s %7.2f TF/s  copy %.3f  same %.3f  "
           "roofline %.3f%s%s\n", s->model, s->layer, (long long)s->N, (long long)s->K, (long long)M, kernel, mode,
           depth, t[0], gbps, tflops, gbps / b->copy_gbps, fsame, frac, note ? "  " : "", note ? note : "");
    jprintf(b, "{\"model\": \"%s\", \"layer\": \"%s\", \"N\": %lld, \"K\": %lld, \"M\": %lld, \"kernel\": \"%s\", "
            "\"mode\": \"%s\", \"depth\": %d, \"median_ms\": %.6f, \"p10_ms\": %.6f, \"p90_ms\": %.6f, \"reps\": %d, "
            "\"bytes\": %.0f, \"flops\": %.0f, \"gbps\": %.2f, \"tflops\": %.4f, \"frac_copy\": %.4f, "
            "\"frac_compute\": %.4f, \"compute_ceiling\": \"%s\", \"roofline_frac\": %.4f%s, \"note\": \"%s\"}\n",
            s->model, s->layer, (long long)s->N, (long long)s->K, (long long)M, kernel, mode, depth, t[0], t[1], t[2],
            strcmp(mode, "stream") == 0 ? 3 : b->reps, bytes, flops, gbps, tflops, gbps / b->copy_gbps,
            tflops / rate_tflops, ceiling, frac, same, note ? note : "");
}

// ---- ceilings ----

static void measure_ceilings(struct bench *b, struct pool *pl) {
    // Copy: 1 GiB device to device (reads and writes 1 GiB: GB/s = 2 x bytes / t).
    const size_t cb = (size_t)1 << 30;
    CHECK(pl->bytes >= 2 * cb, "pool");
    fill(pl->p, cb, 7, FILL_BYTES);
    float t[3];
    {
        float *tt = (float *)xmalloc(sizeof(float) * (size_t)b->reps);
        for (int it = 0; it < b->reps + 5; it++) {
            CUDA_CHECK(cudaEventRecord(b->e0));
            CUDA_CHECK(cudaMemcpyAsync(pl->p + cb, pl->p, cb, cudaMemcpyDeviceToDevice));
            CUDA_CHECK(cudaEventRecord(b->e1));
            CUDA_CHECK(cudaEventSynchronize(b->e1));
            if (it >= 5) CUDA_CHECK(cudaEventElapsedTime(&tt[it - 5], b->e0, b->e1));
        }
        qsort(tt, (size_t)b->reps, sizeof(float), cmp_float);
        t[0] = tt[b->reps / 2];
        t[1] = tt[b->reps / 10];
        t[2] = tt[b->reps * 9 / 10];
        free(tt);
    }
    b->copy_gbps = 2.0 * (double)cb / (t[0] * 1e-3) / 1e9;
    printf("ceiling copy 1 GiB: median %.4f ms (p10 %.4f, p90 %.4f): %.0f GB/s\n", t[0], t[1], t[2], b->copy_gbps);
    jprintf(b, "{\"kernel\": \"copy\", \"mode\": \"ceiling\", \"bytes\": %.0f, \"median_ms\": %.6f, \"p10_ms\": %.6f, "
            "\"p90_ms\": %.6f, \"reps\": %d, \"gbps\": %.2f}\n", 2.0 * (double)cb, t[0], t[1], t[2], b->reps,
            b->copy_gbps);
    // BF16 GEMM 8192^3 (cuBLAS, BF16 in and out, FP32 accumulation), random data, and FP8 through cuBLASLt.
    const int64_t n = 8192;
    uint8_t *A = pl->p, *B = pl->p + (size_t)(n * n * 2), *C = pl->p + (size_t)(n * n * 4);
    fill(A, (size_t)(n * n * 2), 11, FILL_BF16);
    fill(B, (size_t)(n * n * 2), 12, FILL_BF16);
    struct bf16_ctx bc = {b->blas, A, (size_t)(n * n * 2), B, C, n, n, n};
    struct runner rb = {bf16_run, &bc};
    const int saved = b->reps;
    b->reps = 20;
    time_isolated(b, rb, t);
    b->bf16_tflops = 2.0 * n * n * n / (t[0] * 1e-3) / 1e12;
    printf("ceiling cuBLAS BF16 GEMM 8192^3: median %.4f ms: %.1f TFLOP/s\n", t[0], b->bf16_tflops);
    jprintf(b, "{\"kernel\": \"cublas-bf16-gemm\", \"mode\": \"ceiling\", \"M\": %lld, \"N\": %lld, \"K\": %lld, "
            "\"median_ms\": %.6f, \"p10_ms\": %.6f, \"p90_ms\": %.6f, \"reps\": 20, \"tflops\": %.3f}\n",
            (long long)n, (long long)n, (long long)n, t[0], t[1], t[2], b->bf16_tflops);
    fill(A, (size_t)(n * n), 13, FILL_E4M3);
    fill(B, (size_t)(n * n), 14, FILL_E4M3);
    float *d_one;
    CUDA_CHECK(cudaMalloc(&d_one, sizeof(float)));
    const float h_one = 1.0f / 4096.0f;   /* keeps the BF16 outputs finite for E4M3 inputs of up to 224 */
    CUDA_CHECK(cudaMemcpy(d_one, &h_one, sizeof(float), cudaMemcpyHostToDevice));
    struct fp8_ctx fc;
    b->fp8_tflops = NAN;
    if (fp8_setup(b, &fc, n, n, n, d_one)) {
        fc.base = A;
        fc.one = (size_t)(n * n);
        fc.x = B;
        fc.y = C;
        struct runner rf = {fp8_run, &fc};
        time_isolated(b, rf, t);
        b->fp8_tflops = 2.0 * n * n * n / (t[0] * 1e-3) / 1e12;
        printf("ceiling cuBLASLt FP8 GEMM 8192^3: median %.4f ms: %.1f TFLOP/s\n", t[0], b->fp8_tflops);
        jprintf(b, "{\"kernel\": \"cublaslt-fp8-gemm\", \"mode\": \"ceiling\", \"M\": %lld, \"N\": %lld, \"K\": %lld, "
                "\"median_ms\": %.6f, \"p10_ms\": %.6f, \"p90_ms\": %.6f, \"reps\": 20, \"tflops\": %.3f}\n",
                (long long)n, (long long)n, (long long)n, t[0], t[1], t[2], b->fp8_tflops);
        fp8_free(&fc);
    } else {
        printf("ceiling cuBLASLt FP8 GEMM 8192^3: no algorithm offered\n");
    }
    b->reps = saved;
    CUDA_CHECK(cudaFree(d_one));
}

// ---- per shape ----

/* Checks that a kernel's output is finite (it ran and wrote something sane on random data). */
static void check_finite(const void *y, size_t n, int is_bf16, const char *what) {
    const size_t nb = n * (is_bf16 ? 2 : 4);
    uint8_t *h = (uint8_t *)xmalloc(nb);
    CUDA_CHECK(cudaMemcpy(h, y, nb, cudaMemcpyDeviceToHost));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v;
        if (is_bf16) {
            uint32_t u = (uint32_t)(h[2 * i] | h[2 * i + 1] << 8) << 16;
            memcpy(&v, &u, 4);
        } else memcpy(&v, h + 4 * i, 4);
        bad += !isfinite(v);
    }
    if (bad) die("bench_e06: %s wrote %zu non-finite values of %zu on random data", what, bad, n);
    free(h);
}

static void bench_shape(struct bench *b, struct pool *pl, const struct shape *s, int quick, const float *d_fp8_scale) {
    const int64_t N = s->N, K = s->K, MMAX = 4096;
    uint16_t *x;
    void *y, *ws;
    CUDA_CHECK(cudaMalloc(&x, (size_t)(MMAX * K * 2)));
    CUDA_CHECK(cudaMalloc(&y, (size_t)(MMAX * N * 4)));
    fill(x, (size_t)(MMAX * K * 2), 101, FILL_BF16);   /* BF16-shaped bits: finite FP16 values too */
    const size_t wsb = linear_w4a16_workspace_bytes(N, K);
    CUDA_CHECK(cudaMalloc(&ws, wsb));
    CUDA_CHECK(cudaMemset(ws, 0, wsb));
    // The packed W4A16 GEMVs.
    const int64_t w4_M[] = {1, 4, 8};
    for (size_t vi = 0; vi < sizeof W4 / sizeof W4[0]; vi++) {
        const struct w4_variant *v = &W4[vi];
        if (quick && vi > 2 && v->group != 128) continue;
        struct w4_ctx c;
        memset(&c, 0, sizeof c);
        linear_w4a16_layout(v->f, v->group, N, K, &c.cb, &c.sb, &c.zb);
        c.one = round256(c.cb) + round256(c.sb) + round256(c.zb);
        const int nc = n_copies_for(pl, c.one);
        for (int k = 0; k < nc; k++) {
            uint8_t *p = pl->p + (size_t)k * round256(c.one);
            fill(p, c.cb, 1000 + k, FILL_BYTES);
            fill(p + round256(c.cb), c.sb, 2000 + k,
                 v->f == QFORMAT_NVFP4 ? FILL_UE4M3 : v->f == QFORMAT_MXFP4 ? FILL_E8M0 : FILL_BF16_SCALE);
            if (c.zb) fill(p + round256(c.cb) + round256(c.sb), c.zb, 3000 + k, FILL_BYTES);
        }
        c.w.format = v->f;
        c.w.group = v->group;
        c.w.N = N;
        c.w.K = K;
        c.w.global_scale = 1.0f;
        c.base = pl->p;
        c.x = x;
        c.y = (float *)y;
        c.ws = ws;
        const double wbytes = (double)(c.cb + c.sb + c.zb);
        for (size_t mi = 0; mi < sizeof w4_M / sizeof w4_M[0]; mi++) {
            c.M = w4_M[mi];
            const double bytes = wbytes + 2.0 * c.M * K + 4.0 * c.M * N;
            // The default launch (depth 1), then at M = 1 depth 2 and, with --sweep, other K splits.
            struct linear_w4a16_cfg cl[8] = {{1, 0, 0}, {2, 0, 0}, {1, 1, 0}, {1, 2, 0}, {1, 4, 0}, {1, 16, 0},
                                             {2, 1, 0}, {2, 4, 0}};
            const int n_cfg = c.M == 1 ? (b->sweep ? 8 : 2) : 1;
            for (int wi = 0; wi < n_cfg; wi++) {
                c.cfg = cl[wi];
                struct runner r = {w4_run, &c};
                float t[3];
                w4_run(&c, 0);
                CUDA_CHECK(cudaDeviceSynchronize());
                check_finite(y, (size_t)(c.M * N), 0, v->label);
                time_isolated(b, r, t);
                char note[96];
                snprintf(note, sizeof note, "%lld warps", (long long)linear_w4a16_last_warps());
                if (c.cfg.ksplit) snprintf(note, sizeof note, "sweep: ksplit %d, %lld warps", c.cfg.ksplit,
                                           (long long)linear_w4a16_last_warps());
                record(b, s, v->label, c.cfg.ksplit ? "sweep" : "isolated", c.cfg.depth, c.M, t, bytes,
                       b->bf16_tflops, "bf16", note);
                if (wi == 0) {
                    const float ts = time_stream(b, r, nc);
                    const float t3[3] = {ts, ts, ts};
                    record(b, s, v->label, "stream", c.cfg.depth, c.M, t3, bytes, b->bf16_tflops, "bf16", note);
                }
            }
        }
    }
    // Peers: cuBLAS BF16 and cuBLASLt FP8 at M = 1, 8 (isolated + stream) and 64, 512, 4096 (isolated).
    const int64_t peer_M[] = {1, 8, 64, 512, 4096};
    {
        const size_t one = (size_t)(N * K * 2);
        const int nc = n_copies_for(pl, one);
        for (int k = 0; k < nc; k++) fill(pl->p + (size_t)k * round256(one), one, 4000 + k, FILL_BF16);
        struct bf16_ctx c = {b->blas, pl->p, one, x, y, 0, N, K};
        for (size_t mi = 0; mi < sizeof peer_M / sizeof peer_M[0]; mi++) {
            c.M = peer_M[mi];
            struct runner r = {bf16_run, &c};
            const double bytes = 2.0 * N * K + 2.0 * c.M * K + 2.0 * c.M * N;
            float t[3];
            bf16_run(&c, 0);
            CUDA_CHECK(cudaDeviceSynchronize());
            check_finite(y, (size_t)(c.M * N), 1, "cublas-bf16");
            time_isolated(b, r, t);
            record(b, s, "cublas-bf16", "isolated", 0, c.M, t, bytes, b->bf16_tflops, "bf16", NULL);
            if (c.M <= 8) {
                const float ts = time_stream(b, r, nc);
                const float t3[3] = {ts, ts, ts};
                record(b, s, "cublas-bf16", "stream", 0, c.M, t3, bytes, b->bf16_tflops, "bf16", NULL);
            }
        }
    }
    {
        const size_t one = (size_t)(N * K);
        const int nc = n_copies_for(pl, one);
        for (int k = 0; k < nc; k++) fill(pl->p + (size_t)k * round256(one), one, 5000 + k, FILL_E4M3);
        fill(x, (size_t)(MMAX * K), 102, FILL_E4M3);
        for (size_t mi = 0; mi < sizeof peer_M / sizeof peer_M[0]; mi++) {
            const int64_t M = peer_M[mi];
            struct fp8_ctx c;
            int64_t Mr = M;
            const char *note = NULL;
            int ok = fp8_setup(b, &c, M, N, K, d_fp8_scale);
            if (!ok) {   /* cuBLASLt may refuse a tiny M: run it padded to 16 rows and say so */
                fp8_free(&c);
                Mr = 16;
                ok = fp8_setup(b, &c, Mr, N, K, d_fp8_scale);
                note = "M padded to 16 (cuBLASLt offered no algorithm for this M)";
            }
            if (!ok) {
                printf("%-14s %-15s %5lld x %-6lld M=%-4lld cublaslt_fp8: no algorithm offered\n", s->model, s->layer,
                       (long long)N, (long long)K, (long long)M);
                fp8_free(&c);
                continue;
            }
            c.base = pl->p;
            c.one = one;
            c.x = x;
            c.y = y;
            struct runner r = {fp8_run, &c};
            const double bytes = 1.0 * N * K + 1.0 * Mr * K + 2.0 * Mr * N;
            float t[3];
            fp8_run(&c, 0);
            CUDA_CHECK(cudaDeviceSynchronize());
            check_finite(y, (size_t)(Mr * N), 1, "cublaslt-fp8");
            time_isolated(b, r, t);
            const double rate = isnan(b->fp8_tflops) ? b->bf16_tflops : b->fp8_tflops;
            record(b, s, "cublaslt-fp8", "isolated", 0, M, t, bytes, rate, "fp8", note);
            if (M <= 8) {
                const float ts = time_stream(b, r, nc);
                const float t3[3] = {ts, ts, ts};
                record(b, s, "cublaslt-fp8", "stream", 0, M, t3, bytes, rate, "fp8", note);
            }
            fp8_free(&c);
        }
    }
    CUDA_CHECK(cudaFree(x));
    CUDA_CHECK(cudaFree(y));
    CUDA_CHECK(cudaFree(ws));
}

// ---- manifest ----

static void utc_now(char *buf, size_t n) {
    const time_t t = time(NULL);   /* a timestamp for the record, never a seed */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The kernel module's version line ("NVRM version: ... 580.159.04 ..."), or "unknown". */
static void driver_version(char *buf, size_t n) {
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/driver/nvidia/version", "r");
    if (!f) return;
    char line[512];
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        for (char *c = line; *c; c++)
            if (*c == '"' || *c == '\\' || *c == '\t') *c = ' ';
        snprintf(buf, n, "%s", line);
    }
    fclose(f);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_e06 --out DIR [--models Qwen3-8B,Qwen3-0.6B,...] [--reps N] [--quick] [--sweep]\n");
    exit(EXIT_USAGE);
}

int main(int argc, char **argv) {
    check_set_progname("bench_e06");
    const char *out = NULL, *models = NULL;
    int reps = 50, quick = 0, sweep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) models = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--sweep") == 0) sweep = 1;
        else usage();
    }
    if (!out || reps < 10) usage();
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    char start[32], end[32], drv[512], self_sha[SHA256_HEX_LEN], gpu[128];
    utc_now(start, sizeof start);
    driver_version(drv, sizeof drv);
    sha256_file("/proc/self/exe", self_sha);
    // "NVIDIA H200" -> "H200": the GPU part of the results folder name (<model>@<gpu>).
    snprintf(gpu, sizeof gpu, "%s", strncmp(prop.name, "NVIDIA ", 7) == 0 ? prop.name + 7 : prop.name);
    for (char *c = gpu; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-')) *c = '-';
    int drv_api = 0, rt = 0, blas_ver = 0;
    CUDA_CHECK(cudaDriverGetVersion(&drv_api));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    struct bench b;
    memset(&b, 0, sizeof b);
    b.reps = reps;
    b.sweep = sweep;
    b.cbuf_bytes = (size_t)3 << 30;   /* the largest case: 32B gate / up, BF16 at M = 4096, ~0.5 GB; lm_head 1.25 GB */
    CUDA_CHECK(cudaMalloc(&b.cbuf, b.cbuf_bytes));
    fill(b.cbuf, b.cbuf_bytes, 9, FILL_BYTES);
    b.jcap = 1 << 16;
    b.jl = (char *)xmalloc(b.jcap);
    CUDA_CHECK(cudaEventCreate(&b.e0));
    CUDA_CHECK(cudaEventCreate(&b.e1));
    CUDA_CHECK(cudaMalloc(&b.flush, FLUSH_BYTES));
    CUDA_CHECK(cudaMalloc(&b.sink, sizeof(uint32_t) * 1056));
    fill(b.flush, FLUSH_BYTES, 3, FILL_BYTES);
    if (cublasCreate(&b.blas) != CUBLAS_STATUS_SUCCESS) die("cublasCreate failed");
    if (cublasLtCreate(&b.lt) != CUBLAS_STATUS_SUCCESS) die("cublasLtCreate failed");
    cublasGetVersion(b.blas, &blas_ver);
    b.lt_ws_bytes = (size_t)64 << 20;
    CUDA_CHECK(cudaMalloc(&b.lt_ws, b.lt_ws_bytes));
    struct pool pl;
    pl.bytes = (size_t)4 << 30;
    CUDA_CHECK(cudaMalloc(&pl.p, pl.bytes));
    float *d_fp8_scale;
    CUDA_CHECK(cudaMalloc(&d_fp8_scale, sizeof(float)));
    const float h_scale = 1.0f / 4096.0f;
    CUDA_CHECK(cudaMemcpy(d_fp8_scale, &h_scale, sizeof(float), cudaMemcpyHostToDevice));
    measure_ceilings(&b, &pl);
    char *ceil_lines = (char *)xmalloc(b.jn + 1);
    memcpy(ceil_lines, b.jl, b.jn);
    ceil_lines[b.jn] = 0;
    const size_t ceil_n = b.jn;
    // One folder per model: its shapes' lines after the ceiling lines of this run.
    const char *done[16];
    int n_done = 0;
    for (size_t si = 0; si < sizeof SHAPES / sizeof SHAPES[0]; si++) {
        const char *model = SHAPES[si].model;
        int seen = 0;
        for (int d = 0; d < n_done; d++) seen |= strcmp(done[d], model) == 0;
        if (seen) continue;
        if (models && !strstr(models, model)) continue;
        done[n_done++] = model;
        b.jn = 0;
        jprintf(&b, "%s", ceil_lines);
        for (size_t sj = si; sj < sizeof SHAPES / sizeof SHAPES[0]; sj++)
            if (strcmp(SHAPES[sj].model, model) == 0) bench_shape(&b, &pl, &SHAPES[sj], quick, d_fp8_scale);
        utc_now(end, sizeof end);
        char dir[1024], path[1200], man[4096];
        snprintf(dir, sizeof dir, "%s/%s@%s/e06-kernels", out, model, gpu);
        mkdir_p(dir);
        snprintf(path, sizeof path, "%s/bench.jsonl", dir);
        file_write_atomic(path, b.jl, b.jn);
        const int mn = snprintf(man, sizeof man,
            "{\n  \"experiment\": \"e06-kernels\",\n  \"program\": \"bench_e06\",\n  \"model\": \"%s\",\n"
            "  \"git\": \"%s\",\n  \"binary_sha256\": \"%s\",\n  \"gpu\": \"%s\",\n  \"sm_count\": %d,\n"
            "  \"l2_bytes\": %d,\n  \"driver\": \"%s\",\n  \"cuda_driver_api\": %d,\n  \"cuda_runtime\": %d,\n"
            "  \"cublas\": %d,\n  \"reps\": %d,\n  \"quick\": %d,\n  \"copy_gbps\": %.2f,\n"
            "  \"cublas_bf16_gemm_tflops\": %.3f,\n  \"cublaslt_fp8_gemm_tflops\": %.3f,\n  \"start_utc\": \"%s\",\n"
            "  \"end_utc\": \"%s\"\n}\n",
            model, E06_GIT_REV, self_sha, prop.name, prop.multiProcessorCount, prop.l2CacheSize, drv, drv_api, rt,
            blas_ver, reps, quick, b.copy_gbps, b.bf16_tflops, b.fp8_tflops, start, end);
        CHECK(mn > 0 && (size_t)mn < sizeof man, "manifest buffer");
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        file_write_atomic(path, man, (size_t)mn);
        fprintf(stderr, "bench_e06: wrote %s/{bench.jsonl,manifest.json}\n", dir);
    }
    (void)ceil_n;
    free(ceil_lines);
    free(b.jl);
    cublasLtDestroy(b.lt);
    cublasDestroy(b.blas);
    return 0;
}
