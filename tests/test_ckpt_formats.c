/* test_ckpt_formats -- the packers and readers of src/model/ckpt_*.c against hand-made fixtures whose bytes are
 * derived here from the published definitions (cited in each header), never from our own packers:
 *   compressed-tensors pack_to_int32 (its docstring example [1, 2] -> 33409 for 8 bits; 4-bit words and the
 *   packed_dim=0 zero points), the NVFP4 global scale that divides (weight_global_scale) against ModelOpt's
 *   weight_scale_2 that multiplies, mxfp4 E8M0 scales; AutoAWQ's nibble order [0,2,4,6,1,3,5,7]; GPTQ's
 *   sequential K packing and the v1 zero - 1 convention (the trap), v2 zeros as stored; the refusals; and the
 *   Hugging Face cache lookup on a fake cache tree. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "formats/bf16.h"
#include "formats/e2m1.h"
#include "formats/fp8_tensor.h"
#include "formats/nvfp4.h"
#include "core/rng.h"
#include "model/ckpt_awq.h"
#include "model/ckpt_ct.h"
#include "model/ckpt_gptq.h"
#include "model/ckpt_modelopt.h"
#include "model/ckpt_quant.h"
#include "model/hf_cache.h"
#include "model/safetensors.h"
#include "test.h"

static char TMP[64];

static uint32_t word(const uint8_t *p, int64_t i) { return (uint32_t)ckpt_i32(p, i); }

static void put_word(uint8_t *p, int64_t i, uint32_t w) {
    for (int k = 0; k < 4; k++) p[4 * i + k] = (uint8_t)(w >> (8 * k));
}

/* ---- packers ---- */

