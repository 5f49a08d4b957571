/* cmd_gguf_random -- `ql gguf-random`: see cmd_gguf_random.h. */
#include "cli/cmd_gguf_random.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/cli.h"
#include "core/rng.h"
#include "core/timer.h"
#include "formats/bf16.h"
#include "formats/e4m3.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"
#include "model/qwen3_config.h"
#include "quant/gguf_export.h"

/* The shapes of tests/check_qwen3_serve.cu (official config.json values), by name. */
static const struct {
    const char *name, *json;
} SHAPES[] = {
    {"Qwen3-0.6B",
     "{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":1024,\"intermediate_size\":3072,\"num_hidden_layers\":28,"
     "\"num_attention_heads\":16,\"num_key_value_heads\":8,\"head_dim\":128,\"vocab_size\":151936,\"max_position_embeddings\":40960,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,\"tie_word_embeddings\":true,\"hidden_act\":\"silu\",\"attention_bias\":false,"
     "\"bos_token_id\":151643,\"eos_token_id\":151645}"},
    {"Qwen3-4B",
     "{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":2560,\"intermediate_size\":9728,\"num_hidden_layers\":36,"
     "\"num_attention_heads\":32,\"num_key_value_heads\":8,\"head_dim\":128,\"vocab_size\":151936,\"max_position_embeddings\":40960,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,\"tie_word_embeddings\":true,\"hidden_act\":\"silu\",\"attention_bias\":false,"
     "\"bos_token_id\":151643,\"eos_token_id\":151645}"},
    {"Qwen3-8B",
     "{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":4096,\"intermediate_size\":12288,\"num_hidden_layers\":36,"
     "\"num_attention_heads\":32,\"num_key_value_heads\":8,\"head_dim\":128,\"vocab_size\":151936,\"max_position_embeddings\":40960,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,\"tie_word_embeddings\":false,\"hidden_act\":\"silu\",\"attention_bias\":false,"
     "\"bos_token_id\":151643,\"eos_token_id\":151645}"},
};
enum { N_SHAPES = 3 };

/* The serving engine's storage formats used here (kernels/serve_gemv.h enum serve_fmt, same meaning). */
enum src_fmt { SRC_BF16, SRC_FP8_BLOCK, SRC_MXFP4, SRC_INT4_SYM };

/* One serve_w_random call: N x K of format fmt, rms, stream (seed, id), and the host-side constants it derives
 * (kernels/serve_gemv.cu: base / e_ref computed in FP32 exactly as there). */
struct rw {
    int fmt;
    int64_t N, K;
    float rms, base;
    int e_ref;
    uint64_t s_codes, s_scales;
};

static void rw_init(struct rw *w, int fmt, int64_t N, int64_t K, float rms, uint64_t seed, uint64_t id) {
    CHECK(K % 128 == 0 && N % 16 == 0, "serve_w_random needs N %% 16 == 0 and K %% 128 == 0: %lld x %lld",
          (long long)N, (long long)K);
    memset(w, 0, sizeof *w);
    w->fmt = fmt;
    w->N = N;
    w->K = K;
    w->rms = rms;
    const uint64_t s0 = rng_hash(seed, id);
    w->s_codes = rng_hash(s0, 1);
    w->s_scales = rng_hash(s0, 2);
    switch (fmt) {
    case SRC_FP8_BLOCK: w->base = rms / 5.1f / 1.5f; break;
    case SRC_MXFP4: w->e_ref = 127 + (int)floorf(log2f(rms / 2.93f)) + 1; break;
    case SRC_INT4_SYM: w->base = rms / 4.64f; break;
    default: break;
    }
}

/* serve_gemv.cu's dev_unit: the top 24 bits of a hash as a float in [0, 1). */
static inline float unit24(uint64_t h) { return (float)(h >> 40) * (1.0f / 16777216.0f); }

/* BF16 bits of element i (= n K + k) of a BF16 tensor: the sum of three uniforms, centred, times 2 rms. */
static inline uint16_t bf16_elem(const struct rw *w, uint64_t i) {
    const uint64_t r = rng_hash(w->s_codes ^ 0x5bd1e995u, i);
    const float u = unit24(r) + unit24(r << 21) + unit24(r << 42) - 1.5f;
    const float v = u * 2.0f * w->rms;
    return bf16_from_float(v);
}

/* The 4-bit code of element i of an E2M1 / INT4 tensor: 32-bit words of random bits, low nibble = even i. */
static inline uint32_t nib_elem(const struct rw *w, uint64_t i) {
    return ((uint32_t)rng_hash(w->s_codes, i / 8) >> (4 * (i % 8))) & 15u;
}

