/* check_gguf_random -- `ql gguf-random`'s GGUF bytes against the serving engine's own random weights on the device
 * (kernels/serve_gemv.cu serve_w_random, the planes copied back), byte for byte: the GGUF that llama.cpp runs in
 * e07-serving holds the engine's values (src/cli/cmd_gguf_random.h says which are exact).
 *   BF16 rows: the device's BF16 code bytes;
 *   Q4_0 blocks (INT4 sym): d = the device's FP16 group scale of the block's 128-group, qs[j] = code j | code
 *     j + 16 << 4 (ggml's nibble pairing) from the device's nibbles (low nibble = even k);
 *   MXFP4 blocks: e = the device's E8M0 byte, qs as above;
 *   Q8_0 (fp8): ggml_block_quantize_q8_0_row (our rule) of e4m3(code) x the device's FP32 block scale.
 * Tensors: token_embd, output (untied), and the Linears of layers 0 and L - 1 (q / k / v / gate / up split by
 * rows from the fused device tensors). The norms are host code in both places and tested by
 * tests/test_gguf_random.c.
 * Usage: check_gguf_random                      a small shape written by build/bin/ql (QL_BIN) for each type
 *        check_gguf_random --gguf F --type T    an existing file (e.g. the e07 benchmark's) of type T
 * Exit 0 all equal, 1 a difference, 77 no CUDA device. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "common.cuh"
#include "core/check.h"
#include "formats/e4m3.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"
#include "serve_gemv.h"

static int g_fail;

struct host_planes {
    std::vector<uint8_t> codes, scales;
};

static void device_planes(host_planes *h, int fmt, int64_t N, int64_t K, float rms, uint64_t seed, uint64_t id) {
    struct serve_w w;
    serve_w_random(&w, fmt, N, K, 1, rms, seed, id);
    size_t cb, sb, zb;
    serve_w_bytes(fmt, N, K, 1, &cb, &sb, &zb);
    h->codes.resize(cb);
    h->scales.resize(sb);
    CUDA_CHECK(cudaMemcpy(h->codes.data(), w.codes, cb, cudaMemcpyDeviceToHost));
    if (sb) CUDA_CHECK(cudaMemcpy(h->scales.data(), w.scales, sb, cudaMemcpyDeviceToHost));
    serve_w_free(&w);
}

static uint32_t nib(const host_planes *h, int64_t K, int64_t r, int64_t k) {
    return (h->codes[(size_t)(r * K + k) / 2] >> (4 * (k & 1))) & 15u;
}

/* Rows [r0, r0 + n) of the device tensor against GGUF tensor `name` of type t; returns the differing rows. */
static int64_t cmp_rows(const struct gguf_file *g, const char *name, uint32_t t, int fmt, const host_planes *h,
                        int64_t N, int64_t K, int64_t r0, int64_t n) {
    const struct gguf_tensor *x = gguf_find_tensor(g, name);
    if (!x || x->type != t || x->ne[0] != K || x->ne[1] != n) {
        printf("FAILED %s: missing, or not of type %u and shape {%lld, %lld}\n", name, t, (long long)K, (long long)n);
        g_fail = 1;
        return n;
    }
    const size_t rb = ggml_block_row_bytes(t, K);
    std::vector<uint8_t> want(rb);
    std::vector<float> w((size_t)K);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t r = r0 + i;
        uint8_t *o = want.data();
        if (t == GGML_BLOCK_BF16) memcpy(o, &h->codes[(size_t)(r * K) * 2], rb);
        else if (t == GGML_BLOCK_Q4_0 || t == GGML_BLOCK_MXFP4) {
            const size_t bb = t == GGML_BLOCK_Q4_0 ? 18 : 17, q0 = t == GGML_BLOCK_Q4_0 ? 2 : 1;
            for (int64_t b = 0; b < K / 32; b++, o += bb) {
                if (t == GGML_BLOCK_Q4_0) memcpy(o, &h->scales[(size_t)(r * (K / 128) + b / 4) * 2], 2);
                else o[0] = h->scales[(size_t)(r * (K / 32) + b)];
                for (int j = 0; j < 16; j++) o[q0 + j] = (uint8_t)(nib(h, K, r, 32 * b + j) | nib(h, K, r, 32 * b + j + 16) << 4);
            }
        } else {
            for (int64_t k = 0; k < K; k++) {
                float s;
                memcpy(&s, &h->scales[(size_t)((r / 128) * (K / 128) + k / 128) * 4], 4);
                w[(size_t)k] = e4m3_to_float(h->codes[(size_t)(r * K + k)]) * s;
            }
            ggml_block_quantize_q8_0_row(w.data(), o, K);
        }
        if (memcmp(want.data(), (const uint8_t *)x->data + (size_t)i * rb, rb)) bad++;
    }
    (void)fmt, (void)N;
    printf("%s %-26s %lld rows (%lld differ)\n", bad ? "FAILED" : "ok", name, (long long)n, (long long)bad);
    if (bad) g_fail = 1;
    return bad;
}

