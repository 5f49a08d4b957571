/* ckpt_modelopt -- ModelOpt NVFP4 / FP8 exports; see ckpt_modelopt.h. */
#include "model/ckpt_modelopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/e2m1.h"
#include "formats/e4m3.h"
#include "formats/nvfp4.h"

static float scalar(const struct safetensors *st, const char *prefix, const char *suffix, int optional, int *found) {
    struct safetensors_tensor *t = ckpt_tensor(st, prefix, suffix, CKPT_DT(F32) | CKPT_DT(BF16) | CKPT_DT(F16), 0, 1, 0,
                                               optional);
    *found = t != NULL;
    if (!t) return 0.0f;
    float *v = ckpt_f32(t);
    float r = v[0];
    free(v);
    return r;
}

int ckpt_modelopt_read_linear(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix,
                              int64_t N, int64_t K, struct linear *l) {
    char name[512];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const struct safetensors_tensor *t = safetensors_find(st, name);
    if (!t || (t->dtype != SAFETENSORS_DTYPE_U8 && t->dtype != SAFETENSORS_DTYPE_F8_E4M3)) return 0;
    int has_in, found;
    float *w = xmalloc((size_t)(N * K) * sizeof *w);
    if (!strcmp(cq->format, "NVFP4")) {
        if (K % NVFP4_BLOCK_SIZE) die("%s: K=%lld is not a multiple of 16 (nvfp4 block)", prefix, (long long)K);
        const uint8_t *codes = ckpt_tensor(st, prefix, "weight", CKPT_DT(U8), 2, N, K / 2, 0)->data;
        const uint8_t *sc = ckpt_tensor(st, prefix, "weight_scale", CKPT_DT(F8_E4M3), 2, N, K / 16, 0)->data;
        const float s2 = scalar(st, prefix, "weight_scale_2", 0, &found);
        const float in = scalar(st, prefix, "input_scale", 1, &has_in);
        for (int64_t i = 0; i < N * K; i++) {
            uint8_t c = (codes[i / 2] >> (4 * (i % 2))) & 15;
            float per_block = e4m3_to_float(sc[i / 16]) * s2;   /* q_per_block_scale * double_scale */
            w[i] = e2m1_to_float(c) * per_block;
        }
        struct qtensor *q = ckpt_qtensor_new(QFORMAT_NVFP4, NULL, N, K);
        for (int64_t i = 0; i < N * K / 16; i++) {
            struct nvfp4_block *bl = (struct nvfp4_block *)q->data + i;
            bl->s = sc[i] & 0x7f;
            memcpy(bl->qs, codes + 8 * i, 8);
        }
        q->global_scale = 1.0f / s2;
        ckpt_install(l, N, K, w, q, "modelopt-nvfp4");
        if (has_in) {
            /* input_scale = amax / (6 * 448): the static global of NVFP4 activations (W4A4). */
            l->act.mode = LINEAR_ACT_STATIC;
            l->act.format = QFORMAT_NVFP4;
            l->act.params.amax = in * 6.0f * 448.0f;
        }
        return 1;
    }
    const uint8_t *codes = ckpt_tensor(st, prefix, "weight", CKPT_DT(F8_E4M3), 2, N, K, 0)->data;
    const float s = scalar(st, prefix, "weight_scale", 0, &found);
    const float in = scalar(st, prefix, "input_scale", 1, &has_in);
    for (int64_t i = 0; i < N * K; i++) w[i] = e4m3_to_float(codes[i]) * s;
    struct qtensor *q = ckpt_qtensor_new(QFORMAT_FP8_TENSOR, NULL, N, K);
    memcpy(q->data, codes, (size_t)(N * K));
    q->global_scale = s;
    ckpt_install(l, N, K, w, q, "modelopt-fp8");
    if (has_in) {
        l->act.mode = LINEAR_ACT_STATIC;
        l->act.format = QFORMAT_FP8_TENSOR;
        l->act.params.amax = in * 448.0f;   /* input_scale = amax / 448 */
    }
    return 1;
}
