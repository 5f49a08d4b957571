/* fp8_block -- see fp8_block.h. */
#include "formats/fp8_block.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/fp8_tensor.h"

void fp8_block_quantize_ref(const float *w, int64_t N, int64_t K, uint8_t *q, float *scales) {
    CHECK(K % FP8_BLOCK_SIZE == 0, "fp8-block128: K=%lld", (long long)K);
    // N = output rows, K = reduction; nb_k = K/128 blocks per row block
    int64_t nb_k = K / FP8_BLOCK_SIZE;
    /* Row block i0 covers rows i0 .. i0+127; the last one stops at N, matching the ceil(N/128) scale rows of
     * Qwen's checkpoints. The scale is shared by the whole 2-D block, so amax must see all its rows first. */
    for (int64_t i0 = 0; i0 < N; i0 += FP8_BLOCK_SIZE) {
        int64_t rows = N - i0 < FP8_BLOCK_SIZE ? N - i0 : FP8_BLOCK_SIZE;
        for (int64_t j = 0; j < nb_k; j++) {
            const float *blk = w + i0 * K + j * FP8_BLOCK_SIZE;
            float s = fp8_tensor_scale(amax_block_ref(blk, rows, FP8_BLOCK_SIZE, K), FP8_TENSOR_E4M3);
            scales[(i0 / FP8_BLOCK_SIZE) * nb_k + j] = s;
            for (int64_t r = 0; r < rows; r++)
                fp8_tensor_quantize_row_ref(blk + r * K, q + (i0 + r) * K + j * FP8_BLOCK_SIZE,
                                            FP8_BLOCK_SIZE, s, FP8_TENSOR_E4M3);
        }
    }
}

void fp8_block_dequantize_ref(const uint8_t *q, const float *scales, int64_t N, int64_t K, float *w) {
    CHECK(K % FP8_BLOCK_SIZE == 0, "fp8-block128: K=%lld", (long long)K);
    int64_t nb_k = K / FP8_BLOCK_SIZE;
    /* Row by row: the 128-element slice of row n in column block j uses scale (n / 128, j). */
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < nb_k; j++)
            fp8_tensor_dequantize_row_ref(q + n * K + j * FP8_BLOCK_SIZE, w + n * K + j * FP8_BLOCK_SIZE,
                                          FP8_BLOCK_SIZE, scales[(n / FP8_BLOCK_SIZE) * nb_k + j],
                                          FP8_TENSOR_E4M3);
}

// ---- registry row ----

static void fp8_block_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                             size_t *zeros) {
    (void)p;
    *data = (size_t)N * (size_t)K;
    *scales = sizeof(float) * (size_t)((N + FP8_BLOCK_SIZE - 1) / FP8_BLOCK_SIZE) * (size_t)(K / FP8_BLOCK_SIZE);
    *zeros = 0;
}

/* The column blocks of [k0, k1), each over every row block (the last one partial), as the row codec. */
static void fp8_block_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, FP8_BLOCK_SIZE);
    int64_t N = q->N, K = q->K, nb_k = K / FP8_BLOCK_SIZE;
    float *sc = (float *)q->scales;
    for (int64_t i0 = 0; i0 < N; i0 += FP8_BLOCK_SIZE) {
        int64_t rows = N - i0 < FP8_BLOCK_SIZE ? N - i0 : FP8_BLOCK_SIZE;
        for (int64_t j = k0 / FP8_BLOCK_SIZE; j < k1 / FP8_BLOCK_SIZE; j++)
            sc[(i0 / FP8_BLOCK_SIZE) * nb_k + j] = fp8_tensor_scale(
                amax_block_ref(w + i0 * K + j * FP8_BLOCK_SIZE, rows, FP8_BLOCK_SIZE, K) * p, FP8_TENSOR_E4M3);
    }
}

static void fp8_block_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    fp8_block_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t fp8_block_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return (n / FP8_BLOCK_SIZE) * (q->K / FP8_BLOCK_SIZE) + k / FP8_BLOCK_SIZE;
}

static void fp8_block_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const float *sc = (const float *)q->scales;
    for (int64_t n = 0; n < q->N; n++) {
        float s = sc[fp8_block_domain_at(q, n, k)];
        uint8_t c = fp8_tensor_encode(col[n * cs], s, FP8_TENSOR_E4M3);
        q->data[n * q->K + k] = c;
        if (deq) deq[n * ds] = fp8_tensor_decode(c, s, FP8_TENSOR_E4M3);
    }
}

static void fp8_block_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    fp8_block_quantize_ref(w, q->N, q->K, q->data, (float *)q->scales);
}

static void fp8_block_dequantize(const struct qtensor *q, float *w) {
    fp8_block_dequantize_ref(q->data, (const float *)q->scales, q->N, q->K, w);
}

static float fp8_block_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return ((const float *)q->scales)[fp8_block_domain_at(q, n, k)];
}
static float fp8_block_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float fp8_block_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e4m3_to_float(q->data[n * q->K + k]);
}
static int64_t fp8_block_n_domains(const struct qtensor *q) {
    return ((q->N + FP8_BLOCK_SIZE - 1) / FP8_BLOCK_SIZE) * (q->K / FP8_BLOCK_SIZE);
}
static void fp8_block_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((float *)dst->scales)[d] = ((const float *)src->scales)[d];
}

const struct qformat_ops fp8_block_ops = {
    .name = "fp8-block128", .block_k = FP8_BLOCK_SIZE, .bits = 8.0 + 32.0 / (128.0 * 128.0), .has_global = 0,
    .desc = "E4M3, FP32 scale per 128x128 block", .layout = fp8_block_layout, .choose_scales = fp8_block_choose,
    .quantize_col = fp8_block_col, .quantize = fp8_block_quantize, .dequantize = fp8_block_dequantize,
    .scale_at = fp8_block_scale_at, .zero_at = fp8_block_zero_at, .code_at = fp8_block_code_at, .has_mse = 1,
    .choose_scales_shrunk = fp8_block_shrunk, .n_domains = fp8_block_n_domains,
    .domain_at = fp8_block_domain_at, .copy_domain = fp8_block_copy_domain,
};
