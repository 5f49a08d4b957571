/* test_ckpt_roundtrip -- write, read, compare: a random BF16 Qwen3 (written by this test, no downloads) is
 * quantized Linear by Linear with qtensor_quantize (int4-g128-sym / -asym, fp8-block128, fp8-tensor with a static
 * activation amax, fp8-channel with dynamic per-token activations, int8-channel, nvfp4 weight-only and with a
 * static activation global, mxfp4), written by ckpt_write as compressed-tensors, awq and gptq, loaded back by
 * qwen3_load, and checked: every Linear's FP32 view identical bit for bit, the activation spec identical, the
 * packed tensor re-attached, loaded_quant set, and identical logits on 16 tokens. Refusals (dynamic NVFP4
 * activations in compressed-tensors, fp8 in awq) exit 1 with one line. The real-shape check does the same at
 * the Linear shapes of Qwen3-0.6B (D 1024, F 3072, 16 heads, 8 KV heads, head dim 128; 2 layers; vocabulary cut
 * to 2048 so the test stays fast, embeddings are not quantized) for each layout. A ModelOpt NVFP4 export (a
 * layout we read but do not write) is built by the test from its definition and must load within the derived
 * bound of our decode. A random Qwen3-MoE (4 experts) round-trips in compressed-tensors, awq and gptq. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "formats/bf16.h"
#include "formats/fp8_tensor.h"
#include "formats/nvfp4.h"
#include "formats/qformat.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "model/safetensors.h"
#include "quant/ckpt_write.h"
#include "test.h"

static char TMP[64];

struct shape {
    int L, D, F, H, Hkv, Dh, V;
    int E, F_moe;              /* > 0: a Qwen3-MoE with E experts (top 2) of width F_moe in every layer */
};

