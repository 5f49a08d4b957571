/* ckpt_write -- checkpoints in the formats of other tools, written from the model in memory; see ckpt_write.h. */
#include "quant/ckpt_write.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/int4.h"
#include "formats/mxfp4.h"
#include "formats/nvfp4.h"
#include "model/ckpt_awq.h"
#include "model/ckpt_ct.h"
#include "model/ckpt_gptq.h"
#include "model/safetensors.h"
#include "quant/ckpt_tensors.h"
#include "quant/qcheckpoint.h"

static const char *const NAMES[] = {"compressed-tensors", "awq", "gptq", "ql"};

int ckpt_write_format_parse(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, NAMES[i])) return i;
    return -1;
}

const char *ckpt_write_format_name(enum ckpt_write_format f) {
    CHECK(f >= 0 && f <= CKPT_WRITE_QL, "format %d", (int)f);
    return NAMES[f];
}

/* ---- the tensor list: quant/ckpt_tensors.h (shared with the ql layout of qcheckpoint.c) ---- */

/* x as IEEE half when exact (AWQ / GPTQ store FP16 scales), else -1. */
static int f16_exact(float x, uint16_t *out) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    float a = fabsf(x);
    if (a == 0.0f) return *out = sign, 0;
    if (!isfinite(a)) return -1;
    int e;
    frexpf(a, &e);   /* a = m 2^e, m in [0.5, 1): the leading bit has weight 2^(e-1) */
    int E = e - 1;
    if (E > 15) return -1;
    if (E < -14) {   /* subnormal: a multiple of 2^-24 below 2^-14 */
        float m = ldexpf(a, 24);
        if (m != floorf(m)) return -1;
        return *out = (uint16_t)(sign | (uint16_t)m), 0;
    }
    float m = ldexpf(a, 10 - E);   /* 1024 .. 2047 when exact */
    if (m != floorf(m)) return -1;
    *out = (uint16_t)(sign | (uint16_t)((E + 15) << 10) | ((uint16_t)m - 1024));
    return 0;
}

/* ---- what the model's Linears hold ---- */

struct scheme {
    int set;
    enum qformat f;
    struct qparams p;
    struct linear_act act;
    char first[256];           /* the first quantized module, for errors */
};

struct walk {
    struct ckpt_tensors *t;
    enum ckpt_write_format fmt;
    struct scheme s;
    cJSON *ignore;             /* unquantized Linears (CT ignore, AWQ modules_to_not_convert) */
    int gptq_v2;
};

static int same_act(const struct linear_act *a, const struct linear_act *b) {
    return a->mode == b->mode && (a->mode == LINEAR_ACT_NONE || a->format == b->format);
}

/* Every quantized Linear must share one weight scheme and activation treatment (one config group). */
static void scheme_check(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct walk *w = ctx;
    const char *fmt = ckpt_write_format_name(w->fmt);
    if (l->in_scale) die("%s: '%s': an unfolded per-input-channel scale (AWQ) cannot be expressed in %s (use --format ql)",
                         fmt, name, fmt);
    if (l->transform != LINEAR_TRANSFORM_NONE)
        die("%s: '%s': an online Hadamard transform cannot be expressed in %s (use --format ql)", fmt, name, fmt);
    if (!l->packed) {
        if (l->act.mode != LINEAR_ACT_NONE)
            die("%s: '%s': quantized activations without packed weights cannot be expressed in %s", fmt, name, fmt);
        cJSON_AddItemToArray(w->ignore, cJSON_CreateString(name));
        return;
    }
    if (!w->s.set) {
        w->s.set = 1;
        w->s.f = l->packed->format;
        w->s.p = l->packed->params;
        w->s.act = l->act;
        snprintf(w->s.first, sizeof w->s.first, "%s", name);
        return;
    }
    if (l->packed->format != w->s.f || l->packed->params.group_size != w->s.p.group_size || !same_act(&l->act, &w->s.act))
        die("%s: '%s': its scheme differs from '%s' (one config group per checkpoint is written)", fmt, name,
            w->s.first);
    if ((w->s.f == QFORMAT_INT4_ASYM) && w->fmt == CKPT_WRITE_GPTQ) w->gptq_v2 = 1;
}

