/* test_gguf -- the GGUF container, the ggml block maps, the exporter and the GGUF loader.
 * 1. A GGUF file written out byte by byte from the spec (docs/gguf.md of ggml-org/ggml at d99724f2), not by our
 *    writer: the reader parses it, our writer reproduces it byte for byte, and every corruption of it (each
 *    truncation, a bad magic / version / alignment / n_dims / type / block multiple / offset, lying counts and
 *    lengths, duplicates, overlap) dies in a child with exit status 1 and one line naming the file.
 * 2. ggml block decoding of hand-made blocks (values derived from ggml-common.h / ggml-quants.c by hand), the
 *    FP16 encoder against every binary16 number and its midpoints.
 * 3. The packers: each scheme quantized by qtensor_quantize, packed into its ggml type and decoded there gives
 *    our dequantized values: bit for bit for int4 sym -> Q4_0 and mxfp4 -> MXFP4, within the derived bounds
 *    for int4 asym -> Q4_1 (the FP16 min) and nvfp4 -> NVFP4 (1/g in FP32); refusals where FP16 cannot hold a
 *    scale.
 * 4. The fixtures of tests/fixtures/qwen3 (dense-f32, dense-bf16, moe-bf16, and dense-bf16 under RTN int4 /
 *    mxfp4 / nvfp4): export, load back, identical FP32 weights and identical engine logits (bounded for the
 *    two inexact maps); an unrepresentable scheme is refused with one line naming the tensor. */
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
#include "engine/engine.h"
#include "eval/perplexity_llamacpp.h"
#include "formats/f16.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"
#include "model/qwen3.h"
#include "quant/gguf_export.h"
#include "fixture.h"
#include "test.h"

#define FIXDIR "tests/fixtures/qwen3"

static char tmpdir[256];

static void write_bytes(const char *path, const uint8_t *b, size_t n) {
    FILE *f = xfopen(path, "wb");
    xfwrite(b, 1, n, f, path);
    xfclose(f, path);
}

// ---- 1. the hand-made file ----

/* A byte builder independent of the writer (little-endian fields as the spec lists them). */
struct hb {
    uint8_t b[512];
    size_t n;
};
static void hb_u(struct hb *h, uint64_t v, int n) {
    for (int i = 0; i < n; i++) h->b[h->n++] = (uint8_t)(v >> (8 * i));
}
static void hb_s(struct hb *h, const char *s) {
    hb_u(h, strlen(s), 8);
    memcpy(h->b + h->n, s, strlen(s));
    h->n += strlen(s);
}

/* The fixture: 2 pairs (general.alignment u32 32; "t.s" string "hi"), 1 tensor "w" Q8_0 {32, 1} at offset 0,
 * d = FP16 0.5 (0x3800), qs[j] = j - 16. Offsets: header 24, pair 1 ends at 57, pair 2 at 82, the tensor info
 * at 123, padding to 128, data 34 bytes, zero padding to 192. */
static size_t fixture(uint8_t *out) {
    struct hb h = {.n = 0};
    memcpy(h.b, "GGUF", 4);
    h.n = 4;
    hb_u(&h, 3, 4);
    hb_u(&h, 1, 8);
    hb_u(&h, 2, 8);
    hb_s(&h, "general.alignment");
    hb_u(&h, 4, 4);
    hb_u(&h, 32, 4);
    hb_s(&h, "t.s");
    hb_u(&h, 8, 4);
    hb_s(&h, "hi");
    hb_s(&h, "w");
    hb_u(&h, 2, 4);
    hb_u(&h, 32, 8);
    hb_u(&h, 1, 8);
    hb_u(&h, 8, 4);
    hb_u(&h, 0, 8);
    CHECK(h.n == 123, "fixture header %zu", h.n);
    while (h.n < 128) h.b[h.n++] = 0;
    h.b[h.n++] = 0x00;
    h.b[h.n++] = 0x38;
    for (int j = 0; j < 32; j++) h.b[h.n++] = (uint8_t)(int8_t)(j - 16);
    while (h.n < 192) h.b[h.n++] = 0;
    memcpy(out, h.b, h.n);
    return h.n;
}

static void open_and_close(void *path) {
    struct gguf_file g;
    gguf_open(&g, path);
    gguf_close(&g);
}