/* The E4M3 byte of element i of an fp8 tensor: biased exponent 4..11, random sign and mantissa (never NaN). */
static inline uint8_t e4m3_elem(const struct rw *w, uint64_t i) {
    const uint64_t h = rng_hash(w->s_codes, i / 4);
    const uint32_t b = (uint32_t)(h >> (16 * (i % 4))) & 0xffffu;
    const uint32_t e = 4 + (b >> 8) % 8, m = b & 7u, s = (b >> 3) & 1u;
    return (uint8_t)(s << 7 | e << 3 | m);
}

/* FP16 bits of the INT4 group scale (row n, group g of 128): base * U[0.75, 1.25). */
static inline uint16_t int4_scale(const struct rw *w, int64_t n, int64_t g) {
    const uint64_t h = rng_hash(w->s_scales, (uint64_t)(n * (w->K / 128) + g));
    return ggml_block_f16_from_float(w->base * (0.75f + 0.5f * unit24(h)));
}

/* E8M0 byte of the MX block (row n, block b of 32): e_ref - U{0..3}. */
static inline uint8_t mx_scale(const struct rw *w, int64_t n, int64_t b) {
    const uint64_t h = rng_hash(w->s_scales, (uint64_t)(n * (w->K / 32) + b));
    return (uint8_t)(w->e_ref - (int)(h % 4));
}

/* FP32 scale of the fp8 128 x 128 block (row n, column block g): base * U[1, 2). */
static inline float fp8_scale(const struct rw *w, int64_t n, int64_t g) {
    const uint64_t h = rng_hash(w->s_scales, (uint64_t)((n / 128) * (w->K / 128) + g));
    return w->base * (1.0f + unit24(h));
}

static inline void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

/* Rows [r0, r1) of w as ggml type t into dst ((r1 - r0) rows of ggml_block_row_bytes(t, K)). */
static void rows_to_ggml(const struct rw *w, uint32_t t, int64_t r0, int64_t r1, uint8_t *dst) {
    const int64_t K = w->K;
    const size_t rb = ggml_block_row_bytes(t, K);
    float e4m3_lut[256];
    for (int c = 0; c < 256; c++) e4m3_lut[c] = e4m3_to_float((uint8_t)c);
#pragma omp parallel for schedule(static)
    for (int64_t n = r0; n < r1; n++) {
        uint8_t *o = dst + (size_t)(n - r0) * rb;
        const uint64_t i0 = (uint64_t)(n * K);
        switch (t) {
        case GGML_BLOCK_BF16:
            CHECK(w->fmt == SRC_BF16, "bf16 from fmt %d", w->fmt);
            for (int64_t k = 0; k < K; k++) put16(o + 2 * k, bf16_elem(w, i0 + (uint64_t)k));
            break;
        case GGML_BLOCK_Q4_0:
            CHECK(w->fmt == SRC_INT4_SYM, "q4_0 from fmt %d", w->fmt);
            for (int64_t b = 0; b < K / 32; b++, o += 18) {
                put16(o, int4_scale(w, n, b / 4));
                for (int j = 0; j < 16; j++)
                    o[2 + j] = (uint8_t)(nib_elem(w, i0 + (uint64_t)(32 * b + j)) |
                                         nib_elem(w, i0 + (uint64_t)(32 * b + j + 16)) << 4);
            }
            break;
        case GGML_BLOCK_MXFP4:
            CHECK(w->fmt == SRC_MXFP4, "mxfp4 from fmt %d", w->fmt);
            for (int64_t b = 0; b < K / 32; b++, o += 17) {
                o[0] = mx_scale(w, n, b);
                for (int j = 0; j < 16; j++)
                    o[1 + j] = (uint8_t)(nib_elem(w, i0 + (uint64_t)(32 * b + j)) |
                                         nib_elem(w, i0 + (uint64_t)(32 * b + j + 16)) << 4);
            }
            break;
        case GGML_BLOCK_Q8_0: {
            CHECK(w->fmt == SRC_FP8_BLOCK, "q8_0 from fmt %d", w->fmt);
            float *x = xmalloc((size_t)K * sizeof *x);
            for (int64_t g = 0; g < K / 128; g++) {
                const float sc = fp8_scale(w, n, g);
                for (int64_t k = 128 * g; k < 128 * g + 128; k++) x[k] = e4m3_lut[e4m3_elem(w, i0 + (uint64_t)k)] * sc;
            }
            ggml_block_quantize_q8_0_row(x, o, K);
            free(x);
            break;
        }
        default: CHECK(0, "type %u", t);
        }
    }
}

