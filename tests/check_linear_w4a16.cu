/* check_linear_w4a16 -- the packed W4A16 GEMVs (kernels/linear_nvfp4.cu, linear_mxfp4.cu, linear_int4.cu on the
 * engine linear_w4a16.cuh) against their twin: linear_forward on the same qtensor, whose FP32 view is
 * qtensor_dequantize (the format's dequantize_row_ref). The reference here is that FP32 view times x in
 * double, so the bound covers the kernel's own rounding only.
 * Bound. The MMA's inputs are exact: A is e2m1 * 2^-14 or the integer c - z in FP16, x is FP16 on both
 * sides (linear_w4a16.h), and every FP16 x FP16 product is exact in FP32. What rounds: the FP32 sums inside
 * and across the chained MMAs of a scale domain (at most G - 1 + 1 additions on any product's path), one
 * multiply by the domain's scale (exact for MXFP4's powers of two), the FFMA into the warp's accumulator
 * (K / G additions; NVFP4 folds its scale exactly into A and chains all K / 16 MMAs instead), the fixed-order
 * sum of the warps that share a tile (at most 16 additions), and the output transform (NVFP4: one
 * division by g; x 2^14 is exact). Every product thus passes at most K + 64 roundings. The tensor
 * cores' FP32 accumulation is not documented as round-to-nearest (it may truncate while aligning addends), so
 * the unit roundoff is taken as 2^-23, not 2^-24: |y - exact| <= gamma'_{K+64} sum |w_i x_i| with
 * gamma'_n = n 2^-23 / (1 - n 2^-23). The twin's own w_i are exact for INT4 and MXFP4 and within 2^-24 |w_i|
 * of e2m1 d / g for NVFP4, which adds 2^-24 sum |w_i x_i|; hence elementwise
 *   |y - ref| <= (gamma'_{K+64} + 2^-23) sum_i |w_i x_i| + 2^-126,
 * the last term for results in FP32's subnormal range. Aggregate: random-walk rounding gives NMSE ~ K 2^-46
 * (6e-11 at K = 4096); bound 1e-9. Tiny MXFP4 scales (E8M0 near 0, where the scaled partial sums would be
 * FP32 subnormals) are outside the bound and not drawn here.
 * Cases: every format (nvfp4, mxfp4, int4 sym and asym with groups 32, 64, 128), awkward N (1, 3, 7, 100, 1023),
 * K from one scale domain to 12288 (partial steps of 256, K splits over up to 32 CTAs: N = 16, K = 12288),
 * every M in 1 .. 8, pipeline depths 1 and 2, K splits per tile from 1 to 16 warps, grids capped to 3 or 7 CTAs
 * (many tiles per CTA); output poisoned with NaN
 * before each launch (an unwritten element fails); every case run twice must be bit-identical (deterministic
 * reduction of split tiles). K not a multiple of the
 * domain, and M = 9, must be refused with exit status 1.
 * Exit 77 "SKIP: no CUDA device" without a GPU. */
#include <cuda_fp16.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"
#include "formats/qformat.h"
#include "linear_w4a16.h"
#include "test.h"

static double gamma_23(double n) { const double u = ldexp(1.0, -23); return n * u / (1.0 - n * u); }

struct variant {
    enum qformat f;
    int group;
    const char *label;
};

static const struct variant VARIANTS[] = {
    {QFORMAT_NVFP4, 0, "nvfp4"},           {QFORMAT_MXFP4, 0, "mxfp4"},
    {QFORMAT_INT4_SYM, 32, "int4-g32-sym"}, {QFORMAT_INT4_SYM, 64, "int4-g64-sym"},
    {QFORMAT_INT4_SYM, 128, "int4-g128-sym"}, {QFORMAT_INT4_ASYM, 32, "int4-g32-asym"},
    {QFORMAT_INT4_ASYM, 64, "int4-g64-asym"}, {QFORMAT_INT4_ASYM, 128, "int4-g128-asym"},
};

/* A quantized weight on the device (planes owned here). */
struct dev_weight {
    struct linear_w4a16 w;
    uint8_t *codes, *scales, *zeros;
};