/* gguf_open(path) in a child: exit status, stderr in err. */
static int open_in_child(const char *path, char *err, size_t cap) {
    return fixture_in_child(open_and_close, (void *)path, err, cap);
}

static int one_line_naming(const char *err, const char *path) {
    return fixture_count_lines(err) == 1 && strstr(err, path) != NULL;
}

/* Expects the mutated fixture to be refused with one line naming the file and containing `want`. */
static void expect_refused(const uint8_t *b, size_t n, const char *what, const char *want) {
    char path[512], err[2048];
    snprintf(path, sizeof path, "%s/bad.gguf", tmpdir);
    write_bytes(path, b, n);
    int rc = open_in_child(path, err, sizeof err);
    TEST(rc == 1 && one_line_naming(err, path) && strstr(err, want), "refused: %s (rc %d: %.*s)", what, rc,
         (int)strcspn(err, "\n"), err);
}

static void put64(uint8_t *b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) b[at + i] = (uint8_t)(v >> (8 * i));
}

static void check_container(void) {
    uint8_t fx[192];
    size_t n = fixture(fx);
    char path[512];
    snprintf(path, sizeof path, "%s/fixture.gguf", tmpdir);
    write_bytes(path, fx, n);
    struct gguf_file g;
    gguf_open(&g, path);
    int64_t al = 0;
    char *s = gguf_get_string(&g, "t.s");
    struct gguf_tensor *t = gguf_find_tensor(&g, "w");
    TEST(g.version == 3 && g.n_kv == 2 && g.n_tensors == 1 && gguf_get_int(&g, "general.alignment", &al) && al == 32 &&
             s && !strcmp(s, "hi") && g.data_offset == 128,
         "reader: the hand-made file's header, pairs and data offset");
    float y[32];
    int ok = t && t->type == GGML_BLOCK_Q8_0 && t->n_dims == 2 && t->ne[0] == 32 && t->ne[1] == 1 && t->bytes == 34;
    if (ok) {
        ggml_block_dequantize_row(t->type, t->data, y, 32);
        for (int j = 0; j < 32; j++) ok &= y[j] == 0.5f * (float)(j - 16);
    }
    TEST(ok, "reader: tensor info and Q8_0 values (j - 16) * 0.5");
    free(s);

    /* the writer, given the same content, writes the same bytes */
    struct gguf_writer *w = gguf_writer_init();
    gguf_writer_set_u32(w, "general.alignment", 32);
    gguf_writer_set_str(w, "t.s", "hi");
    int64_t ne[2] = {32, 1};
    gguf_writer_add_tensor(w, "w", GGML_BLOCK_Q8_0, 2, ne, fx + 128, 34, 0);
    char wpath[512];
    snprintf(wpath, sizeof wpath, "%s/written.gguf", tmpdir);
    uint64_t wn = gguf_writer_write(w, wpath);
    gguf_writer_free(w);
    size_t len;
    char *wb = file_read_all(wpath, &len);
    TEST(wn == n && len == n && !memcmp(wb, fx, n), "writer: reproduces the hand-made file byte for byte (%zu bytes)", len);
    free(wb);
    gguf_close(&g);

    /* without the trailing padding of the last tensor the file is still valid (the spec pads between tensors) */
    snprintf(path, sizeof path, "%s/short.gguf", tmpdir);
    write_bytes(path, fx, 162);
    char err[2048];
    TEST(open_in_child(path, err, sizeof err) == 0, "reader: no padding after the last tensor is accepted");

    /* every truncation before the end of the data dies with one line */
    int all = 1;
    for (size_t cut = 0; cut < 162 && all; cut++) {
        snprintf(path, sizeof path, "%s/cut.gguf", tmpdir);
        write_bytes(path, fx, cut);
        int rc = open_in_child(path, err, sizeof err);
        if (rc != 1 || !one_line_naming(err, path)) {
            all = 0;
            printf("  cut at %zu: rc %d: %s", cut, rc, err);
        }
    }
    TEST(all, "reader: each of the 162 truncations dies (exit 1, one line naming the file)");

    uint8_t b[192];
#define MUT(stmt, what, want) (memcpy(b, fx, n), (stmt), expect_refused(b, n, what, want))
    MUT(b[0] = 'X', "bad magic", "magic");
    MUT(b[4] = 1, "version 1", "version");
    MUT(b[53] = 3, "alignment 3", "power of two");
    MUT(b[91] = 5, "n_dims 5", "n_dims");
    MUT(b[111] = 99, "ggml type 99", "not supported");
    MUT(b[95] = 33, "ne[0] 33 for Q8_0", "multiple");
    MUT(b[115] = 8, "offset 8 (not aligned to 32)", "alignment");
    MUT(b[115] = 160, "offset 160 (data past the end)", "truncated");
    MUT(put64(b, 8, 1ull << 40), "tensor count 2^40", "more than");
    MUT(put64(b, 72, UINT64_MAX), "string length 2^64 - 1", "truncated");
    MUT(put64(b, 95, 1ull << 62), "ne[0] 2^62 (a data size past the end)", "truncated");
    MUT((put64(b, 95, 1ull << 62), put64(b, 103, 4)), "element count overflowing 64 bits", "overflow");
    MUT(b[68] = 0x0d, "value type 13", "unknown value type");
#undef MUT
    /* duplicates and overlap: small files built here */
    struct hb h = {.n = 0};
    memcpy(h.b, "GGUF", 4), h.n = 4;
    hb_u(&h, 3, 4), hb_u(&h, 0, 8), hb_u(&h, 2, 8);
    hb_s(&h, "a"), hb_u(&h, 4, 4), hb_u(&h, 1, 4);
    hb_s(&h, "a"), hb_u(&h, 4, 4), hb_u(&h, 2, 4);
    expect_refused(h.b, h.n, "duplicate key", "duplicate");
    h.n = 4;
    hb_u(&h, 3, 4), hb_u(&h, 2, 8), hb_u(&h, 0, 8);
    hb_s(&h, "x"), hb_u(&h, 1, 4), hb_u(&h, 16, 8), hb_u(&h, 0, 4), hb_u(&h, 0, 8);
    hb_s(&h, "y"), hb_u(&h, 1, 4), hb_u(&h, 16, 8), hb_u(&h, 0, 4), hb_u(&h, 32, 8);
    size_t hdr = h.n;
    while (h.n % 32) h.b[h.n++] = 0;
    memset(h.b + h.n, 0, 128), h.n += 128;
    expect_refused(h.b, h.n, "two F32 {16} tensors at offsets 0 and 32 (64 bytes each)", "overlap");
    (void)hdr;
}

