/* test_qgemv -- the packed decode GEMV (ops/qgemv.h) against the FP32 GEMV on its dequantized weights, within
 * the bound derived in qgemv.h, for every scheme with a kernel and every kernel family this CPU runs; and the
 * kernel families against each other. Shapes: Qwen3's K (512, 1024, 1536, 3072), group sizes 32/64/128,
 * Laplace-distributed weights with outlier rows, activations with a few large channels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "formats/bf16.h"
#include "formats/e8m0.h"
#include "formats/qformat.h"
#include "ops/qgemv.h"
#include "test.h"

/* Plain FP32 GEMV in a fixed order (k ascending): a stand-in for any BLAS order, which the bound covers. */
static void gemv_ref(const float *w, const float *x, float *y, int64_t N, int64_t K) {
    for (int64_t n = 0; n < N; n++) {
        float a = 0.0f;
        for (int64_t k = 0; k < K; k++) a += w[n * K + k] * x[k];
        y[n] = a;
    }
}

static void one(enum qformat f, int G, int64_t N, int64_t K, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    float *w = malloc((size_t)(N * K) * sizeof *w), *x = malloc((size_t)K * sizeof *x);
    for (int64_t i = 0; i < N * K; i++) w[i] = (float)rng_laplace(&r, 0.02);
    for (int64_t n = 0; n < N; n += 37) w[n * K + (n % K)] *= 40.0f;          /* outliers */
    for (int64_t k = 0; k < K; k++) x[k] = (float)rng_normal(&r) * (k % 97 == 0 ? 30.0f : 1.0f);
    struct qparams p = {0};
    p.group_size = G;
    struct qtensor q;
    qtensor_quantize(&q, f, w, N, K, &p);
    float *wd = malloc((size_t)(N * K) * sizeof *wd), *y0 = malloc((size_t)N * sizeof *y0);
    float *y[3];
    qtensor_dequantize(&q, wd);
    gemv_ref(wd, x, y0, N, K);
    const char *names[3] = {"c", "avx2", "avx512"};
    for (int isa = QGEMV_ISA_C; isa <= QGEMV_ISA_AVX512; isa++) {
        y[isa] = NULL;
        if (!qgemv_set_isa((enum qgemv_isa)isa)) {
            printf("skip %s: this CPU has no %s\n", names[isa], names[isa]);
            continue;
        }
        y[isa] = malloc((size_t)N * sizeof(float));
        qgemv(&q, x, y[isa]);
        double worst = 0.0, rel = 0.0;
        int ok = 1;
        for (int64_t n = 0; n < N; n++) {
            double d = fabs((double)y[isa][n] - (double)y0[n]), b = qgemv_bound(wd + n * K, x, K);
            if (!(d <= b)) ok = 0;
            if (b > 0 && d / b > worst) worst = d / b;
            if (fabs(y0[n]) > 0) rel = fmax(rel, d / fabs(y0[n]));
        }
        TEST(ok, "qgemv %s %s G=%d %lldx%lld: |packed - fp32| within the derived bound (worst %.3g of it, max rel %.2g)",
             names[isa], qformat_ops(f)->name, G, (long long)N, (long long)K, worst, rel);
    }
    qgemv_set_isa(QGEMV_ISA_AUTO);
    // Families against each other: the same bound applies to both, so twice it bounds their difference.
    for (int isa = QGEMV_ISA_AVX2; isa <= QGEMV_ISA_AVX512; isa++) {
        if (!y[isa]) continue;
        int ok = 1;
        for (int64_t n = 0; n < N; n++)
            if (!(fabs((double)y[isa][n] - y[QGEMV_ISA_C][n]) <= 2 * qgemv_bound(wd + n * K, x, K))) ok = 0;
        TEST(ok, "qgemv %s vs c %s G=%d", names[isa], qformat_ops(f)->name, G);
    }
    for (int isa = 0; isa < 3; isa++) free(y[isa]);
    qtensor_free(&q);
    free(w), free(x), free(wd), free(y0);
}

int main(void) {
    const int64_t Ks[] = {512, 1536, 3072};
    uint64_t seed = 1;
    for (int i = 0; i < 3; i++) {
        one(QFORMAT_INT8_CHANNEL, 0, 96, Ks[i], seed++);
        one(QFORMAT_BF16, 0, 96, Ks[i], seed++);
        one(QFORMAT_MXFP4, 0, 96, Ks[i], seed++);
        one(QFORMAT_MXFP4_CEIL, 0, 64, Ks[i], seed++);
        for (int G = 32; G <= 128; G *= 2) {
            one(QFORMAT_INT4_SYM, G, 96, Ks[i], seed++);
            one(QFORMAT_INT4_ASYM, G, 96, Ks[i], seed++);
        }
    }
    // The FP32 GEMV (OWN-mode decode) against the reference order: within twice gamma_K sum |w x|.
    {
        const int64_t N = 200, K = 1000;
        struct rng r;
        rng_init(&r, 99);
        float *w = malloc((size_t)(N * K) * sizeof *w), *x = malloc((size_t)K * sizeof *x), *y0 = malloc((size_t)N * sizeof *y0),
              *y1 = malloc((size_t)N * sizeof *y1);
        for (int64_t i = 0; i < N * K; i++) w[i] = (float)rng_normal(&r);
        for (int64_t k = 0; k < K; k++) x[k] = (float)rng_normal(&r);
        gemv_ref(w, x, y0, N, K);
        for (int isa = QGEMV_ISA_C; isa <= QGEMV_ISA_AVX512; isa++) {
            if (!qgemv_set_isa((enum qgemv_isa)isa)) continue;
            qgemv_f32(w, K, x, y1, N, K);
            int ok = 1;
            for (int64_t n = 0; n < N; n++)
                if (!(fabs((double)y1[n] - y0[n]) <= qgemv_bound(w + n * K, x, K))) ok = 0;
            TEST(ok, "qgemv_f32 family %d: within the FP32 reordering bound", isa);
        }
        qgemv_set_isa(QGEMV_ISA_AUTO);
        free(w), free(x), free(y0), free(y1);
    }
    // The kernels' inline scale decoders equal the formats' own.
    {
        int ok = 1;
        for (int c = 0; c < 256; c++) {
            float a = qgemv_e8m0_value((uint8_t)c), b = e8m0_to_float((uint8_t)c);
            if (!(a == b || (isnan(a) && isnan(b)))) ok = 0;
        }
        for (uint32_t h = 0; h < 65536; h++) {
            float a = qgemv_bf16_value((uint16_t)h), b = bf16_to_float((uint16_t)h);
            if (!(memcmp(&a, &b, 4) == 0 || (isnan(a) && isnan(b)))) ok = 0;
        }
        TEST(ok, "qgemv: inline E8M0 (256 codes) and BF16 (65536 codes) decoders equal e8m0_to_float / bf16_to_float");
    }
    // NaN domains propagate as in the FP32 path.
    {
        float w[64], x[64], y;
        for (int k = 0; k < 64; k++) w[k] = (float)k, x[k] = 1.0f;
        w[3] = NAN;
        struct qtensor q;
        qtensor_quantize(&q, QFORMAT_MXFP4, w, 1, 64, NULL);
        qgemv(&q, x, &y);
        TEST(isnan(y), "qgemv mxfp4: a NaN block gives NaN");
        qtensor_free(&q);
    }
    TEST(qgemv_supported(&(struct qtensor){.format = QFORMAT_NVFP4}) == 0, "qgemv: nvfp4 has no packed kernel (refused)");
    printf("qgemv default family: %s\n", qgemv_isa_name());
    return TEST_REPORT();
}