static void upload(const struct qtensor *q, struct dev_weight *d) {
    size_t cb, sb, zb;
    linear_w4a16_layout(q->format, q->params.group_size, q->N, q->K, &cb, &sb, &zb);
    uint8_t *hc = (uint8_t *)xmalloc(cb), *hs = (uint8_t *)xmalloc(sb), *hz = (uint8_t *)xmalloc(zb ? zb : 1);
    linear_w4a16_pack_host(q, hc, hs, hz);
    CUDA_CHECK(cudaMalloc(&d->codes, cb));
    CUDA_CHECK(cudaMalloc(&d->scales, sb));
    CUDA_CHECK(cudaMalloc(&d->zeros, zb ? zb : 8));
    CUDA_CHECK(cudaMemcpy(d->codes, hc, cb, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d->scales, hs, sb, cudaMemcpyHostToDevice));
    if (zb) CUDA_CHECK(cudaMemcpy(d->zeros, hz, zb, cudaMemcpyHostToDevice));
    d->w.format = q->format;
    d->w.group = linear_w4a16_domain(q->format, q->params.group_size);
    d->w.N = q->N;
    d->w.K = q->K;
    d->w.global_scale = q->format == QFORMAT_NVFP4 ? q->global_scale : 1.0f;
    d->w.codes = d->codes;
    d->w.scales = d->scales;
    d->w.zeros = zb ? d->zeros : NULL;
    free(hc); free(hs); free(hz);
}

static void dev_weight_free(struct dev_weight *d) {
    CUDA_CHECK(cudaFree(d->codes));
    CUDA_CHECK(cudaFree(d->scales));
    CUDA_CHECK(cudaFree(d->zeros));
}

/* One (variant, N, K) weight, checked at every M in 1 .. 8 with the given pipeline depth. */
static void check_shape(const struct variant *v, int64_t N, int64_t K, int depth, int ksplit, int max_ctas,
                        uint64_t seed) {
    const struct linear_w4a16_cfg cfg = {depth, ksplit, max_ctas};
    struct rng r;
    rng_init(&r, seed);
    float *w = (float *)xmalloc(sizeof(float) * N * K), *wd = (float *)xmalloc(sizeof(float) * N * K);
    // Gaussian weights with 0.1% outliers x20 and a per-row offset (exercises the asym zero points).
    for (int64_t n = 0; n < N; n++) {
        const double off = 0.01 * rng_normal(&r);
        for (int64_t k = 0; k < K; k++)
            w[n * K + k] = (float)(off + 0.02 * rng_normal(&r) * (rng_uniform(&r) < 0.001 ? 20 : 1));
    }
    struct qparams p;
    memset(&p, 0, sizeof p);
    p.group_size = v->group;
    struct qtensor q;
    qtensor_quantize(&q, v->f, w, N, K, &p);
    qtensor_dequantize(&q, wd);
    struct dev_weight d;
    upload(&q, &d);
    const int64_t MM = LINEAR_W4A16_MAX_M;
    uint16_t *xh = (uint16_t *)xmalloc(sizeof(uint16_t) * MM * K);
    float *x = (float *)xmalloc(sizeof(float) * MM * K), *y = (float *)xmalloc(sizeof(float) * MM * N);
    for (int64_t i = 0; i < MM * K; i++) {   /* A16: the reference multiplies the same FP16 values */
        const __half h = __float2half_rn((float)rng_normal(&r));
        memcpy(&xh[i], &h, 2);
        x[i] = __half2float(h);
    }
    uint16_t *dx;
    float *dy;
    void *ws;
    const size_t wsb = linear_w4a16_workspace_bytes(N, K);
    CUDA_CHECK(cudaMalloc(&dx, sizeof(uint16_t) * MM * K));
    CUDA_CHECK(cudaMalloc(&dy, sizeof(float) * MM * N));
    CUDA_CHECK(cudaMalloc(&ws, wsb));
    CUDA_CHECK(cudaMemset(ws, 0, wsb));
    CUDA_CHECK(cudaMemcpy(dx, xh, sizeof(uint16_t) * MM * K, cudaMemcpyHostToDevice));
    const double gb = gamma_23((double)K + 64) + ldexp(1.0, -23);
    for (int64_t M = 1; M <= MM; M++) {
        CUDA_CHECK(cudaMemset(dy, 0xFF, sizeof(float) * M * N));   /* NaN poison */
        linear_w4a16_cuda_cfg(&d.w, dx, dy, M, ws, &cfg, NULL);
        CUDA_CHECK(cudaMemcpy(y, dy, sizeof(float) * M * N, cudaMemcpyDeviceToHost));
        int64_t bad = 0;
        double num = 0, den = 0, worst = 0;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double ref = 0, mag = 0;
                for (int64_t k = 0; k < K; k++) {
                    const double t = (double)wd[n * K + k] * x[m * K + k];
                    ref += t;
                    mag += fabs(t);
                }
                const double e = fabs((double)y[m * N + n] - ref), tol = gb * mag + ldexp(1.0, -126);
                num += e * e;
                den += ref * ref;
                worst = fmax(worst, isnan(e) ? INFINITY : e / tol);
                if (!(e <= tol) && bad++ < 10)
                    printf("  mismatch at (m %lld, n %lld): got %.9g ref %.9g (|d| %.3g > %.3g)\n", (long long)m,
                           (long long)n, (double)y[m * N + n], ref, e, tol);
            }
        const double nmse = den > 0 ? num / den : num;
        TEST(bad == 0 && nmse <= 1e-9, "linear_w4a16 %s depth %d ksplit %d max_ctas %d M=%lld N=%lld K=%lld: %lld "
             "units over %lld warps (worst |d|/bound %.3g, nmse=%.3g bound=1e-9)", v->label, depth, ksplit, max_ctas,
             (long long)M, (long long)N, (long long)K, (long long)(((N + 15) / 16) * ((K + 255) / 256)),
             (long long)linear_w4a16_last_warps(), worst, nmse);
    }
    // Determinism: the same launch again gives the same bits (split tiles are summed in a fixed order).
    {
        float *y2 = (float *)xmalloc(sizeof(float) * MM * N);
        CUDA_CHECK(cudaMemset(dy, 0xFF, sizeof(float) * MM * N));
        linear_w4a16_cuda_cfg(&d.w, dx, dy, MM, ws, &cfg, NULL);
        CUDA_CHECK(cudaMemcpy(y2, dy, sizeof(float) * MM * N, cudaMemcpyDeviceToHost));
        TEST(memcmp(y, y2, sizeof(float) * MM * N) == 0,
             "linear_w4a16 %s depth %d ksplit %d max_ctas %d N=%lld K=%lld: two runs bit-identical", v->label, depth,
             ksplit, max_ctas, (long long)N, (long long)K);
        free(y2);
    }
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
    CUDA_CHECK(cudaFree(ws));
    dev_weight_free(&d);
    qtensor_free(&q);
    free(w); free(wd); free(x); free(xh); free(y);
}