static void test_ct_pack(void) {
    /* pack_to_int32's docstring: 8 bits, [1, 2] -> [129, 130] -> 00000000 00000000 10000010 10000001 = 33409. */
    int8_t v8[2] = {1, 2};
    uint8_t out[4];
    ckpt_ct_pack(v8, 1, 2, 8, 1, out);
    TEST(word(out, 0) == 33409u, "ct pack 8-bit: docstring example [1, 2] -> 33409 (got %u)", word(out, 0));
    /* 4 bits: value i at bits 4i, stored q + 8: codes -8..-1 give nibbles 0..7 = 0x76543210. */
    int8_t v4[8] = {-8, -7, -6, -5, -4, -3, -2, -1};
    ckpt_ct_pack(v4, 1, 8, 4, 1, out);
    TEST(word(out, 0) == 0x76543210u, "ct pack 4-bit: sequential nibbles with offset 8 (got %08x)", word(out, 0));
    int8_t back[8];
    ckpt_ct_unpack(out, 1, 8, 4, 1, back);
    TEST(!memcmp(back, v4, 8), "ct unpack 4-bit inverts");
    /* Zero points pack along dim 0: a column of 8 rows [0,1,...,7] (signed) -> nibbles 8..15 = 0xfedcba98. */
    int8_t z[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    ckpt_ct_pack(z, 8, 1, 4, 0, out);
    TEST(word(out, 0) == 0xfedcba98u, "ct pack zero points along N (packed_dim=0) (got %08x)", word(out, 0));
    /* Padding: 3 values of 4 bits, the rest of the word is 0 (not the offset). */
    ckpt_ct_pack(v4 + 5, 1, 3, 4, 1, out);
    TEST(word(out, 0) == 0x765u, "ct pack pads with stored 0 (got %08x)", word(out, 0));
}

static void test_awq_pack(void) {
    /* AutoAWQ from_linear: word nibble i = intweight[:, 8c + order_map[i]], order_map = [0,2,4,6,1,3,5,7].
     * Columns 0..7 holding 0..7: nibbles (low first) 0,2,4,6,1,3,5,7 -> 0x75316420. */
    uint8_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[4], back[8];
    ckpt_awq_pack(v, 1, 8, out);
    TEST(word(out, 0) == 0x75316420u, "awq pack order [0,2,4,6,1,3,5,7] (got %08x, sequential would be 76543210)",
         word(out, 0));
    ckpt_awq_unpack(out, 1, 8, back);
    TEST(!memcmp(back, v, 8), "awq unpack applies the reverse order");
}

static void test_gptq_pack(void) {
    /* qweight packs 8 consecutive input rows of one column: rows 0..7 = 1..8 -> 0x87654321 (8 as nibble 8). */
    uint8_t v[16], out[8], back[16];
    for (int r = 0; r < 8; r++) v[2 * r] = (uint8_t)(r + 1), v[2 * r + 1] = (uint8_t)(15 - r);   /* 8 x 2 */
    ckpt_gptq_pack_rows(v, 8, 2, 4, out);
    TEST(word(out, 0) == 0x87654321u && word(out, 1) == 0x89abcdefu, "gptq qweight packs along K (got %08x %08x)",
         word(out, 0), word(out, 1));
    ckpt_gptq_unpack_rows(out, 8, 2, 4, back);
    TEST(!memcmp(back, v, 16), "gptq qweight unpack inverts");
    /* v1 symmetric zeros: z = 8 stored as 7 in each of 8 columns -> 0x77777777. */
    uint8_t z[8];
    memset(z, 7, 8);
    ckpt_gptq_pack_cols(z, 1, 8, 4, out);
    TEST(word(out, 0) == 0x77777777u, "gptq v1 sym qzeros word 0x77777777");
    /* The trap: AutoGPTQ packs (z - 1) as uint32 with OR, so z = 0 -> 0xffffffff swallows every neighbour. */
    uint32_t w = 0;
    const int zs[8] = {0, 8, 8, 8, 8, 8, 8, 8};
    for (int j = 0; j < 8; j++) w |= (uint32_t)(zs[j] - 1) << (4 * j);
    TEST(w == 0xffffffffu, "gptq v1 stores z=0 as -1, corrupting the other 7 zero points (why we write v2)");
}

/* ---- readers on one-module safetensors files ---- */

static struct safetensors *open_fixture(int n, const struct safetensors_desc *d) {
    static int k;
    char path[128];
    snprintf(path, sizeof path, "%s/fx%d.safetensors", TMP, k++);
    safetensors_write(path, n, d);
    struct safetensors *st = xcalloc(1, sizeof *st);
    safetensors_open(st, path);
    return st;
}

/* q zeroed, of the given kind, with the given format string (NULL: none, as for AWQ and GPTQ). */
static void quant_init(struct ckpt_quant *q, enum ckpt_kind kind, const char *format) {
    memset(q, 0, sizeof *q);
    q->kind = kind;
    if (format) snprintf(q->format, sizeof q->format, "%s", format);
}

static void close_fixture(struct safetensors *st) {
    safetensors_close(st);
    free(st);
}

#define DESC(nm, dt, nd, a, b, p) ((struct safetensors_desc){nm, SAFETENSORS_DTYPE_##dt, nd, {a, b}, p})

static void test_ct_int4_reader(void) {
    /* N = 8, K = 32, G = 32, symmetric: code(n, k) = (n + k) % 16 - 8, scale(n) = 0.5 + n/8 (BF16 numbers). */
    const int64_t N = 8, K = 32;
    uint8_t packed[8 * 4 * 4];
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < K / 8; j++) {
            uint32_t w = 0;
            for (int i = 0; i < 8; i++) w |= (uint32_t)(((n + 8 * j + i) % 16 - 8 + 8) & 15) << (4 * i);
            put_word(packed, n * (K / 8) + j, w);
        }
    uint16_t scale[8];
    for (int n = 0; n < 8; n++) scale[n] = bf16_from_float(0.5f + (float)n / 8.0f);
    int64_t shape[2] = {N, K};
    struct safetensors_desc d[3] = {DESC("m.weight_packed", I32, 2, N, K / 8, packed),
                                    DESC("m.weight_scale", BF16, 2, N, 1, scale),
                                    DESC("m.weight_shape", I64, 1, 2, 0, shape)};
    struct safetensors *st = open_fixture(3, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_CT, "pack-quantized");
    q.w = (struct ckpt_qargs){.num_bits = 4, .strategy = CKPT_STRATEGY_GROUP, .group_size = 32, .symmetric = 1};
    q.what = "fixture";
    struct linear l;
    int r = ckpt_quant_load_linear(&q, st, "m", N, K, &l);
    int ok = r == 1;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) ok &= l.w[n * K + k] == (float)((n + k) % 16 - 8) * (0.5f + (float)n / 8.0f);
    TEST(ok, "ct pack-quantized int4 sym: w = q * scale from hand-packed words");
    TEST(l.packed && l.packed->format == QFORMAT_INT4_SYM && l.packed->params.group_size == 32,
         "ct int4 sym BF16 scales map exactly onto int4-g32-sym (packed attached)");
    linear_free(&l);
    close_fixture(st);
}

