/* linear_w4a16 -- see linear_w4a16.h: the device layout (sizes, host packing), the K split and the dispatch
 * to the format files. The kernel engine is linear_w4a16.cuh. */
#include "linear_w4a16.h"

#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "formats/int4.h"
#include "formats/mxfp4.h"
#include "formats/nvfp4.h"
#include "linear_int4.h"
#include "linear_mxfp4.h"
#include "linear_nvfp4.h"

extern "C" int linear_w4a16_domain(enum qformat f, int group) {
    switch (f) {
    case QFORMAT_NVFP4: return NVFP4_BLOCK_SIZE;
    case QFORMAT_MXFP4: return MXFP4_BLOCK_SIZE;
    case QFORMAT_INT4_SYM:
    case QFORMAT_INT4_ASYM:
        if (group == 32 || group == 64 || group == 128) return group;
        die("linear_w4a16: int4 group %d is not 32, 64 or 128", group);
    default: die("linear_w4a16: format '%s' has no W4A16 kernel (nvfp4, mxfp4, int4-gG-sym|asym)", qformat_name(f));
    }
}

/* Bytes per scale domain and row: UE4M3 / E8M0 one byte, INT4 a BF16 scale. */
static int scale_bytes(enum qformat f) { return f == QFORMAT_NVFP4 || f == QFORMAT_MXFP4 ? 1 : 2; }

extern "C" void linear_w4a16_layout(enum qformat f, int group, int64_t N, int64_t K, size_t *codes, size_t *scales,
                                    size_t *zeros) {
    const int G = linear_w4a16_domain(f, group);
    const int64_t np = ceil_div(N, LINEAR_W4A16_TILE_N) * LINEAR_W4A16_TILE_N;
    const int64_t kp = ceil_div(K, LINEAR_W4A16_STEP_K) * LINEAR_W4A16_STEP_K;
    *codes = (size_t)(np * kp / 2);
    *scales = (size_t)(np * (kp / G) * scale_bytes(f));
    const int64_t zps = G == 128 ? 4 : 256 / G;   /* zero-point bytes per row pair and step, padded to 4 */
    *zeros = f == QFORMAT_INT4_ASYM ? (size_t)(np / 2 * (kp / 256) * zps) : 0;
}

// ---- host packing ----

/* The 4-bit code of element (n, k), as the kernel wants it: E2M1 codes as stored, INT4 sym c + 8, INT4 asym
 * the unsigned code; 0 outside the tensor. */
static uint32_t code_at(const struct qtensor *q, int64_t n, int64_t k) {
    if (n >= q->N || k >= q->K) return 0;
    switch (q->format) {
    case QFORMAT_NVFP4: {
        const struct nvfp4_block *b = (const struct nvfp4_block *)q->data + n * (q->K / NVFP4_BLOCK_SIZE) + k / 16;
        return (uint32_t)(b->qs[(k % 16) / 2] >> (4 * (k & 1))) & 0xFu;
    }
    case QFORMAT_MXFP4: {
        const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * (q->K / MXFP4_BLOCK_SIZE) + k / 32;
        return (uint32_t)(b->qs[(k % 32) / 2] >> (4 * (k & 1))) & 0xFu;
    }
    case QFORMAT_INT4_SYM: return (uint32_t)(int4_get(q->data, n * q->K + k) + 8);
    default: return (uint32_t)int4_get_u(q->data, n * q->K + k);
    }
}

/* The scale bytes of domain d of row n (1 byte, or the 2 bytes of a BF16 scale, low byte first); zeros
 * outside the tensor. */
static void scale_at(const struct qtensor *q, int64_t n, int64_t d, uint8_t out[2]) {
    out[0] = out[1] = 0;
    const int64_t nd = q->K / linear_w4a16_domain(q->format, q->params.group_size);
    if (n >= q->N || d >= nd) return;
    switch (q->format) {
    case QFORMAT_NVFP4: out[0] = ((const struct nvfp4_block *)q->data)[n * nd + d].s; break;
    case QFORMAT_MXFP4: out[0] = ((const struct mxfp4_block *)q->data)[n * nd + d].e; break;
    default: memcpy(out, q->scales + 2 * (n * nd + d), 2); break;
    }
}

static uint32_t zero_at(const struct qtensor *q, int64_t n, int64_t d) {
    const int64_t nd = q->K / q->params.group_size;
    if (n >= q->N || d >= nd) return 0;
    return (uint32_t)int4_get_u(q->zeros, n * nd + d);
}

/* The bit positions in a code word of the code of register j, half h (linear_w4a16.h): E2M1 magnitude bits
 * (3) and sign bit; INT4 nibbles at 4 j + 16 h. */
static const int E2M1_MAG[4] = {9, 6, 3, 0}, E2M1_SGN[4] = {15, 12, 14, 13};

