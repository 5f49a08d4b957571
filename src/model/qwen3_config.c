/* qwen3_config -- config.json -> struct qwen3_config; see qwen3_config.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/qwen3_config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "model/qwen3_gguf.h"
#include "core/json_io.h"
#include "model/hf_cache.h"

/* Upper bounds on the sizes (decision): far above every released Qwen3 (hidden 5120, FFN 25600, vocab 151936,
 * 64 heads, context 40960 / 131072, 128 experts), low enough that every product the loader and
 * qwen3_config_n_params form stays inside int64 (checked anyway), so a damaged config cannot overflow. */
#define QWEN3_CFG_MAX_SIZE ((int64_t)1 << 24)
#define QWEN3_CFG_MAX_HEADS ((int64_t)1 << 12)

static int64_t in_range(int64_t v, int64_t lo, int64_t hi, const char *key, const char *what) {
    if (v < lo || v > hi)
        die("%s: key '%s': expected an integer in [%lld, %lld], got %lld", what, key, (long long)lo, (long long)hi,
            (long long)v);
    return v;
}

static int64_t get_pos_int(const cJSON *o, const char *key, const char *what) {
    return in_range(json_get_int(o, key, what), 1, QWEN3_CFG_MAX_SIZE, key, what);
}

/* A JSON number that must be an integer in [lo, hi], checked before any cast (1e20 or 1.5 are errors). */
static int64_t num_int(const cJSON *v, int64_t lo, int64_t hi, const char *key, const char *what) {
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
        v->valuedouble != floor(v->valuedouble))
        die("%s: key '%s': expected an integer in [%lld, %lld]", what, key, (long long)lo, (long long)hi);
    return (int64_t)v->valuedouble;
}

static int get_bool(const cJSON *o, const char *key, int dflt, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return dflt;
    if (!cJSON_IsBool(v)) die("%s: key '%s': expected true or false", what, key);
    return cJSON_IsTrue(v);
}

/* Adds the ids of an eos_token_id value (number or list of numbers) to c, skipping duplicates. */
static void add_eos(struct qwen3_config *c, const cJSON *v, const char *what) {
    CHECK(c->V > 0, "add_eos before vocab_size");
    if (!v || cJSON_IsNull(v)) return;
    if (cJSON_IsNumber(v)) {
        int32_t id = (int32_t)num_int(v, 0, c->V - 1, "eos_token_id", what);
        if (qwen3_config_is_eos(c, id)) return;
        if (c->n_eos >= QWEN3_MAX_EOS) die("%s: more than %d eos_token_id values", what, QWEN3_MAX_EOS);
        c->eos_ids[c->n_eos++] = id;
        return;
    }
    if (!cJSON_IsArray(v)) die("%s: key 'eos_token_id': expected a number or a list of numbers", what);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsNumber(it)) die("%s: key 'eos_token_id': expected a number or a list of numbers", what);
        add_eos(c, it, what);
    }
}

/* rope_theta from the top level, else rope_parameters (transformers 5), refusing any non-default rope type. */
static double read_rope(const cJSON *root, const char *what) {
    const char *keys[2] = {"rope_scaling", "rope_parameters"};
    double theta = json_get_number_opt(root, "rope_theta", NAN, what);
    for (int i = 0; i < 2; i++) {
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (!rp || cJSON_IsNull(rp)) continue;
        if (!cJSON_IsObject(rp)) die("%s: key '%s': expected an object or null", what, keys[i]);
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(rp, "rope_type");
        if (!ty) ty = cJSON_GetObjectItemCaseSensitive(rp, "type");
        if (ty && (!cJSON_IsString(ty) || strcmp(ty->valuestring, "default") != 0))
            die("%s: key '%s': rope type '%s' is not supported (only the default rotary embedding)", what, keys[i],
                cJSON_IsString(ty) ? ty->valuestring : "?");
        double t = json_get_number_opt(rp, "rope_theta", NAN, what);
        if (!isnan(t)) theta = t;
    }
    if (isnan(theta)) {
        // Qwen3Config's own default, which is what transformers uses when the key is absent.
        warn("%s: no rope_theta; using transformers' Qwen3 default 10000", what);
        theta = 10000.0;
    }
    if (!(theta > 1.0)) die("%s: rope_theta %g must be > 1", what, theta);
    return theta;
}