/* ---- compressed-tensors ---- */

static void ct_linear(struct walk *w, const char *name, const struct linear *l) {
    struct ckpt_tensors *t = w->t;
    const struct qtensor *q = l->packed;
    const int64_t N = q->N, K = q->K;
    switch (q->format) {
    case QFORMAT_INT4_SYM:
    case QFORMAT_INT4_ASYM: {
        const int asym = q->format == QFORMAT_INT4_ASYM;
        const int64_t G = q->params.group_size, n_g = K / G;
        int8_t *c = xmalloc((size_t)(N * K));
        for (int64_t i = 0; i < N * K; i++) c[i] = (int8_t)(asym ? int4_get_u(q->data, i) - 8 : int4_get(q->data, i));
        uint8_t *packed = ckpt_tensors_own(t, xmalloc((size_t)(N * ((K + 7) / 8)) * 4));
        ckpt_ct_pack(c, N, K, 4, 1, packed);
        free(c);
        ckpt_tensors_push(t, name, "weight_packed", SAFETENSORS_DTYPE_I32, 2, N, (K + 7) / 8, packed);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_BF16, 2, N, n_g, q->scales);
        int64_t *shape = ckpt_tensors_own(t, xmalloc(2 * sizeof *shape));
        shape[0] = N, shape[1] = K;
        ckpt_tensors_push(t, name, "weight_shape", SAFETENSORS_DTYPE_I64, 1, 2, 0, shape);
        if (asym) {
            int8_t *z = xmalloc((size_t)(N * n_g));
            for (int64_t i = 0; i < N * n_g; i++) z[i] = (int8_t)(int4_get_u(q->zeros, i) - 8);
            uint8_t *pz = ckpt_tensors_own(t, xmalloc((size_t)(((N + 7) / 8) * n_g) * 4));
            ckpt_ct_pack(z, N, n_g, 4, 0, pz);
            free(z);
            ckpt_tensors_push(t, name, "weight_zero_point", SAFETENSORS_DTYPE_I32, 2, (N + 7) / 8, n_g, pz);
        }
        break;
    }
    case QFORMAT_INT8_CHANNEL:
        ckpt_tensors_push(t, name, "weight", SAFETENSORS_DTYPE_I8, 2, N, K, q->data);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F32, 2, N, 1, q->scales);
        break;
    case QFORMAT_FP8_TENSOR:
        ckpt_tensors_push(t, name, "weight", SAFETENSORS_DTYPE_F8_E4M3, 2, N, K, q->data);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F32, 1, 1, 0, ckpt_tensors_f32(t, q->global_scale));
        break;
    case QFORMAT_FP8_CHANNEL:
        ckpt_tensors_push(t, name, "weight", SAFETENSORS_DTYPE_F8_E4M3, 2, N, K, q->data);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F32, 2, N, 1, q->scales);
        break;
    case QFORMAT_FP8_BLOCK128:
        /* forward.py requires rows % block_height == 0 for block strategy. */
        if (N % 128) die("compressed-tensors: '%s': N=%lld is not a multiple of 128 (block strategy needs whole "
                         "blocks)", name, (long long)N);
        ckpt_tensors_push(t, name, "weight", SAFETENSORS_DTYPE_F8_E4M3, 2, N, K, q->data);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F32, 2, N / 128, K / 128, q->scales);
        break;
    case QFORMAT_FP8_GROUP128:
        ckpt_tensors_push(t, name, "weight", SAFETENSORS_DTYPE_F8_E4M3, 2, N, K, q->data);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F32, 2, N, K / 128, q->scales);
        break;
    case QFORMAT_NVFP4: {
        const int64_t nb = N * K / NVFP4_BLOCK_SIZE;
        uint8_t *codes = ckpt_tensors_own(t, xmalloc((size_t)(N * K / 2))), *sc = ckpt_tensors_own(t, xmalloc((size_t)nb));
        for (int64_t i = 0; i < nb; i++) {
            const struct nvfp4_block *b = (const struct nvfp4_block *)q->data + i;
            sc[i] = b->s;
            memcpy(codes + 8 * i, b->qs, 8);
        }
        ckpt_tensors_push(t, name, "weight_packed", SAFETENSORS_DTYPE_U8, 2, N, K / 2, codes);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_F8_E4M3, 2, N, K / 16, sc);
        /* compressed-tensors divides by the global scale: our g is exactly that divisor. */
        ckpt_tensors_push(t, name, "weight_global_scale", SAFETENSORS_DTYPE_F32, 1, 1, 0, ckpt_tensors_f32(t, q->global_scale));
        break;
    }
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: {
        const int64_t nb = N * K / MXFP4_BLOCK_SIZE;
        uint8_t *codes = ckpt_tensors_own(t, xmalloc((size_t)(N * K / 2))), *sc = ckpt_tensors_own(t, xmalloc((size_t)nb));
        for (int64_t i = 0; i < nb; i++) {
            const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + i;
            sc[i] = b->e;
            memcpy(codes + 16 * i, b->qs, 16);
        }
        ckpt_tensors_push(t, name, "weight_packed", SAFETENSORS_DTYPE_U8, 2, N, K / 2, codes);
        ckpt_tensors_push(t, name, "weight_scale", SAFETENSORS_DTYPE_U8, 2, N, K / 32, sc);
        break;
    }
    default:
        die("compressed-tensors: '%s': weight scheme %s has no compressed-tensors format (use --format ql)", name,
            qformat_name(q->format));
    }
    if (l->act.mode == LINEAR_ACT_STATIC && l->act.format == QFORMAT_FP8_TENSOR)
        ckpt_tensors_push(t, name, "input_scale", SAFETENSORS_DTYPE_F32, 1, 1, 0, ckpt_tensors_f32(t, l->act.params.amax / 448.0f));
    if (l->act.mode == LINEAR_ACT_STATIC && l->act.format == QFORMAT_NVFP4)
        ckpt_tensors_push(t, name, "input_global_scale", SAFETENSORS_DTYPE_F32, 1, 1, 0,
             ckpt_tensors_f32(t, nvfp4_global_scale(l->act.params.amax)));
}

