/* ckpt_ct -- compressed-tensors layouts read into Linears; see ckpt_ct.h. */
#include "model/ckpt_ct.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/e2m1.h"
#include "formats/e4m3.h"
#include "formats/e8m0.h"
#include "formats/fp8_block.h"
#include "formats/int4.h"
#include "formats/mxfp4.h"
#include "formats/nvfp4.h"

/* ---- pack_to_int32 / unpack_from_int32 ---- */

void ckpt_ct_pack(const int8_t *v, int64_t rows, int64_t cols, int b, int packed_dim, uint8_t *out) {
    CHECK(b == 4 || b == 8, "bits %d", b);
    const int pf = 32 / b, off = 1 << (b - 1);
    const int64_t len = packed_dim == 1 ? cols : rows;            /* the packed dimension */
    const int64_t other = packed_dim == 1 ? rows : cols;
    const int64_t words = (len + pf - 1) / pf;
    for (int64_t o = 0; o < other; o++)
        for (int64_t w = 0; w < words; w++) {
            uint32_t word = 0;
            for (int i = 0; i < pf; i++) {
                int64_t j = w * pf + i;
                if (j >= len) break;                                  /* padding: stored 0 */
                int8_t c = packed_dim == 1 ? v[o * cols + j] : v[j * cols + o];
                word |= (uint32_t)((c + off) & ((1 << b) - 1)) << (b * i);
            }
            int64_t idx = packed_dim == 1 ? o * words + w : w * cols + o;
            for (int k = 0; k < 4; k++) out[4 * idx + k] = (uint8_t)(word >> (8 * k));
        }
}

void ckpt_ct_unpack(const uint8_t *p, int64_t rows, int64_t cols, int b, int packed_dim, int8_t *v) {
    CHECK(b == 4 || b == 8, "bits %d", b);
    const int pf = 32 / b, off = 1 << (b - 1);
    const int64_t len = packed_dim == 1 ? cols : rows, other = packed_dim == 1 ? rows : cols;
    const int64_t words = (len + pf - 1) / pf;
    for (int64_t o = 0; o < other; o++)
        for (int64_t j = 0; j < len; j++) {
            int64_t idx = packed_dim == 1 ? o * words + j / pf : (j / pf) * cols + o;
            uint32_t word = (uint32_t)ckpt_i32(p, idx);
            int c = (int)((word >> (b * (j % pf))) & ((1u << b) - 1)) - off;
            if (packed_dim == 1) v[o * cols + j] = (int8_t)c;
            else v[j * cols + o] = (int8_t)c;
        }
}

/* ---- activations ---- */

void ckpt_ct_act(const struct ckpt_qargs *a, float in_scale, struct linear_act *out, const char *what) {
    memset(out, 0, sizeof *out);
    if (a->is_float && a->num_bits == 8) {
        if (a->dynamic == 1 && a->strategy == CKPT_STRATEGY_TOKEN) out->format = QFORMAT_FP8_CHANNEL;
        else if (a->dynamic == 1 && a->strategy == CKPT_STRATEGY_TENSOR) out->format = QFORMAT_FP8_TENSOR;
        else if (a->dynamic == 1 && a->strategy == CKPT_STRATEGY_GROUP && a->group_size == 128)
            out->format = QFORMAT_FP8_GROUP128;
        else if (a->dynamic == 0 && a->strategy == CKPT_STRATEGY_TENSOR) {
            if (!(in_scale > 0)) die("%s: static FP8 input activations need a positive input_scale", what);
            out->mode = LINEAR_ACT_STATIC;
            out->format = QFORMAT_FP8_TENSOR;
            out->params.amax = in_scale * 448.0f;   /* input_scale = amax / 448 (E4M3 max) */
            return;
        } else die("%s: input_activations FP8 strategy/dynamic combination is not supported (token, tensor or "
                   "group 128 dynamic; tensor static)", what);
        out->mode = LINEAR_ACT_DYNAMIC;
        return;
    }
    if (!a->is_float && a->num_bits == 8 && a->symmetric && a->dynamic == 1 && a->strategy == CKPT_STRATEGY_TOKEN) {
        out->mode = LINEAR_ACT_DYNAMIC;
        out->format = QFORMAT_INT8_CHANNEL;
        return;
    }
    if (a->is_float && a->num_bits == 4 && a->strategy == CKPT_STRATEGY_TENSOR_GROUP && a->group_size == 16) {
        /* NVFP4 activations: block scales per call, the global from calibration (dynamic "local"). */
        if (!(in_scale > 0)) die("%s: NVFP4 input activations need a positive input_global_scale", what);
        out->mode = LINEAR_ACT_STATIC;
        out->format = QFORMAT_NVFP4;
        out->params.amax = 448.0f * 6.0f / in_scale;   /* g = 448 * 6 / amax (nvfp4.h) */
        return;
    }
    die("%s: input_activations with %d-bit %s, strategy %d are not supported (FP8 token/tensor/group, INT8 "
        "token, NVFP4)", what, a->num_bits, a->is_float ? "float" : "int", (int)a->strategy);
}