static void json_delete_cb(void *j) { cJSON_Delete(j); }

void qwen3_config_parse(struct qwen3_config *c, const char *json, const char *what) {
    memset(c, 0, sizeof *c);
    cJSON *root = json_parse_or_die(json, strlen(json), what);
    check_on_die(json_delete_cb, root);  /* freed on every error path too (the fuzz harness lives on) */
    if (!cJSON_IsObject(root)) die("%s: expected a JSON object", what);

    // Architecture: the first entry of "architectures", or model_type when the list is absent.
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const char *a = NULL;
    if (cJSON_IsArray(arch) && cJSON_GetArraySize(arch) > 0 && cJSON_IsString(cJSON_GetArrayItem(arch, 0)))
        a = cJSON_GetArrayItem(arch, 0)->valuestring;
    if (!a) {
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
        if (cJSON_IsString(mt) && !strcmp(mt->valuestring, "qwen3")) a = "Qwen3ForCausalLM";
        else if (cJSON_IsString(mt) && !strcmp(mt->valuestring, "qwen3_moe")) a = "Qwen3MoeForCausalLM";
        else die("%s: no \"architectures\" list and model_type is not qwen3 / qwen3_moe", what);
    }
    if (strcmp(a, "Qwen3ForCausalLM") != 0 && strcmp(a, "Qwen3MoeForCausalLM") != 0)
        die("%s: architecture '%s' is not supported: expected Qwen3ForCausalLM or Qwen3MoeForCausalLM", what, a);
    snprintf(c->architecture, sizeof c->architecture, "%s", a);
    c->is_moe = !strcmp(a, "Qwen3MoeForCausalLM");

    c->D = get_pos_int(root, "hidden_size", what);
    c->n_layers = get_pos_int(root, "num_hidden_layers", what);
    c->H = get_pos_int(root, "num_attention_heads", what);
    in_range(c->H, 1, QWEN3_CFG_MAX_HEADS, "num_attention_heads", what);
    c->H_kv = in_range(json_get_int_opt(root, "num_key_value_heads", c->H, what), 1, QWEN3_CFG_MAX_HEADS,
                       "num_key_value_heads", what);
    c->D_h = in_range(json_get_int_opt(root, "head_dim", c->D / c->H, what), 1, QWEN3_CFG_MAX_HEADS, "head_dim", what);
    c->V = get_pos_int(root, "vocab_size", what);
    // <= 0 would pass here and abort the window logic later (a CHECK, exit 134): refuse it where it is read.
    c->max_pos = in_range(json_get_int_opt(root, "max_position_embeddings", 40960, what), 1, QWEN3_CFG_MAX_SIZE,
                          "max_position_embeddings", what);
    c->rms_norm_eps = json_get_number(root, "rms_norm_eps", what);
    c->rope_theta = read_rope(root, what);
    c->tie_word_embeddings = get_bool(root, "tie_word_embeddings", 0, what);
    c->attention_bias = get_bool(root, "attention_bias", 0, what);
    if (c->n_layers > QWEN3_MAX_LAYERS) die("%s: num_hidden_layers %lld exceeds %d", what, (long long)c->n_layers,
                                            QWEN3_MAX_LAYERS);
    if (c->H_kv <= 0 || c->H % c->H_kv != 0)
        die("%s: num_attention_heads %lld is not a multiple of num_key_value_heads %lld", what, (long long)c->H,
            (long long)c->H_kv);
    if (c->D_h <= 0 || c->D_h % 2 != 0) die("%s: head_dim %lld must be even and positive", what, (long long)c->D_h);
    if (!(c->rms_norm_eps > 0.0)) die("%s: rms_norm_eps %g must be > 0", what, c->rms_norm_eps);

    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0))
        die("%s: hidden_act '%s' is not supported (Qwen3 uses silu)", what, cJSON_IsString(act) ? act->valuestring : "?");
    if (get_bool(root, "use_sliding_window", 0, what))
        die("%s: use_sliding_window true is not supported (no released Qwen3 uses it)", what);

    // The dense MLP width: every Qwen3 has it; a MoE model uses it for its mlp_only_layers.
    c->F = c->is_moe ? json_get_int_opt(root, "intermediate_size", 0, what) : get_pos_int(root, "intermediate_size", what);
    if (c->is_moe) {
        // transformers 5 writes num_local_experts where 4.x (and every released config) has num_experts.
        c->E = cJSON_GetObjectItemCaseSensitive(root, "num_experts") ? get_pos_int(root, "num_experts", what)
               : cJSON_GetObjectItemCaseSensitive(root, "num_local_experts") ? get_pos_int(root, "num_local_experts", what)
                                                                              : get_pos_int(root, "num_experts", what);
        c->top_k = get_pos_int(root, "num_experts_per_tok", what);
        in_range(c->E, 1, QWEN3_CFG_MAX_HEADS, "num_experts", what);
        c->F_moe = get_pos_int(root, "moe_intermediate_size", what);
        c->decoder_sparse_step = in_range(json_get_int_opt(root, "decoder_sparse_step", 1, what), 1,
                                          QWEN3_MAX_LAYERS, "decoder_sparse_step", what);
        c->norm_topk_prob = get_bool(root, "norm_topk_prob", 0, what);
        if (c->top_k > c->E) die("%s: num_experts_per_tok %lld exceeds num_experts %lld", what, (long long)c->top_k,
                                 (long long)c->E);
        if (c->decoder_sparse_step <= 0) die("%s: decoder_sparse_step must be positive", what);
        uint8_t mlp_only[QWEN3_MAX_LAYERS] = {0};
        const cJSON *mo = cJSON_GetObjectItemCaseSensitive(root, "mlp_only_layers");
        if (mo && !cJSON_IsNull(mo)) {
            if (!cJSON_IsArray(mo)) die("%s: key 'mlp_only_layers': expected a list of layer indices", what);
            const cJSON *it;
            cJSON_ArrayForEach(it, mo) {
                mlp_only[num_int(it, 0, c->n_layers - 1, "mlp_only_layers", what)] = 1;
            }
        }
        // HF Qwen3MoeDecoderLayer: sparse iff not in mlp_only_layers and (layer + 1) % decoder_sparse_step == 0.
        for (int64_t l = 0; l < c->n_layers; l++) {
            c->layer_is_moe[l] = !mlp_only[l] && (l + 1) % c->decoder_sparse_step == 0;
            if (!c->layer_is_moe[l] && c->F <= 0)
                die("%s: layer %lld is dense but intermediate_size is missing", what, (long long)l);
        }
    }

    const cJSON *bos = cJSON_GetObjectItemCaseSensitive(root, "bos_token_id");
    c->bos_id = !bos || cJSON_IsNull(bos) ? -1 : (int32_t)num_int(bos, 0, c->V - 1, "bos_token_id", what);
    add_eos(c, cJSON_GetObjectItemCaseSensitive(root, "eos_token_id"), what);

    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quantization_config");
    if (q && !cJSON_IsNull(q)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(q, "quant_method");
        const char *method = cJSON_IsString(m) ? m->valuestring : "?";
        const cJSON *bs = cJSON_GetObjectItemCaseSensitive(q, "weight_block_size");
        // ---- issue 13: the layouts of other tools are read by src/model/ckpt_quant.c (it checks the rest) ----
        static const char *const OTHER[] = {"compressed-tensors", "awq", "gptq", "modelopt"};
        int other = 0;
        for (int i = 0; i < 4; i++) other |= !strcmp(method, OTHER[i]);
        if (other) bs = NULL;
        else if (strcmp(method, "fp8") != 0 || !cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != 2)
            die("%s: quantization_config.quant_method '%s' is not supported on input: expected a BF16/FP16/FP32 "
                "checkpoint or Qwen's block FP8 (quant_method fp8 with weight_block_size)", what, method);
        if (bs) {
            c->fp8_block_n = (int)num_int(cJSON_GetArrayItem(bs, 0), 1, 65536, "weight_block_size", what);
            c->fp8_block_k = (int)num_int(cJSON_GetArrayItem(bs, 1), 1, 65536, "weight_block_size", what);
        }
    }
    if (qwen3_config_n_params(c) < 0)
        die("%s: the parameter count of this configuration overflows 64 bits", what);
    check_on_die_remove(json_delete_cb, root);
    cJSON_Delete(root);
}