// ---- the file ----

struct gen {
    struct gguf_writer *g;
    uint64_t seed;
    uint32_t lin_type;   /* ggml type of the decoder Linears */
    int lin_fmt;         /* the engine storage they come from */
};

/* Rows [r0, r1) of the random tensor (fmt, N x K, rms, id) as tensor `name` of type t. */
static void put_rows(struct gen *x, const char *name, uint32_t t, int fmt, int64_t N, int64_t K, float rms, uint64_t id,
                     int64_t r0, int64_t r1) {
    struct rw w;
    rw_init(&w, fmt, N, K, rms, x->seed, id);
    const size_t bytes = ggml_block_row_bytes(t, K) * (size_t)(r1 - r0);
    uint8_t *buf = xmalloc(bytes);
    rows_to_ggml(&w, t, r0, r1, buf);
    int64_t ne[2] = {K, r1 - r0};
    gguf_writer_add_tensor(x->g, name, t, 2, ne, buf, bytes, 1);
}

/* A norm weight of n values from stream seed: 1 + 0.2 (u - 0.5), as the engine's upload_random_norm. */
static void put_norm(struct gen *x, const char *name, int64_t n, uint64_t seed) {
    float *v = xmalloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = 1.0f + 0.2f * (float)(rng_to_unit(rng_hash(seed, (uint64_t)i)) - 0.5);
    int64_t ne[1] = {n};
    gguf_writer_add_tensor(x->g, name, GGML_BLOCK_F32, 1, ne, v, (uint64_t)n * 4, 1);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: ql gguf-random --shape NAME|CONFIG.json --type T -o OUT.gguf [options]\n"
            "Writes the CUDA serving engine's random seeded weights of a Qwen3 shape as GGUF (for llama.cpp on the\n"
            "same weights; src/cli/cmd_gguf_random.h says which values are identical).\n\n"
            "  --shape S        Qwen3-0.6B, Qwen3-4B, Qwen3-8B (tests/check_qwen3_serve.cu's shapes) or a\n"
            "                   config.json path (dense Qwen3 only)\n"
            "  --type T         bf16 (= our bf16), q4_0 (= our gptq storage), mxfp4 (= our mxfp4-w4a16),\n"
            "                   q8_0 (re-quantized from our fp8 values)\n"
            "  -o, --out FILE   output .gguf\n"
            "  --tokenizer DIR  folder with tokenizer.json (+ tokenizer_config.json); without it no tokenizer\n"
            "                   keys (llama.cpp refuses such a file)\n"
            "  --seed S         the engine's seed (default 42, check_qwen3_serve --bench's)\n"
            "  --threads N      OpenMP threads (default: OpenMP's)\n"
            "  -h, --help       this text\n");
}

