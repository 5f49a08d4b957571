/* qformat -- see qformat.h. This file only wires the per-scheme row codecs to the matrix level: the
 * numerics live in the scheme files, the layouts are summarised in qformat_layout below. */
#include "formats/qformat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/bf16.h"
#include "formats/fp8_block.h"
#include "formats/fp8_channel.h"
#include "formats/fp8_group.h"
#include "formats/fp8_tensor.h"
#include "formats/int4.h"
#include "formats/int4g_asym.h"
#include "formats/int4g_sym.h"
#include "formats/int8_channel.h"
#include "formats/mxfp4.h"
#include "formats/mxfp8.h"
#include "formats/nvfp4.h"
#include "formats/nvfp8_2l.h"

/* ---- the table ---- */

/* bits: element bits plus block-scale bits per element, e.g. nvfp4 4 + 8/16, fp8-block128 8 + 32/16384,
 * int4-g128-asym 4 + (16 + 4)/128. Per-tensor and per-row scales are left out here (they depend on the
 * shape); qtensor_bits_per_element counts everything. Indexed by enum qformat: keep in the enum's order. */
static const struct qformat_info g_info[QFORMAT_COUNT] = {
    {"bf16", 1, 16.0, 0, "BF16, no scale"},
    {"fp8-tensor", 1, 8.0, 1, "E4M3, FP32 scale per tensor"},
    {"fp8-channel", 1, 8.0, 0, "E4M3, FP32 scale per row"},
    {"fp8-block128", FP8_BLOCK_SIZE, 8.0 + 32.0 / (128.0 * 128.0), 0, "E4M3, FP32 scale per 128x128 block"},
    {"fp8-group128", FP8_GROUP_SIZE, 8.0 + 32.0 / 128.0, 0, "E4M3, FP32 scale per 1x128 group along K"},
    {"e5m2-tensor", 1, 8.0, 1, "E5M2, FP32 scale per tensor"},
    {"mxfp8", MXFP8_BLOCK_SIZE, 8.0 + 8.0 / 32.0, 0, "E4M3, E8M0 scale per 32 (OCP MX, floor rule)"},
    {"mxfp4", MXFP4_BLOCK_SIZE, 4.0 + 8.0 / 32.0, 0, "E2M1, E8M0 scale per 32 (OCP MX, floor rule)"},
    {"mxfp4-ceil", MXFP4_BLOCK_SIZE, 4.0 + 8.0 / 32.0, 0, "E2M1, E8M0 scale per 32 (ModelOpt ceil rule)"},
    {"nvfp4", NVFP4_BLOCK_SIZE, 4.0 + 8.0 / 16.0, 1, "E2M1, UE4M3 scale per 16, FP32 tensor scale"},
    {"nvfp8-2l", NVFP8_2L_BLOCK_SIZE, 8.0 + 8.0 / 16.0, 1, "E4M3, UE4M3 scale per 16, FP32 tensor scale"},
    {"int4-g128-sym", 0, 4.0 + 16.0 / 128.0, 0, "INT4 -8..7, BF16 scale per group"},
    {"int4-g128-asym", 0, 4.0 + 20.0 / 128.0, 0, "UINT4, BF16 scale + 4-bit zero per group"},
    {"int8-channel", 1, 8.0, 0, "INT8, FP32 scale per row"},
};

const struct qformat_info *qformat_info(enum qformat f) {
    CHECK((int)f >= 0 && f < QFORMAT_COUNT, "bad qformat %d", (int)f);
    return &g_info[f];
}

const char *qformat_name(enum qformat f) { return qformat_info(f)->name; }

static int is_int4(enum qformat f) { return f == QFORMAT_INT4_SYM || f == QFORMAT_INT4_ASYM; }

/* ---- names ---- */

