/* check_quantize -- the codec kernels (kernels/quantize_*.cu) against their CPU twins in src/formats, layer 1
 * of STYLE.md section 7: the packed bytes must be identical (memcmp) and the decoded floats identical bit for
 * bit (NaN compared as NaN: the GPU writes its canonical NaN payload). Inputs: Gaussian, heavy tails
 * (Student-t 3), outliers (1 in 97 is 300x), zero blocks, exact E2M1/E4M3 ties, overflow to +-max under a
 * too-small static scale, tiny values with subnormal scales, and NaN/Inf blocks. Exit 77 with
 * "SKIP: no CUDA device" when there is no GPU. */
#include <cuda_runtime.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "formats/fp8_group.h"
#include "formats/mxfp4.h"
#include "formats/mxfp8.h"
#include "formats/nvfp4.h"
#include "quantize_fp8_group.h"
#include "quantize_mxfp4.h"
#include "quantize_mxfp8.h"
#include "quantize_nvfp4.h"
#include "test.h"

// T = rows (tokens), K = reduction dim; 64 x 4096 covers 16384 NVFP4 blocks per input set.
static const int64_t T = 64, K = 4096;

enum input_kind { IN_GAUSS, IN_HEAVY, IN_OUTLIER, IN_ZERO_BLOCKS, IN_TIES, IN_OVERFLOW, IN_TINY, IN_NAN, IN_COUNT };
static const char *kind_name[IN_COUNT] = {"gaussian", "heavy-tails", "outliers", "zero-blocks",
                                          "ties", "overflow", "subnormal-scales", "nan-inf"};

/* Fills x (T x K) with the input set `kind`. Ties: every element is a multiple of 0.25 * 2^j up to 6 * 2^j
 * with each 16-block holding its own 6 * 2^j (so the block maximum pins the scale and the other elements sit
 * on E2M1 midpoints); overflow: large values that the caller quantizes with a too-small static scale. */
static void fill(float *x, enum input_kind kind, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    for (int64_t i = 0; i < T * K; i++) {
        double z = rng_normal(&r);
        switch (kind) {
        case IN_GAUSS: x[i] = (float)z; break;
        case IN_HEAVY: x[i] = (float)rng_student_t(&r, 3); break;
        case IN_OUTLIER: x[i] = (float)(rng_below(&r, 97) == 0 ? 300 * z : z); break;
        case IN_ZERO_BLOCKS: x[i] = ((i / 16) % 3 == 0 || (i / 128) % 5 == 0) ? 0.0f : (float)z; break;
        case IN_TIES: {
            int j = (int)((i / 16) % 9) - 4;
            float v = (i % 16 == 0) ? 6.0f : 0.25f * (float)rng_below(&r, 25);
            x[i] = ldexpf(rng_below(&r, 2) ? -v : v, j);
            break;
        }
        case IN_OVERFLOW: x[i] = (float)(1e4 * z); break;
        case IN_TINY: x[i] = (float)(1e-39 * z); break;
        case IN_NAN:
            x[i] = (float)z;
            if (i % 1001 == 0) x[i] = NAN;
            if (i % 1777 == 0) x[i] = (i & 1) ? INFINITY : -INFINITY;
            break;
        default: break;
        }
    }
}

static int same_float(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Decoded outputs: bit-identical, NaN matched as NaN. Prints the first three differences. */
static int cmp_floats(const char *what, const float *a, const float *b, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!same_float(a[i], b[i])) {
            if (bad < 3) printf("  %s[%lld]: cpu=%a gpu=%a\n", what, (long long)i, (double)a[i], (double)b[i]);
            bad++;
        }
    return bad == 0;
}

/* Packed outputs: memcmp, and on mismatch the first three differing bytes. */
static int cmp_bytes(const char *what, const void *a, const void *b, size_t n) {
    if (memcmp(a, b, n) == 0) return 1;
    const uint8_t *p = (const uint8_t *)a, *q = (const uint8_t *)b;
    int shown = 0;
    for (size_t i = 0; i < n && shown < 3; i++)
        if (p[i] != q[i]) {
            printf("  %s byte %zu: cpu=0x%02X gpu=0x%02X\n", what, i, p[i], q[i]);
            shown++;
        }
    return 0;
}

// ---- one function per codec: CPU twin, GPU kernel, compare ----

