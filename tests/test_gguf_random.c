/* test_gguf_random -- `ql gguf-random` (src/cli/cmd_gguf_random.h) on a small dense Qwen3 shape, read back with
 * our own GGUF reader (src/model/gguf.c) and decoder (ggml_block_dequantize_row):
 * 1. the file: qwen3 keys, the tokenizer of models/qwen3-tiny (V entries), 3 + 11 L tensors of the expected
 *    names, ggml types and shapes (token_embd / output BF16, norms F32, the Linears in the asked type);
 * 2. the values against a twin written here from kernels/serve_gemv.cu's fill kernels as they run on the device
 *    (word by word: 32-bit code words, the BF16 pair of each word, the E4M3 bytes of 16-bit chunks) and
 *    decoded with tests/check_qwen3_serve.cu's host formulas (host_weight): identical FP32 values for bf16,
 *    q4_0 (= the INT4 sym storage) and mxfp4, the fused q|k|v and gate|up split by rows; for q8_0 the bytes are
 *    our Q8_0 rule applied to the twin's fp8 values and every decoded element lies within d / 2 of them;
 *    norms identical to the engine's 1 + 0.2 (u - 0.5);
 * 3. no tensor is constant or mostly zero; --threads 1 and 3 write the same bytes;
 * 4. bad input: an unknown --type exits 2, a MoE config dies with one line and exit 1.
 * (tests/check_gguf_random.cu compares with serve_w_random's real device planes where a GPU exists.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "formats/f16.h"
#include "fixture.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"
#include "test.h"

#define TMP "build/tmp/test_gguf_random"
#define TOK "models/qwen3-tiny"
/* D 256, F 384, 2 layers, H 2 / H_kv 1 of D_h 128 (q|k|v 512 rows), V 8192 (the tiny tokenizer's), untied. */
#define CONFIG                                                                                                  \
    "{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":256,\"intermediate_size\":384,\"num_hidden_layers\":2," \
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"head_dim\":128,\"vocab_size\":8192,"                    \
    "\"max_position_embeddings\":4096,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,\"tie_word_embeddings\":false,"  \
    "\"hidden_act\":\"silu\",\"attention_bias\":false,\"bos_token_id\":1,\"eos_token_id\":2}"
enum { D = 256, F = 384, L = 2, HD = 256, ROW = 128, V = 8192 };

static int run(const char *cmd, char *err, size_t cap) { return fixture_run(cmd, TMP "/stderr.txt", err, cap); }

// ---- the twin: serve_gemv.cu's planes, word by word, and check_qwen3_serve.cu's decoding ----

enum { T_BF16, T_FP8_BLOCK, T_MXFP4, T_INT4_SYM };

struct planes {
    int fmt;
    int64_t N, K;
    uint8_t *codes, *scales;
};

static float dev_unit(uint64_t h) { return (float)(h >> 40) * (1.0f / 16777216.0f); }

static uint16_t bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* serve_w_random (one matrix): fill_codes_kernel and fill_scales_kernel, word by word as the threads run. */
static void twin_planes(struct planes *p, int fmt, int64_t N, int64_t K, float rms, uint64_t seed, uint64_t id) {
    p->fmt = fmt;
    p->N = N;
    p->K = K;
    const size_t cb = fmt == T_BF16 ? (size_t)(N * K) * 2 : fmt == T_FP8_BLOCK ? (size_t)(N * K) : (size_t)(N * K) / 2;
    p->codes = xmalloc(cb);
    const uint64_t s0 = rng_hash(seed, id), sc = rng_hash(s0, 1), ss = rng_hash(s0, 2);
    for (int64_t i = 0; i < (int64_t)cb / 4; i++) {
        const uint64_t h = rng_hash(sc, (uint64_t)i);
        uint32_t w = (uint32_t)h;
        if (fmt == T_BF16) {
            uint32_t out = 0;
            for (int j = 0; j < 2; j++) {
                const uint64_t r = rng_hash(sc ^ 0x5bd1e995u, (uint64_t)(2 * i + j));
                const float u = dev_unit(r) + dev_unit(r << 21) + dev_unit(r << 42) - 1.5f;
                out |= (uint32_t)bf16_rne(u * 2.0f * rms) << (16 * j);
            }
            w = out;
        } else if (fmt == T_FP8_BLOCK) {
            uint32_t out = 0;
            for (int j = 0; j < 4; j++) {
                const uint32_t b = (uint32_t)(h >> (16 * j)) & 0xffffu;
                const uint32_t e = 4 + (b >> 8) % 8, m = b & 7u, s = (b >> 3) & 1u;
                out |= (s << 7 | e << 3 | m) << (8 * j);
            }
            w = out;
        }
        memcpy(p->codes + 4 * i, &w, 4);
    }
    p->scales = NULL;
    if (fmt == T_BF16) return;
    const int64_t n = fmt == T_FP8_BLOCK ? ((N + 127) / 128) * (K / 128) : fmt == T_MXFP4 ? N * (K / 32) : N * (K / 128);
    p->scales = xmalloc((size_t)n * 4);
    const int e_ref = 127 + (int)floorf(log2f(rms / 2.93f)) + 1;
    const float base = fmt == T_FP8_BLOCK ? rms / 5.1f / 1.5f : rms / 4.64f;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t h = rng_hash(ss, (uint64_t)i);
        if (fmt == T_FP8_BLOCK) ((float *)p->scales)[i] = base * (1.0f + dev_unit(h));
        else if (fmt == T_MXFP4) p->scales[i] = (uint8_t)(e_ref - (int)(h % 4));
        else ((uint16_t *)p->scales)[i] = ggml_block_f16_from_float(base * (0.75f + 0.5f * dev_unit(h)));
    }
}

