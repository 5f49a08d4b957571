/* ggml_block -- see ggml_block.h. */
#include "formats/ggml_block.h"

#include <math.h>
#include <string.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/e2m1.h"
#include "formats/e8m0.h"
#include "formats/f16.h"
#include "formats/int4.h"
#include "formats/mxfp4.h"
#include "formats/nvfp4.h"
#include "formats/ue4m3.h"

// ---- facts ----

int ggml_block_info(uint32_t type, int64_t *block_values, int64_t *block_bytes, const char **name) {
    static const struct {
        uint32_t type;
        int64_t values, bytes;
        const char *name;
    } t[] = {
        {GGML_BLOCK_F32, 1, 4, "f32"},      {GGML_BLOCK_F16, 1, 2, "f16"},    {GGML_BLOCK_BF16, 1, 2, "bf16"},
        {GGML_BLOCK_Q4_0, 32, 18, "q4_0"},  {GGML_BLOCK_Q4_1, 32, 20, "q4_1"}, {GGML_BLOCK_Q8_0, 32, 34, "q8_0"},
        {GGML_BLOCK_MXFP4, 32, 17, "mxfp4"}, {GGML_BLOCK_NVFP4, 64, 36, "nvfp4"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].type == type) {
            if (block_values) *block_values = t[i].values;
            if (block_bytes) *block_bytes = t[i].bytes;
            if (name) *name = t[i].name;
            return 1;
        }
    return 0;
}

size_t ggml_block_row_bytes(uint32_t type, int64_t K) {
    int64_t bv, bb;
    CHECK(ggml_block_info(type, &bv, &bb, NULL), "ggml type %u", type);
    CHECK(K % bv == 0, "K=%lld not a multiple of %lld", (long long)K, (long long)bv);
    return (size_t)(K / bv * bb);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

// ---- FP16 encoding ----

uint16_t ggml_block_f16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    if (isnan(x)) return (uint16_t)(sign | 0x7e00);
    float a = fabsf(x);
    /* 65520 = 65504 + half an ulp (16): at or above it RNE overflows to Inf (the tie 65520 rounds to the even
     * 2^16, which is Inf). */
    if (a >= 65520.0f) return (uint16_t)(sign | 0x7c00);
    if (a < 0x1p-14f) {
        /* subnormal: a / 2^-24 rounded to an integer, ties to even (rintf in the default mode); 1024 becomes
         * the smallest normal, which the bit pattern 0x0400 already is */
        return (uint16_t)(sign | (uint16_t)rintf(a * 0x1p24f));
    }
    int e;
    float m = frexpf(a, &e);                  /* a = m 2^e, m in [0.5, 1) */
    float r = rintf(ldexpf(m, 11));           /* 11 significant bits, in [1024, 2048] */
    if (r == 2048.0f) {
        r = 1024.0f;
        e++;
    }
    int be = e - 1 + 15;                      /* biased exponent of 2^(e-1) */
    if (be >= 31) return (uint16_t)(sign | 0x7c00);
    return (uint16_t)(sign | (uint16_t)(be << 10) | (uint16_t)((int)r - 1024));
}

// ---- decoding ----

/* The E2M1 value of a nibble (sign in bit 3). */
static float fp4(int c) { return e2m1_to_float((uint8_t)(c & 15)); }