// ---- 2. block decoding and FP16 ----

static void check_blocks(void) {
    uint8_t q40[18] = {0x00, 0x3c, 0x1f}, q41[20] = {0x00, 0x3c, 0x00, 0xbc, 0x52}, mx[17] = {128, 0xf7, 0x91};
    float y[64];
    ggml_block_dequantize_row(GGML_BLOCK_Q4_0, q40, y, 32);
    /* Q4_0: d 1.0; qs[0] = 0x1f: low 15 - 8 = 7 at element 0, high 1 - 8 = -7 at element 16; zero bytes -8 */
    TEST(y[0] == 7 && y[16] == -7 && y[1] == -8 && y[31] == -8, "Q4_0: nibble j -> element j, j + 16 (-8 offset)");
    ggml_block_dequantize_row(GGML_BLOCK_Q4_1, q41, y, 32);
    /* Q4_1: d 1, m -1; qs[0] = 0x52: 2 - 1 at element 0, 5 - 1 at element 16 */
    TEST(y[0] == 1 && y[16] == 4 && y[1] == -1, "Q4_1: q d + m");
    ggml_block_dequantize_row(GGML_BLOCK_MXFP4, mx, y, 32);
    /* MXFP4: e 128 -> 2; 0xf7: low 7 = +6 -> 12 at 0, high 0xf = -6 -> -12 at 16; 0x91: +0.5 -> 1, -0.5 -> -1 */
    TEST(y[0] == 12 && y[16] == -12 && y[1] == 1 && y[17] == -1 && y[2] == 0, "MXFP4: E2M1 x 2^(e-127), j / j + 16");
    uint8_t nv[36] = {0x38, 0x40, 0x01, 0x7f};
    nv[4] = 0x2a, nv[12] = 0x07, nv[20] = 0x01, nv[28] = 0x77;
    ggml_block_dequantize_row(GGML_BLOCK_NVFP4, nv, y, 64);
    /* NVFP4: sub-scales 1, 2, 2^-9, and 0x7f which ggml decodes as 0; 0x2a: low 0xa = -1 at 0, high 2 = +1 at 8 */
    TEST(y[0] == -1 && y[8] == 1 && y[16] == 12 && y[24] == 0 && y[32] == 0x1p-10f && y[48] == 0 && y[56] == 0,
         "NVFP4: four UE4M3 sub-scales, j / j + 8 inside each 16");

    int all = 1, mids = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float v = f16_to_float((uint16_t)h);
        if (isnan(v)) {
            all &= isnan(f16_to_float(ggml_block_f16_from_float(v)));
            continue;
        }
        all &= ggml_block_f16_from_float(v) == h;
        /* the midpoint to the next number up (same sign) rounds to the even one of the two */
        uint16_t up = (uint16_t)(h + 1);
        if ((h & 0x7fff) < 0x7c00 && (h & 0x7fff) != 0x7bff) {
            double mid = ((double)v + (double)f16_to_float(up)) / 2;
            uint16_t want = (h & 1) ? up : (uint16_t)h;
            mids &= ggml_block_f16_from_float((float)mid) == want;
        }
    }
    TEST(all, "f16 encoder: every binary16 number round-trips (NaN stays NaN)");
    TEST(mids, "f16 encoder: every midpoint between neighbours rounds to the even neighbour");
    TEST(ggml_block_f16_from_float(65519.99f) == 0x7bff && ggml_block_f16_from_float(65520.0f) == 0x7c00 &&
             ggml_block_f16_from_float(0x1p-25f) == 0 && ggml_block_f16_from_float(0x1.0001p-25f) == 1,
         "f16 encoder: overflow at 65520, the subnormal tie 2^-25 -> 0, above it -> 2^-24");
}