/* fn must die with exit status 1 (a one-line error) before touching the device. */
static void check_rejects(const char *what, int64_t M, int64_t K) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        struct linear_w4a16 w;
        memset(&w, 0, sizeof w);
        w.format = QFORMAT_NVFP4;
        w.group = 16;
        w.N = 16;
        w.K = K;
        w.global_scale = 1.0f;
        linear_w4a16_cuda(&w, NULL, NULL, M, NULL, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    TEST(WIFEXITED(st) && WEXITSTATUS(st) == 1, "linear_w4a16 refuses %s (exit status 1)", what);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_rejects("nvfp4 K=40 (not a multiple of the 16-element block)", 1, 40);
    check_rejects("M=9", 9, 64);
    for (size_t vi = 0; vi < sizeof VARIANTS / sizeof VARIANTS[0]; vi++) {
        const struct variant *v = &VARIANTS[vi];
        const int G = linear_w4a16_domain(v->f, v->group);
        // (N, K): one domain; three; a partial step; a large awkward N; the 8B-like K; the K split.
        const int64_t shapes[][2] = {{1, G}, {3, 3 * G}, {7, 256 + G}, {1023, 1024 + G}, {256, 4096},
                                     {100, 4096}, {16, 12288}};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            check_shape(v, shapes[s][0], shapes[s][1], 1, 0, 0, 1000 * vi + s);
        // The other pipeline depth the bench times computes the same function; so do other work splits: no K
        // split (ksplit 1), at most 3 warps per tile, and grids capped to 3 or 7 CTAs (many tiles per CTA: the
        // pipeline across tiles and the double-buffered reduction).
        check_shape(v, 1023, 1024 + G, 2, 0, 0, 7777 + vi);
        check_shape(v, 16, 12288, 2, 0, 0, 8888 + vi);
        check_shape(v, 100, 4096, 2, 0, 0, 9999 + vi);
        check_shape(v, 1023, 1024 + G, 1, 1, 0, 6666 + vi);
        check_shape(v, 256, 4096, 1, 3, 0, 5555 + vi);
        check_shape(v, 1023, 1024 + G, 1, 0, 3, 4444 + vi);
        check_shape(v, 1023, 1024 + G, 2, 1, 7, 3333 + vi);
        check_shape(v, 256, 4096, 1, 0, 7, 2222 + vi);
        check_shape(v, 256, 4096, 2, 16, 3, 1111 + vi);
    }
    return TEST_REPORT();
}
