/* gguf_export -- the model in memory as GGUF; see gguf_export.h. */
#include "quant/gguf_export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/json_io.h"
#include "formats/bf16.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"

// ---- tensors ----

struct ex {
    struct gguf_writer *w;
    const struct gguf_export_opts *o;
    const char *arch;
};

/* An FP32 array as an F32 tensor (copied, so the writer owns what it writes). */
static void put_f32(struct ex *x, const char *name, int n_dims, const int64_t *ne, const float *v) {
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++) n *= ne[d];
    float *c = xmalloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    gguf_writer_add_tensor(x->w, name, GGML_BLOCK_F32, n_dims, ne, c, (uint64_t)n * 4, 1);
}

/* The ggml type a Linear goes to (see the header), or dies naming the tensor. */
static uint32_t linear_type(const struct ex *x, const struct linear *l, const char *name) {
    if (l->act.mode != LINEAR_ACT_NONE)
        die("%s: activation quantization (%s) has no GGUF representation (llama.cpp quantizes activations its "
            "own way): export a weight-only recipe", name, qformat_name(l->act.format));
    if (l->in_scale) die("%s: an unfolded input-channel scale has no GGUF representation", name);
    if (l->transform != LINEAR_TRANSFORM_NONE) die("%s: an online Hadamard transform has no GGUF representation", name);
    if (l->b) die("%s: a Linear bias is not written (Qwen3 has none)", name);
    if (!l->packed || l->packed->format == QFORMAT_BF16) return x->o->q8_0 ? GGML_BLOCK_Q8_0 : x->o->float_type;
    const struct qtensor *q = l->packed;
    switch (q->format) {
    case QFORMAT_INT4_SYM: return GGML_BLOCK_Q4_0;
    case QFORMAT_INT4_ASYM: return GGML_BLOCK_Q4_1;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: return GGML_BLOCK_MXFP4;
    case QFORMAT_NVFP4: return GGML_BLOCK_NVFP4;
    default: {
        char label[64];
        die("%s: weight format %s has no exact ggml type (GGUF holds bf16/f32, int4 sym/asym as Q4_0/Q4_1, mxfp4, "
            "nvfp4)", name, qformat_label(q->format, &q->params, label, sizeof label));
    }
    }
}

/* The bytes of one Linear in type t into dst (row_bytes * N); *scale receives the NVFP4 per-tensor scale. */
static void linear_bytes(const struct linear *l, uint32_t t, const char *name, uint8_t *dst, float *scale) {
    const int64_t N = l->N, K = l->K;
    int64_t bad = -1, inexact = 0;
    *scale = 1.0f;
    switch (t) {
    case GGML_BLOCK_F32:
        memcpy(dst, l->w, (size_t)(N * K) * 4);
        return;
    case GGML_BLOCK_BF16:
        for (int64_t i = 0; i < N * K; i++) {
            if (bf16_round(l->w[i]) != l->w[i] && l->w[i] == l->w[i])
                die("%s: element %lld (%.9g) is not a BF16 number: export it as F32", name, (long long)i, l->w[i]);
            uint16_t h = bf16_from_float(l->w[i]);
            dst[2 * i] = (uint8_t)(h & 0xff);
            dst[2 * i + 1] = (uint8_t)(h >> 8);
        }
        return;
    case GGML_BLOCK_Q8_0: {
        size_t rb = ggml_block_row_bytes(t, K);
        for (int64_t n = 0; n < N; n++) ggml_block_quantize_q8_0_row(l->w + n * K, dst + n * rb, K);
        return;
    }
    case GGML_BLOCK_Q4_0: bad = ggml_block_pack_q4_0(l->packed, dst); break;
    case GGML_BLOCK_Q4_1: bad = ggml_block_pack_q4_1(l->packed, dst, &inexact); break;
    case GGML_BLOCK_MXFP4: bad = ggml_block_pack_mxfp4(l->packed, dst); break;
    case GGML_BLOCK_NVFP4: bad = ggml_block_pack_nvfp4(l->packed, dst, scale); break;
    default: CHECK(0, "type %u", t);
    }
    if (bad >= 0) {
        const char *tn;
        ggml_block_info(t, NULL, NULL, &tn);
        if (t == GGML_BLOCK_NVFP4 && K % 64)
            die("%s: K = %lld is not a multiple of 64, the ggml NVFP4 block", name, (long long)K);
        die("%s: row %lld, column %lld: the block is not representable exactly in ggml %s (a NaN block, or a "
            "scale outside FP16's range)", name, (long long)(bad / K), (long long)(bad % K), tn);
    }
    if (inexact)
        warn("%s: %lld of %lld Q4_1 groups have a min -z*s that FP16 rounds (to nearest even, at most half an "
             "FP16 ulp)", name, (long long)inexact, (long long)(N * K / l->packed->params.group_size));
}