static void check_nvfp4(const float *x, float *d_x, enum input_kind kind) {
    size_t nb = (size_t)(T * K / NVFP4_BLOCK_SIZE), bytes = nb * sizeof(struct nvfp4_block);
    /* overflow: a static global from an amax 100x too small, so block scales saturate at 448 and elements
     * at +-6; otherwise the global of the finite data, so that the nan-inf set poisons single blocks (a NaN
     * tensor amax would poison everything, which test_formats checks on the CPU). */
    float amax = 0.0f;
    for (int64_t i = 0; i < T * K; i++)
        if (isfinite(x[i])) amax = fmaxf(amax, fabsf(x[i]));
    float g = nvfp4_global_scale(kind == IN_OVERFLOW ? amax / 100 : amax);
    struct nvfp4_block *c = (struct nvfp4_block *)xmalloc(bytes), *h = (struct nvfp4_block *)xmalloc(bytes);
    float *yc = (float *)xmalloc(sizeof(float) * T * K), *yg = (float *)xmalloc(sizeof(float) * T * K);
    for (int64_t t = 0; t < T; t++) nvfp4_quantize_row_ref(x + t * K, c + t * (K / NVFP4_BLOCK_SIZE), K, g);
    for (int64_t t = 0; t < T; t++) nvfp4_dequantize_row_ref(c + t * (K / NVFP4_BLOCK_SIZE), yc + t * K, K, g);
    struct nvfp4_block *d_q;
    float *d_y;
    CUDA_CHECK(cudaMalloc(&d_q, bytes));
    CUDA_CHECK(cudaMalloc(&d_y, sizeof(float) * T * K));
    quantize_nvfp4_cuda(d_x, d_q, T, K, g, NULL);
    CUDA_CHECK(cudaMemcpy(h, d_q, bytes, cudaMemcpyDeviceToHost));
    int ok_q = cmp_bytes("nvfp4", c, h, bytes);
    /* Decode the CPU's blocks on the GPU, so a decode bug is not masked by an encode bug. */
    CUDA_CHECK(cudaMemcpy(d_q, c, bytes, cudaMemcpyHostToDevice));
    quantize_nvfp4_dequantize_cuda(d_q, d_y, T, K, g, NULL);
    CUDA_CHECK(cudaMemcpy(yg, d_y, sizeof(float) * T * K, cudaMemcpyDeviceToHost));
    int ok_d = cmp_floats("nvfp4 decode", yc, yg, T * K);
    TEST(ok_q && ok_d, "nvfp4 %s: packed blocks memcmp-equal, decode bit-equal (g=%g)", kind_name[kind], (double)g);
    CUDA_CHECK(cudaFree(d_q));
    CUDA_CHECK(cudaFree(d_y));
    free(c);
    free(h);
    free(yc);
    free(yg);
}

/* The two MX codecs differ only in their block type and functions, so one check serves both. */
static_assert(MXFP4_BLOCK_SIZE == 32 && MXFP8_BLOCK_SIZE == 32, "MX blocks are 32 elements");
template <class Block> struct mx_codec {
    const char *name;
    void (*quantize_row_ref)(const float *, Block *, int64_t, enum e8m0_rule);
    void (*dequantize_row_ref)(const Block *, float *, int64_t);
    void (*quantize_cuda)(const float *, Block *, int64_t, int64_t, enum e8m0_rule, void *);
    void (*decode_cuda)(const Block *, float *, int64_t, int64_t, void *);
};
static const mx_codec<struct mxfp4_block> MXFP4 = {"mxfp4", mxfp4_quantize_row_ref, mxfp4_dequantize_row_ref,
                                                   quantize_mxfp4_cuda, quantize_mxfp4_dequantize_cuda};
static const mx_codec<struct mxfp8_block> MXFP8 = {"mxfp8", mxfp8_quantize_row_ref, mxfp8_dequantize_row_ref,
                                                   quantize_mxfp8_cuda, quantize_mxfp8_dequantize_cuda};