// ---- 3. packers ----

static float *random_matrix(int64_t N, int64_t K, uint64_t seed, double scale) {
    struct rng r;
    rng_init(&r, seed);
    float *w = xmalloc((size_t)(N * K) * sizeof *w);
    for (int64_t i = 0; i < N * K; i++) w[i] = (float)(rng_normal(&r) * scale);
    for (int64_t k = 0; k < K; k++) w[3 * K + k] = 0.0f;   /* an all-zero row: zero scales everywhere */
    return w;
}

/* Packs q into type t and decodes it the ggml way (with the NVFP4 scale as llama.cpp's loader applies it). */
static float *via_ggml(const struct qtensor *q, uint32_t t, int64_t *bad, int64_t *inexact) {
    size_t rb = ggml_block_row_bytes(t, q->K);
    uint8_t *b = xcalloc((size_t)q->N, rb);
    float s = 1.0f;
    *inexact = 0;
    switch (t) {
    case GGML_BLOCK_Q4_0: *bad = ggml_block_pack_q4_0(q, b); break;
    case GGML_BLOCK_Q4_1: *bad = ggml_block_pack_q4_1(q, b, inexact); break;
    case GGML_BLOCK_MXFP4: *bad = ggml_block_pack_mxfp4(q, b); break;
    default: *bad = ggml_block_pack_nvfp4(q, b, &s); break;
    }
    float *y = xmalloc((size_t)(q->N * q->K) * sizeof *y);
    for (int64_t n = 0; n < q->N; n++) {
        ggml_block_dequantize_row(t, b + n * rb, y + n * q->K, q->K);
        if (t == GGML_BLOCK_NVFP4)
            for (int64_t k = 0; k < q->K; k++) y[n * q->K + k] *= s;
    }
    free(b);
    return y;
}