int cmd_gguf_random(int argc, char **argv) {
    const char *shape = NULL, *type = NULL, *out = NULL, *tok = NULL;
    uint64_t seed = 42;
    int64_t threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--shape") && v) shape = argv[++i];
        else if (!strcmp(a, "--type") && v) type = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && v) out = argv[++i];
        else if (!strcmp(a, "--tokenizer") && v) tok = argv[++i];
        else if (!strcmp(a, "--seed") && v) seed = (uint64_t)cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--threads") && v) threads = cli_int(a, argv[++i], 1);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!shape || !type || !out) { usage(stderr); die_usage("--shape, --type and -o are required"); }
    struct gen x = {.seed = seed};
    uint32_t ftype;   /* llama.cpp's enum llama_ftype (include/llama.h), shown as the model's type */
    if (!strcmp(type, "bf16")) x.lin_type = GGML_BLOCK_BF16, x.lin_fmt = SRC_BF16, ftype = 32;
    else if (!strcmp(type, "q8_0")) x.lin_type = GGML_BLOCK_Q8_0, x.lin_fmt = SRC_FP8_BLOCK, ftype = 7;
    else if (!strcmp(type, "q4_0")) x.lin_type = GGML_BLOCK_Q4_0, x.lin_fmt = SRC_INT4_SYM, ftype = 2;
    else if (!strcmp(type, "mxfp4")) x.lin_type = GGML_BLOCK_MXFP4, x.lin_fmt = SRC_MXFP4, ftype = 38;
    else die_usage("--type: expected bf16, q8_0, q4_0 or mxfp4, got '%s'", type);
    if (threads) omp_set_num_threads((int)threads);

    struct qwen3_config c;
    const char *name = shape;
    int known = 0;
    for (int i = 0; i < N_SHAPES; i++)
        if (!strcmp(shape, SHAPES[i].name)) {
            qwen3_config_parse(&c, SHAPES[i].json, SHAPES[i].name);
            known = 1;
        }
    if (!known) {
        qwen3_config_load(&c, shape);
        name = "random";
    }
    if (c.is_moe) die("%s: a MoE shape: ql gguf-random writes dense Qwen3 shapes only", shape);
    const int64_t D = c.D, Dh = c.D_h, HD = c.H * c.D_h, row = c.H_kv * c.D_h, F = c.F;
    if (D % 128 || HD % 128 || F % 128 || c.V % 16 || (HD + 2 * row) % 16)
        die("%s: the serving engine's shapes need D, H D_h, F multiples of 128 and V a multiple of 16", shape);

    const double t0 = monotonic_seconds();
    x.g = gguf_writer_init();
    char gname[160];
    snprintf(gname, sizeof gname, "%s random seed %llu (%s)", name, (unsigned long long)seed, type);
    gguf_export_config_keys(x.g, &c, gname, ftype);
    if (tok) gguf_export_tokenizer(x.g, tok, &c);
    else warn("no --tokenizer: %s gets no tokenizer keys (llama.cpp refuses such a file)", out);

    put_rows(&x, "token_embd.weight", GGML_BLOCK_BF16, SRC_BF16, c.V, D, 1.0f, 1, 0, c.V);
    put_norm(&x, "output_norm.weight", D, rng_hash(seed, 3));
    if (!c.tie_word_embeddings)
        put_rows(&x, "output.weight", GGML_BLOCK_BF16, SRC_BF16, c.V, D, 1.0f / sqrtf((float)D), 2, 0, c.V);
    char nm[128];
    const uint32_t t = x.lin_type;
    const int f = x.lin_fmt;
    const float r_d = 1.0f / sqrtf((float)D), r_hd = 1.0f / sqrtf((float)HD), r_f = 1.0f / sqrtf((float)F);
    for (int64_t l = 0; l < c.n_layers; l++) {
        const uint64_t id = 1000 + 16 * (uint64_t)l;
        const long long L = (long long)l;
        snprintf(nm, sizeof nm, "blk.%lld.attn_norm.weight", L);
        put_norm(&x, nm, D, rng_hash(seed, id + 0));
        const int64_t nqkv = HD + 2 * row;
        snprintf(nm, sizeof nm, "blk.%lld.attn_q.weight", L);
        put_rows(&x, nm, t, f, nqkv, D, r_d, id + 4, 0, HD);
        snprintf(nm, sizeof nm, "blk.%lld.attn_k.weight", L);
        put_rows(&x, nm, t, f, nqkv, D, r_d, id + 4, HD, HD + row);
        snprintf(nm, sizeof nm, "blk.%lld.attn_v.weight", L);
        put_rows(&x, nm, t, f, nqkv, D, r_d, id + 4, HD + row, nqkv);
        snprintf(nm, sizeof nm, "blk.%lld.attn_output.weight", L);
        put_rows(&x, nm, t, f, D, HD, r_hd, id + 5, 0, D);
        snprintf(nm, sizeof nm, "blk.%lld.attn_q_norm.weight", L);
        put_norm(&x, nm, Dh, rng_hash(seed, id + 2));
        snprintf(nm, sizeof nm, "blk.%lld.attn_k_norm.weight", L);
        put_norm(&x, nm, Dh, rng_hash(seed, id + 3));
        snprintf(nm, sizeof nm, "blk.%lld.ffn_norm.weight", L);
        put_norm(&x, nm, D, rng_hash(seed, id + 1));
        snprintf(nm, sizeof nm, "blk.%lld.ffn_gate.weight", L);
        put_rows(&x, nm, t, f, 2 * F, D, r_d, id + 9, 0, F);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_up.weight", L);
        put_rows(&x, nm, t, f, 2 * F, D, r_d, id + 9, F, 2 * F);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_down.weight", L);
        put_rows(&x, nm, t, f, D, F, r_f, id + 10, 0, D);
    }
    const double t1 = monotonic_seconds();
    const uint64_t bytes = gguf_writer_write(x.g, out);
    gguf_writer_free(x.g);
    fprintf(stderr, "%s: %s %s seed %llu: wrote %s (%llu bytes): generated in %.1f s, written in %.1f s\n",
            check_progname(), shape, type, (unsigned long long)seed, out, (unsigned long long)bytes, t1 - t0,
            monotonic_seconds() - t1);
    return 0;
}