void ggml_block_dequantize_row(uint32_t type, const void *xv, float *y, int64_t K) {
    const uint8_t *x = xv;
    switch (type) {
    case GGML_BLOCK_F32:
        memcpy(y, x, (size_t)K * 4);
        return;
    case GGML_BLOCK_F16:
        for (int64_t k = 0; k < K; k++) y[k] = f16_to_float(rd16(x + 2 * k));
        return;
    case GGML_BLOCK_BF16:
        for (int64_t k = 0; k < K; k++) y[k] = bf16_to_float(rd16(x + 2 * k));
        return;
    case GGML_BLOCK_Q8_0:
        CHECK(K % 32 == 0, "q8_0 K=%lld", (long long)K);
        for (int64_t b = 0; b < K / 32; b++, x += 34) {
            float d = f16_to_float(rd16(x));
            for (int j = 0; j < 32; j++) y[32 * b + j] = (float)(int8_t)x[2 + j] * d;
        }
        return;
    case GGML_BLOCK_Q4_0:
        CHECK(K % 32 == 0, "q4_0 K=%lld", (long long)K);
        for (int64_t b = 0; b < K / 32; b++, x += 18) {
            float d = f16_to_float(rd16(x));
            for (int j = 0; j < 16; j++) {
                y[32 * b + j] = (float)((x[2 + j] & 15) - 8) * d;
                y[32 * b + j + 16] = (float)((x[2 + j] >> 4) - 8) * d;
            }
        }
        return;
    case GGML_BLOCK_Q4_1:
        CHECK(K % 32 == 0, "q4_1 K=%lld", (long long)K);
        for (int64_t b = 0; b < K / 32; b++, x += 20) {
            float d = f16_to_float(rd16(x)), m = f16_to_float(rd16(x + 2));
            for (int j = 0; j < 16; j++) {
                float p0 = (float)(x[4 + j] & 15) * d, p1 = (float)(x[4 + j] >> 4) * d;
                y[32 * b + j] = p0 + m;
                y[32 * b + j + 16] = p1 + m;
            }
        }
        return;
    case GGML_BLOCK_MXFP4:
        CHECK(K % 32 == 0, "mxfp4 K=%lld", (long long)K);
        for (int64_t b = 0; b < K / 32; b++, x += 17) {
            /* ggml: doubled E2M1 times 2^(e-128) (ggml_e8m0_to_fp32_half): e2m1 2^(e-127) for every code;
             * 255, NaN in OCP E8M0, is a number there too (2 e2m1 2^127, Inf from magnitude 1 up). */
            float d = ldexpf(1.0f, (int)x[0] - 128);
            for (int j = 0; j < 16; j++) {
                y[32 * b + j] = (2.0f * fp4(x[1 + j])) * d;
                y[32 * b + j + 16] = (2.0f * fp4(x[1 + j] >> 4)) * d;
            }
        }
        return;
    case GGML_BLOCK_NVFP4:
        CHECK(K % 64 == 0, "nvfp4 K=%lld", (long long)K);
        for (int64_t b = 0; b < K / 64; b++, x += 36)
            for (int s = 0; s < 4; s++) {
                /* ggml_ue4m3_to_fp32: 0 and 0x7F (NaN in E4M3) decode to 0 */
                float d = (x[s] & 0x7f) == 0x7f ? 0.0f : ue4m3_to_float(x[s] & 0x7f);
                for (int j = 0; j < 8; j++) {
                    y[64 * b + 16 * s + j] = fp4(x[4 + 8 * s + j]) * d;
                    y[64 * b + 16 * s + j + 8] = fp4(x[4 + 8 * s + j] >> 4) * d;
                }
            }
        return;
    default:
        CHECK(0, "ggml type %u has no decoder", type);
    }
}

// ---- packing our schemes ----

/* 1 when the BF16 scale h is carried exactly by FP16 (its FP16 encoding decodes to the same number). */
static int f16_exact(float v, uint16_t *h) {
    *h = ggml_block_f16_from_float(v);
    return f16_to_float(*h) == v;
}

int64_t ggml_block_pack_q4_0(const struct qtensor *q, uint8_t *dst) {
    CHECK(q->format == QFORMAT_INT4_SYM, "q4_0 from %d", (int)q->format);
    const int64_t N = q->N, K = q->K, G = q->params.group_size, ng = K / G;
    CHECK(G % 32 == 0 && K % G == 0, "G=%lld K=%lld", (long long)G, (long long)K);
    const uint16_t *sc = (const uint16_t *)q->scales;
    for (int64_t n = 0; n < N; n++)
        for (int64_t b = 0; b < K / 32; b++) {
            uint8_t *o = dst + (n * (K / 32) + b) * 18;
            float s = bf16_to_float(sc[n * ng + b * 32 / G]);
            uint16_t h;
            if (!f16_exact(s, &h)) {
                /* a block of zero codes decodes to zeros at any scale: d = 0 carries it exactly */
                int zero = 1;
                for (int j = 0; j < 32 && zero; j++) zero = int4_get(q->data, n * K + b * 32 + j) == 0;
                if (!zero) return n * K + b * 32;
                h = 0;
            }
            wr16(o, h);
            for (int j = 0; j < 16; j++) {
                int lo = int4_get(q->data, n * K + b * 32 + j) + 8, hi = int4_get(q->data, n * K + b * 32 + j + 16) + 8;
                o[2 + j] = (uint8_t)(lo | (hi << 4));
            }
        }
    return -1;
}

