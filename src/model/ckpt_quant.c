/* ckpt_quant -- which quantized layout a checkpoint holds, and the shared reader helpers; see ckpt_quant.h. */
#include "model/ckpt_quant.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/json_io.h"
#include "formats/bf16.h"
#include "formats/int4.h"
#include "model/ckpt_awq.h"
#include "model/ckpt_ct.h"
#include "model/ckpt_gptq.h"
#include "model/ckpt_modelopt.h"

/* ---- tensors ---- */

struct safetensors_tensor *ckpt_tensor(const struct safetensors *st, const char *prefix, const char *suffix,
                                       unsigned dtype_mask, int n_dims, int64_t d0, int64_t d1, int optional) {
    char name[512];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    struct safetensors_tensor *t = safetensors_find(st, name);
    if (!t) {
        if (optional) return NULL;
        die("%s: missing tensor '%s' (required by the checkpoint's quantization_config)",
            st->n_files ? st->files[0].path : "?", name);
    }
    if (!(dtype_mask & (1u << t->dtype))) die("%s: '%s': dtype %s is not one this layout stores", t->path, name,
                                              safetensors_dtype_name(t->dtype));
    int ok;
    if (n_dims == 0) ok = t->n_elems == 1 && t->n_dims <= 1;
    else if (n_dims == 1) ok = t->n_dims == 1 && t->shape[0] == d0;
    else ok = t->n_dims == 2 && t->shape[0] == d0 && t->shape[1] == d1;
    if (!ok) {
        char got[96] = "";
        for (int i = 0; i < t->n_dims && strlen(got) < 70; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        if (n_dims == 0) die("%s: '%s': shape [%s], expected one value", t->path, name, got);
        if (n_dims == 1) die("%s: '%s': shape [%s], expected [%lld]", t->path, name, got, (long long)d0);
        die("%s: '%s': shape [%s], expected [%lld, %lld]", t->path, name, got, (long long)d0, (long long)d1);
    }
    t->used = 1;
    return t;
}

int32_t ckpt_i32(const void *p, int64_t i) {
    const uint8_t *b = (const uint8_t *)p + 4 * i;
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

float *ckpt_f32(const struct safetensors_tensor *t) {
    float *v = xmalloc((size_t)t->n_elems * sizeof *v);
    safetensors_read_f32(t, v);
    return v;
}

struct qtensor *ckpt_qtensor_new(enum qformat f, const struct qparams *p, int64_t N, int64_t K) {
    /* qtensor_quantize allocates every array at its qformat.h size; the reader then overwrites the contents
     * (all-zero input: zero codes, zero scales), so the sizes never get re-derived here. */
    struct qtensor *q = xcalloc(1, sizeof *q);
    float *zero = xcalloc((size_t)(N * K), sizeof *zero);
    qtensor_quantize(q, f, zero, N, K, p);
    free(zero);
    return q;
}

int ckpt_install(struct linear *l, int64_t N, int64_t K, float *w, struct qtensor *q, const char *fmt) {
    linear_init(l, N, K, w, NULL, fmt);
    if (!q) return 0;
    float *d = xmalloc((size_t)(N * K) * sizeof *d);
    qtensor_dequantize(q, d);
    int same = memcmp(d, w, (size_t)(N * K) * sizeof *d) == 0;
    free(d);
    if (!same) {
        qtensor_free(q);
        free(q);
        return 0;
    }
    linear_set_packed(l, q, fmt);
    return 1;
}

int ckpt_install_int(struct linear *l, int64_t N, int64_t K, int bits, const uint8_t *q, const int16_t *z,
                     const float *s, int64_t n_g, const int32_t *g_idx, const char *fmt) {
    const int64_t G = K / n_g;
    const int mid = 1 << (bits - 1);
    float *w = xmalloc((size_t)(N * K) * sizeof *w);
    int trivial = 1, sym = 1, bf16_ok = 1, z4 = 1;
    for (int64_t k = 0; g_idx && k < K; k++) trivial &= g_idx[k] == k / G;
    for (int64_t i = 0; i < N * n_g; i++) {
        sym &= z[i] == mid;
        z4 &= z[i] >= 0 && z[i] <= 15;
        bf16_ok &= bf16_round(s[i]) == s[i];
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            int64_t g = g_idx ? g_idx[k] : k / G;
            w[n * K + k] = (float)((int)q[n * K + k] - z[n * n_g + g]) * s[n * n_g + g];
        }
    struct qtensor *qt = NULL;
    struct qparams p = {0};
    p.group_size = (int)G;
    if (bits == 4 && trivial && bf16_ok && (sym || z4) && (G == 32 || G == 64 || G == 128)) {
        qt = ckpt_qtensor_new(sym ? QFORMAT_INT4_SYM : QFORMAT_INT4_ASYM, &p, N, K);
        for (int64_t i = 0; i < N * K; i++) int4_set(qt->data, i, sym ? q[i] - 8 : q[i]);
        uint16_t *sc = (uint16_t *)qt->scales;
        for (int64_t i = 0; i < N * n_g; i++) sc[i] = bf16_from_float(s[i]);
        for (int64_t i = 0; !sym && i < N * n_g; i++) int4_set(qt->zeros, i, z[i]);
    } else if (bits == 8 && n_g == 1 && sym && trivial) {
        qt = ckpt_qtensor_new(QFORMAT_INT8_CHANNEL, NULL, N, K);
        int8_t *c = (int8_t *)qt->data;
        for (int64_t i = 0; i < N * K; i++) c[i] = (int8_t)(q[i] - 128);
        memcpy(qt->scales, s, (size_t)N * sizeof(float));
    }
    return ckpt_install(l, N, K, w, qt, fmt);
}

/* ---- quantization_config ---- */

static const char *str_opt(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int int_opt(const cJSON *o, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

static int bool_opt(const cJSON *o, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* compressed-tensors QuantizationArgs (quant_args.py field names). */
static void parse_args(struct ckpt_qargs *a, const cJSON *o, const char *what, const char *role) {
    memset(a, 0, sizeof *a);
    a->num_bits = int_opt(o, "num_bits", 8);
    const char *ty = str_opt(o, "type");
    a->is_float = ty && !strcmp(ty, "float");
    if (ty && strcmp(ty, "float") && strcmp(ty, "int")) die("%s: %s type '%s' is not supported (int, float)", what, role, ty);
    static const char *S[] = {"tensor", "channel", "group", "block", "token", "tensor_group"};
    const char *s = str_opt(o, "strategy");
    a->strategy = CKPT_STRATEGY_TENSOR;
    if (s) {
        int found = 0;
        for (int i = 0; i < 6; i++)
            if (!strcmp(s, S[i])) a->strategy = (enum ckpt_strategy)i, found = 1;
        if (!found) die("%s: %s strategy '%s' is not supported", what, role, s);
    }
    a->group_size = int_opt(o, "group_size", -1);
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(o, "block_structure");
    if (cJSON_IsArray(bs) && cJSON_GetArraySize(bs) == 2) {
        a->block[0] = (int)cJSON_GetArrayItem(bs, 0)->valuedouble;
        a->block[1] = (int)cJSON_GetArrayItem(bs, 1)->valuedouble;
    }
    a->symmetric = bool_opt(o, "symmetric", 1);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dynamic");
    a->dynamic = cJSON_IsTrue(d) ? 1 : cJSON_IsString(d) && !strcmp(d->valuestring, "local") ? 2 : 0;
    /* "actorder" needs no field: act-order shows in the weight_g_idx tensors, which the reader honours. */
}

static void detect_ct(struct ckpt_quant *q, const cJSON *qc) {
    const char *what = q->what;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(qc, "config_groups");
    if (!cJSON_IsObject(groups) || cJSON_GetArraySize(groups) != 1)
        die("%s: quantization_config.config_groups: expected exactly one group (mixed schemes are not read)", what);
    const cJSON *g = groups->child;
    const char *fmt = str_opt(g, "format");
    if (!fmt) fmt = str_opt(qc, "format");
    if (!fmt) die("%s: quantization_config: no 'format'", what);
    static const char *F[] = {"pack-quantized", "int-quantized", "float-quantized", "naive-quantized",
                              "nvfp4-pack-quantized", "mxfp4-pack-quantized"};
    int ok = 0;
    for (int i = 0; i < 6; i++) ok |= !strcmp(fmt, F[i]);
    if (!ok) die("%s: compressed-tensors format '%s' is not read (pack-quantized, int-quantized, float-quantized, "
                 "nvfp4-pack-quantized, mxfp4-pack-quantized)", what, fmt);
    snprintf(q->format, sizeof q->format, "%s", fmt);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(g, "weights");
    if (!cJSON_IsObject(w)) die("%s: config_groups: the group has no 'weights' args", what);
    parse_args(&q->w, w, what, "weights");
    if (!strcmp(fmt, "naive-quantized"))   /* the same tensors as int- / float-quantized (naive_quantized.py) */
        snprintf(q->format, sizeof q->format, "%s", q->w.is_float ? "float-quantized" : "int-quantized");
    const int b = q->w.num_bits;
    if (!q->w.is_float && b != 4 && b != 8)
        die("%s: %d-bit integer weights are not read: compressed-tensors changed its packing for 3/5/6/7 bits "
            "between releases (4 and 8 bits are the same in every release)", what, b);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(g, "input_activations");
    if (cJSON_IsObject(a)) {
        q->has_act = 1;
        parse_args(&q->a, a, what, "input_activations");
    }
    const cJSON *oa = cJSON_GetObjectItemCaseSensitive(g, "output_activations");
    if (cJSON_IsObject(oa)) die("%s: output_activations quantization is not supported", what);
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(qc, "kv_cache_scheme");
    if (kv && !cJSON_IsNull(kv)) die("%s: kv_cache_scheme is not supported (KV cache stays FP32)", what);
    char grp[24] = "";
    if (q->w.strategy == CKPT_STRATEGY_GROUP || q->w.strategy == CKPT_STRATEGY_TENSOR_GROUP)
        snprintf(grp, sizeof grp, " g%d", q->w.group_size);
    else if (q->w.strategy == CKPT_STRATEGY_BLOCK) snprintf(grp, sizeof grp, " block%dx%d", q->w.block[0], q->w.block[1]);
    else snprintf(grp, sizeof grp, " %s", q->w.strategy == CKPT_STRATEGY_CHANNEL ? "channel" : "tensor");
    snprintf(q->desc, sizeof q->desc, "compressed-tensors %s w%da%d %s%s%s", fmt, b,
             q->has_act ? q->a.num_bits : 16, q->w.is_float ? "float" : "int", grp,
             q->w.is_float ? "" : q->w.symmetric ? " sym" : " asym");
}

void ckpt_quant_detect(struct ckpt_quant *q, const char *dir) {
    memset(q, 0, sizeof *q);
    snprintf(q->what_buf, sizeof q->what_buf, "%s/config.json", dir);
    q->what = q->what_buf;
    cJSON *cfg = file_exists(q->what_buf) ? json_read_file(q->what_buf) : NULL;
    const cJSON *qc = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "quantization_config") : NULL;
    cJSON *hf = NULL;
    if (!qc || cJSON_IsNull(qc)) {
        char path[4096];
        snprintf(path, sizeof path, "%s/hf_quant_config.json", dir);
        if (file_exists(path)) {
            hf = json_read_file(path);
            snprintf(q->what_buf, sizeof q->what_buf, "%s", path);
            qc = cJSON_GetObjectItemCaseSensitive(hf, "quantization");
            if (!cJSON_IsObject(qc)) die("%s: no 'quantization' object", path);
        } else qc = NULL;
    }
    if (!qc) goto done;
    const char *method = str_opt(qc, "quant_method");
    if (hf) method = "modelopt";
    if (!method) die("%s: quantization_config has no quant_method", q->what);
    if (!strcmp(method, "fp8")) goto done;   /* Qwen block FP8: qwen3.c */
    if (!strcmp(method, "compressed-tensors")) {
        q->kind = CKPT_KIND_CT;
        detect_ct(q, qc);
    } else if (!strcmp(method, "awq")) {
        q->kind = CKPT_KIND_AWQ;
        const char *v = str_opt(qc, "version");
        if (v && strcmp(v, "gemm") && strcmp(v, "GEMM"))
            die("%s: AutoAWQ version '%s' is not read (gemm only)", q->what, v);
        q->w.num_bits = int_opt(qc, "bits", int_opt(qc, "w_bit", 4));
        q->w.group_size = int_opt(qc, "group_size", int_opt(qc, "q_group_size", 128));
        if (q->w.num_bits != 4) die("%s: AutoAWQ bits %d: only 4 exists in AutoAWQ GEMM", q->what, q->w.num_bits);
        if (!bool_opt(qc, "zero_point", 1)) die("%s: AutoAWQ zero_point false is not read", q->what);
        snprintf(q->desc, sizeof q->desc, "awq gemm w4a16 g%d", q->w.group_size);
    } else if (!strcmp(method, "gptq")) {
        q->kind = CKPT_KIND_GPTQ;
        q->w.num_bits = int_opt(qc, "bits", 4);
        q->w.group_size = int_opt(qc, "group_size", 128);
        q->w.symmetric = bool_opt(qc, "sym", 1);
        q->desc_act = bool_opt(qc, "desc_act", 0);
        const char *cf = str_opt(qc, "checkpoint_format");
        if (cf && strcmp(cf, "gptq") && strcmp(cf, "gptq_v2"))
            die("%s: GPTQ checkpoint_format '%s' is not read (gptq, gptq_v2)", q->what, cf);
        q->gptq_v2 = cf && !strcmp(cf, "gptq_v2");
        if (q->w.num_bits != 4 && q->w.num_bits != 8)
            die("%s: GPTQ bits %d are not read (4 and 8)", q->what, q->w.num_bits);
        snprintf(q->desc, sizeof q->desc, "gptq%s w%da16 g%d %s%s", q->gptq_v2 ? " v2" : "", q->w.num_bits,
                 q->w.group_size, q->w.symmetric ? "sym" : "asym", q->desc_act ? " desc_act" : "");
    } else if (!strcmp(method, "modelopt")) {
        q->kind = CKPT_KIND_MODELOPT;
        const char *algo = str_opt(qc, "quant_algo");
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(qc, "quantization");   /* some exports nest it */
        if (!algo && cJSON_IsObject(inner)) algo = str_opt(inner, "quant_algo");
        if (!algo || (strcmp(algo, "NVFP4") && strcmp(algo, "FP8")))
            die("%s: ModelOpt quant_algo '%s' is not read (NVFP4, FP8)", q->what, algo ? algo : "?");
        snprintf(q->format, sizeof q->format, "%s", algo);
        const char *kv = str_opt(qc, "kv_cache_quant_algo");
        if (!kv && cJSON_IsObject(inner)) kv = str_opt(inner, "kv_cache_quant_algo");
        if (kv && strcmp(kv, "none") && strcmp(kv, "NONE"))   /* as compressed-tensors' kv_cache_scheme */
            die("%s: kv_cache_quant_algo '%s' is not supported (the KV cache stays FP32)", q->what, kv);
        snprintf(q->desc, sizeof q->desc, "modelopt %s", algo);
    } else {
        die("%s: quantization_config.quant_method '%s' is not read (compressed-tensors, awq, gptq, modelopt, "
            "Qwen fp8)", q->what, method);
    }
done:
    cJSON_Delete(cfg);
    cJSON_Delete(hf);
}

int ckpt_quant_load_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix,
                           int64_t N, int64_t K, struct linear *l) {
    int r = 0;
    switch (q->kind) {
    case CKPT_KIND_NONE: return 0;
    case CKPT_KIND_CT: r = ckpt_ct_read_linear(q, st, prefix, N, K, l); break;
    case CKPT_KIND_AWQ: r = ckpt_awq_read_linear(q, st, prefix, N, K, l); break;
    case CKPT_KIND_GPTQ: r = ckpt_gptq_read_linear(q, st, prefix, N, K, l); break;
    case CKPT_KIND_MODELOPT: r = ckpt_modelopt_read_linear(q, st, prefix, N, K, l); break;
    }
    if (r && l->act.mode != LINEAR_ACT_NONE) l->act.params = qformat_resolve(l->act.format, &l->act.params);
    return r;
}