void qwen3_config_load(struct qwen3_config *c, const char *path_or_id) {
    char *gguf = qwen3_gguf_path(path_or_id);
    if (gguf) {
        qwen3_gguf_config(c, gguf);
        free(gguf);
        return;
    }
    char *resolved = hf_cache_resolve(path_or_id);   /* issue 13: a Hugging Face model id in the local cache */
    const char *path = resolved;
    struct stat sb;
    int dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    size_t n = strlen(path) + 32;
    char *cfg = xmalloc(n), *gen = xmalloc(n);
    snprintf(cfg, n, dir ? "%s/config.json" : "%s", path);
    if (!file_exists(cfg)) die("%s: not found (expected an HF checkpoint directory with config.json, or a model id "
                               "in the Hugging Face cache: see hf_cache.h)", cfg);
    char *text = file_read_all(cfg, NULL);
    qwen3_config_parse(c, text, cfg);
    free(text);
    // generation_config.json lists every stop id (Qwen3: <|im_end|> and <|endoftext|>).
    if (dir) {
        snprintf(gen, n, "%s/generation_config.json", path);
        if (file_exists(gen)) {
            cJSON *g = json_read_file(gen);
            add_eos(c, cJSON_GetObjectItemCaseSensitive(g, "eos_token_id"), gen);
            cJSON_Delete(g);
        }
    }
    free(cfg);
    free(gen);
    free(resolved);
}