/* One Linear (stacked 0), or n_exp of them stacked along ne[2] (MoE experts: all of the same type). */
static void put_linears(struct ex *x, const char *name, const struct linear *ls, int64_t n_exp, int stacked) {
    const struct linear *l0 = &ls[0];
    uint32_t t = linear_type(x, l0, name);
    for (int64_t e = 1; e < n_exp; e++)
        if (linear_type(x, &ls[e], name) != t) die("%s: experts of different weight types cannot be stacked", name);
    const size_t one = ggml_block_row_bytes(t, l0->K) * (size_t)l0->N;
    uint8_t *buf = xmalloc(one * (size_t)n_exp);
    float *scales = xmalloc((size_t)n_exp * sizeof *scales);
    for (int64_t e = 0; e < n_exp; e++) linear_bytes(&ls[e], t, name, buf + one * (size_t)e, &scales[e]);
    int64_t ne[3] = {l0->K, l0->N, n_exp};
    gguf_writer_add_tensor(x->w, name, t, stacked ? 3 : 2, ne, buf, one * (size_t)n_exp, 1);
    if (t == GGML_BLOCK_NVFP4) {
        /* llama.cpp's per-tensor NVFP4 scale: "<base>.scale", shape {1}, or {E} for stacked experts
         * (src/llama-model.cpp, the generic ".scale" pass) */
        char sname[256];
        size_t n = strlen(name);
        CHECK(n > 7 && strcmp(name + n - 7, ".weight") == 0, "%s", name);
        snprintf(sname, sizeof sname, "%.*s.scale", (int)(n - 7), name);
        int64_t sne[1] = {n_exp};
        put_f32(x, sname, 1, sne, scales);
    }
    free(scales);
}

/* general.file_type: the llama_ftype (llama.cpp include/llama.h, enum llama_ftype) of the type most Linear
 * weight tensors have (stacked experts count as one tensor). Without the key llama.cpp guesses from the most
 * common type over all tensors, where our F32 norms outnumber the Linears: an mxfp4 export was "all F32". */
static uint32_t file_type(const struct ex *x, const struct qwen3_model *m) {
    static const uint32_t types[7] = {GGML_BLOCK_F32, GGML_BLOCK_BF16, GGML_BLOCK_Q8_0, GGML_BLOCK_Q4_0,
                                      GGML_BLOCK_Q4_1, GGML_BLOCK_MXFP4, GGML_BLOCK_NVFP4};
    static const uint32_t ftypes[7] = {0 /* ALL_F32 */, 32 /* MOSTLY_BF16 */, 7 /* MOSTLY_Q8_0 */, 2 /* MOSTLY_Q4_0 */,
                                       3 /* MOSTLY_Q4_1 */, 38 /* MOSTLY_MXFP4_MOE */, 39 /* MOSTLY_NVFP4 */};
    int64_t count[7] = {0};
    for (int64_t l = 0; l < m->cfg.n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        const struct linear *ls[7] = {&L->q, &L->k, &L->v, &L->o, L->is_moe ? L->exp_gate : &L->gate,
                                      L->is_moe ? L->exp_up : &L->up, L->is_moe ? L->exp_down : &L->down};
        static const char *names[7] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (int i = 0; i < 7; i++) {
            char name[64];   /* the tensor's GGUF name, for linear_type's refusal */
            snprintf(name, sizeof name, "blk.%lld.%s%s.weight", (long long)l, names[i], i >= 4 && L->is_moe ? "_exps" : "");
            const uint32_t t = linear_type(x, ls[i], name);
            for (int j = 0; j < 7; j++) count[j] += types[j] == t;
        }
    }
    int best = 0;
    for (int j = 1; j < 7; j++)
        if (count[j] > count[best]) best = j;
    return ftypes[best];
}

// ---- tokenizer ----

static int looks_special(const char *s) {
    size_t n = strlen(s);
    return !strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]") ||
           (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>")) ||
           (n >= 8 && !strncmp(s, "<\xef\xbd\x9c", 4) && !strcmp(s + n - 4, "\xef\xbd\x9c>"));
}

/* The id of an added token or vocab entry by its spelling, or -1. */
static int32_t find_id(char **tokens, int64_t V, const char *s) {
    for (int64_t i = 0; i < V; i++)
        if (tokens[i] && !strcmp(tokens[i], s)) return (int32_t)i;
    return -1;
}