static void test_awq_reader(void) {
    /* N = 8, K = 32, G = 32: intweight[k][n] = (3k + n) % 16, zeros z[n] = n + 4, FP16 scale 0.25 (0x3400). */
    const int64_t N = 8, K = 32;
    static const int ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    uint8_t qw[32 * 4], qz[4];
    for (int64_t k = 0; k < K; k++) {
        uint32_t w = 0;
        for (int i = 0; i < 8; i++) w |= (uint32_t)((3 * k + ORDER[i]) % 16) << (4 * i);
        put_word(qw, k, w);
    }
    uint32_t wz = 0;
    for (int i = 0; i < 8; i++) wz |= (uint32_t)(ORDER[i] + 4) << (4 * i);
    put_word(qz, 0, wz);
    uint16_t sc[8];
    for (int n = 0; n < 8; n++) sc[n] = 0x3400;
    struct safetensors_desc d[3] = {DESC("m.qweight", I32, 2, K, 1, qw), DESC("m.qzeros", I32, 2, 1, 1, qz),
                                    DESC("m.scales", F16, 2, 1, N, sc)};
    struct safetensors *st = open_fixture(3, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_AWQ, NULL);
    q.w.num_bits = 4, q.w.group_size = 32;
    struct linear l;
    int ok = ckpt_quant_load_linear(&q, st, "m", N, K, &l) == 1;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) ok &= l.w[n * K + k] == (float)((3 * k + n) % 16 - (n + 4)) * 0.25f;
    TEST(ok, "awq gemm reader: w[n][k] = (q[k][n] - z[n]) * s with the AWQ order undone");
    TEST(l.packed && l.packed->format == QFORMAT_INT4_ASYM, "awq with FP16 scale 0.25 (a BF16 number): int4-asym packed");
    linear_free(&l);
    close_fixture(st);
}

static void test_gptq_reader(int v2) {
    /* N = 8, K = 32, G = 16 (two groups; packed is not attached for G = 16, the FP32 view is what is checked):
     * q[k][n] = (k + 2n) % 16, true zero z[g][n] = g + n (so z = 0 occurs at g = n = 0), scale 1.0. */
    const int64_t N = 8, K = 32, n_g = 2;
    uint8_t qw[4 * 8 * 4], qz[2 * 4];
    for (int64_t j = 0; j < K / 8; j++)
        for (int64_t n = 0; n < N; n++) {
            uint32_t w = 0;
            for (int i = 0; i < 8; i++) w |= (uint32_t)((8 * j + i + 2 * n) % 16) << (4 * i);
            put_word(qw, j * N + n, w);
        }
    for (int g = 0; g < n_g; g++) {
        uint32_t w = 0;
        for (int i = 0; i < 8; i++) w |= (uint32_t)((g + i - (v2 ? 0 : 1)) & 15) << (4 * i);
        put_word(qz, g, w);
    }
    uint16_t sc[16];
    for (int i = 0; i < 16; i++) sc[i] = 0x3c00;   /* FP16 1.0 */
    int32_t gi[32];
    for (int k = 0; k < 32; k++) gi[k] = k / 16;
    struct safetensors_desc d[4] = {DESC("m.g_idx", I32, 1, K, 0, gi), DESC("m.qweight", I32, 2, K / 8, N, qw),
                                    DESC("m.qzeros", I32, 2, n_g, 1, qz), DESC("m.scales", F16, 2, n_g, N, sc)};
    struct safetensors *st = open_fixture(4, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_GPTQ, NULL);
    q.w.num_bits = 4, q.w.group_size = 16, q.gptq_v2 = v2;
    struct linear l;
    int ok = ckpt_quant_load_linear(&q, st, "m", N, K, &l) == 1;
    int64_t bad = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            int64_t g = k / 16;
            /* v1 stored (z - 1) & 15: z = 0 reads back as 15 + 1 = 16 (the trap); every other zero is exact. */
            float z = v2 ? (float)(g + n) : (g + n == 0 ? 16.0f : (float)(g + n));
            bad += l.w[n * K + k] != (float)((k + 2 * n) % 16) - z;
        }
    TEST(ok && bad == 0, "gptq %s reader: zeros %s (v1: z = 0 cannot round trip, reads as 16)", v2 ? "v2" : "v1",
         v2 ? "as stored" : "stored + 1");
    linear_free(&l);
    close_fixture(st);
}