int qwen3_config_is_eos(const struct qwen3_config *c, int32_t id) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] == id) return 1;
    return 0;
}

/* Checked arithmetic: *ok drops to 0 on the first overflow (the result is then meaningless). */
static int64_t mul_ck(int64_t a, int64_t b, int *ok) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) *ok = 0;
    return r;
}
static int64_t add_ck(int64_t a, int64_t b, int *ok) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) *ok = 0;
    return r;
}

/* Every product and sum checked; -1 when the count does not fit in int64. */
int64_t qwen3_config_n_params(const struct qwen3_config *c) {
    int ok = 1;
    const int64_t D = c->D, Dh = c->D_h;
    int64_t q = mul_ck(mul_ck(mul_ck(D, c->H, &ok), Dh, &ok), 2, &ok);
    int64_t kv = mul_ck(mul_ck(mul_ck(D, c->H_kv, &ok), Dh, &ok), 2, &ok);
    int64_t attn = add_ck(add_ck(q, kv, &ok), add_ck(2 * Dh, 2 * D, &ok), &ok);
    int64_t n = add_ck(mul_ck(mul_ck(c->V, D, &ok), c->tie_word_embeddings ? 1 : 2, &ok), D, &ok);
    int64_t dense = mul_ck(mul_ck(3, D, &ok), c->F, &ok);
    int64_t moe = add_ck(mul_ck(mul_ck(mul_ck(c->E, 3, &ok), D, &ok), c->F_moe, &ok), mul_ck(c->E, D, &ok), &ok);
    for (int64_t l = 0; l < c->n_layers; l++) n = add_ck(add_ck(n, attn, &ok), c->layer_is_moe[l] ? moe : dense, &ok);
    return ok ? n : -1;
}