static cJSON *ct_args(int bits, const char *type, const char *strategy, int group, int block, int sym,
                      cJSON *dynamic) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "num_bits", bits);
    cJSON_AddStringToObject(a, "type", type);
    cJSON_AddBoolToObject(a, "symmetric", sym);
    if (group > 0) cJSON_AddNumberToObject(a, "group_size", group);
    else cJSON_AddNullToObject(a, "group_size");
    cJSON_AddStringToObject(a, "strategy", strategy);
    if (block > 0) {
        cJSON *b = cJSON_AddArrayToObject(a, "block_structure");
        cJSON_AddItemToArray(b, cJSON_CreateNumber(block));
        cJSON_AddItemToArray(b, cJSON_CreateNumber(block));
    } else cJSON_AddNullToObject(a, "block_structure");
    /* quant_args.py validate_model_after: dynamic args carry no observer (it resets them to None). */
    int dyn = cJSON_IsTrue(dynamic);
    cJSON_AddItemToObject(a, "dynamic", dynamic);
    cJSON_AddNullToObject(a, "actorder");
    if (dyn) cJSON_AddNullToObject(a, "observer");
    else cJSON_AddStringToObject(a, "observer", "minmax");
    cJSON_AddItemToObject(a, "observer_kwargs", cJSON_CreateObject());
    return a;
}