static void check_packers(void) {
    const int64_t N = 16, K = 256;
    static const struct {
        const char *scheme;
        uint32_t type;
    } cases[] = {
        {"int4-g128-sym", GGML_BLOCK_Q4_0}, {"int4-g32-sym", GGML_BLOCK_Q4_0}, {"int4-g64-sym-awq", GGML_BLOCK_Q4_0},
        {"int4-g128-asym", GGML_BLOCK_Q4_1}, {"int4-g32-asym-awq", GGML_BLOCK_Q4_1}, {"mxfp4", GGML_BLOCK_MXFP4},
        {"mxfp4-ceil", GGML_BLOCK_MXFP4},    {"nvfp4", GGML_BLOCK_NVFP4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct qparams p;
        int f = qformat_parse(cases[c].scheme, &p);
        CHECK(f >= 0, "%s", cases[c].scheme);
        float *w = random_matrix(N, K, 100 + c, 0.05);
        struct qtensor q;
        qtensor_quantize(&q, (enum qformat)f, w, N, K, &p);
        float *ours = xmalloc((size_t)(N * K) * sizeof *ours);
        qtensor_dequantize(&q, ours);
        int64_t bad, inexact;
        float *theirs = via_ggml(&q, cases[c].type, &bad, &inexact);
        int64_t diff = 0, over = 0;
        double worst = 0;
        for (int64_t i = 0; i < N * K; i++) {
            if (ours[i] == theirs[i]) continue;
            diff++;
            double d = fabs((double)ours[i] - theirs[i]);
            /* Q4_1: the FP16 min is off by at most half an FP16 ulp of z s <= 15 s, i.e. <= 2^-11 * 16 s =
             * 2^-7 s, plus one FP32 rounding of q d + m (<= 2^-24 * 15 s): bound 2^-7 s + 2^-20 s.
             * NVFP4: ours fl(c / g), ggml's fl(c * fl(1 / g)): <= 3 * 2^-24 |c / g| < 2^-22 |y|. */
            double bound = cases[c].type == GGML_BLOCK_Q4_1
                               ? (0x1p-7 + 0x1p-20) * qtensor_scale_at(&q, i / K, i % K)
                               : cases[c].type == GGML_BLOCK_NVFP4 ? 0x1p-22 * fabs((double)ours[i]) : 0.0;
            over += d > bound;
            if (d > worst) worst = d;
        }
        int exact = cases[c].type == GGML_BLOCK_Q4_0 || cases[c].type == GGML_BLOCK_MXFP4;
        TEST(bad < 0 && over == 0 && (!exact || diff == 0),
             "pack %s -> %s: %lld of %lld values differ (max %.3g, all within the derived bound), %lld inexact mins",
             cases[c].scheme, cases[c].type == GGML_BLOCK_Q4_0 ? "q4_0" : cases[c].type == GGML_BLOCK_Q4_1 ? "q4_1"
                              : cases[c].type == GGML_BLOCK_MXFP4 ? "mxfp4" : "nvfp4",
             (long long)diff, (long long)(N * K), worst, (long long)inexact);
        free(w), free(ours), free(theirs);
        qtensor_free(&q);
    }
    /* refusals: a group scale above FP16's largest number, and one below its subnormal grid */
    struct qparams p;
    int f = qformat_parse("int4-g128-sym", &p);
    float *w = random_matrix(4, 128, 7, 1.0);
    w[5] = 1e6f;   /* row 0: amax 1e6, s = 1e6 / 7.5 > 65504 */
    struct qtensor q;
    qtensor_quantize(&q, (enum qformat)f, w, 4, 128, &p);
    int64_t bad, inexact;
    free(via_ggml(&q, GGML_BLOCK_Q4_0, &bad, &inexact));
    TEST(bad == 0, "pack int4-g128-sym -> q4_0: a scale above 65504 is refused (element %lld)", (long long)bad);
    qtensor_free(&q);
    for (int64_t k = 0; k < 128; k++) w[128 + k] = (float)(k % 7) * 1e-7f;   /* row 1: s ~ 8e-8, below 2^-17 */
    w[5] = 0.1f;
    qtensor_quantize(&q, (enum qformat)f, w, 4, 128, &p);
    free(via_ggml(&q, GGML_BLOCK_Q4_0, &bad, &inexact));
    TEST(bad == 128, "pack int4-g128-sym -> q4_0: a scale FP16 cannot hold exactly is refused (element %lld)", (long long)bad);
    qtensor_free(&q);
    free(w);
}

// ---- 4. fixtures end to end ----

struct rtn {
    enum qformat f;
    struct qparams p;
};
static void rtn_one(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind, struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    const struct rtn *r = ctx;
    struct qtensor *q = xcalloc(1, sizeof *q);
    qtensor_quantize(q, r->f, l->w, l->N, l->K, &r->p);
    linear_set_packed(l, q, "rtn");
}

/* Every FP32 array of a and b: returns the largest |a - b| / bound (0 when identical); bound_rel scales |a|. */
static double weights_gap(const struct qwen3_model *a, const struct qwen3_model *b, int64_t *n_diff) {
    const struct qwen3_config *c = &a->cfg;
    double worst = 0;
    *n_diff = 0;
#define CMP(x, y, n)                                                                                           \
    for (int64_t i_ = 0; i_ < (n); i_++)                                                                       \
        if ((x)[i_] != (y)[i_]) {                                                                              \
            (*n_diff)++;                                                                                       \
            double d_ = fabs((double)(x)[i_] - (y)[i_]) / (fabs((double)(x)[i_]) + 1e-30);                   \
            if (d_ > worst) worst = d_;                                                                        \
        }
    CMP(a->embed, b->embed, c->V * c->D);
    CMP(a->final_norm, b->final_norm, c->D);
    CMP(a->lm_head, b->lm_head, c->V * c->D);
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *x = &a->layers[l], *y = &b->layers[l];
        CMP(x->attn_norm, y->attn_norm, c->D);
        CMP(x->mlp_norm, y->mlp_norm, c->D);
        CMP(x->q_norm, y->q_norm, c->D_h);
        CMP(x->k_norm, y->k_norm, c->D_h);
        const struct linear *la[7] = {&x->q, &x->k, &x->v, &x->o, &x->gate, &x->up, &x->down};
        const struct linear *lb[7] = {&y->q, &y->k, &y->v, &y->o, &y->gate, &y->up, &y->down};
        for (int i = 0; i < (x->is_moe ? 4 : 7); i++) CMP(la[i]->w, lb[i]->w, la[i]->N * la[i]->K);
        if (x->is_moe) {
            CMP(x->router, y->router, c->E * c->D);
            for (int64_t e = 0; e < c->E; e++) {
                CMP(x->exp_gate[e].w, y->exp_gate[e].w, x->exp_gate[e].N * x->exp_gate[e].K);
                CMP(x->exp_up[e].w, y->exp_up[e].w, x->exp_up[e].N * x->exp_up[e].K);
                CMP(x->exp_down[e].w, y->exp_down[e].w, x->exp_down[e].N * x->exp_down[e].K);
            }
        }
    }
#undef CMP
    return worst;
}