static const char *config_token(const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int gguf_export_tokenizer(struct gguf_writer *w, const char *dir, const struct qwen3_config *c) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!file_exists(path)) {
        warn("%s: no tokenizer.json: the GGUF gets no tokenizer (llama.cpp will refuse it)", dir);
        return 0;
    }
    cJSON *root = json_read_file(path);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges)) die("%s: expected a BPE model with vocab and merges", path);
    const int64_t V = c->V;
    char **tokens = xcalloc((size_t)V, sizeof *tokens);
    int32_t *types = xmalloc((size_t)V * sizeof *types);
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble >= (double)V)
            die("%s: token '%s' has id outside [0, vocab_size = %lld)", path, it->string, (long long)V);
        int64_t id = (int64_t)it->valuedouble;
        tokens[id] = it->string;
        types[id] = 1;   /* NORMAL */
    }
    cJSON_ArrayForEach(it, added) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "content");
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsString(c) || !cJSON_IsNumber(idv) || idv->valuedouble < 0 || idv->valuedouble >= (double)V)
            die("%s: an added token lacks content or has an id outside [0, %lld)", path, (long long)V);
        int64_t id = (int64_t)idv->valuedouble;
        tokens[id] = c->valuestring;
        types[id] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "special")) || looks_special(c->valuestring)
                        ? 3   /* CONTROL */
                        : 4;  /* USER_DEFINED */
    }
    char **pads = xcalloc((size_t)V, sizeof *pads);
    for (int64_t i = 0; i < V; i++)
        if (!tokens[i]) {
            pads[i] = xmalloc(32);
            snprintf(pads[i], 32, "[PAD%lld]", (long long)i);
            tokens[i] = pads[i];
            types[i] = 5;   /* UNUSED */
        }
    int64_t nm = cJSON_GetArraySize(merges);
    char **ms = xmalloc((size_t)(nm ? nm : 1) * sizeof *ms);
    int64_t i = 0;
    cJSON_ArrayForEach(it, merges) {
        if (cJSON_IsString(it)) ms[i] = xstrdup(it->valuestring);
        else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(cJSON_GetArrayItem(it, 0)) &&
                 cJSON_IsString(cJSON_GetArrayItem(it, 1))) {
            const char *a = cJSON_GetArrayItem(it, 0)->valuestring, *b = cJSON_GetArrayItem(it, 1)->valuestring;
            size_t n = strlen(a) + strlen(b) + 2;
            ms[i] = xmalloc(n);
            snprintf(ms[i], n, "%s %s", a, b);
        } else die("%s: merge %lld is neither \"a b\" nor [a, b]", path, (long long)i);
        i++;
    }
    gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2");
    gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", V, (const char *const *)tokens);
    gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", V, types);
    gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", nm, (const char *const *)ms);

    /* special ids, as convert_hf_to_gguf.py's SpecialVocab: tokenizer_config.json first, config.json's
     * bos_token_id for bos */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    cJSON *tc = file_exists(path) ? json_read_file(path) : NULL;
    const char *eos = tc ? config_token(tc, "eos_token") : NULL;
    int32_t eos_id = find_id(tokens, V, eos ? eos : "<|endoftext|>");
    if (eos_id < 0 && c->n_eos) eos_id = c->eos_ids[0];
    if (eos_id >= 0) gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos_id);
    if (c->bos_id >= 0) gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)c->bos_id);
    const char *pad = tc ? config_token(tc, "pad_token") : NULL;
    int32_t pad_id = pad ? find_id(tokens, V, pad) : -1;
    if (pad_id >= 0) gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad_id);
    gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0);
    const cJSON *tmpl = tc ? cJSON_GetObjectItemCaseSensitive(tc, "chat_template") : NULL;
    if (cJSON_IsString(tmpl)) gguf_writer_set_str(w, "tokenizer.chat_template", tmpl->valuestring);
    if (tc) cJSON_Delete(tc);

    for (int64_t k = 0; k < nm; k++) free(ms[k]);
    free(ms);
    for (int64_t k = 0; k < V; k++) free(pads[k]);
    free(pads);
    free(tokens);
    free(types);
    cJSON_Delete(root);
    return 1;
}

// ---- the file ----

static void key(char *buf, size_t n, const char *arch, const char *suffix) { snprintf(buf, n, "%s.%s", arch, suffix); }