static void test_nvfp4_globals(void) {
    /* One 16-element block: byte 0x21 -> elements 0.5 (code 1, low nibble) and 1.0 (code 2), the rest zeros;
     * block scale E4M3 0x38 = 1.0. compressed-tensors: weight_global_scale 2 DIVIDES -> 0.25, 0.5. ModelOpt:
     * weight_scale_2 0.5 MULTIPLIES -> the same values. Mixing the conventions would give 1.0, 2.0. */
    const int64_t N = 1, K = 16;
    uint8_t codes[8] = {0x21}, sc[1] = {0x38};
    float g = 2.0f, s2 = 0.5f;
    struct safetensors_desc dct[3] = {DESC("m.weight_global_scale", F32, 1, 1, 0, &g),
                                      DESC("m.weight_packed", U8, 2, N, K / 2, codes),
                                      DESC("m.weight_scale", F8_E4M3, 2, N, 1, sc)};
    struct safetensors *st = open_fixture(3, dct);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_CT, "nvfp4-pack-quantized");
    q.w = (struct ckpt_qargs){.num_bits = 4, .is_float = 1, .strategy = CKPT_STRATEGY_TENSOR_GROUP, .group_size = 16};
    struct linear l;
    ckpt_quant_load_linear(&q, st, "m", N, K, &l);
    TEST(l.w[0] == 0.25f && l.w[1] == 0.5f && l.w[2] == 0.0f && l.packed && l.packed->global_scale == 2.0f,
         "ct nvfp4: weight_global_scale divides (0.5 / 2 = %g)", l.w[0]);
    linear_free(&l);
    close_fixture(st);
    struct safetensors_desc dmo[3] = {DESC("m.weight", U8, 2, N, K / 2, codes),
                                      DESC("m.weight_scale", F8_E4M3, 2, N, 1, sc),
                                      DESC("m.weight_scale_2", F32, 1, 1, 0, &s2)};
    st = open_fixture(3, dmo);
    quant_init(&q, CKPT_KIND_MODELOPT, "NVFP4");
    ckpt_quant_load_linear(&q, st, "m", N, K, &l);
    TEST(l.w[0] == 0.25f && l.w[1] == 0.5f && l.act.mode == LINEAR_ACT_NONE,
         "modelopt nvfp4: weight_scale_2 multiplies (0.5 * 0.5 = %g), no input_scale = weight-only", l.w[0]);
    TEST(l.packed && l.packed->global_scale == 2.0f, "modelopt nvfp4 with a power-of-two weight_scale_2: packed g = 2");
    linear_free(&l);
    close_fixture(st);
}

static void test_mxfp4_reader(void) {
    /* 32 elements, byte 0 = 0x7f: element 0 code 0xf (-6), element 1 code 0x7 (6); E8M0 scale 126 = 2^-1. */
    const int64_t N = 1, K = 32;
    uint8_t codes[16] = {0x7f}, sc[1] = {126};
    struct safetensors_desc d[2] = {DESC("m.weight_packed", U8, 2, N, K / 2, codes), DESC("m.weight_scale", U8, 2, N, 1, sc)};
    struct safetensors *st = open_fixture(2, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_CT, "mxfp4-pack-quantized");
    struct linear l;
    ckpt_quant_load_linear(&q, st, "m", N, K, &l);
    TEST(l.w[0] == -3.0f && l.w[1] == 3.0f && l.packed && l.packed->format == QFORMAT_MXFP4,
         "ct mxfp4: E8M0 exponent 126 -> 2^-1, low nibble first (%g, %g)", l.w[0], l.w[1]);
    linear_free(&l);
    close_fixture(st);
}