/* ---- readers ---- */

/* CT's signed codes and zero points to the unsigned ones of the shared formula (q + 2^(b-1), as stored). */
static void install_int(struct linear *l, int64_t N, int64_t K, int bits, const int8_t *codes, const int8_t *zp,
                        const float *scale, int64_t n_g, const int32_t *g_idx, const char *fmt) {
    const int off = 1 << (bits - 1);
    uint8_t *q = xmalloc((size_t)(N * K));
    int16_t *z = xmalloc((size_t)(N * n_g) * sizeof *z);
    for (int64_t i = 0; i < N * K; i++) q[i] = (uint8_t)(codes[i] + off);
    for (int64_t i = 0; i < N * n_g; i++) z[i] = (int16_t)((zp ? zp[i] : 0) + off);
    ckpt_install_int(l, N, K, bits, q, z, scale, n_g, g_idx, fmt);
    free(q), free(z);
}

/* Number of scale groups along K for the weight args, checked against K. */
static int64_t n_groups(const struct ckpt_qargs *a, int64_t K, const char *prefix) {
    if (a->strategy == CKPT_STRATEGY_CHANNEL) return 1;
    if (a->strategy != CKPT_STRATEGY_GROUP || a->group_size <= 0)
        die("%s: integer weights with strategy %d are not supported (group or channel)", prefix, (int)a->strategy);
    if (K % a->group_size) die("%s: K=%lld is not a multiple of group_size %d", prefix, (long long)K, a->group_size);
    return K / a->group_size;
}

static int read_packed_int(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix,
                           int64_t N, int64_t K, struct linear *l, int naive) {
    const struct ckpt_qargs *a = &cq->w;
    const int b = a->num_bits, pf = 32 / b;
    const int64_t n_g = n_groups(a, K, prefix);
    int8_t *codes = xmalloc((size_t)(N * K));
    if (naive) {
        struct safetensors_tensor *t = ckpt_tensor(st, prefix, "weight", CKPT_DT(I8), 2, N, K, 0);
        memcpy(codes, t->data, (size_t)(N * K));
    } else {
        struct safetensors_tensor *t = ckpt_tensor(st, prefix, "weight_packed", CKPT_DT(I32), 2, N, (K + pf - 1) / pf, 0);
        ckpt_ct_unpack(t->data, N, K, b, 1, codes);
        struct safetensors_tensor *ws = ckpt_tensor(st, prefix, "weight_shape", CKPT_DT(I64) | CKPT_DT(I32), 1, 2, 0, 1);
        if (ws) {
            int64_t s0, s1;
            if (ws->dtype == SAFETENSORS_DTYPE_I64) {
                memcpy(&s0, ws->data, 8);
                memcpy(&s1, (const uint8_t *)ws->data + 8, 8);
            } else s0 = ckpt_i32(ws->data, 0), s1 = ckpt_i32(ws->data, 1);
            if (s0 != N || s1 != K)
                die("%s: '%s.weight_shape': [%lld, %lld] disagrees with config.json, which implies [%lld, %lld]",
                    ws->path, prefix, (long long)s0, (long long)s1, (long long)N, (long long)K);
        }
    }
    float *scale = ckpt_f32(ckpt_tensor(st, prefix, "weight_scale", CKPT_DT(BF16) | CKPT_DT(F16) | CKPT_DT(F32), 2, N,
                                        n_g, 0));
    int8_t *zp = NULL;
    if (!a->symmetric) {
        zp = xmalloc((size_t)(N * n_g));
        if (naive) {
            struct safetensors_tensor *z = ckpt_tensor(st, prefix, "weight_zero_point", CKPT_DT(I8), 2, N, n_g, 0);
            memcpy(zp, z->data, (size_t)(N * n_g));
        } else {
            struct safetensors_tensor *z = ckpt_tensor(st, prefix, "weight_zero_point", CKPT_DT(I32), 2,
                                                       (N + pf - 1) / pf, n_g, 0);
            ckpt_ct_unpack(z->data, N, n_g, b, 0, zp);
        }
    }
    int32_t *g_idx = NULL;
    struct safetensors_tensor *gi = ckpt_tensor(st, prefix, "weight_g_idx", CKPT_DT(I32), 1, K, 0, 1);
    if (gi) {
        g_idx = xmalloc((size_t)K * sizeof *g_idx);
        int any = 0;
        for (int64_t k = 0; k < K; k++) {
            g_idx[k] = ckpt_i32(gi->data, k);
            any |= g_idx[k] != -1;
            if (g_idx[k] != -1 && (g_idx[k] < 0 || g_idx[k] >= n_g))
                die("%s: '%s.weight_g_idx': entry %lld = %d outside [0, %lld)", gi->path, prefix, (long long)k,
                    g_idx[k], (long long)n_g);
        }
        if (!any) free(g_idx), g_idx = NULL;   /* all -1: column order (forward.py is_column_order) */
    }
    install_int(l, N, K, b, codes, zp, scale, n_g, g_idx, b == 4 ? "ct-int4" : "ct-int8");
    free(codes), free(zp), free(scale), free(g_idx);
    return 1;
}

