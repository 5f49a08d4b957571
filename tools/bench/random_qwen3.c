/* random_qwen3 -- a Qwen3 checkpoint of a real shape with random BF16 weights, for speed runs (DESIGN.md: "the
 * official configs drive the speed experiments with random weights").
 * Usage: build/bin/random-qwen3 CONFIG.json TOKENIZER_DIR OUT_DIR [SEED]
 * Writes OUT_DIR/config.json (a copy of CONFIG.json), OUT_DIR/model.safetensors (every tensor of a dense Qwen3
 * with tied embeddings: matrices uniform in +-0.02 sqrt(3) (standard deviation 0.02, the configs'
 * initializer_range), norms 1.0) and OUT_DIR/tokenizer.json (a copy of TOKENIZER_DIR/tokenizer.json, so that
 * ql export-gguf can write the GGUF tokenizer). Values are the counter-based hash of (seed, tensor, index):
 * the same file for the same seed. Dense configs only (a MoE config is refused). Nothing here is committed
 * data: the output goes where the caller says (tools/bench/serving.sh uses /tmp). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "formats/bf16.h"
#include "model/qwen3_config.h"

struct tdesc {
    char name[128];
    int64_t r, c;   /* c == 0: a vector of r */
    int is_norm;
};

static void copy_file(const char *src, const char *dst) {
    size_t n;
    char *b = file_read_all(src, &n);
    file_write_atomic(dst, b, n);
    free(b);
}

int main(int argc, char **argv) {
    check_set_progname("random-qwen3");
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: random-qwen3 CONFIG.json TOKENIZER_DIR OUT_DIR [SEED]\n");
        return 2;
    }
    const char *cfg_path = argv[1], *tok_dir = argv[2], *out = argv[3];
    const uint64_t seed = argc == 5 ? strtoull(argv[4], NULL, 10) : 1;
    mkdir_p(out);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", out);
    copy_file(cfg_path, path);
    snprintf(path, sizeof path, "%s/tokenizer.json", tok_dir);
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/tokenizer.json", out);
    copy_file(path, dst);
    struct qwen3_config c;
    qwen3_config_load(&c, out);
    if (c.E > 0) die("%s: a MoE config (num_experts %lld): only dense shapes are generated", cfg_path, (long long)c.E);
    const int64_t D = c.D, F = c.F, Hq = c.H * c.D_h, Hk = c.H_kv * c.D_h, L = c.n_layers;
    const int64_t nt = 2 + L * 11;
    struct tdesc *t = calloc((size_t)nt, sizeof *t);
    int64_t k = 0;
    snprintf(t[k].name, sizeof t[k].name, "model.embed_tokens.weight"), t[k].r = c.V, t[k].c = D, k++;
    for (int64_t l = 0; l < L; l++) {
        const struct { const char *n; int64_t r, c; int norm; } sp[] = {
            {"input_layernorm.weight", D, 0, 1},       {"post_attention_layernorm.weight", D, 0, 1},
            {"self_attn.q_proj.weight", Hq, D, 0},     {"self_attn.k_proj.weight", Hk, D, 0},
            {"self_attn.v_proj.weight", Hk, D, 0},     {"self_attn.o_proj.weight", D, Hq, 0},
            {"self_attn.q_norm.weight", c.D_h, 0, 1},  {"self_attn.k_norm.weight", c.D_h, 0, 1},
            {"mlp.gate_proj.weight", F, D, 0},         {"mlp.up_proj.weight", F, D, 0},
            {"mlp.down_proj.weight", D, F, 0},
        };
        for (int i = 0; i < 11; i++, k++) {
            snprintf(t[k].name, sizeof t[k].name, "model.layers.%lld.%s", (long long)l, sp[i].n);
            t[k].r = sp[i].r, t[k].c = sp[i].c, t[k].is_norm = sp[i].norm;
        }
    }
    snprintf(t[k].name, sizeof t[k].name, "model.norm.weight"), t[k].r = D, t[k].c = 0, t[k].is_norm = 1, k++;
    // safetensors: u64 header length, JSON header, then the data (BF16, in header order)
    size_t cap = 1 << 20, len = 0;
    char *h = malloc(cap);
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int64_t i = 0; i < nt; i++) {
        const uint64_t n = (uint64_t)t[i].r * (uint64_t)(t[i].c ? t[i].c : 1);
        if (t[i].c)
            len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%lld,%lld],\"data_offsets\":[%llu,%llu]}",
                                    t[i].name, (long long)t[i].r, (long long)t[i].c, (unsigned long long)off,
                                    (unsigned long long)(off + 2 * n));
        else
            len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%lld],\"data_offsets\":[%llu,%llu]}",
                                    t[i].name, (long long)t[i].r, (unsigned long long)off, (unsigned long long)(off + 2 * n));
        off += 2 * n;
        CHECK(len < cap - 256, "header too long");
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8) h[len++] = ' ';
    snprintf(path, sizeof path, "%s/model.safetensors.tmp", out);
    FILE *f = fopen(path, "wb");
    if (!f) die("%s: cannot write", path);
    uint64_t hl = len;
    fwrite(&hl, 8, 1, f);
    fwrite(h, 1, len, f);
    const float a = 0.02f * 1.7320508f;
    uint16_t *buf = malloc(sizeof(uint16_t) << 20);
    for (int64_t i = 0; i < nt; i++) {
        const uint64_t n = (uint64_t)t[i].r * (uint64_t)(t[i].c ? t[i].c : 1);
        for (uint64_t j0 = 0; j0 < n; j0 += 1u << 20) {
            const uint64_t m = n - j0 < (1u << 20) ? n - j0 : (1u << 20);
            for (uint64_t j = 0; j < m; j++)
                buf[j] = t[i].is_norm ? bf16_from_float(1.0f)
                                      : bf16_from_float((float)((2.0 * rng_to_unit(rng_hash(seed * 1000003u + (uint64_t)i, j0 + j)) - 1.0) * a));
            if (fwrite(buf, 2, m, f) != m) die("%s: write failed", path);
        }
    }
    if (fclose(f) != 0) die("%s: write failed", path);
    snprintf(dst, sizeof dst, "%s/model.safetensors", out);
    if (rename(path, dst) != 0) die("%s: rename failed", dst);
    fprintf(stderr, "random-qwen3: wrote %s (%lld tensors, %.2f GB BF16, seed %llu)\n", out, (long long)nt, off * 1e-9,
            (unsigned long long)seed);
    free(buf), free(h), free(t);
    return 0;
}