static void check_file(const char *path, const char *type) {
    uint32_t t;
    int fmt;
    if (!strcmp(type, "bf16")) t = GGML_BLOCK_BF16, fmt = SERVE_BF16;
    else if (!strcmp(type, "q8_0")) t = GGML_BLOCK_Q8_0, fmt = SERVE_FP8_BLOCK;
    else if (!strcmp(type, "q4_0")) t = GGML_BLOCK_Q4_0, fmt = SERVE_INT4_SYM;
    else if (!strcmp(type, "mxfp4")) t = GGML_BLOCK_MXFP4, fmt = SERVE_MXFP4;
    else die("--type: expected bf16, q8_0, q4_0 or mxfp4, got '%s'", type);
    struct gguf_file g;
    gguf_open(&g, path);
    int64_t D, F, L, H, Hkv, Dh;
    if (!gguf_get_int(&g, "qwen3.embedding_length", &D) || !gguf_get_int(&g, "qwen3.feed_forward_length", &F) ||
        !gguf_get_int(&g, "qwen3.block_count", &L) || !gguf_get_int(&g, "qwen3.attention.head_count", &H) ||
        !gguf_get_int(&g, "qwen3.attention.head_count_kv", &Hkv) || !gguf_get_int(&g, "qwen3.attention.key_length", &Dh))
        die("%s: expected the qwen3 shape keys", path);
    const struct gguf_tensor *emb = gguf_find_tensor(&g, "token_embd.weight");
    if (!emb) die("%s: no token_embd.weight", path);
    const int64_t V = emb->ne[1], HD = H * Dh, row = Hkv * Dh;
    const uint64_t seed = 42;
    printf("%s (%s): D %lld F %lld L %lld H %lld/%lld V %lld\n", path, type, (long long)D, (long long)F, (long long)L,
           (long long)H, (long long)Hkv, (long long)V);
    host_planes h;
    device_planes(&h, SERVE_BF16, V, D, 1.0f, seed, 1);
    cmp_rows(&g, "token_embd.weight", GGML_BLOCK_BF16, SERVE_BF16, &h, V, D, 0, V);
    if (gguf_find_tensor(&g, "output.weight")) {
        device_planes(&h, SERVE_BF16, V, D, 1.0f / sqrtf((float)D), seed, 2);
        cmp_rows(&g, "output.weight", GGML_BLOCK_BF16, SERVE_BF16, &h, V, D, 0, V);
    }
    const int64_t layers[2] = {0, L - 1};
    char nm[128];
    for (int li = 0; li < (L > 1 ? 2 : 1); li++) {
        const int64_t l = layers[li];
        const uint64_t id = 1000 + 16 * (uint64_t)l;
        const int64_t nqkv = HD + 2 * row;
        device_planes(&h, fmt, nqkv, D, 1.0f / sqrtf((float)D), seed, id + 4);
        snprintf(nm, sizeof nm, "blk.%lld.attn_q.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, nqkv, D, 0, HD);
        snprintf(nm, sizeof nm, "blk.%lld.attn_k.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, nqkv, D, HD, row);
        snprintf(nm, sizeof nm, "blk.%lld.attn_v.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, nqkv, D, HD + row, row);
        device_planes(&h, fmt, D, HD, 1.0f / sqrtf((float)HD), seed, id + 5);
        snprintf(nm, sizeof nm, "blk.%lld.attn_output.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, D, HD, 0, D);
        device_planes(&h, fmt, 2 * F, D, 1.0f / sqrtf((float)D), seed, id + 9);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_gate.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, 2 * F, D, 0, F);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_up.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, 2 * F, D, F, F);
        device_planes(&h, fmt, D, F, 1.0f / sqrtf((float)F), seed, id + 10);
        snprintf(nm, sizeof nm, "blk.%lld.ffn_down.weight", (long long)l);
        cmp_rows(&g, nm, t, fmt, &h, D, F, 0, D);
    }
    gguf_close(&g);
}

int main(int argc, char **argv) {
    check_set_progname("check_gguf_random");
    const char *gguf = NULL, *type = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--gguf") && i + 1 < argc) gguf = argv[++i];
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) type = argv[++i];
        else {
            fprintf(stderr, "usage: check_gguf_random [--gguf FILE --type bf16|q8_0|q4_0|mxfp4]\n");
            return 2;
        }
    }
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    if (gguf) {
        if (!type) die("--gguf needs --type");
        check_file(gguf, type);
    } else {
        const char *ql = getenv("QL_BIN") ? getenv("QL_BIN") : "build/bin/ql";
        const char *dir = "build/tmp/check_gguf_random";
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "mkdir -p %s && printf '%%s' '{\"architectures\":[\"Qwen3ForCausalLM\"],"
                 "\"hidden_size\":256,\"intermediate_size\":384,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
                 "\"num_key_value_heads\":1,\"head_dim\":128,\"vocab_size\":512,\"max_position_embeddings\":4096,"
                 "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000,\"tie_word_embeddings\":false,\"hidden_act\":\"silu\","
                 "\"attention_bias\":false}' > %s/config.json", dir, dir);
        if (system(cmd) != 0) die("%s: cannot write the config", dir);
        const char *types[4] = {"bf16", "q8_0", "q4_0", "mxfp4"};
        for (int i = 0; i < 4; i++) {
            snprintf(cmd, sizeof cmd, "%s gguf-random --shape %s/config.json --type %s -o %s/%s.gguf 2>/dev/null", ql, dir,
                     types[i], dir, types[i]);
            if (system(cmd) != 0) die("%s failed", cmd);
            char path[512];
            snprintf(path, sizeof path, "%s/%s.gguf", dir, types[i]);
            check_file(path, types[i]);
        }
    }
    printf(g_fail ? "FAILED: see above\n" : "All gguf-random checks pass.\n");
    return g_fail ? 1 : 0;
}
