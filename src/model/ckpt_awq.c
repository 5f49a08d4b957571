/* ckpt_awq -- AutoAWQ GEMM layout; see ckpt_awq.h. */
#include "model/ckpt_awq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

/* AWQ_ORDER (packing_utils.py): nibble i of a word holds column 8c + ORDER[i]. */
static const int ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};

void ckpt_awq_pack(const uint8_t *v, int64_t rows, int64_t cols, uint8_t *out) {
    CHECK(cols % 8 == 0, "cols %lld", (long long)cols);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols / 8; c++) {
            uint32_t w = 0;
            for (int i = 0; i < 8; i++) w |= (uint32_t)(v[r * cols + 8 * c + ORDER[i]] & 15) << (4 * i);
            uint8_t *o = out + 4 * (r * (cols / 8) + c);
            for (int k = 0; k < 4; k++) o[k] = (uint8_t)(w >> (8 * k));
        }
}

void ckpt_awq_unpack(const uint8_t *p, int64_t rows, int64_t cols, uint8_t *v) {
    CHECK(cols % 8 == 0, "cols %lld", (long long)cols);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols / 8; c++) {
            uint32_t w = (uint32_t)ckpt_i32(p, r * (cols / 8) + c);
            for (int i = 0; i < 8; i++) v[r * cols + 8 * c + ORDER[i]] = (uint8_t)((w >> (4 * i)) & 15);
        }
}

int ckpt_awq_read_linear(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix, int64_t N,
                         int64_t K, struct linear *l) {
    char name[512];
    snprintf(name, sizeof name, "%s.qweight", prefix);
    if (!safetensors_find(st, name)) return 0;
    const int64_t G = cq->w.group_size > 0 ? cq->w.group_size : K;
    if (N % 8 || K % G) die("%s: AutoAWQ needs N %% 8 == 0 and K %% group_size == 0 (N=%lld, K=%lld, G=%lld)",
                            prefix, (long long)N, (long long)K, (long long)G);
    const int64_t n_g = K / G;
    const struct safetensors_tensor *tw = ckpt_tensor(st, prefix, "qweight", CKPT_DT(I32), 2, K, N / 8, 0);
    const struct safetensors_tensor *tz = ckpt_tensor(st, prefix, "qzeros", CKPT_DT(I32), 2, n_g, N / 8, 0);
    float *s_kn = ckpt_f32(ckpt_tensor(st, prefix, "scales", CKPT_DT(F16) | CKPT_DT(BF16) | CKPT_DT(F32), 2, n_g, N, 0));
    uint8_t *q_kn = xmalloc((size_t)(K * N)), *z_gn = xmalloc((size_t)(n_g * N));
    ckpt_awq_unpack(tw->data, K, N, q_kn);
    ckpt_awq_unpack(tz->data, n_g, N, z_gn);
    /* Transpose to the N x K weight layout and N x n_g scales of the shared formula. */
    uint8_t *q = xmalloc((size_t)(N * K));
    int16_t *z = xmalloc((size_t)(N * n_g) * sizeof *z);
    float *s = xmalloc((size_t)(N * n_g) * sizeof *s);
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++) q[n * K + k] = q_kn[k * N + n];
    for (int64_t g = 0; g < n_g; g++)
        for (int64_t n = 0; n < N; n++) z[n * n_g + g] = z_gn[g * N + n], s[n * n_g + g] = s_kn[g * N + n];
    ckpt_install_int(l, N, K, 4, q, z, s, n_g, NULL, "awq");
    free(q_kn), free(z_gn), free(s_kn), free(q), free(z), free(s);
    return 1;
}