int64_t ggml_block_pack_q4_1(const struct qtensor *q, uint8_t *dst, int64_t *n_inexact) {
    CHECK(q->format == QFORMAT_INT4_ASYM, "q4_1 from %d", (int)q->format);
    const int64_t N = q->N, K = q->K, G = q->params.group_size, ng = K / G;
    CHECK(G % 32 == 0 && K % G == 0, "G=%lld K=%lld", (long long)G, (long long)K);
    const uint16_t *sc = (const uint16_t *)q->scales;
    *n_inexact = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < ng; g++) {
            float s = bf16_to_float(sc[n * ng + g]);
            int z = int4_get_u(q->zeros, n * ng + g);
            uint16_t hd, hm;
            if (!f16_exact(s, &hd)) {
                /* every code equal to the zero point (AutoAWQ's floored scale on an all-zero group): the group
                 * decodes to zeros at any scale, and d = m = 0 carries it exactly */
                int zero = 1;
                for (int64_t j = 0; j < G && zero; j++) zero = int4_get_u(q->data, n * K + g * G + j) == z;
                if (!zero) return n * K + g * G;
                hd = 0;
                z = 0;
            }
            /* -z s: an integer below 16 times a BF16 number, exact in FP32 (at most 12 significant bits) */
            float mz = -(float)z * f16_to_float(hd);
            if (!f16_exact(mz, &hm)) {
                if (!isfinite(f16_to_float(hm))) return n * K + g * G;
                (*n_inexact)++;
            }
            for (int64_t b = g * G / 32; b < (g + 1) * G / 32; b++) {
                uint8_t *o = dst + (n * (K / 32) + b) * 20;
                wr16(o, hd);
                wr16(o + 2, hm);
                for (int j = 0; j < 16; j++) {
                    int lo = int4_get_u(q->data, n * K + b * 32 + j), hi = int4_get_u(q->data, n * K + b * 32 + j + 16);
                    o[4 + j] = (uint8_t)(lo | (hi << 4));
                }
            }
        }
    return -1;
}

int64_t ggml_block_pack_mxfp4(const struct qtensor *q, uint8_t *dst) {
    CHECK(q->format == QFORMAT_MXFP4 || q->format == QFORMAT_MXFP4_CEIL, "mxfp4 from %d", (int)q->format);
    const int64_t N = q->N, K = q->K, nb = N * (K / 32);
    const struct mxfp4_block *src = (const struct mxfp4_block *)q->data;
    for (int64_t i = 0; i < nb; i++) {
        if (src[i].e == 255) return i * 32;
        uint8_t *o = dst + i * 17;
        o[0] = src[i].e;
        /* ours: element 2i / 2i+1 in qs[i] low / high; ggml: element j / j+16 in qs[j] low / high */
        for (int j = 0; j < 16; j++) {
            int lo = (src[i].qs[j / 2] >> (4 * (j & 1))) & 15;
            int hi = (src[i].qs[(j + 16) / 2] >> (4 * (j & 1))) & 15;
            o[1 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
    return -1;
}

int64_t ggml_block_pack_nvfp4(const struct qtensor *q, uint8_t *dst, float *tensor_scale) {
    CHECK(q->format == QFORMAT_NVFP4, "nvfp4 from %d", (int)q->format);
    const int64_t N = q->N, K = q->K;
    if (K % 64) return 0;
    if (!isfinite(q->global_scale) || q->global_scale <= 0.0f) return 0;
    const struct nvfp4_block *src = (const struct nvfp4_block *)q->data;
    for (int64_t i = 0; i < N * (K / 64); i++) {
        uint8_t *o = dst + i * 36;
        for (int s = 0; s < 4; s++) {
            const struct nvfp4_block *b = &src[4 * i + s];
            if ((b->s & 0x7f) == UE4M3_NAN) return i * 64 + 16 * s;
            o[s] = b->s;
            for (int j = 0; j < 8; j++) {
                int lo = (b->qs[j / 2] >> (4 * (j & 1))) & 15;
                int hi = (b->qs[(j + 8) / 2] >> (4 * (j & 1))) & 15;
                o[4 + 8 * s + j] = (uint8_t)(lo | (hi << 4));
            }
        }
    }
    *tensor_scale = 1.0f / q->global_scale;
    return -1;
}

// ---- Q8_0 from FP32 ----

void ggml_block_quantize_q8_0_row(const float *x, uint8_t *dst, int64_t K) {
    CHECK(K % 32 == 0, "q8_0 K=%lld", (long long)K);
    for (int64_t b = 0; b < K / 32; b++, dst += 34) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        int bad = 0;
        for (int j = 0; j < 32; j++) {
            if (!isfinite(xb[j])) bad = 1;
            else if (fabsf(xb[j]) > amax) amax = fabsf(xb[j]);
        }
        uint16_t h = bad ? 0x7e00 : ggml_block_f16_from_float(amax / 127.0f);
        wr16(dst, h);
        float d = f16_to_float(h);
        for (int j = 0; j < 32; j++) {
            float v = (bad || d == 0.0f) ? 0.0f : rintf(xb[j] / d);
            v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
            dst[2 + j] = (uint8_t)(int8_t)v;
        }
    }
}