static void logits_of(struct qwen3_model *m, float *out, int64_t T) {
    int32_t ids[24];
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)((t * 37 + 11) % m->cfg.V);
    struct engine *e = engine_create(m, "cpu");
    engine_forward(e, ids, T, out, NULL);
    engine_free(e);
}

/* Exports fixture `name` (RTN-quantized into scheme when not NULL), loads it back and compares. rel_bound 0
 * means bit-identical weights and logits are required. */
static void check_roundtrip(const char *name, const char *scheme, uint32_t float_type, double rel_bound) {
    char dir[512], out[512];
    snprintf(dir, sizeof dir, FIXDIR "/%s", name);
    snprintf(out, sizeof out, "%s/%s-%s.gguf", tmpdir, name, scheme ? scheme : float_type == GGML_BLOCK_BF16 ? "bf16" : "f32");
    struct qwen3_model *a = qwen3_load(dir);
    if (scheme) {
        struct rtn r;
        int f = qformat_parse(scheme, &r.p);
        CHECK(f >= 0, "%s", scheme);
        r.f = (enum qformat)f;
        qwen3_for_each_linear(a, rtn_one, &r);
    }
    struct gguf_export_opts o = {.float_type = float_type};
    gguf_export_write(a, &o, out);
    // general.file_type: llama.cpp's llama_ftype of the Linears' type (its label in llama-bench).
    {
        const uint32_t want = !scheme ? (float_type == GGML_BLOCK_BF16 ? 32 : 0)
                              : strstr(scheme, "mxfp4")  ? 38
                              : strstr(scheme, "nvfp4")  ? 39
                              : strstr(scheme, "-asym") ? 3
                                                         : 2;
        struct gguf_file g;
        gguf_open(&g, out);
        int64_t ft = -1;
        TEST(gguf_get_int(&g, "general.file_type", &ft) && ft == (int64_t)want,
             "export %s %s: general.file_type %lld (llama_ftype %u)", name, scheme ? scheme : "float", (long long)ft, want);
        gguf_close(&g);
    }
    struct qwen3_model *b = qwen3_load(out);
    int64_t nd;
    double gap = weights_gap(a, b, &nd);
    const int64_t T = 24, V = a->cfg.V;
    float *la = xmalloc((size_t)(T * V) * sizeof *la), *lb = xmalloc((size_t)(T * V) * sizeof *lb);
    logits_of(a, la, T);
    logits_of(b, lb, T);
    double dl = 0;
    for (int64_t i = 0; i < T * V; i++) dl = fmax(dl, fabs((double)la[i] - lb[i]));
    int cfg_same = a->cfg.D == b->cfg.D && a->cfg.n_layers == b->cfg.n_layers && a->cfg.H_kv == b->cfg.H_kv &&
                   a->cfg.tie_word_embeddings == b->cfg.tie_word_embeddings && a->cfg.rope_theta == b->cfg.rope_theta &&
                   (float)a->cfg.rms_norm_eps == (float)b->cfg.rms_norm_eps && a->cfg.is_moe == b->cfg.is_moe &&
                   a->cfg.E == b->cfg.E && a->cfg.top_k == b->cfg.top_k && a->cfg.norm_topk_prob == b->cfg.norm_topk_prob;
    for (int64_t l = 0; l < a->cfg.n_layers; l++) cfg_same &= a->cfg.layer_is_moe[l] == b->cfg.layer_is_moe[l];
    if (isinf(rel_bound)) {
        /* Q4_1: per element |a - b| <= (2^-7 + 2^-20) s of its group (the packer test's derivation) */
        int64_t over = 0;
        for (int64_t l = 0; l < a->cfg.n_layers; l++) {
            const struct qwen3_layer *x = &a->layers[l], *y = &b->layers[l];
            const struct linear *la7[7] = {&x->q, &x->k, &x->v, &x->o, &x->gate, &x->up, &x->down};
            const struct linear *lb7[7] = {&y->q, &y->k, &y->v, &y->o, &y->gate, &y->up, &y->down};
            for (int i = 0; i < 7; i++)
                for (int64_t j = 0; j < la7[i]->N * la7[i]->K; j++) {
                    double bound = (0x1p-7 + 0x1p-20) * qtensor_scale_at(la7[i]->packed, j / la7[i]->K, j % la7[i]->K);
                    over += fabs((double)la7[i]->w[j] - lb7[i]->w[j]) > bound;
                }
        }
        TEST(cfg_same && over == 0 && isfinite(dl), "round trip %s %s: %lld weights differ, all within (2^-7 + 2^-20) s "
             "of their group; max |d logit| %.3g (the FP16 min of Q4_1)", name, scheme, (long long)nd, dl);
    } else if (rel_bound == 0)
        TEST(cfg_same && nd == 0 && dl == 0, "round trip %s %s: config, every weight and the logits identical (%lld "
             "weights differ, max |d logit| %.3g)", name, scheme ? scheme : "float", (long long)nd, dl);
    else
        /* logits: each weight moves by <= rel_bound relative; through 2 layers that is far below 1e-4 here */
        TEST(cfg_same && gap <= rel_bound && dl < 1e-4, "round trip %s %s: %lld weights differ, max rel %.3g <= %.3g; "
             "max |d logit| %.3g < 1e-4", name, scheme, (long long)nd, gap, rel_bound, dl);
    free(la), free(lb);
    qwen3_free(a);
    qwen3_free(b);
}