void gguf_export_config_keys(struct gguf_writer *w, const struct qwen3_config *c, const char *name, uint32_t ftype) {
    struct ex x = {.w = w, .o = NULL, .arch = c->is_moe ? "qwen3moe" : "qwen3"};
    char k[256];
    gguf_writer_set_str(x.w, "general.architecture", x.arch);
    gguf_writer_set_str(x.w, "general.name", name);
    gguf_writer_set_u32(x.w, "general.alignment", GGUF_DEFAULT_ALIGNMENT);
    gguf_writer_set_u32(x.w, "general.quantization_version", 2);
    gguf_writer_set_u32(x.w, "general.file_type", ftype);
#define SET_U32(s, v) (key(k, sizeof k, x.arch, s), gguf_writer_set_u32(x.w, k, (uint32_t)(v)))
    SET_U32("context_length", c->max_pos);
    SET_U32("embedding_length", c->D);
    SET_U32("block_count", c->n_layers);
    SET_U32("feed_forward_length", c->F);
    SET_U32("attention.head_count", c->H);
    SET_U32("attention.head_count_kv", c->H_kv);
    SET_U32("attention.key_length", c->D_h);
    SET_U32("attention.value_length", c->D_h);
    SET_U32("rope.dimension_count", c->D_h);
    key(k, sizeof k, x.arch, "rope.freq_base");
    gguf_writer_set_f32(x.w, k, (float)c->rope_theta);
    key(k, sizeof k, x.arch, "attention.layer_norm_rms_epsilon");
    gguf_writer_set_f32(x.w, k, (float)c->rms_norm_eps);
    if (c->is_moe) {
        SET_U32("expert_count", c->E);
        SET_U32("expert_used_count", c->top_k);
        SET_U32("expert_feed_forward_length", c->F_moe);
        key(k, sizeof k, x.arch, "expert_weights_norm");
        gguf_writer_set_bool(x.w, k, c->norm_topk_prob);
    }
#undef SET_U32
}

uint64_t gguf_export_write(const struct qwen3_model *m, const struct gguf_export_opts *o, const char *path) {
    const struct qwen3_config *c = &m->cfg;
    CHECK(o->float_type == GGML_BLOCK_F32 || o->float_type == GGML_BLOCK_BF16, "float_type %u", o->float_type);
    struct ex x = {.w = gguf_writer_init(), .o = o, .arch = c->is_moe ? "qwen3moe" : "qwen3"};
    const char *base = strrchr(m->dir, '/');
    gguf_export_config_keys(x.w, c, base && base[1] ? base + 1 : m->dir, file_type(&x, m));
    gguf_export_tokenizer(x.w, m->dir, c);

    const int64_t D = c->D;
    int64_t ne_emb[2] = {D, c->V}, ne_d[1] = {D}, ne_dh[1] = {c->D_h};
    put_f32(&x, "token_embd.weight", 2, ne_emb, m->embed);
    put_f32(&x, "output_norm.weight", 1, ne_d, m->final_norm);
    if (!c->tie_word_embeddings) put_f32(&x, "output.weight", 2, ne_emb, m->lm_head);
    static const char *attn_names[4] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    static const char *ffn_names[3] = {"ffn_gate", "ffn_up", "ffn_down"};
    char name[256];
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        snprintf(name, sizeof name, "blk.%lld.attn_norm.weight", (long long)l);
        put_f32(&x, name, 1, ne_d, L->attn_norm);
        const struct linear *attn[4] = {&L->q, &L->k, &L->v, &L->o};
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)l, attn_names[i]);
            put_linears(&x, name, attn[i], 1, 0);
        }
        snprintf(name, sizeof name, "blk.%lld.attn_q_norm.weight", (long long)l);
        put_f32(&x, name, 1, ne_dh, L->q_norm);
        snprintf(name, sizeof name, "blk.%lld.attn_k_norm.weight", (long long)l);
        put_f32(&x, name, 1, ne_dh, L->k_norm);
        snprintf(name, sizeof name, "blk.%lld.ffn_norm.weight", (long long)l);
        put_f32(&x, name, 1, ne_d, L->mlp_norm);
        if (!L->is_moe) {
            const struct linear *mlp[3] = {&L->gate, &L->up, &L->down};
            for (int i = 0; i < 3; i++) {
                snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)l, ffn_names[i]);
                put_linears(&x, name, mlp[i], 1, 0);
            }
            continue;
        }
        int64_t ne_r[2] = {D, c->E};
        snprintf(name, sizeof name, "blk.%lld.ffn_gate_inp.weight", (long long)l);
        put_f32(&x, name, 2, ne_r, L->router);
        const struct linear *ex[3] = {L->exp_gate, L->exp_up, L->exp_down};
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "blk.%lld.%s_exps.weight", (long long)l, ffn_names[i]);
            put_linears(&x, name, ex[i], c->E, 1);
        }
    }
    uint64_t bytes = gguf_writer_write(x.w, path);
    gguf_writer_free(x.w);
    return bytes;
}