/* A random BF16 checkpoint of shape s in dir (the test_quant fixture, parameterised). */
static void write_model(const char *dir, const struct shape *s, uint64_t seed) {
    mkdir_p(dir);
    struct rng r;
    rng_init(&r, seed);
    struct safetensors_desc d[256];
    char names[256][96];
    int n = 0;
#define ADD(nm, a, b, sd)                                                                          \
    do {                                                                                           \
        int64_t cnt = (int64_t)(a) * ((b) ? (b) : 1);                                              \
        uint16_t *p = xmalloc((size_t)cnt * 2);                                                    \
        for (int64_t e_ = 0; e_ < cnt; e_++) p[e_] = bf16_from_float((sd) == 0 ? 1.0f : (float)((sd) * rng_normal(&r))); \
        snprintf(names[n], 96, "%s", nm);                                                          \
        d[n] = (struct safetensors_desc){names[n], SAFETENSORS_DTYPE_BF16, (b) ? 2 : 1, {a, b}, p}; \
        n++;                                                                                       \
    } while (0)
    char nm[96];
    ADD("model.embed_tokens.weight", s->V, s->D, 0.1);
    ADD("model.norm.weight", s->D, 0, 0);
    for (int l = 0; l < s->L; l++) {
        const char *norms[4] = {"input_layernorm", "post_attention_layernorm", "self_attn.q_norm", "self_attn.k_norm"};
        const int64_t nd[4] = {s->D, s->D, s->Dh, s->Dh};
        for (int i = 0; i < 4; i++) {
            snprintf(nm, sizeof nm, "model.layers.%d.%s.weight", l, norms[i]);
            ADD(nm, nd[i], 0, 0);
        }
        const char *proj[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        const int64_t pn[7] = {s->H * s->Dh, s->Hkv * s->Dh, s->Hkv * s->Dh, s->D, s->F, s->F, s->D};
        const int64_t pk[7] = {s->D, s->D, s->D, s->H * s->Dh, s->D, s->D, s->F};
        if (s->E) {
            snprintf(nm, sizeof nm, "model.layers.%d.mlp.gate.weight", l);
            ADD(nm, s->E, s->D, 0.05);
            for (int e = 0; e < s->E; e++) {
                const char *ex[3] = {"gate_proj", "up_proj", "down_proj"};
                const int64_t en[3] = {s->F_moe, s->F_moe, s->D}, ek[3] = {s->D, s->D, s->F_moe};
                for (int i = 0; i < 3; i++) {
                    snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.%d.%s.weight", l, e, ex[i]);
                    ADD(nm, en[i], ek[i], 1.0 / sqrt((double)ek[i]));
                }
            }
        }
        for (int i = 0; i < (s->E ? 4 : 7); i++) {
            snprintf(nm, sizeof nm, "model.layers.%d.%s.weight", l, proj[i]);
            ADD(nm, pn[i], pk[i], 1.0 / sqrt((double)pk[i]));
        }
    }
#undef ADD
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    safetensors_write(path, n, d);
    for (int i = 0; i < n; i++) free((void *)d[i].data);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = xfopen(path, "w");
    if (s->E)
        fprintf(f, "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"num_experts\": %d, \"num_experts_per_tok\": 2,\n"
                   " \"moe_intermediate_size\": %d, \"decoder_sparse_step\": 1, \"norm_topk_prob\": true,\n",
                s->E, s->F_moe);
    else fprintf(f, "{\"architectures\": [\"Qwen3ForCausalLM\"],\n");
    fprintf(f,
            " \"attention_bias\": false, \"head_dim\": %d,\n"
            " \"hidden_act\": \"silu\", \"hidden_size\": %d, \"intermediate_size\": %d,\n"
            " \"max_position_embeddings\": 512, \"model_type\": \"qwen3\", \"num_attention_heads\": %d,\n"
            " \"num_hidden_layers\": %d, \"num_key_value_heads\": %d, \"rms_norm_eps\": 1e-06,\n"
            " \"rope_theta\": 1000000, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\",\n"
            " \"vocab_size\": %d, \"bos_token_id\": 0, \"eos_token_id\": 1}\n",
            s->Dh, s->D, s->F, s->H, s->L, s->Hkv, s->V);
    xfclose(f, path);
}

struct qspec {
    enum qformat f;
    int group;                 /* int4 group size */
    enum linear_act_mode act_mode;
    enum qformat act;
    float act_amax;            /* static */
};

static void quantize_cb(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                        struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    const struct qspec *q = ctx;
    struct qparams p = {0};
    p.group_size = q->group;
    struct qtensor *t = xcalloc(1, sizeof *t);
    qtensor_quantize(t, q->f, l->w, l->N, l->K, &p);
    linear_set_packed(l, t, "test");
    if (q->act_mode != LINEAR_ACT_NONE) {
        struct qparams ap = {0};
        ap.amax = q->act_amax;
        l->act.mode = q->act_mode;
        l->act.format = q->act;
        l->act.params = qformat_resolve(q->act, &ap);
    }
}

struct cmp {
    struct qwen3_model *other;
    int64_t n, same_w, same_act, packed;
};

static void compare_cb(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                       struct linear *l) {
    (void)name;
    struct cmp *c = ctx;
    struct qwen3_layer *L = &c->other->layers[layer];
    struct linear *o[7] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
    struct linear *b = o[kind];
    if (expert >= 0) {
        struct linear *ex[3] = {&L->exp_gate[expert], &L->exp_up[expert], &L->exp_down[expert]};
        b = ex[kind - QWEN3_LINEAR_GATE];
    }
    c->n++;
    c->same_w += b->N == l->N && b->K == l->K && !memcmp(b->w, l->w, (size_t)(l->N * l->K) * sizeof(float));
    /* A static range is stored as the scale it implies (input_scale = amax / 448, input_global_scale =
     * 448 * 6 / amax): the amax read back may differ in the last bit, the scale it gives must not. */
    float sa = l->act.params.amax, sb = b->act.params.amax;
    int same_scale = l->act.format == QFORMAT_NVFP4 ? nvfp4_global_scale(sa) == nvfp4_global_scale(sb)
                                                    : fp8_tensor_scale(sa, FP8_TENSOR_E4M3) == fp8_tensor_scale(sb, FP8_TENSOR_E4M3);
    c->same_act += b->act.mode == l->act.mode &&
                   (l->act.mode == LINEAR_ACT_NONE || (b->act.format == l->act.format && same_scale));
    c->packed += b->packed && l->packed && b->packed->format == l->packed->format;
}

/* Quantize src with q, write in fmt, reload, compare. */
static void round_trip(const char *src, const struct qspec *q, enum ckpt_write_format fmt, const char *label,
                       int T) {
    struct qwen3_model *m = qwen3_load(src);
    qwen3_for_each_linear(m, quantize_cb, (void *)q);
    char out[256];
    snprintf(out, sizeof out, "%s/out_%s_%s", TMP, ckpt_write_format_name(fmt), label);
    ckpt_write(m, NULL, fmt, out);
    struct qwen3_model *b = qwen3_load(out);
    struct cmp c = {.other = b};
    qwen3_for_each_linear(m, compare_cb, &c);
    int32_t ids[16];
    for (int i = 0; i < T; i++) ids[i] = (int32_t)((7 * i + 3) % m->cfg.V);
    float *la = xmalloc((size_t)(T * m->cfg.V) * sizeof *la), *lb = xmalloc((size_t)(T * m->cfg.V) * sizeof *lb);
    qwen3_cpu_forward(m, ids, T, 0, NULL, la, NULL);
    qwen3_cpu_forward(b, ids, T, 0, NULL, lb, NULL);
    int same_logits = !memcmp(la, lb, (size_t)(T * m->cfg.V) * sizeof *la);
    int finite = 1;
    for (int64_t i = 0; i < T * m->cfg.V; i++) finite &= isfinite(lb[i]);
    TEST(c.same_w == c.n && c.same_act == c.n && c.packed == c.n && same_logits && finite && b->loaded_quant,
         "%s %s: %lld/%lld Linears identical, %lld acts, %lld packed, logits %s (%s)", ckpt_write_format_name(fmt),
         label, (long long)c.same_w, (long long)c.n, (long long)c.same_act, (long long)c.packed,
         same_logits ? "identical" : "DIFFER", b->loaded_quant ? b->loaded_quant : "no loaded_quant");
    free(la), free(lb);
    qwen3_free(m);
    qwen3_free(b);
}


/* ---- a ModelOpt NVFP4 export (we do not write this layout: the fixture is built here from the definition of
 * ckpt_modelopt.h, weight = the E2M1 bytes, weight_scale = the UE4M3 block scales, weight_scale_2 = 1 / g) ---- */

struct mo_ctx {
    struct safetensors_desc d[256];
    char names[256][128];
    void *own[256];
    int n, n_own;
};

static void mo_add(struct mo_ctx *c, const char *name, enum safetensors_dtype dt, int nd, int64_t a, int64_t b,
                   void *p) {
    snprintf(c->names[c->n], 128, "%s", name);
    c->d[c->n] = (struct safetensors_desc){c->names[c->n], dt, nd, {a, b}, p};
    c->n++;
    c->own[c->n_own++] = p;
}

static void mo_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                      struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct mo_ctx *c = ctx;
    const struct qtensor *q = l->packed;
    const int64_t nb = q->N * q->K / 16;
    uint8_t *codes = xmalloc((size_t)nb * 8), *sc = xmalloc((size_t)nb);
    for (int64_t i = 0; i < nb; i++) {
        const struct nvfp4_block *b = (const struct nvfp4_block *)q->data + i;
        sc[i] = b->s;
        memcpy(codes + 8 * i, b->qs, 8);
    }
    float *s2 = xmalloc(sizeof *s2);
    *s2 = 1.0f / q->global_scale;
    char n[128];
    snprintf(n, sizeof n, "%s.weight", name);
    mo_add(c, n, SAFETENSORS_DTYPE_U8, 2, q->N, q->K / 2, codes);
    snprintf(n, sizeof n, "%s.weight_scale", name);
    mo_add(c, n, SAFETENSORS_DTYPE_F8_E4M3, 2, q->N, q->K / 16, sc);
    snprintf(n, sizeof n, "%s.weight_scale_2", name);
    mo_add(c, n, SAFETENSORS_DTYPE_F32, 1, 1, 0, s2);
}