int qformat_parse(const char *name, struct qparams *p) {
    memset(p, 0, sizeof *p);
    if (!name) return -1;
    for (int f = 0; f < QFORMAT_COUNT; f++)
        if (strcmp(name, g_info[f].name) == 0) {
            if (f == QFORMAT_MXFP4_CEIL) p->mx_rule = E8M0_RULE_CEIL;
            if (is_int4((enum qformat)f)) p->group_size = 128;
            return f;
        }
    if (strcmp(name, "mxfp8-ceil") == 0) {
        p->mx_rule = E8M0_RULE_CEIL;
        return QFORMAT_MXFP8;
    }
    /* "int4-g<G>-sym" / "int4-g<G>-asym" with G in 32, 64, 128. */
    int G = 0, len = 0;
    char kind[8] = {0};
    if (sscanf(name, "int4-g%d-%5[a-z]%n", &G, kind, &len) == 2 && name[len] == '\0' &&
        (G == 32 || G == 64 || G == 128)) {
        char canon[32];
        snprintf(canon, sizeof canon, "int4-g%d-%s", G, kind);
        if (strcmp(canon, name) != 0) return -1; /* reject "int4-g064-sym" and the like */
        p->group_size = G;
        if (strcmp(kind, "sym") == 0) return QFORMAT_INT4_SYM;
        if (strcmp(kind, "asym") == 0) return QFORMAT_INT4_ASYM;
    }
    memset(p, 0, sizeof *p);
    return -1;
}

int qformat_by_name(const char *name) {
    struct qparams p;
    return qformat_parse(name, &p);
}

struct qparams qformat_resolve(enum qformat f, const struct qparams *p) {
    struct qparams r;
    if (p) r = *p;
    else memset(&r, 0, sizeof r);
    if (is_int4(f)) {
        if (r.group_size == 0) r.group_size = 128;
    } else {
        r.group_size = 0;
    }
    if (f == QFORMAT_MXFP4_CEIL) r.mx_rule = E8M0_RULE_CEIL;
    else if (f != QFORMAT_MXFP8 && f != QFORMAT_MXFP4) r.mx_rule = E8M0_RULE_FLOOR;
    return r;
}

char *qformat_label(enum qformat f, const struct qparams *p, char *buf, size_t n) {
    struct qparams r = qformat_resolve(f, p);
    if (is_int4(f))
        snprintf(buf, n, "int4-g%d-%s", r.group_size, f == QFORMAT_INT4_SYM ? "sym" : "asym");
    else if (f == QFORMAT_MXFP8 && r.mx_rule == E8M0_RULE_CEIL)
        snprintf(buf, n, "mxfp8-ceil");
    else if (f == QFORMAT_MXFP4 && r.mx_rule == E8M0_RULE_CEIL)
        snprintf(buf, n, "mxfp4-ceil");
    else
        snprintf(buf, n, "%s", qformat_name(f));
    return buf;
}

/* ---- shapes and layouts ---- */

int qformat_check_shape(enum qformat f, const struct qparams *p, int64_t N, int64_t K, char *err, size_t n) {
    struct qparams r = qformat_resolve(f, p);
    char label[32];
    qformat_label(f, &r, label, sizeof label);
    if (N <= 0 || K <= 0) {
        snprintf(err, n, "%s: bad shape N=%lld K=%lld (both must be positive)", label, (long long)N,
                 (long long)K);
        return -1;
    }
    if (is_int4(f) && r.group_size != 32 && r.group_size != 64 && r.group_size != 128) {
        snprintf(err, n, "%s: group size %d is not one of 32, 64, 128", label, r.group_size);
        return -1;
    }
    int block = is_int4(f) ? r.group_size : qformat_info(f)->block_k;
    if (K % block != 0) {
        snprintf(err, n, "%s: K=%lld is not a multiple of %d (%s %s)", label, (long long)K, block, label,
                 is_int4(f) ? "group" : "block");
        return -1;
    }
    return 0;
}