template <class Block>
static void check_mx(const mx_codec<Block> &f, const float *x, float *d_x, enum input_kind kind,
                     enum e8m0_rule rule) {
    const int64_t bpr = K / 32; /* blocks per row: MX blocks are 32 elements */
    size_t bytes = (size_t)(T * bpr) * sizeof(Block);
    Block *c = (Block *)xmalloc(bytes), *h = (Block *)xmalloc(bytes);
    float *yc = (float *)xmalloc(sizeof(float) * T * K), *yg = (float *)xmalloc(sizeof(float) * T * K);
    for (int64_t t = 0; t < T; t++) f.quantize_row_ref(x + t * K, c + t * bpr, K, rule);
    for (int64_t t = 0; t < T; t++) f.dequantize_row_ref(c + t * bpr, yc + t * K, K);
    Block *d_q;
    float *d_y;
    CUDA_CHECK(cudaMalloc(&d_q, bytes));
    CUDA_CHECK(cudaMalloc(&d_y, sizeof(float) * T * K));
    f.quantize_cuda(d_x, d_q, T, K, rule, NULL);
    CUDA_CHECK(cudaMemcpy(h, d_q, bytes, cudaMemcpyDeviceToHost));
    int ok_q = cmp_bytes(f.name, c, h, bytes);
    /* Decode the CPU's blocks on the GPU, so a decode bug is not masked by an encode bug. */
    CUDA_CHECK(cudaMemcpy(d_q, c, bytes, cudaMemcpyHostToDevice));
    f.decode_cuda(d_q, d_y, T, K, NULL);
    CUDA_CHECK(cudaMemcpy(yg, d_y, sizeof(float) * T * K, cudaMemcpyDeviceToHost));
    int ok_d = cmp_floats("decode", yc, yg, T * K);
    TEST(ok_q && ok_d, "%s%s %s: packed blocks memcmp-equal, decode bit-equal", f.name,
         rule == E8M0_RULE_CEIL ? "-ceil" : "", kind_name[kind]);
    CUDA_CHECK(cudaFree(d_q));
    CUDA_CHECK(cudaFree(d_y));
    free(c);
    free(h);
    free(yc);
    free(yg);
}