static int read_fp8(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix, int64_t N,
                    int64_t K, struct linear *l) {
    const struct ckpt_qargs *a = &cq->w;
    struct safetensors_tensor *t = ckpt_tensor(st, prefix, "weight", CKPT_DT(F8_E4M3), 2, N, K, 0);
    int64_t sr = 1, sc = 1, br = N, bc = K;   /* scale grid and block extent */
    enum qformat f = QFORMAT_FP8_TENSOR;
    switch (a->strategy) {
    case CKPT_STRATEGY_TENSOR: break;
    case CKPT_STRATEGY_CHANNEL: sr = N, br = 1, f = QFORMAT_FP8_CHANNEL; break;
    case CKPT_STRATEGY_GROUP:
        if (a->group_size <= 0 || K % a->group_size) die("%s: FP8 group_size %d does not divide K=%lld", prefix,
                                                         a->group_size, (long long)K);
        sr = N, br = 1, bc = a->group_size, sc = K / bc, f = a->group_size == 128 ? QFORMAT_FP8_GROUP128 : QFORMAT_COUNT;
        break;
    case CKPT_STRATEGY_BLOCK:
        br = a->block[0], bc = a->block[1];
        if (br <= 0 || bc <= 0) die("%s: FP8 block_structure must be positive", prefix);
        sr = (N + br - 1) / br, sc = (K + bc - 1) / bc;
        f = br == FP8_BLOCK_SIZE && bc == FP8_BLOCK_SIZE && K % FP8_BLOCK_SIZE == 0 ? QFORMAT_FP8_BLOCK128 : QFORMAT_COUNT;
        break;
    default: die("%s: FP8 weights with strategy %d are not supported", prefix, (int)a->strategy);
    }
    const unsigned fdt = CKPT_DT(BF16) | CKPT_DT(F16) | CKPT_DT(F32);
    struct safetensors_tensor *s = a->strategy == CKPT_STRATEGY_TENSOR
                                       ? ckpt_tensor(st, prefix, "weight_scale", fdt, 0, 1, 0, 0)
                                       : ckpt_tensor(st, prefix, "weight_scale", fdt, 2, sr, sc, 0);
    float *scale = ckpt_f32(s);
    const uint8_t *codes = t->data;
    float *w = xmalloc((size_t)(N * K) * sizeof *w);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) w[n * K + k] = e4m3_to_float(codes[n * K + k]) * scale[(n / br) * sc + k / bc];
    struct qtensor *q = NULL;
    if (f != QFORMAT_COUNT) {
        q = ckpt_qtensor_new(f, NULL, N, K);
        memcpy(q->data, codes, (size_t)(N * K));
        if (f == QFORMAT_FP8_TENSOR) q->global_scale = scale[0];
        else memcpy(q->scales, scale, (size_t)(sr * sc) * sizeof(float));
    }
    ckpt_install(l, N, K, w, q, "ct-fp8");
    free(scale);
    return 1;
}