static void test_ct_asym_actorder_reader(void) {
    /* N = 8, K = 64, G = 32, asymmetric with act-order: stored code(n, k) = (5n + k) % 16 (signed q = stored - 8),
     * stored zero point zs(n, g) = n + 4g (signed zp = zs - 8), packed along N: one word per group column with
     * nibble i = row i; g_idx[k] = (k % 2) (columns alternate between the two groups: act-order). Scale 0.125
     * for group 0, 0.25 for group 1. Published dequantization: w = (q - zp[g_idx[k]]) * s[g_idx[k]]. */
    const int64_t N = 8, K = 64, n_g = 2;
    uint8_t packed[8 * 8 * 4], zp[1 * 2 * 4];
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < K / 8; j++) {
            uint32_t w = 0;
            for (int i = 0; i < 8; i++) w |= (uint32_t)((5 * n + 8 * j + i) % 16) << (4 * i);
            put_word(packed, n * (K / 8) + j, w);
        }
    for (int g = 0; g < 2; g++) {
        uint32_t w = 0;
        for (int i = 0; i < 8; i++) w |= (uint32_t)(i + 4 * g) << (4 * i);
        put_word(zp, g, w);
    }
    uint16_t scale[16];
    for (int n = 0; n < 8; n++) scale[2 * n] = bf16_from_float(0.125f), scale[2 * n + 1] = bf16_from_float(0.25f);
    int32_t gi[64];
    for (int k = 0; k < 64; k++) gi[k] = k % 2;
    struct safetensors_desc d[4] = {DESC("m.weight_g_idx", I32, 1, K, 0, gi),
                                    DESC("m.weight_packed", I32, 2, N, K / 8, packed),
                                    DESC("m.weight_scale", BF16, 2, N, n_g, scale),
                                    DESC("m.weight_zero_point", I32, 2, 1, n_g, zp)};
    struct safetensors *st = open_fixture(4, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_CT, "pack-quantized");
    q.w = (struct ckpt_qargs){.num_bits = 4, .strategy = CKPT_STRATEGY_GROUP, .group_size = 32, .symmetric = 0};
    struct linear l;
    int ok = ckpt_quant_load_linear(&q, st, "m", N, K, &l) == 1;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            int g = (int)(k % 2);
            ok &= l.w[n * K + k] == (float)(((5 * n + k) % 16 - 8) - ((n + 4 * g) - 8)) * (g ? 0.25f : 0.125f);
        }
    TEST(ok, "ct pack-quantized int4 asym + act-order g_idx: zero points packed along N, groups by g_idx");
    TEST(!l.packed, "act-order g_idx has no int4-gG scheme: FP32 view only");
    linear_free(&l);
    close_fixture(st);
    /* The same bytes with g_idx = k / 32 map onto int4-g32-asym. */
    for (int k = 0; k < 64; k++) gi[k] = k / 32;
    st = open_fixture(4, d);
    ok = ckpt_quant_load_linear(&q, st, "m", N, K, &l) == 1;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            int g = (int)(k / 32);
            ok &= l.w[n * K + k] == (float)(((5 * n + k) % 16 - 8) - ((n + 4 * g) - 8)) * (g ? 0.25f : 0.125f);
        }
    TEST(ok && l.packed && l.packed->format == QFORMAT_INT4_ASYM, "ct int4 asym with column-order g_idx: int4-g32-asym packed");
    linear_free(&l);
    close_fixture(st);
}