static int cmp_d(const void *a, const void *b) {
    return strcmp(((const struct safetensors_desc *)a)->name, ((const struct safetensors_desc *)b)->name);
}

struct close_ctx {
    struct qwen3_model *other;
    int64_t n, close, packed;
};

static void close_cb(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                     struct linear *l) {
    (void)name, (void)expert;
    struct close_ctx *c = ctx;
    struct qwen3_layer *L = &c->other->layers[layer];
    struct linear *o[7] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
    const struct linear *b = o[kind];
    /* ModelOpt's e2m1 * (d * s2) against our (e2m1 * d) / g with s2 = fl(1 / g): three roundings of 2^-24
     * relative each (s2, the product d * s2, the final product) against one, so 2^-22 relative bounds it. */
    int ok = 1;
    for (int64_t i = 0; i < l->N * l->K && ok; i++) ok = fabsf(b->w[i] - l->w[i]) <= ldexpf(fabsf(l->w[i]), -22);
    c->n++;
    c->close += ok;
    c->packed += b->packed != NULL;
}

static void modelopt_layout(const char *src, const char *label, int T) {
    const struct qspec nv = {QFORMAT_NVFP4, 0, LINEAR_ACT_NONE, 0, 0};
    struct qwen3_model *m = qwen3_load(src);
    qwen3_for_each_linear(m, quantize_cb, (void *)&nv);
    struct mo_ctx *c = xcalloc(1, sizeof *c);
    qwen3_for_each_linear(m, mo_linear, c);
    /* The unquantized tensors as they are in the source (BF16). */
    struct safetensors st;
    safetensors_open(&st, src);
    for (int i = 0; i < st.n_tensors; i++) {
        const struct safetensors_tensor *t = st.sorted[i];
        if (strstr(t->name, "_proj.")) continue;
        void *p = xmalloc((size_t)(t->end - t->begin));
        memcpy(p, t->data, (size_t)(t->end - t->begin));
        mo_add(c, t->name, t->dtype, t->n_dims, t->shape[0], t->n_dims > 1 ? t->shape[1] : 0, p);
    }
    safetensors_close(&st);
    qsort(c->d, (size_t)c->n, sizeof c->d[0], cmp_d);
    char out[256], path[320];
    snprintf(out, sizeof out, "%s/modelopt_%s", TMP, label);
    mkdir_p(out);
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    safetensors_write(path, c->n, c->d);
    for (int i = 0; i < c->n_own; i++) free(c->own[i]);
    free(c);
    char cfg_src[320], cfg_dst[320];
    snprintf(cfg_src, sizeof cfg_src, "%s/config.json", src);
    snprintf(cfg_dst, sizeof cfg_dst, "%s/config.json", out);
    size_t len;
    char *text = file_read_all(cfg_src, &len);
    file_write_atomic(cfg_dst, text, len);
    free(text);
    snprintf(path, sizeof path, "%s/hf_quant_config.json", out);
    const char *hq = "{\"producer\": {\"name\": \"modelopt\"}, \"quantization\": {\"quant_algo\": \"NVFP4\", "
                     "\"group_size\": 16, \"exclude_modules\": [\"lm_head\"]}}";
    file_write_atomic(path, hq, strlen(hq));
    struct qwen3_model *b = qwen3_load(out);
    struct close_ctx cc = {.other = b};
    qwen3_for_each_linear(m, close_cb, &cc);
    int32_t ids[16];
    for (int i = 0; i < T; i++) ids[i] = (int32_t)((7 * i + 3) % m->cfg.V);
    float *la = xmalloc((size_t)(T * m->cfg.V) * sizeof *la), *lb = xmalloc((size_t)(T * m->cfg.V) * sizeof *lb);
    qwen3_cpu_forward(m, ids, T, 0, NULL, la, NULL);
    qwen3_cpu_forward(b, ids, T, 0, NULL, lb, NULL);
    double md = 0;
    for (int64_t i = 0; i < T * m->cfg.V; i++) md = fmax(md, fabs((double)la[i] - lb[i]));
    TEST(cc.close == cc.n && md < 1e-3 && b->loaded_quant && !strcmp(b->loaded_quant, "modelopt NVFP4"),
         "modelopt %s: %lld/%lld Linears within 2^-22 relative of our nvfp4 decode (%lld packed), max |dlogit| %.2e",
         label, (long long)cc.close, (long long)cc.n, (long long)cc.packed, md);
    free(la), free(lb);
    qwen3_free(m);
    qwen3_free(b);
}