/* Byte sizes of the three arrays of a qtensor (see the scheme headers for their content):
 *   bf16                          data uint16[N*K]
 *   fp8-tensor, e5m2-tensor       data uint8[N*K]                scale in global_scale
 *   fp8-channel, int8-channel     data uint8[N*K]                scales float[N]
 *   fp8-block128                  data uint8[N*K]                scales float[ceil(N/128)][K/128]
 *   fp8-group128                  data uint8[N*K]                scales float[N][K/128]
 *   mxfp8, mxfp4(-ceil)           data struct mxfp8_block / mxfp4_block [N][K/32]
 *   nvfp4, nvfp8-2l               data struct nvfp4_block / nvfp8_2l_block [N][K/16]   g in global_scale
 *   int4-gG-sym                   data nibbles[N*K]              scales bf16[N][K/G]
 *   int4-gG-asym                  data nibbles[N*K]              scales bf16[N][K/G]   zeros nibbles[N*K/G] */
static void qformat_layout(enum qformat f, const struct qparams *r, int64_t N, int64_t K, size_t *data,
                           size_t *scales, size_t *zeros) {
    size_t nk = (size_t)N * (size_t)K;
    *data = nk;
    *scales = 0;
    *zeros = 0;
    switch (f) {
    case QFORMAT_BF16: *data = 2 * nk; break;
    case QFORMAT_FP8_TENSOR:
    case QFORMAT_E5M2_TENSOR: break;
    case QFORMAT_FP8_CHANNEL:
    case QFORMAT_INT8_CHANNEL: *scales = sizeof(float) * (size_t)N; break;
    case QFORMAT_FP8_BLOCK128:
        *scales = sizeof(float) * (size_t)((N + FP8_BLOCK_SIZE - 1) / FP8_BLOCK_SIZE) *
                  (size_t)(K / FP8_BLOCK_SIZE);
        break;
    case QFORMAT_FP8_GROUP128: *scales = sizeof(float) * nk / FP8_GROUP_SIZE; break;
    case QFORMAT_MXFP8: *data = sizeof(struct mxfp8_block) * (nk / MXFP8_BLOCK_SIZE); break;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: *data = sizeof(struct mxfp4_block) * (nk / MXFP4_BLOCK_SIZE); break;
    case QFORMAT_NVFP4: *data = sizeof(struct nvfp4_block) * (nk / NVFP4_BLOCK_SIZE); break;
    case QFORMAT_NVFP8_2L: *data = sizeof(struct nvfp8_2l_block) * (nk / NVFP8_2L_BLOCK_SIZE); break;
    case QFORMAT_INT4_SYM:
    case QFORMAT_INT4_ASYM:
        *data = nk / 2;
        *scales = sizeof(uint16_t) * (nk / (size_t)r->group_size);
        if (f == QFORMAT_INT4_ASYM) *zeros = (nk / (size_t)r->group_size + 1) / 2;
        break;
    default: CHECK(0, "bad qformat %d", (int)f);
    }
}

static void check_or_die(enum qformat f, const struct qparams *r, int64_t N, int64_t K) {
    char err[256];
    if (qformat_check_shape(f, r, N, K, err, sizeof err) != 0) die("%s", err);
}

double qtensor_bits_per_element(enum qformat f, const struct qparams *p, int64_t N, int64_t K) {
    struct qparams r = qformat_resolve(f, p);
    check_or_die(f, &r, N, K);
    size_t d, s, z;
    qformat_layout(f, &r, N, K, &d, &s, &z);
    size_t bytes = d + s + z + (qformat_info(f)->has_global ? sizeof(float) : 0);
    return 8.0 * (double)bytes / ((double)N * (double)K);
}

size_t qtensor_bytes(const struct qtensor *q) {
    return q->data_bytes + q->scales_bytes + q->zeros_bytes +
           (qformat_info(q->format)->has_global ? sizeof(float) : 0);
}

void qtensor_free(struct qtensor *q) {
    free(q->data);
    free(q->scales);
    free(q->zeros);
    memset(q, 0, sizeof *q);
}

/* ---- quantize / dequantize ---- */