static cJSON *ct_config(const struct walk *w, const char **fmt_out) {
    const struct scheme *s = &w->s;
    const char *fmt = "pack-quantized";
    cJSON *wa = NULL, *aa = NULL;
    switch (s->f) {
    case QFORMAT_INT4_SYM: wa = ct_args(4, "int", "group", s->p.group_size, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_INT4_ASYM: wa = ct_args(4, "int", "group", s->p.group_size, 0, 0, cJSON_CreateFalse()); break;
    case QFORMAT_INT8_CHANNEL: fmt = "int-quantized", wa = ct_args(8, "int", "channel", 0, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_FP8_TENSOR: fmt = "float-quantized", wa = ct_args(8, "float", "tensor", 0, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_FP8_CHANNEL: fmt = "float-quantized", wa = ct_args(8, "float", "channel", 0, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_FP8_BLOCK128: fmt = "float-quantized", wa = ct_args(8, "float", "block", 0, 128, 1, cJSON_CreateFalse()); break;
    case QFORMAT_FP8_GROUP128: fmt = "float-quantized", wa = ct_args(8, "float", "group", 128, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_NVFP4: fmt = "nvfp4-pack-quantized", wa = ct_args(4, "float", "tensor_group", 16, 0, 1, cJSON_CreateFalse()); break;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: fmt = "mxfp4-pack-quantized", wa = ct_args(4, "float", "group", 32, 0, 1, cJSON_CreateFalse()); break;
    default:
        die("compressed-tensors: '%s': weight scheme %s has no compressed-tensors format (use --format ql)", s->first,
            qformat_name(s->f));
    }
    const struct linear_act *a = &s->act;
    if (a->mode == LINEAR_ACT_DYNAMIC && a->format == QFORMAT_FP8_GROUP128)
        aa = ct_args(8, "float", "group", 128, 0, 1, cJSON_CreateTrue());
    else if (a->mode == LINEAR_ACT_DYNAMIC && a->format == QFORMAT_FP8_CHANNEL)
        aa = ct_args(8, "float", "token", 0, 0, 1, cJSON_CreateTrue());
    else if (a->mode == LINEAR_ACT_DYNAMIC && a->format == QFORMAT_FP8_TENSOR)
        aa = ct_args(8, "float", "tensor", 0, 0, 1, cJSON_CreateTrue());
    else if (a->mode == LINEAR_ACT_STATIC && a->format == QFORMAT_FP8_TENSOR)
        aa = ct_args(8, "float", "tensor", 0, 0, 1, cJSON_CreateFalse());
    else if (a->mode == LINEAR_ACT_DYNAMIC && a->format == QFORMAT_INT8_CHANNEL)
        aa = ct_args(8, "int", "token", 0, 0, 1, cJSON_CreateTrue());
    else if (a->mode == LINEAR_ACT_STATIC && a->format == QFORMAT_NVFP4)
        aa = ct_args(4, "float", "tensor_group", 16, 0, 1, cJSON_CreateString("local"));
    else if (a->mode != LINEAR_ACT_NONE)
        die("compressed-tensors: '%s': %s %s activations cannot be expressed (compressed-tensors NVFP4 needs a "
            "calibrated input_global_scale; MX activations have no args there): use --format ql", s->first,
            a->mode == LINEAR_ACT_STATIC ? "static" : "dynamic", qformat_name(a->format));
    cJSON *qc = cJSON_CreateObject();
    cJSON_AddStringToObject(qc, "quant_method", "compressed-tensors");
    cJSON_AddStringToObject(qc, "format", fmt);
    cJSON_AddStringToObject(qc, "quantization_status", "compressed");
    cJSON *groups = cJSON_AddObjectToObject(qc, "config_groups");
    cJSON *g = cJSON_AddObjectToObject(groups, "group_0");
    cJSON *targets = cJSON_AddArrayToObject(g, "targets");
    cJSON_AddItemToArray(targets, cJSON_CreateString("Linear"));
    cJSON_AddItemToObject(g, "weights", wa);
    if (aa) cJSON_AddItemToObject(g, "input_activations", aa);
    else cJSON_AddNullToObject(g, "input_activations");
    cJSON_AddNullToObject(g, "output_activations");
    cJSON_AddStringToObject(g, "format", fmt);
    cJSON *ign = cJSON_Duplicate(w->ignore, 1);
    cJSON_AddItemToArray(ign, cJSON_CreateString("lm_head"));
    cJSON_AddItemToObject(qc, "ignore", ign);
    cJSON_AddNullToObject(qc, "kv_cache_scheme");
    *fmt_out = fmt;
    return qc;
}

/* ---- AutoAWQ GEMM and GPTQ ---- */

/* The unsigned codes (N x K) and zero points (N x n_g) of an int4 tensor: sym codes + 8 with zero 8. */
static void int4_unsigned(const struct qtensor *q, uint8_t *u, uint8_t *z) {
    const int asym = q->format == QFORMAT_INT4_ASYM;
    const int64_t n_g = q->N * (q->K / q->params.group_size);
    for (int64_t i = 0; i < q->N * q->K; i++) u[i] = (uint8_t)(asym ? int4_get_u(q->data, i) : int4_get(q->data, i) + 8);
    for (int64_t i = 0; i < n_g; i++) z[i] = (uint8_t)(asym ? int4_get_u(q->zeros, i) : 8);
}

static void int_linear(struct walk *w, const char *name, const struct linear *l) {
    struct ckpt_tensors *t = w->t;
    const struct qtensor *q = l->packed;
    const char *fmt = ckpt_write_format_name(w->fmt);
    if (q->format != QFORMAT_INT4_SYM && q->format != QFORMAT_INT4_ASYM)
        die("%s: '%s': weight scheme %s is not INT4 (%s stores int4 group weights only)", fmt, name,
            qformat_name(q->format), fmt);
    if (l->act.mode != LINEAR_ACT_NONE) die("%s: '%s': quantized activations cannot be expressed in %s (W4A16 only)",
                                            fmt, name, fmt);
    const int64_t N = q->N, K = q->K, G = q->params.group_size, n_g = K / G;
    if (N % 8) die("%s: '%s': N=%lld is not a multiple of 8 (eight output channels per int32)", fmt, name, (long long)N);
    uint8_t *u = xmalloc((size_t)(N * K)), *z = xmalloc((size_t)(N * n_g));
    int4_unsigned(q, u, z);
    /* [K][N] codes and [n_g][N] zeros / FP16 scales: both layouts are transposed against ours. */
    uint8_t *u_kn = xmalloc((size_t)(N * K)), *z_gn = xmalloc((size_t)(N * n_g));
    uint16_t *s_gn = ckpt_tensors_own(t, xmalloc((size_t)(N * n_g) * sizeof *s_gn));
    const uint16_t *sb = (const uint16_t *)q->scales;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++) u_kn[k * N + n] = u[n * K + k];
        for (int64_t g = 0; g < n_g; g++) {
            float s = bf16_to_float(sb[n * n_g + g]);
            if (f16_exact(s, &s_gn[g * N + n]))
                die("%s: '%s': scale %g of row %lld, group %lld is not an FP16 number (%s stores FP16 scales)", fmt,
                    name, s, (long long)n, (long long)g, fmt);
            uint8_t zz = z[n * n_g + g];
            if (w->fmt == CKPT_WRITE_GPTQ && !w->gptq_v2) zz = (uint8_t)(zz - 1);   /* v1: zero - 1 (sym: 7) */
            z_gn[g * N + n] = zz;
        }
    }
    uint8_t *qw = ckpt_tensors_own(t, xmalloc((size_t)(N * K / 2))), *qz = ckpt_tensors_own(t, xmalloc((size_t)(N * n_g / 2)));
    if (w->fmt == CKPT_WRITE_AWQ) {
        ckpt_awq_pack(u_kn, K, N, qw);
        ckpt_awq_pack(z_gn, n_g, N, qz);
        ckpt_tensors_push(t, name, "qweight", SAFETENSORS_DTYPE_I32, 2, K, N / 8, qw);
    } else {
        if (K % 8) die("gptq: '%s': K=%lld is not a multiple of 8", name, (long long)K);
        ckpt_gptq_pack_rows(u_kn, K, N, 4, qw);
        ckpt_gptq_pack_cols(z_gn, n_g, N, 4, qz);
        ckpt_tensors_push(t, name, "qweight", SAFETENSORS_DTYPE_I32, 2, K / 8, N, qw);
        int32_t *gi = ckpt_tensors_own(t, xmalloc((size_t)K * sizeof *gi));
        for (int64_t k = 0; k < K; k++) gi[k] = (int32_t)(k / G);
        ckpt_tensors_push(t, name, "g_idx", SAFETENSORS_DTYPE_I32, 1, K, 0, gi);
    }
    ckpt_tensors_push(t, name, "qzeros", SAFETENSORS_DTYPE_I32, 2, n_g, N / 8, qz);
    ckpt_tensors_push(t, name, "scales", SAFETENSORS_DTYPE_F16, 2, n_g, N, s_gn);
    free(u), free(z), free(u_kn), free(z_gn);
}

/* ---- the model walk ---- */

static void write_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct walk *w = ctx;
    if (!l->packed) {
        ckpt_tensors_push_plain_linear(w->t, name, l);
        return;
    }
    if (l->b) ckpt_tensors_push_float(w->t, name, "bias", 1, l->N, 0, l->b);
    if (w->fmt == CKPT_WRITE_CT) ct_linear(w, name, l);
    else int_linear(w, name, l);
}

size_t ckpt_write(const struct qwen3_model *m, const struct recipe *r, enum ckpt_write_format f, const char *out_dir) {
    if (f == CKPT_WRITE_QL) {
        CHECK(r, "the ql layout records the recipe");
        return qcheckpoint_write(m, r, out_dir);
    }
    struct qwen3_model *mm = (struct qwen3_model *)m;   /* the visitors take a mutable model; nothing is changed */
    struct ckpt_tensors t;
    memset(&t, 0, sizeof t);
    struct walk w = {.t = &t, .fmt = f, .ignore = cJSON_CreateArray()};
    qwen3_for_each_linear(mm, scheme_check, &w);
    cJSON *qc = NULL;
    const char *ct_fmt = NULL;   /* the format ct_config chose (for its log line) */
    if (!w.s.set) warn("%s: no Linear is quantized: writing a plain checkpoint without quantization_config", out_dir);
    else if (f == CKPT_WRITE_CT) qc = ct_config(&w, &ct_fmt);
    else {
        if (w.s.f != QFORMAT_INT4_SYM && w.s.f != QFORMAT_INT4_ASYM)
            die("%s: '%s': weight scheme %s is not INT4 (%s stores int4 group weights only)", ckpt_write_format_name(f),
                w.s.first, qformat_name(w.s.f), ckpt_write_format_name(f));
        if (f == CKPT_WRITE_GPTQ && cJSON_GetArraySize(w.ignore) > 0)
            die("gptq: '%s': an unquantized Linear inside the decoder cannot be expressed in the gptq config",
                cJSON_GetArrayItem(w.ignore, 0)->valuestring);
        qc = cJSON_CreateObject();
        cJSON_AddStringToObject(qc, "quant_method", f == CKPT_WRITE_AWQ ? "awq" : "gptq");
        cJSON_AddNumberToObject(qc, "bits", 4);
        cJSON_AddNumberToObject(qc, "group_size", w.s.p.group_size);
        if (f == CKPT_WRITE_AWQ) {
            cJSON_AddBoolToObject(qc, "zero_point", 1);
            cJSON_AddStringToObject(qc, "version", "gemm");
            if (cJSON_GetArraySize(w.ignore)) cJSON_AddItemToObject(qc, "modules_to_not_convert", cJSON_Duplicate(w.ignore, 1));
            else cJSON_AddNullToObject(qc, "modules_to_not_convert");
        } else {
            cJSON_AddBoolToObject(qc, "desc_act", 0);
            cJSON_AddBoolToObject(qc, "sym", w.s.f == QFORMAT_INT4_SYM);
            cJSON_AddBoolToObject(qc, "static_groups", 0);
            cJSON_AddBoolToObject(qc, "true_sequential", 1);
            cJSON_AddBoolToObject(qc, "lm_head", 0);
            cJSON_AddStringToObject(qc, "checkpoint_format", w.gptq_v2 ? "gptq_v2" : "gptq");
        }
    }
    if (qc && r) cJSON_AddStringToObject(qc, "ql_recipe", r->name);
    qwen3_for_each_linear(mm, write_linear, &w);
    ckpt_tensors_push_others(&t, m);
    size_t bytes = ckpt_tensors_write(&t, out_dir);

    cJSON *cfg = ckpt_tensors_source_config(m);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "torch_dtype");
    cJSON_AddStringToObject(cfg, "torch_dtype", "bfloat16");
    if (qc) cJSON_AddItemToObject(cfg, "quantization_config", qc);
    ckpt_tensors_finish(m, cfg, out_dir);
    cJSON_Delete(cfg);
    cJSON_Delete(w.ignore);
    ckpt_tensors_free(&t);
    return bytes;
}