static float e4m3_value(uint8_t b) {
    const int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
    float v = e == 0 ? ldexpf((float)m, -9) : ldexpf(1.0f + (float)m / 8.0f, e - 7);
    return s ? -v : v;
}
static float e2m1_value(uint32_t c) {
    static const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    return (c & 8u) ? -mag[c & 7u] : mag[c & 7u];
}

/* check_qwen3_serve.cu's host_weight for the four formats. */
static float twin_weight(const struct planes *p, int64_t r, int64_t k) {
    const int64_t K = p->K;
    if (p->fmt == T_BF16) {
        uint16_t b;
        memcpy(&b, &p->codes[(size_t)(r * K + k) * 2], 2);
        uint32_t u = (uint32_t)b << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (p->fmt == T_FP8_BLOCK)
        return e4m3_value(p->codes[(size_t)(r * K + k)]) * ((const float *)p->scales)[(r / 128) * (K / 128) + k / 128];
    const uint32_t q = (p->codes[(size_t)(r * K + k) / 2] >> (4 * (k & 1))) & 0xfu;
    if (p->fmt == T_MXFP4) return e2m1_value(q) * ldexpf(1.0f, (int)p->scales[r * (K / 32) + k / 32] - 127);
    return ((float)q - 8.0f) * f16_to_float(((const uint16_t *)p->scales)[r * (K / 128) + k / 128]);
}

// ---- checks ----

struct counts {
    int64_t bad, zeros, n;
    double worst;   /* q8_0: max |y - w| / (d / 2) */
};

/* Tensor `name` of g against rows [r0, r0 + n_rows) of the twin p in ggml type t. */
static void cmp_tensor(const struct gguf_file *g, const char *name, uint32_t t, const struct planes *p, int64_t r0,
                       int64_t n_rows, struct counts *c) {
    const struct gguf_tensor *x = gguf_find_tensor(g, name);
    if (!x || x->type != t || x->n_dims != 2 || x->ne[0] != p->K || x->ne[1] != n_rows) {
        printf("  %s: missing or wrong type / shape\n", name);
        c->bad++;
        return;
    }
    const int64_t K = p->K;
    const size_t rb = ggml_block_row_bytes(t, K);
    float *y = xmalloc((size_t)K * sizeof *y), *w = xmalloc((size_t)K * sizeof *w);
    uint8_t *q8 = xmalloc(rb);
    for (int64_t r = 0; r < n_rows; r++) {
        const uint8_t *row = (const uint8_t *)x->data + (size_t)r * rb;
        ggml_block_dequantize_row(t, row, y, K);
        for (int64_t k = 0; k < K; k++) w[k] = twin_weight(p, r0 + r, k);
        if (t == GGML_BLOCK_Q8_0) {
            ggml_block_quantize_q8_0_row(w, q8, K);
            if (memcmp(q8, row, rb)) c->bad++;
            for (int64_t b = 0; b < K / 32; b++) {
                uint16_t h;
                memcpy(&h, row + 34 * b, 2);
                const float d = f16_to_float(h);
                for (int64_t j = 32 * b; j < 32 * b + 32; j++) {
                    const double e = fabs((double)y[j] - w[j]) / (d / 2);
                    if (!(e <= 1.0 + 1e-6)) c->bad++;
                    if (e > c->worst) c->worst = e;
                }
            }
        } else
            for (int64_t k = 0; k < K; k++)
                if (memcmp(&y[k], &w[k], 4)) {
                    if (c->bad < 3) printf("  %s row %lld col %lld: %.9g vs twin %.9g\n", name, (long long)r, (long long)k, y[k], w[k]);
                    c->bad++;
                }
        for (int64_t k = 0; k < K; k++) c->zeros += y[k] == 0.0f;
        c->n += K;
    }
    free(y);
    free(w);
    free(q8);
}

static void cmp_norm(const struct gguf_file *g, const char *name, int64_t n, uint64_t seed, struct counts *c) {
    const struct gguf_tensor *x = gguf_find_tensor(g, name);
    if (!x || x->type != GGML_BLOCK_F32 || x->n_dims != 1 || x->ne[0] != n) {
        c->bad++;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        const float v = 1.0f + 0.2f * (float)(rng_to_unit(rng_hash(seed, (uint64_t)i)) - 0.5);
        if (memcmp(&v, (const float *)x->data + i, 4)) c->bad++;
    }
}

static void check_type(const char *type, uint32_t t, int fmt) {
    char cmd[1024], err[4096], path[256];
    snprintf(path, sizeof path, TMP "/%s.gguf", type);
    snprintf(cmd, sizeof cmd, "build/bin/ql gguf-random --shape " TMP "/config.json --type %s --tokenizer " TOK
             " --threads 3 -o %s", type, path);
    int st = run(cmd, err, sizeof err);
    TEST(st == 0, "gguf-random %s: exit 0%s%s", type, st ? ", got: " : "", st ? err : "");
    if (st) return;
    struct gguf_file g;
    gguf_open(&g, path);
    char *arch = gguf_get_string(&g, "general.architecture");
    const struct gguf_kv *toks = gguf_find_kv(&g, "tokenizer.ggml.tokens");
    int64_t nl = 0, ed = 0;
    gguf_get_int(&g, "qwen3.block_count", &nl);
    gguf_get_int(&g, "qwen3.embedding_length", &ed);
    TEST(arch && !strcmp(arch, "qwen3") && toks && toks->n == V && nl == L && ed == D && g.n_tensors == 3 + 11 * L,
         "%s: qwen3 keys, %d tokens, %lld tensors", type, V, (long long)g.n_tensors);
    free(arch);

    const uint64_t seed = 42;
    struct counts c = {0}, ce = {0}, cn = {0};
    struct planes p;
    twin_planes(&p, T_BF16, V, D, 1.0f, seed, 1);
    cmp_tensor(&g, "token_embd.weight", GGML_BLOCK_BF16, &p, 0, V, &ce);
    free(p.codes);
    twin_planes(&p, T_BF16, V, D, 1.0f / sqrtf((float)D), seed, 2);
    cmp_tensor(&g, "output.weight", GGML_BLOCK_BF16, &p, 0, V, &ce);
    free(p.codes);
    cmp_norm(&g, "output_norm.weight", D, rng_hash(seed, 3), &cn);
    char nm[128];
    for (int l = 0; l < L; l++) {
        const uint64_t id = 1000 + 16 * (uint64_t)l;
        twin_planes(&p, fmt, HD + 2 * ROW, D, 1.0f / sqrtf((float)D), seed, id + 4);
        snprintf(nm, sizeof nm, "blk.%d.attn_q.weight", l);
        cmp_tensor(&g, nm, t, &p, 0, HD, &c);
        snprintf(nm, sizeof nm, "blk.%d.attn_k.weight", l);
        cmp_tensor(&g, nm, t, &p, HD, ROW, &c);
        snprintf(nm, sizeof nm, "blk.%d.attn_v.weight", l);
        cmp_tensor(&g, nm, t, &p, HD + ROW, ROW, &c);
        free(p.codes), free(p.scales);
        twin_planes(&p, fmt, D, HD, 1.0f / sqrtf((float)HD), seed, id + 5);
        snprintf(nm, sizeof nm, "blk.%d.attn_output.weight", l);
        cmp_tensor(&g, nm, t, &p, 0, D, &c);
        free(p.codes), free(p.scales);
        twin_planes(&p, fmt, 2 * F, D, 1.0f / sqrtf((float)D), seed, id + 9);
        snprintf(nm, sizeof nm, "blk.%d.ffn_gate.weight", l);
        cmp_tensor(&g, nm, t, &p, 0, F, &c);
        snprintf(nm, sizeof nm, "blk.%d.ffn_up.weight", l);
        cmp_tensor(&g, nm, t, &p, F, F, &c);
        free(p.codes), free(p.scales);
        twin_planes(&p, fmt, D, F, 1.0f / sqrtf((float)F), seed, id + 10);
        snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight", l);
        cmp_tensor(&g, nm, t, &p, 0, D, &c);
        free(p.codes), free(p.scales);
        snprintf(nm, sizeof nm, "blk.%d.attn_norm.weight", l);
        cmp_norm(&g, nm, D, rng_hash(seed, id + 0), &cn);
        snprintf(nm, sizeof nm, "blk.%d.ffn_norm.weight", l);
        cmp_norm(&g, nm, D, rng_hash(seed, id + 1), &cn);
        snprintf(nm, sizeof nm, "blk.%d.attn_q_norm.weight", l);
        cmp_norm(&g, nm, 128, rng_hash(seed, id + 2), &cn);
        snprintf(nm, sizeof nm, "blk.%d.attn_k_norm.weight", l);
        cmp_norm(&g, nm, 128, rng_hash(seed, id + 3), &cn);
    }
    TEST(ce.bad == 0 && cn.bad == 0, "%s: token_embd / output BF16 and the norms F32 equal the engine's values", type);
    if (t == GGML_BLOCK_Q8_0)
        TEST(c.bad == 0, "%s: Linears are our Q8_0 rule of the fp8 values, every element within d/2 (max %.3f d/2)", type,
             c.worst);
    else
        TEST(c.bad == 0, "%s: every Linear element equals the engine's storage value (%lld elements)", type, (long long)c.n);
    // Never zeros: E2M1 / INT4 have exact-zero codes (1/16 of them for E2M1 +0 / -0, 1/16 for q = 8), so a bound
    // of 1/6 is far above chance and far below a zero-filled tensor.
    TEST(c.zeros < c.n / 6 && ce.zeros < ce.n / 100, "%s: not zero-filled (%lld of %lld Linear values are 0)", type,
         (long long)c.zeros, (long long)c.n);
    gguf_close(&g);

    // Same bytes with one thread.
    char path1[256];
    snprintf(path1, sizeof path1, TMP "/%s.t1.gguf", type);
    snprintf(cmd, sizeof cmd, "build/bin/ql gguf-random --shape " TMP "/config.json --type %s --tokenizer " TOK
             " --threads 1 -o %s", type, path1);
    st = run(cmd, err, sizeof err);
    size_t na = 0, nb = 0;
    char *a = file_read_all(path, &na), *b = st == 0 ? file_read_all(path1, &nb) : NULL;
    TEST(b && na == nb && !memcmp(a, b, na), "%s: --threads 1 and 3 write the same %zu bytes", type, na);
    free(a);
    free(b);
}

int main(void) {
    check_set_progname("test_gguf_random");
    if (system("rm -rf " TMP " && mkdir -p " TMP) != 0) die("cannot make %s", TMP);
    FILE *f = xfopen(TMP "/config.json", "w");
    fputs(CONFIG, f);
    xfclose(f, TMP "/config.json");
    check_type("bf16", GGML_BLOCK_BF16, T_BF16);
    check_type("q4_0", GGML_BLOCK_Q4_0, T_INT4_SYM);
    check_type("mxfp4", GGML_BLOCK_MXFP4, T_MXFP4);
    check_type("q8_0", GGML_BLOCK_Q8_0, T_FP8_BLOCK);

    char err[4096];
    int st = run("build/bin/ql gguf-random --shape Qwen3-0.6B --type q5_k -o " TMP "/x.gguf", err, sizeof err);
    TEST(st == 2 && strstr(err, "q5_k"), "an unknown --type exits 2 naming it (%d)", st);
    f = xfopen(TMP "/moe.json", "w");
    fputs("{\"architectures\":[\"Qwen3MoeForCausalLM\"],\"hidden_size\":256,\"intermediate_size\":384,"
          "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"head_dim\":128,"
          "\"vocab_size\":512,\"max_position_embeddings\":4096,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,"
          "\"tie_word_embeddings\":false,\"hidden_act\":\"silu\",\"attention_bias\":false,\"num_experts\":4,"
          "\"num_experts_per_tok\":2,\"moe_intermediate_size\":128,\"decoder_sparse_step\":1,\"mlp_only_layers\":[],"
          "\"norm_topk_prob\":true}", f);
    xfclose(f, TMP "/moe.json");
    st = run("build/bin/ql gguf-random --shape " TMP "/moe.json --type bf16 -o " TMP "/moe.gguf", err, sizeof err);
    int lines = 0;
    for (const char *q = err; *q; q++) lines += *q == '\n';
    TEST(st == 1 && strstr(err, "MoE") && lines == 1 && !file_exists(TMP "/moe.gguf"),
         "a MoE shape dies with one line, exit 1, no file (%d: %s)", st, err);
    return TEST_REPORT();
}