void qtensor_quantize(struct qtensor *out, enum qformat f, const float *w, int64_t N, int64_t K,
                      const struct qparams *p) {
    struct qparams r = qformat_resolve(f, p);
    check_or_die(f, &r, N, K);
    memset(out, 0, sizeof *out);
    out->format = f;
    out->params = r;
    out->N = N;
    out->K = K;
    qformat_layout(f, &r, N, K, &out->data_bytes, &out->scales_bytes, &out->zeros_bytes);
    out->data = xcalloc(1, out->data_bytes);
    if (out->scales_bytes) out->scales = xcalloc(1, out->scales_bytes);
    if (out->zeros_bytes) out->zeros = xcalloc(1, out->zeros_bytes);
    int64_t nk = N * K, G = r.group_size;
    float *sc = (float *)out->scales;
    /* Per-tensor amax: static when the caller gave one, else the data's own (NaN if non-finite). */
    float amax = r.amax > 0.0f ? r.amax : 0.0f;
    switch (f) {
    case QFORMAT_BF16: bf16_quantize_row_ref(w, (uint16_t *)out->data, nk); break;
    case QFORMAT_FP8_TENSOR:
    case QFORMAT_E5M2_TENSOR:
        out->global_scale = fp8_tensor_quantize_ref(w, out->data, nk, amax,
                                                    f == QFORMAT_E5M2_TENSOR ? FP8_TENSOR_E5M2 : FP8_TENSOR_E4M3);
        break;
    case QFORMAT_FP8_CHANNEL: fp8_channel_quantize_ref(w, N, K, out->data, sc); break;
    case QFORMAT_FP8_BLOCK128: fp8_block_quantize_ref(w, N, K, out->data, sc); break;
    case QFORMAT_FP8_GROUP128:
        for (int64_t n = 0; n < N; n++)
            fp8_group_quantize_row_ref(w + n * K, out->data + n * K, sc + n * (K / FP8_GROUP_SIZE), K);
        break;
    case QFORMAT_MXFP8:
        for (int64_t n = 0; n < N; n++)
            mxfp8_quantize_row_ref(w + n * K, (struct mxfp8_block *)out->data + n * (K / MXFP8_BLOCK_SIZE), K,
                                   r.mx_rule);
        break;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL:
        for (int64_t n = 0; n < N; n++)
            mxfp4_quantize_row_ref(w + n * K, (struct mxfp4_block *)out->data + n * (K / MXFP4_BLOCK_SIZE), K,
                                   r.mx_rule);
        break;
    case QFORMAT_NVFP4:
        out->global_scale = nvfp4_global_scale(amax > 0.0f ? amax : amax_ref(w, nk));
        for (int64_t n = 0; n < N; n++)
            nvfp4_quantize_row_ref(w + n * K, (struct nvfp4_block *)out->data + n * (K / NVFP4_BLOCK_SIZE), K,
                                   out->global_scale);
        break;
    case QFORMAT_NVFP8_2L:
        out->global_scale = nvfp8_2l_global_scale(amax > 0.0f ? amax : amax_ref(w, nk));
        for (int64_t n = 0; n < N; n++)
            nvfp8_2l_quantize_row_ref(w + n * K,
                                      (struct nvfp8_2l_block *)out->data + n * (K / NVFP8_2L_BLOCK_SIZE), K,
                                      out->global_scale);
        break;
    case QFORMAT_INT4_SYM:
        for (int64_t n = 0; n < N; n++)
            int4g_sym_quantize_row_ref(w + n * K, out->data + n * K / 2, (uint16_t *)out->scales + n * (K / G),
                                       K, (int)G);
        break;
    case QFORMAT_INT4_ASYM: {
        /* The row codec writes one zero point per byte; the tensor stores them as nibbles. */
        uint8_t *z = xmalloc((size_t)(K / G));
        for (int64_t n = 0; n < N; n++) {
            int4g_asym_quantize_row_ref(w + n * K, out->data + n * K / 2, (uint16_t *)out->scales + n * (K / G),
                                        z, K, (int)G);
            for (int64_t g = 0; g < K / G; g++) int4_set(out->zeros, n * (K / G) + g, z[g]);
        }
        free(z);
        break;
    }
    case QFORMAT_INT8_CHANNEL:
        for (int64_t n = 0; n < N; n++)
            sc[n] = int8_channel_quantize_row_ref(w + n * K, (int8_t *)out->data + n * K, K);
        break;
    default: CHECK(0, "bad qformat %d", (int)f);
    }
}

