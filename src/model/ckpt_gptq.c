/* ckpt_gptq -- AutoGPTQ / GPTQModel layout; see ckpt_gptq.h. */
#include "model/ckpt_gptq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

static void put32(uint8_t *o, uint32_t w) {
    for (int k = 0; k < 4; k++) o[k] = (uint8_t)(w >> (8 * k));
}

void ckpt_gptq_pack_rows(const uint8_t *v, int64_t rows, int64_t cols, int b, uint8_t *out) {
    const int pf = 32 / b;
    const uint32_t mask = (1u << b) - 1;
    CHECK((b == 4 || b == 8) && rows % pf == 0, "bits %d rows %lld", b, (long long)rows);
    for (int64_t j = 0; j < rows / pf; j++)
        for (int64_t c = 0; c < cols; c++) {
            uint32_t w = 0;
            for (int i = 0; i < pf; i++) w |= (v[(j * pf + i) * cols + c] & mask) << (b * i);
            put32(out + 4 * (j * cols + c), w);
        }
}

void ckpt_gptq_unpack_rows(const uint8_t *p, int64_t rows, int64_t cols, int b, uint8_t *v) {
    const int pf = 32 / b;
    const uint32_t mask = (1u << b) - 1;
    CHECK((b == 4 || b == 8) && rows % pf == 0, "bits %d rows %lld", b, (long long)rows);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            v[r * cols + c] = (uint8_t)(((uint32_t)ckpt_i32(p, (r / pf) * cols + c) >> (b * (r % pf))) & mask);
}

void ckpt_gptq_pack_cols(const uint8_t *v, int64_t rows, int64_t cols, int b, uint8_t *out) {
    const int pf = 32 / b;
    const uint32_t mask = (1u << b) - 1;
    CHECK((b == 4 || b == 8) && cols % pf == 0, "bits %d cols %lld", b, (long long)cols);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols / pf; c++) {
            uint32_t w = 0;
            for (int i = 0; i < pf; i++) w |= (v[r * cols + c * pf + i] & mask) << (b * i);
            put32(out + 4 * (r * (cols / pf) + c), w);
        }
}

void ckpt_gptq_unpack_cols(const uint8_t *p, int64_t rows, int64_t cols, int b, uint8_t *v) {
    const int pf = 32 / b;
    const uint32_t mask = (1u << b) - 1;
    CHECK((b == 4 || b == 8) && cols % pf == 0, "bits %d cols %lld", b, (long long)cols);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            v[r * cols + c] = (uint8_t)(((uint32_t)ckpt_i32(p, r * (cols / pf) + c / pf) >> (b * (c % pf))) & mask);
}

int ckpt_gptq_read_linear(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix, int64_t N,
                          int64_t K, struct linear *l) {
    char name[512];
    snprintf(name, sizeof name, "%s.qweight", prefix);
    if (!safetensors_find(st, name)) return 0;
    const int b = cq->w.num_bits, pf = 32 / b;
    const int64_t G = cq->w.group_size > 0 ? cq->w.group_size : K;
    if (K % pf || N % pf || K % G)
        die("%s: GPTQ needs K and N multiples of %d and K %% group_size == 0 (N=%lld, K=%lld, G=%lld)", prefix, pf,
            (long long)N, (long long)K, (long long)G);
    const int64_t n_g = K / G;
    const struct safetensors_tensor *tw = ckpt_tensor(st, prefix, "qweight", CKPT_DT(I32), 2, K / pf, N, 0);
    const struct safetensors_tensor *tz = ckpt_tensor(st, prefix, "qzeros", CKPT_DT(I32), 2, n_g, N / pf, 0);
    float *s_gn = ckpt_f32(ckpt_tensor(st, prefix, "scales", CKPT_DT(F16) | CKPT_DT(BF16) | CKPT_DT(F32), 2, n_g, N, 0));
    const struct safetensors_tensor *tg = ckpt_tensor(st, prefix, "g_idx", CKPT_DT(I32) | CKPT_DT(I64), 1, K, 0, 1);
    int32_t *g_idx = NULL;
    if (tg) {
        g_idx = xmalloc((size_t)K * sizeof *g_idx);
        for (int64_t k = 0; k < K; k++) {
            int64_t g;
            if (tg->dtype == SAFETENSORS_DTYPE_I64) memcpy(&g, (const uint8_t *)tg->data + 8 * k, 8);
            else g = ckpt_i32(tg->data, k);
            if (g < 0 || g >= n_g) die("%s: '%s.g_idx': entry %lld = %lld outside [0, %lld)", tg->path, prefix,
                                       (long long)k, (long long)g, (long long)n_g);
            g_idx[k] = (int32_t)g;
        }
    } else if (cq->desc_act) die("%s: desc_act is true but '%s.g_idx' is missing", cq->what, prefix);
    uint8_t *q_kn = xmalloc((size_t)(K * N)), *z_gn = xmalloc((size_t)(n_g * N));
    ckpt_gptq_unpack_rows(tw->data, K, N, b, q_kn);
    ckpt_gptq_unpack_cols(tz->data, n_g, N, b, z_gn);
    uint8_t *q = xmalloc((size_t)(N * K));
    int16_t *z = xmalloc((size_t)(N * n_g) * sizeof *z);
    float *s = xmalloc((size_t)(N * n_g) * sizeof *s);
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++) q[n * K + k] = q_kn[k * N + n];
    /* v1: the stored nibble is z - 1, and the kernels add 1 to the unpacked nibble (z may read 16). */
    for (int64_t g = 0; g < n_g; g++)
        for (int64_t n = 0; n < N; n++)
            z[n * n_g + g] = (int16_t)(z_gn[g * N + n] + (cq->gptq_v2 ? 0 : 1)), s[n * n_g + g] = s_gn[g * N + n];
    ckpt_install_int(l, N, K, b, q, z, s, n_g, g_idx, "gptq");
    free(q_kn), free(z_gn), free(s_gn), free(q), free(z), free(s), free(g_idx);
    return 1;
}