/* gguf_export_write of fixture dir under scheme in a child: exit status and stderr. */
static void export_child(void *arg) {
    const char *scheme = arg;
    struct qwen3_model *a = qwen3_load(FIXDIR "/dense-bf16");
    struct rtn r;
    r.f = (enum qformat)qformat_parse(scheme, &r.p);
    qwen3_for_each_linear(a, rtn_one, &r);
    struct gguf_export_opts o = {0};
    char out[512];
    snprintf(out, sizeof out, "%s/refused.gguf", tmpdir);
    gguf_export_write(a, &o, out);
}

static int export_in_child(const char *scheme, char *err, size_t cap) {
    return fixture_in_child(export_child, (void *)scheme, err, cap);
}

static void check_fixtures(void) {
    if (!file_exists(FIXDIR "/dense-bf16/config.json")) {
        printf("SKIP fixtures: " FIXDIR " absent\n");
        return;
    }
    check_roundtrip("dense-f32", NULL, GGML_BLOCK_F32, 0);
    check_roundtrip("dense-bf16", NULL, GGML_BLOCK_F32, 0);
    check_roundtrip("dense-bf16", NULL, GGML_BLOCK_BF16, 0);
    check_roundtrip("moe-bf16", NULL, GGML_BLOCK_F32, 0);
    check_roundtrip("moe-bf16", NULL, GGML_BLOCK_BF16, 0);
    check_roundtrip("dense-bf16", "int4-g128-sym", 0, 0);
    check_roundtrip("dense-bf16", "int4-g32-sym", 0, 0);
    check_roundtrip("dense-bf16", "mxfp4", 0, 0);
    check_roundtrip("dense-bf16", "mxfp4-ceil", 0, 0);
    /* Q4_1: relative to the weight the FP16-min error is unbounded near zero weights, so the relative gap is
     * not the right measure there; the packer test above checks the absolute bound. Here: logits only. */
    check_roundtrip("dense-bf16", "int4-g128-asym", 0, INFINITY);
    check_roundtrip("dense-bf16", "nvfp4", 0, 0x1p-22);
    {   // the Q8_0 baseline export: general.file_type 7 (LLAMA_FTYPE_MOSTLY_Q8_0)
        char out[512];
        snprintf(out, sizeof out, "%s/dense-q8_0.gguf", tmpdir);
        struct qwen3_model *a = qwen3_load(FIXDIR "/dense-bf16");
        struct gguf_export_opts o = {.float_type = GGML_BLOCK_F32, .q8_0 = 1};
        gguf_export_write(a, &o, out);
        struct gguf_file g;
        gguf_open(&g, out);
        int64_t ft = -1;
        TEST(gguf_get_int(&g, "general.file_type", &ft) && ft == 7, "export dense-bf16 q8_0: general.file_type %lld (7)", (long long)ft);
        gguf_close(&g);
        qwen3_free(a);
    }
    char err[4096];
    int rc = export_in_child("fp8-block128", err, sizeof err);
    /* the tokenizer warning comes first (the fixture has no tokenizer.json); then exactly one error line */
    const char *e1 = strstr(err, "error:");
    TEST(rc == 1 && e1 && !strstr(e1 + 1, "error:") && strstr(e1, "blk.0.attn_q.weight") && strstr(e1, "fp8-block128") &&
             strchr(e1, '\n') == strrchr(err, '\n'),
         "export: fp8-block128 refused with one line naming the tensor (%.*s)", e1 ? (int)strcspn(e1, "\n") : 0, e1 ? e1 : "");
}