static int read_fp4(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix, int64_t N,
                    int64_t K, struct linear *l, int mx) {
    (void)cq;
    const int B = mx ? MXFP4_BLOCK_SIZE : NVFP4_BLOCK_SIZE;
    if (K % B) die("%s: K=%lld is not a multiple of %d (%s block)", prefix, (long long)K, B, mx ? "mxfp4" : "nvfp4");
    const uint8_t *codes = ckpt_tensor(st, prefix, "weight_packed", CKPT_DT(U8), 2, N, K / 2, 0)->data;
    const uint8_t *sc = ckpt_tensor(st, prefix, "weight_scale", mx ? CKPT_DT(U8) : CKPT_DT(F8_E4M3), 2, N, K / B, 0)->data;
    struct qtensor *q = ckpt_qtensor_new(mx ? QFORMAT_MXFP4 : QFORMAT_NVFP4, NULL, N, K);
    const int64_t nb = N * K / B;
    for (int64_t i = 0; i < nb; i++) {
        /* Blocks are consecutive along K inside a row, so block i of the flat [N][K/B] order holds codes
         * (B/2) * i .. of the flat [N][K/2] bytes. */
        if (mx) {
            struct mxfp4_block *bl = (struct mxfp4_block *)q->data + i;
            bl->e = sc[i];
            memcpy(bl->qs, codes + i * (B / 2), B / 2);
        } else {
            struct nvfp4_block *bl = (struct nvfp4_block *)q->data + i;
            /* UE4M3: the E4M3 byte of a non-negative scale; a set sign bit cannot be a block scale. */
            if (sc[i] & 0x80) die("%s: '%s.weight_scale': negative block scale at %lld", prefix, prefix, (long long)i);
            bl->s = sc[i];
            memcpy(bl->qs, codes + i * (B / 2), B / 2);
        }
    }
    if (!mx) {
        float *g = ckpt_f32(ckpt_tensor(st, prefix, "weight_global_scale", CKPT_DT(F32) | CKPT_DT(BF16), 0, 1, 0, 0));
        q->global_scale = g[0];
        free(g);
    }
    float *w = xmalloc((size_t)(N * K) * sizeof *w);
    qtensor_dequantize(q, w);
    ckpt_install(l, N, K, w, q, mx ? "ct-mxfp4" : "ct-nvfp4");
    return 1;
}

int ckpt_ct_read_linear(const struct ckpt_quant *cq, const struct safetensors *st, const char *prefix, int64_t N,
                        int64_t K, struct linear *l) {
    char name[512];
    const char *fmt = cq->format;
    int handled = 0;
    if (!strcmp(fmt, "pack-quantized")) {
        snprintf(name, sizeof name, "%s.weight_packed", prefix);
        if (!safetensors_find(st, name)) return 0;
        handled = read_packed_int(cq, st, prefix, N, K, l, 0);
    } else if (!strcmp(fmt, "int-quantized")) {
        snprintf(name, sizeof name, "%s.weight", prefix);
        const struct safetensors_tensor *t = safetensors_find(st, name);
        if (!t || t->dtype != SAFETENSORS_DTYPE_I8) return 0;
        handled = read_packed_int(cq, st, prefix, N, K, l, 1);
    } else if (!strcmp(fmt, "float-quantized")) {
        snprintf(name, sizeof name, "%s.weight", prefix);
        const struct safetensors_tensor *t = safetensors_find(st, name);
        if (!t || t->dtype != SAFETENSORS_DTYPE_F8_E4M3) return 0;
        handled = read_fp8(cq, st, prefix, N, K, l);
    } else if (!strcmp(fmt, "nvfp4-pack-quantized") || !strcmp(fmt, "mxfp4-pack-quantized")) {
        snprintf(name, sizeof name, "%s.weight_packed", prefix);
        if (!safetensors_find(st, name)) return 0;
        handled = read_fp4(cq, st, prefix, N, K, l, fmt[0] == 'm');
    } else CHECK(0, "format %s passed ckpt_quant_detect", fmt);
    if (handled && cq->has_act) {
        float in = NAN;
        const char *sfx = cq->a.num_bits == 4 ? "input_global_scale" : "input_scale";
        struct safetensors_tensor *t = ckpt_tensor(st, prefix, sfx, CKPT_DT(F32) | CKPT_DT(BF16) | CKPT_DT(F16), 0, 1, 0,
                                                   cq->a.dynamic == 1);
        if (t) {
            float *v = ckpt_f32(t);
            in = v[0];
            free(v);
        }
        snprintf(name, sizeof name, "%s (%s)", cq->what, prefix);
        ckpt_ct_act(&cq->a, in, &l->act, name);
    }
    return handled;
}