void qtensor_dequantize(const struct qtensor *q, float *w) {
    int64_t N = q->N, K = q->K, nk = N * K, G = q->params.group_size;
    const float *sc = (const float *)q->scales;
    switch (q->format) {
    case QFORMAT_BF16: bf16_dequantize_row_ref((const uint16_t *)q->data, w, nk); break;
    case QFORMAT_FP8_TENSOR:
    case QFORMAT_E5M2_TENSOR:
        fp8_tensor_dequantize_row_ref(q->data, w, nk, q->global_scale,
                                      q->format == QFORMAT_E5M2_TENSOR ? FP8_TENSOR_E5M2 : FP8_TENSOR_E4M3);
        break;
    case QFORMAT_FP8_CHANNEL: fp8_channel_dequantize_ref(q->data, sc, N, K, w); break;
    case QFORMAT_FP8_BLOCK128: fp8_block_dequantize_ref(q->data, sc, N, K, w); break;
    case QFORMAT_FP8_GROUP128:
        for (int64_t n = 0; n < N; n++)
            fp8_group_dequantize_row_ref(q->data + n * K, sc + n * (K / FP8_GROUP_SIZE), w + n * K, K);
        break;
    case QFORMAT_MXFP8:
        for (int64_t n = 0; n < N; n++)
            mxfp8_dequantize_row_ref((const struct mxfp8_block *)q->data + n * (K / MXFP8_BLOCK_SIZE), w + n * K,
                                     K);
        break;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL:
        for (int64_t n = 0; n < N; n++)
            mxfp4_dequantize_row_ref((const struct mxfp4_block *)q->data + n * (K / MXFP4_BLOCK_SIZE), w + n * K,
                                     K);
        break;
    case QFORMAT_NVFP4:
        for (int64_t n = 0; n < N; n++)
            nvfp4_dequantize_row_ref((const struct nvfp4_block *)q->data + n * (K / NVFP4_BLOCK_SIZE), w + n * K,
                                     K, q->global_scale);
        break;
    case QFORMAT_NVFP8_2L:
        for (int64_t n = 0; n < N; n++)
            nvfp8_2l_dequantize_row_ref((const struct nvfp8_2l_block *)q->data + n * (K / NVFP8_2L_BLOCK_SIZE),
                                        w + n * K, K, q->global_scale);
        break;
    case QFORMAT_INT4_SYM:
        for (int64_t n = 0; n < N; n++)
            int4g_sym_dequantize_row_ref(q->data + n * K / 2, (const uint16_t *)q->scales + n * (K / G),
                                         w + n * K, K, (int)G);
        break;
    case QFORMAT_INT4_ASYM: {
        uint8_t *z = xmalloc((size_t)(K / G));
        for (int64_t n = 0; n < N; n++) {
            for (int64_t g = 0; g < K / G; g++) z[g] = (uint8_t)int4_get_u(q->zeros, n * (K / G) + g);
            int4g_asym_dequantize_row_ref(q->data + n * K / 2, (const uint16_t *)q->scales + n * (K / G), z,
                                          w + n * K, K, (int)G);
        }
        free(z);
        break;
    }
    case QFORMAT_INT8_CHANNEL:
        for (int64_t n = 0; n < N; n++)
            int8_channel_dequantize_row_ref((const int8_t *)q->data + n * K, sc[n], w + n * K, K);
        break;
    default: CHECK(0, "bad qformat %d", (int)q->format);
    }
}

void qformat_fake_quant_rows(enum qformat f, float *x, int64_t T, int64_t K, const struct qparams *p) {
    struct qtensor q;
    qtensor_quantize(&q, f, x, T, K, p);
    qtensor_dequantize(&q, x);
    qtensor_free(&q);
}