extern "C" void linear_w4a16_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales, uint8_t *zeros) {
    const int G = linear_w4a16_domain(q->format, q->params.group_size);
    CHECK(q->K % G == 0, "linear_w4a16_pack_host: K %% domain");
    const int64_t RT = ceil_div(q->N, 16), S = ceil_div(q->K, 256) * 4, n_steps = S / 4;
    const int sb = scale_bytes(q->format), dps = 256 / G;   /* domains per step */
    const int bps = dps * 2 * sb;                           /* scale bytes per lane row pair and unit */
    const int zps = dps < 4 ? 4 : dps;                      /* zero-point bytes per row pair and unit */
    const int e2m1 = q->format == QFORMAT_NVFP4 || q->format == QFORMAT_MXFP4;
    uint32_t *cw = (uint32_t *)codes;
    if (q->format == QFORMAT_INT4_ASYM) memset(zeros, 0, (size_t)(RT * n_steps * 8 * zps));   /* padding bytes */
    for (int64_t rt = 0; rt < RT; rt++)
        for (int64_t s = 0; s < S; s++)   /* span s of tile rt: step s / 4, its span s % 4 */
            for (int l = 0; l < 32; l++) {
                const int64_t g = l / 4, t = l % 4, r0 = 16 * rt + g, r1 = r0 + 8;
                for (int u = 0; u < 4; u++) {
                    const int64_t c = 64 * s + 16 * u + 4 * t;
                    uint32_t w = 0;
                    for (int i = 0; i < 8; i++) {
                        const int j = i % 4, h = i / 4;   /* register j, half h (linear_w4a16.h) */
                        const int64_t row = (j == 0 || j == 2) ? r0 : r1, col = c + (j >= 2 ? 2 : 0) + h;
                        const uint32_t code = code_at(q, row, col);
                        if (e2m1)
                            w |= (code & 7u) << (E2M1_MAG[j] + 16 * h) | (code >> 3) << (E2M1_SGN[j] + 16 * h);
                        else
                            w |= code << (4 * j + 16 * h);
                    }
                    const int64_t unit = (s / 4) * RT + rt;   /* step-major (linear_w4a16.h) */
                    cw[((unit * 4 + s % 4) * 32 + l) * 4 + u] = w;
                }
            }
    for (int64_t rt = 0; rt < RT; rt++)
        for (int64_t st = 0; st < n_steps; st++)
            for (int64_t g = 0; g < 8; g++) {
                const int64_t unit = st * RT + rt;
                uint8_t *p = scales + (unit * 8 + g) * bps;
                for (int qd = 0; qd < dps; qd++) {
                    const int64_t d = st * dps + qd;
                    uint8_t a[2], b[2];
                    scale_at(q, 16 * rt + g, d, a);
                    scale_at(q, 16 * rt + g + 8, d, b);
                    if (sb == 1) {
                        p[2 * qd] = a[0];
                        p[2 * qd + 1] = b[0];
                    } else {
                        p[4 * qd] = a[0];
                        p[4 * qd + 1] = a[1];
                        p[4 * qd + 2] = b[0];
                        p[4 * qd + 3] = b[1];
                    }
                    if (q->format == QFORMAT_INT4_ASYM)
                        zeros[(unit * 8 + g) * zps + qd] =
                            (uint8_t)(zero_at(q, 16 * rt + g, d) | zero_at(q, 16 * rt + g + 8, d) << 4);
                }
            }
}

// ---- workspace ----

extern "C" size_t linear_w4a16_workspace_bytes(int64_t N, int64_t K) {
    (void)N;
    (void)K;
    return 256;   /* no longer used: split tiles meet in shared memory (kept for the interface) */
}

// ---- dispatch ----

static int64_t last_warps = 0;
extern "C" void linear_w4a16_note_warps(int64_t w) { last_warps = w; }
extern "C" int64_t linear_w4a16_last_warps(void) { return last_warps; }

extern "C" void linear_w4a16_cuda_cfg(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                      void *workspace, const struct linear_w4a16_cfg *cfg, void *stream) {
    switch (w->format) {
    case QFORMAT_NVFP4: linear_nvfp4_cuda(w, x, y, M, workspace, cfg, stream); break;
    case QFORMAT_MXFP4: linear_mxfp4_cuda(w, x, y, M, workspace, cfg, stream); break;
    case QFORMAT_INT4_SYM:
    case QFORMAT_INT4_ASYM: linear_int4_cuda(w, x, y, M, workspace, cfg, stream); break;
    default: die("linear_w4a16: format '%s' has no W4A16 kernel", qformat_name(w->format));
    }
}

extern "C" void linear_w4a16_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                  void *workspace, void *stream) {
    linear_w4a16_cuda_cfg(w, x, y, M, workspace, NULL, stream);
}