static void check_fp8_group(const float *x, float *d_x, enum input_kind kind) {
    int64_t ng = T * K / FP8_GROUP_SIZE;
    uint8_t *qc = (uint8_t *)xmalloc((size_t)(T * K)), *qg = (uint8_t *)xmalloc((size_t)(T * K));
    float *sc = (float *)xmalloc(sizeof(float) * ng), *sg = (float *)xmalloc(sizeof(float) * ng);
    float *yc = (float *)xmalloc(sizeof(float) * T * K), *yg = (float *)xmalloc(sizeof(float) * T * K);
    for (int64_t t = 0; t < T; t++) fp8_group_quantize_row_ref(x + t * K, qc + t * K, sc + t * (K / 128), K);
    for (int64_t t = 0; t < T; t++) fp8_group_dequantize_row_ref(qc + t * K, sc + t * (K / 128), yc + t * K, K);
    uint8_t *d_q;
    float *d_s, *d_y;
    CUDA_CHECK(cudaMalloc(&d_q, (size_t)(T * K)));
    CUDA_CHECK(cudaMalloc(&d_s, sizeof(float) * ng));
    CUDA_CHECK(cudaMalloc(&d_y, sizeof(float) * T * K));
    quantize_fp8_group_cuda(d_x, d_q, d_s, T, K, NULL);
    CUDA_CHECK(cudaMemcpy(qg, d_q, (size_t)(T * K), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(sg, d_s, sizeof(float) * ng, cudaMemcpyDeviceToHost));
    int ok_q = cmp_bytes("fp8 codes", qc, qg, (size_t)(T * K)) && cmp_floats("fp8 scales", sc, sg, ng);
    CUDA_CHECK(cudaMemcpy(d_q, qc, (size_t)(T * K), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d_s, sc, sizeof(float) * ng, cudaMemcpyHostToDevice));
    quantize_fp8_group_dequantize_cuda(d_q, d_s, d_y, T, K, NULL);
    CUDA_CHECK(cudaMemcpy(yg, d_y, sizeof(float) * T * K, cudaMemcpyDeviceToHost));
    int ok_d = cmp_floats("fp8 decode", yc, yg, T * K);
    TEST(ok_q && ok_d, "fp8-group128 %s: codes memcmp-equal, scales and decode bit-equal", kind_name[kind]);
    CUDA_CHECK(cudaFree(d_q));
    CUDA_CHECK(cudaFree(d_s));
    CUDA_CHECK(cudaFree(d_y));
    free(qc);
    free(qg);
    free(sc);
    free(sg);
    free(yc);
    free(yg);
}

/* The layout checks' data: n Gaussian values from seed, about one in 61 scaled by 50 (outliers). */
static void fill_layout(float *x, int64_t n, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(rng_below(&r, 61) == 0 ? 50 : 1) * (float)rng_normal(&r);
}

/* Awkward shapes and pointers for the tiled quantize kernels (kernels/common.cuh): element counts that end
 * inside a tile (a tail CTA), one block, and input / output pointers off their 16-byte alignment (the
 * scalar-load and narrow-store paths). Gaussian data with a few outliers; packed bytes memcmp-equal. */
static void check_layouts(void) {
    const int64_t shapes[][2] = {{1, 16}, {1, 32}, {3, 96}, {7, 160}, {5, 1056}, {33, 4128}, {2, 128}, {9, 1152},
                                 {17, 4224}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int fmt = 0; fmt < 3; fmt++)
            for (int off = 0; off < 3; off++) {
                int64_t t_n = shapes[si][0], k = shapes[si][1], n = t_n * k;
                int bs = fmt == 0 ? NVFP4_BLOCK_SIZE : 32;
                if (k % bs) continue;
                size_t blk = fmt == 0 ? sizeof(struct nvfp4_block)
                           : fmt == 1 ? sizeof(struct mxfp4_block) : sizeof(struct mxfp8_block);
                size_t bytes = (size_t)(n / bs) * blk;
                /* off 0: aligned; 1: input one float off 16-byte alignment; 2: output one block off. */
                int x_off = off == 1, y_off = off == 2 ? (int)blk : 0;
                float *x = (float *)xmalloc(sizeof(float) * n);
                fill_layout(x, n, 77 + (uint64_t)si);
                uint8_t *c = (uint8_t *)xmalloc(bytes), *h = (uint8_t *)xmalloc(bytes), *d_q;
                float *d_x;
                float g = nvfp4_global_scale(50.0f * 6.0f);
                for (int64_t t = 0; t < t_n; t++) {
                    uint8_t *row = c + (size_t)(t * (k / bs)) * blk;
                    if (fmt == 0) nvfp4_quantize_row_ref(x + t * k, (struct nvfp4_block *)row, k, g);
                    if (fmt == 1) mxfp4_quantize_row_ref(x + t * k, (struct mxfp4_block *)row, k, E8M0_RULE_FLOOR);
                    if (fmt == 2) mxfp8_quantize_row_ref(x + t * k, (struct mxfp8_block *)row, k, E8M0_RULE_FLOOR);
                }
                CUDA_CHECK(cudaMalloc(&d_x, sizeof(float) * (n + 1)));
                CUDA_CHECK(cudaMalloc(&d_q, bytes + blk));
                CUDA_CHECK(cudaMemcpy(d_x + x_off, x, sizeof(float) * n, cudaMemcpyHostToDevice));
                if (fmt == 0) quantize_nvfp4_cuda(d_x + x_off, (struct nvfp4_block *)(d_q + y_off), t_n, k, g, NULL);
                if (fmt == 1)
                    quantize_mxfp4_cuda(d_x + x_off, (struct mxfp4_block *)(d_q + y_off), t_n, k, E8M0_RULE_FLOOR, NULL);
                if (fmt == 2)
                    quantize_mxfp8_cuda(d_x + x_off, (struct mxfp8_block *)(d_q + y_off), t_n, k, E8M0_RULE_FLOOR, NULL);
                CUDA_CHECK(cudaMemcpy(h, d_q + y_off, bytes, cudaMemcpyDeviceToHost));
                const char *name[3] = {"nvfp4", "mxfp4", "mxfp8"}, *off_name[3] = {"aligned", "x+1", "y+1"};
                TEST(cmp_bytes(name[fmt], c, h, bytes), "%s %lldx%lld %s: packed blocks memcmp-equal", name[fmt],
                     (long long)t_n, (long long)k, off_name[off]);
                CUDA_CHECK(cudaFree(d_x));
                CUDA_CHECK(cudaFree(d_q));
                free(x);
                free(c);
                free(h);
            }
}

/* The same for fp8-group128 (codes and scales are separate arrays): shapes with K % 128 == 0, aligned, input
 * one float off, codes one byte off (the scalar paths). */
static void check_layouts_fp8(void) {
    const int64_t shapes[][2] = {{1, 128}, {2, 128}, {9, 1152}, {17, 4224}, {3, 8320}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int off = 0; off < 3; off++) {
            int64_t t_n = shapes[si][0], k = shapes[si][1], n = t_n * k, ng = n / FP8_GROUP_SIZE;
            int x_off = off == 1, q_off = off == 2;
            float *x = (float *)xmalloc(sizeof(float) * n), *sc = (float *)xmalloc(sizeof(float) * ng);
            float *sg = (float *)xmalloc(sizeof(float) * ng), *d_x, *d_s;
            fill_layout(x, n, 99 + (uint64_t)si);
            uint8_t *qc = (uint8_t *)xmalloc((size_t)n), *qg = (uint8_t *)xmalloc((size_t)n), *d_q;
            for (int64_t t = 0; t < t_n; t++)
                fp8_group_quantize_row_ref(x + t * k, qc + t * k, sc + t * (k / FP8_GROUP_SIZE), k);
            CUDA_CHECK(cudaMalloc(&d_x, sizeof(float) * (n + 1)));
            CUDA_CHECK(cudaMalloc(&d_q, (size_t)n + 1));
            CUDA_CHECK(cudaMalloc(&d_s, sizeof(float) * ng));
            CUDA_CHECK(cudaMemcpy(d_x + x_off, x, sizeof(float) * n, cudaMemcpyHostToDevice));
            quantize_fp8_group_cuda(d_x + x_off, d_q + q_off, d_s, t_n, k, NULL);
            CUDA_CHECK(cudaMemcpy(qg, d_q + q_off, (size_t)n, cudaMemcpyDeviceToHost));
            CUDA_CHECK(cudaMemcpy(sg, d_s, sizeof(float) * ng, cudaMemcpyDeviceToHost));
            const char *off_name[3] = {"aligned", "x+1", "q+1"};
            TEST(cmp_bytes("fp8 codes", qc, qg, (size_t)n) && cmp_floats("fp8 scales", sc, sg, ng),
                 "fp8-group128 %lldx%lld %s: codes memcmp-equal, scales bit-equal", (long long)t_n, (long long)k,
                 off_name[off]);
            CUDA_CHECK(cudaFree(d_x));
            CUDA_CHECK(cudaFree(d_q));
            CUDA_CHECK(cudaFree(d_s));
            free(x);
            free(sc);
            free(sg);
            free(qc);
            free(qg);
        }
}

/* --bench, after the correctness pass: median of 20 timed launches per kernel on a 8192 x 8192 FP32 Gaussian
 * input (cudaEvents, after 3 warm-ups; the 256 MiB input is larger than the 50 MiB L2, so no flush is
 * needed). Napkin math: each quantize kernel reads 4 bytes and writes 9/16 to 33/32 bytes per element, so
 * GB/s = (4 + out) * n / t. The roofline is measured on the same GPU, not taken from a data sheet: a
 * device-to-device cudaMemcpy of the input (reads and writes 4n bytes, so GB/s = 8n / t). */
static int cmp_float_qsort(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void bench(const cudaDeviceProp *prop) {
    const int64_t BT = 8192, BK = 8192, n = BT * BK;
    float *d_x, *d_copy, times[20];
    void *d_out, *d_s;
    CUDA_CHECK(cudaMalloc(&d_x, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&d_copy, sizeof(float) * n));
    CUDA_CHECK(cudaMalloc(&d_out, (size_t)n * 2));
    CUDA_CHECK(cudaMalloc(&d_s, sizeof(float) * n / 128));
    float *x = (float *)xmalloc(sizeof(float) * n);
    struct rng r;
    rng_init(&r, 8192);
    for (int64_t i = 0; i < n; i++) x[i] = (float)rng_normal(&r);
    CUDA_CHECK(cudaMemcpy(d_x, x, sizeof(float) * n, cudaMemcpyHostToDevice));
    free(x);
    cudaEvent_t e0, e1;
    CUDA_CHECK(cudaEventCreate(&e0));
    CUDA_CHECK(cudaEventCreate(&e1));
    /* STYLE.md section 8: JSON lines in build/bench/check_quantize.<gpu>.jsonl with the GPU, driver, CUDA
     * runtime and git commit (QL_GIT_REV from the Makefile), written whole at the end. */
    int drv = 0, rt = 0;
    CUDA_CHECK(cudaDriverGetVersion(&drv));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    const char *rev = getenv("QL_GIT_REV") ? getenv("QL_GIT_REV") : "unknown";
    char gpu[256], path[512], *jl = (char *)xmalloc(8192);
    size_t jn = 0;
    snprintf(gpu, sizeof gpu, "%s", prop->name);
    for (char *c = gpu; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-')) *c = '_';
    const char *names[5] = {"copy (roofline)", "quantize_nvfp4", "quantize_mxfp4", "quantize_mxfp8", "quantize_fp8_group"};
    const double out_bytes[5] = {4.0, 9.0 / 16, 17.0 / 32, 33.0 / 32, 1.0 + 4.0 / 128};
    double roof = 0;
    for (int kk = 0; kk < 5; kk++) {
        for (int it = 0; it < 23; it++) {
            CUDA_CHECK(cudaEventRecord(e0));
            if (kk == 0) CUDA_CHECK(cudaMemcpyAsync(d_copy, d_x, sizeof(float) * n, cudaMemcpyDeviceToDevice));
            if (kk == 1) quantize_nvfp4_cuda(d_x, (struct nvfp4_block *)d_out, BT, BK, 1.0f, NULL);
            if (kk == 2) quantize_mxfp4_cuda(d_x, (struct mxfp4_block *)d_out, BT, BK, E8M0_RULE_FLOOR, NULL);
            if (kk == 3) quantize_mxfp8_cuda(d_x, (struct mxfp8_block *)d_out, BT, BK, E8M0_RULE_FLOOR, NULL);
            if (kk == 4) quantize_fp8_group_cuda(d_x, (uint8_t *)d_out, (float *)d_s, BT, BK, NULL);
            CUDA_CHECK(cudaEventRecord(e1));
            CUDA_CHECK(cudaEventSynchronize(e1));
            if (it >= 3) CUDA_CHECK(cudaEventElapsedTime(&times[it - 3], e0, e1));
        }
        qsort(times, 20, sizeof(float), cmp_float_qsort);
        double ms = times[10], gbps = (4.0 + out_bytes[kk]) * (double)n / (ms * 1e-3) / 1e9;
        if (kk == 0) roof = gbps;
        printf("bench %s 8192x8192: median %.3f ms (p10 %.3f, p90 %.3f), %.0f GB/s, %.2f of the copy roofline\n",
               names[kk], ms, (double)times[2], (double)times[18], gbps, gbps / roof);
        jn += (size_t)snprintf(jl + jn, 8192 - jn,
                               "{\"kernel\": \"%s\", \"shape\": [8192, 8192], \"median_ms\": %.4f, \"p10_ms\": %.4f, "
                               "\"p90_ms\": %.4f, \"gbps\": %.1f, \"roofline_frac\": %.3f, \"gpu\": \"%s\", "
                               "\"driver\": %d, \"cuda_runtime\": %d, \"git\": \"%s\"}\n",
                               names[kk], ms, (double)times[2], (double)times[18], gbps, gbps / roof, prop->name, drv,
                               rt, rev);
        CHECK(jn < 8192, "bench line buffer");
    }
    snprintf(path, sizeof path, "build/bench/check_quantize.%s.jsonl", gpu);
    mkdir_p("build/bench");
    file_write_atomic(path, jl, jn);
    printf("bench lines written to %s\n", path);
    free(jl);
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_copy));
    CUDA_CHECK(cudaFree(d_out));
    CUDA_CHECK(cudaFree(d_s));
}

int main(int argc, char **argv) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return EXIT_SKIP;
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
    float *x = (float *)xmalloc(sizeof(float) * T * K), *d_x;
    CUDA_CHECK(cudaMalloc(&d_x, sizeof(float) * T * K));
    for (int k = 0; k < IN_COUNT; k++) {
        fill(x, (enum input_kind)k, 4242 + (uint64_t)k);
        CUDA_CHECK(cudaMemcpy(d_x, x, sizeof(float) * T * K, cudaMemcpyHostToDevice));
        check_nvfp4(x, d_x, (enum input_kind)k);
        check_mx(MXFP4, x, d_x, (enum input_kind)k, E8M0_RULE_FLOOR);
        check_mx(MXFP4, x, d_x, (enum input_kind)k, E8M0_RULE_CEIL);
        check_mx(MXFP8, x, d_x, (enum input_kind)k, E8M0_RULE_FLOOR);
        check_mx(MXFP8, x, d_x, (enum input_kind)k, E8M0_RULE_CEIL);
        check_fp8_group(x, d_x, (enum input_kind)k);
    }
    CUDA_CHECK(cudaFree(d_x));
    free(x);
    check_layouts();
    check_layouts_fp8();
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