// ---- 5. llama-perplexity's protocol ----

/* Logits of a toy model with V = 8: at positions below n_ctx / 2 (never scored) the target is given -1e30
 * (an enormous NLL, which would show), from n_ctx / 2 on all logits are equal (NLL = log 8 exactly). */
static void toy_logits(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    (void)ctx;
    for (int64_t t = 0; t < T; t++)
        for (int v = 0; v < 8; v++)
            logits[t * 8 + v] = (t < T / 2 && t + 1 < T && v == ids[t + 1]) ? -1e30f : 0.0f;
}

static void check_llamacpp_protocol(void) {
    int32_t ids[100];
    for (int i = 0; i < 100; i++) ids[i] = (int32_t)((i * 5 + 1) % 8);
    struct perplexity_llamacpp_result r;
    perplexity_llamacpp_run(toy_logits, NULL, 8, ids, 100, 16, 0, &r);
    /* 100 / 16 = 6 chunks, each scoring 16 - 1 - 8 = 7 tokens */
    TEST(r.n_chunks == 6 && r.n_tokens == 42 && fabs(r.ppl - 8.0) < 1e-12,
         "llama.cpp protocol: only the second half of each chunk is scored (6 chunks, 42 tokens, ppl %.15g = 8)", r.ppl);
    perplexity_llamacpp_run(toy_logits, NULL, 8, ids, 100, 16, 2, &r);
    TEST(r.n_chunks == 2 && r.n_tokens == 14, "llama.cpp protocol: --chunks caps the chunks");
}

int main(void) {
    check_set_progname("test_gguf");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_gguf.%ld", (long)getpid());
    mkdir_p(tmpdir);
    check_container();
    check_blocks();
    check_packers();
    check_fixtures();
    check_llamacpp_protocol();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "test_gguf: could not remove %s\n", tmpdir);
    return TEST_REPORT();
}