static void test_modelopt_fp8(void) {
    /* E4M3 0x40 = 2.0, 0xc8 = -4.0 (sign, exponent 9 - 7 = 2, mantissa 0); weight_scale 0.5; input_scale 0.25. */
    const int64_t N = 2, K = 2;
    uint8_t w8[4] = {0x40, 0xc8, 0x00, 0x38};
    float s = 0.5f, in = 0.25f;
    struct safetensors_desc d[3] = {DESC("m.input_scale", F32, 1, 1, 0, &in), DESC("m.weight", F8_E4M3, 2, N, K, w8),
                                    DESC("m.weight_scale", F32, 1, 1, 0, &s)};
    struct safetensors *st = open_fixture(3, d);
    struct ckpt_quant q;
    quant_init(&q, CKPT_KIND_MODELOPT, "FP8");
    struct linear l;
    ckpt_quant_load_linear(&q, st, "m", N, K, &l);
    TEST(l.w[0] == 1.0f && l.w[1] == -2.0f && l.w[2] == 0.0f && l.w[3] == 0.5f && l.packed &&
             l.packed->format == QFORMAT_FP8_TENSOR && l.act.mode == LINEAR_ACT_STATIC && l.act.params.amax == 112.0f,
         "modelopt fp8: w = fp8 * weight_scale, static activations amax = input_scale * 448");
    linear_free(&l);
    close_fixture(st);
    /* hf_quant_config.json without a quantization_config in config.json. */
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/modelopt", TMP);
    mkdir_p(dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    file_write_atomic(path, "{}", 2);
    snprintf(path, sizeof path, "%s/hf_quant_config.json", dir);
    const char *hq = "{\"producer\": {\"name\": \"modelopt\"}, \"quantization\": {\"quant_algo\": \"NVFP4\", "
                     "\"group_size\": 16, \"exclude_modules\": [\"lm_head\"]}}";
    file_write_atomic(path, hq, strlen(hq));
    ckpt_quant_detect(&q, dir);
    TEST(q.kind == CKPT_KIND_MODELOPT && !strcmp(q.format, "NVFP4"), "hf_quant_config.json -> ModelOpt NVFP4");
}

/* ---- config detection and refusals ---- */

static int dies(const char *cfg_json) {
    char dir[128], path[160];
    static int k;
    snprintf(dir, sizeof dir, "%s/cfg%d", TMP, k++);
    mkdir_p(dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    file_write_atomic(path, cfg_json, strlen(cfg_json));
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        struct ckpt_quant q;
        ckpt_quant_detect(&q, dir);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

static void test_detect(void) {
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/cfg_ok", TMP);
    mkdir_p(dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *ct = "{\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\","
                     " \"config_groups\": {\"group_0\": {\"targets\": [\"Linear\"], \"weights\": {\"num_bits\": 4,"
                     " \"type\": \"int\", \"symmetric\": true, \"group_size\": 128, \"strategy\": \"group\","
                     " \"dynamic\": false}, \"input_activations\": null}}, \"ignore\": [\"lm_head\"]}}";
    file_write_atomic(path, ct, strlen(ct));
    struct ckpt_quant q;
    ckpt_quant_detect(&q, dir);
    TEST(q.kind == CKPT_KIND_CT && q.w.num_bits == 4 && q.w.group_size == 128 && q.w.symmetric && !q.has_act &&
             !strcmp(q.desc, "compressed-tensors pack-quantized w4a16 int g128 sym"),
         "detect CT W4A16 (desc '%s')", q.desc);
    TEST(dies("{\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\","
              " \"config_groups\": {\"g\": {\"weights\": {\"num_bits\": 3, \"type\": \"int\", \"strategy\": \"group\","
              " \"group_size\": 128}}}}}"),
         "3-bit compressed-tensors is refused (packing changed between releases)");
    TEST(dies("{\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"version\": \"gemv\"}}"),
         "AutoAWQ gemv is refused");
    TEST(dies("{\"quantization_config\": {\"quant_method\": \"bitsandbytes\"}}"), "unknown quant_method is refused");
    TEST(dies("{\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\","
              " \"kv_cache_scheme\": {\"num_bits\": 8}, \"config_groups\": {\"g\": {\"weights\": {\"num_bits\": 4,"
              " \"strategy\": \"group\", \"group_size\": 128}}}}}"),
         "a kv_cache_scheme is refused with one line");
    struct linear_act a;
    struct ckpt_qargs in = {.num_bits = 8, .is_float = 1, .strategy = CKPT_STRATEGY_TENSOR, .dynamic = 0, .symmetric = 1};
    ckpt_ct_act(&in, 0.5f, &a, "t");
    TEST(a.mode == LINEAR_ACT_STATIC && a.format == QFORMAT_FP8_TENSOR && a.params.amax == 224.0f,
         "static FP8 input_scale 0.5 -> amax 224");
    in = (struct ckpt_qargs){.num_bits = 4, .is_float = 1, .strategy = CKPT_STRATEGY_TENSOR_GROUP, .group_size = 16,
                             .dynamic = 2};
    ckpt_ct_act(&in, 448.0f * 6.0f / 3.0f, &a, "t");
    TEST(a.mode == LINEAR_ACT_STATIC && a.format == QFORMAT_NVFP4 && a.params.amax == 3.0f,
         "NVFP4 input_global_scale 896 -> amax 3");
}

/* A static activation range survives write (scale from amax, as ckpt_write stores it) and read (ckpt_ct_act):
 * the scale the read-back amax implies is the stored one, over 20000 log-uniform amax values in [2^-10, 2^10]. */
static void test_act_scale_round_trip(void) {
    struct rng r;
    rng_init(&r, 13);
    int64_t bad_fp8 = 0, bad_nv = 0;
    for (int i = 0; i < 20000; i++) {
        float amax = ldexpf(1.0f + (float)rng_uniform(&r), (int)rng_below(&r, 21) - 10);
        struct linear_act a;
        struct ckpt_qargs in = {.num_bits = 8, .is_float = 1, .strategy = CKPT_STRATEGY_TENSOR, .symmetric = 1};
        float s = fp8_tensor_scale(amax, FP8_TENSOR_E4M3);
        ckpt_ct_act(&in, s, &a, "t");
        bad_fp8 += fp8_tensor_scale(a.params.amax, FP8_TENSOR_E4M3) != s;
        in = (struct ckpt_qargs){.num_bits = 4, .is_float = 1, .strategy = CKPT_STRATEGY_TENSOR_GROUP, .group_size = 16,
                                 .dynamic = 2};
        float g = nvfp4_global_scale(amax);
        ckpt_ct_act(&in, g, &a, "t");
        bad_nv += nvfp4_global_scale(a.params.amax) != g;
    }
    TEST(bad_fp8 == 0 && bad_nv == 0, "static activation scales round trip (fp8 %lld, nvfp4 %lld of 20000 differ)",
         (long long)bad_fp8, (long long)bad_nv);
}

/* ---- Hugging Face cache ---- */

static void write_file(const char *path, const char *text) {
    mkdir_parent(path);
    file_write_atomic(path, text, strlen(text));
}

static void test_hf_cache(void) {
    char hub[160], p[512];
    snprintf(hub, sizeof hub, "%s/hfhome/hub", TMP);
    snprintf(p, sizeof p, "%s/models--Qwen--Qwen3-Fake/refs/main", hub);
    write_file(p, "abc123\n");
    snprintf(p, sizeof p, "%s/models--Qwen--Qwen3-Fake/snapshots/abc123/config.json", hub);
    write_file(p, "{}");
    snprintf(p, sizeof p, "%s/hfhome", TMP);
    setenv("HF_HOME", p, 1);
    unsetenv("HF_HUB_CACHE");
    char searched[4096], want[512];
    char *r = hf_cache_find("Qwen/Qwen3-Fake", searched, sizeof searched);
    snprintf(want, sizeof want, "%s/models--Qwen--Qwen3-Fake/snapshots/abc123", hub);
    TEST(r && !strcmp(r, want), "hf id -> refs/main snapshot (%s)", r ? r : "NULL");
    free(r);
    r = hf_cache_find("Qwen/Qwen3-Fake@abc123", searched, sizeof searched);
    TEST(r && !strcmp(r, want), "hf id@hash -> that snapshot");
    free(r);
    r = hf_cache_find("Qwen/Qwen3-Missing", searched, sizeof searched);
    TEST(!r && strstr(searched, "models--Qwen--Qwen3-Missing"), "missing id: NULL, searched lists '%s'", searched);
    free(r);
    r = hf_cache_find(TMP, searched, sizeof searched);
    TEST(r && !strcmp(r, TMP), "an existing folder is returned as given");
    free(r);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        free(hf_cache_resolve("Qwen/Qwen3-Missing"));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    TEST(WIFEXITED(st) && WEXITSTATUS(st) == 1, "hf_cache_resolve dies (exit 1) for an id not cached");
}

int main(void) {
    snprintf(TMP, sizeof TMP, "/tmp/test_ckpt_formats.%d", (int)getpid());
    mkdir_p(TMP);
    test_ct_pack();
    test_awq_pack();
    test_gptq_pack();
    test_ct_int4_reader();
    test_awq_reader();
    test_gptq_reader(0);
    test_gptq_reader(1);
    test_nvfp4_globals();
    test_mxfp4_reader();
    test_ct_asym_actorder_reader();
    test_modelopt_fp8();
    test_detect();
    test_act_scale_round_trip();
    test_hf_cache();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", TMP);
    if (system(cmd) != 0) warn("could not remove %s", TMP);
    return TEST_REPORT();
}