/* A write that must be refused: exit status 1. */
static int refused(const char *src, const struct qspec *q, enum ckpt_write_format fmt) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        struct qwen3_model *m = qwen3_load(src);
        qwen3_for_each_linear(m, quantize_cb, (void *)q);
        char out[256];
        snprintf(out, sizeof out, "%s/refused", TMP);
        ckpt_write(m, NULL, fmt, out);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

int main(int argc, char **argv) {
    (void)argv;
    snprintf(TMP, sizeof TMP, "/tmp/test_ckpt_roundtrip.%d", (int)getpid());
    mkdir_p(TMP);
    char small[128], real[128];
    snprintf(small, sizeof small, "%s/small", TMP);
    const struct shape ss = {2, 256, 384, 2, 1, 128, 320, 0, 0};
    write_model(small, &ss, 20240601);

    const struct qspec sym = {QFORMAT_INT4_SYM, 128, LINEAR_ACT_NONE, 0, 0};
    const struct qspec asym = {QFORMAT_INT4_ASYM, 128, LINEAR_ACT_NONE, 0, 0};
    const struct qspec asym32 = {QFORMAT_INT4_ASYM, 32, LINEAR_ACT_NONE, 0, 0};
    const struct qspec fp8b = {QFORMAT_FP8_BLOCK128, 0, LINEAR_ACT_DYNAMIC, QFORMAT_FP8_GROUP128, 0};
    const struct qspec fp8t = {QFORMAT_FP8_TENSOR, 0, LINEAR_ACT_STATIC, QFORMAT_FP8_TENSOR, 3.7f};
    const struct qspec fp8c = {QFORMAT_FP8_CHANNEL, 0, LINEAR_ACT_DYNAMIC, QFORMAT_FP8_CHANNEL, 0};
    const struct qspec int8 = {QFORMAT_INT8_CHANNEL, 0, LINEAR_ACT_DYNAMIC, QFORMAT_INT8_CHANNEL, 0};
    const struct qspec nvfp4 = {QFORMAT_NVFP4, 0, LINEAR_ACT_NONE, 0, 0};
    const struct qspec nvfp4s = {QFORMAT_NVFP4, 0, LINEAR_ACT_STATIC, QFORMAT_NVFP4, 3.7f};
    const struct qspec mxfp4 = {QFORMAT_MXFP4, 0, LINEAR_ACT_NONE, 0, 0};
    const struct qspec nvfp4d = {QFORMAT_NVFP4, 0, LINEAR_ACT_DYNAMIC, QFORMAT_NVFP4, 0};

    /* The refusals fork before this process starts any OpenMP team (a forked child cannot use the parent's). */
    TEST(refused(small, &nvfp4d, CKPT_WRITE_CT), "dynamic NVFP4 activations refused by compressed-tensors (exit 1)");
    TEST(refused(small, &fp8b, CKPT_WRITE_AWQ), "fp8 weights refused by awq (exit 1)");
    round_trip(small, &sym, CKPT_WRITE_CT, "int4-g128-sym", 16);
    round_trip(small, &asym, CKPT_WRITE_CT, "int4-g128-asym", 16);
    round_trip(small, &asym32, CKPT_WRITE_CT, "int4-g32-asym", 16);
    round_trip(small, &fp8b, CKPT_WRITE_CT, "fp8-block128", 16);
    round_trip(small, &fp8t, CKPT_WRITE_CT, "fp8-tensor-static", 16);
    round_trip(small, &fp8c, CKPT_WRITE_CT, "fp8-channel-token", 16);
    round_trip(small, &int8, CKPT_WRITE_CT, "int8-channel", 16);
    round_trip(small, &nvfp4, CKPT_WRITE_CT, "nvfp4-w4a16", 16);
    round_trip(small, &nvfp4s, CKPT_WRITE_CT, "nvfp4-static", 16);
    round_trip(small, &mxfp4, CKPT_WRITE_CT, "mxfp4-w4a16", 16);
    round_trip(small, &sym, CKPT_WRITE_AWQ, "int4-g128-sym", 16);
    round_trip(small, &asym, CKPT_WRITE_AWQ, "int4-g128-asym", 16);
    round_trip(small, &sym, CKPT_WRITE_GPTQ, "int4-g128-sym", 16);
    round_trip(small, &asym, CKPT_WRITE_GPTQ, "int4-g128-asym", 16);
    modelopt_layout(small, "nvfp4", 16);
    /* Qwen3-MoE: every expert is a Linear; the router stays BF16 (written as such, read by qwen3_load). */
    char moe[128];
    snprintf(moe, sizeof moe, "%s/moe", TMP);
    const struct shape ms = {2, 256, 0, 2, 1, 128, 320, 4, 128};
    write_model(moe, &ms, 99);
    round_trip(moe, &sym, CKPT_WRITE_CT, "moe-int4-g128-sym", 16);
    round_trip(moe, &fp8b, CKPT_WRITE_CT, "moe-fp8-block128", 16);
    round_trip(moe, &asym, CKPT_WRITE_AWQ, "moe-int4-g128-asym", 16);
    round_trip(moe, &asym, CKPT_WRITE_GPTQ, "moe-int4-g128-asym", 16);

    /* Real shape (skipped with any argument, for quick runs). */
    if (argc < 2) {
        snprintf(real, sizeof real, "%s/real", TMP);
        const struct shape rs = {2, 1024, 3072, 16, 8, 128, 2048, 0, 0};
        write_model(real, &rs, 7);
        round_trip(real, &sym, CKPT_WRITE_CT, "real-int4-g128-sym", 4);
        round_trip(real, &fp8b, CKPT_WRITE_CT, "real-fp8-block128", 4);
        round_trip(real, &nvfp4, CKPT_WRITE_CT, "real-nvfp4-w4a16", 4);
        round_trip(real, &mxfp4, CKPT_WRITE_CT, "real-mxfp4-w4a16", 4);
        round_trip(real, &asym, CKPT_WRITE_AWQ, "real-int4-g128-asym", 4);
        round_trip(real, &asym, CKPT_WRITE_GPTQ, "real-int4-g128-asym", 4);
        modelopt_layout(real, "real-nvfp4", 4);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", TMP);
    if (system(cmd) != 0) warn("could not remove %s", TMP);
    return TEST_REPORT();
}
