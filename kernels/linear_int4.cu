/* linear_int4 -- see linear_int4.h; the engine is linear_w4a16.cuh. */
#include "linear_int4.h"

#include "linear_w4a16.cuh"

namespace {

/* INT4 codes to exact FP16 integers c - z, BF16 group scales to FP32 (one domain = GG / 16 MMAs). */
template <int GG, bool ASYM>
struct fmt_int4 {
    enum { G = GG, BPS = (256 / GG) * 4, BZ = ASYM ? (256 / GG < 4 ? 4 : 256 / GG) : 0 };   /* BZ padded to 4 */
    static constexpr bool FOLD = false;
    /* The domain's zero points as the FP16 pairs the decode subtracts: za = 1024 + z(row g) for registers 0 and
     * 2, zb = -(64 + z(row g + 8)) for registers 1 and 3 (both halves each). Sym: the stored offset 8. */
    struct dom_t {
        uint32_t za, zb;
    };
    static __device__ __forceinline__ dom_t domain(const uint32_t *, const uint32_t *zw, int q) {
        dom_t c;
        if (!ASYM) {
            c.za = 0x64086408u;   /* 1032 */
            c.zb = 0xD480D480u;   /* -72 */
            return c;
        }
        const uint32_t b = (zw[q / 4] >> (8 * (q % 4))) & 0xFFu;
        const uint32_t z0 = b & 0xFu, z1 = b >> 4;
        c.za = 0x64006400u | z0 | z0 << 16;              /* 1024 + z: FP16 spacing 1 in [1024, 2048) */
        c.zb = 0xD400D400u | z1 << 4 | z1 << 20;         /* -(64 + z): spacing 1/16 in [64, 128) */
        return c;
    }
    /* Register j's nibbles sit at bits 4 j and 16 + 4 j. ORed into 0x6400 the nibble at bits 0-3 reads
     * 1024 + u in FP16, the one at bits 4-7 reads 1024 + 16 u; so registers 0 and 2 (row g) are
     * (1024 + u) - (1024 + z) and registers 1 and 3 (row g + 8) (1024 + 16 u) / 16 - (64 + z) in one HFMA2:
     * every step exact (the result, u - z in -15 .. 15, is an FP16 integer). */
    static __device__ __forceinline__ void decode(uint32_t w, const dom_t &c, uint32_t a[4]) {
        const uint32_t w8 = w >> 8;
        uint32_t r[4];
        r[0] = (w & 0x000F000Fu) | 0x64006400u;
        r[1] = (w & 0x00F000F0u) | 0x64006400u;
        r[2] = (w8 & 0x000F000Fu) | 0x64006400u;
        r[3] = (w8 & 0x00F000F0u) | 0x64006400u;
        const __half2 za = *reinterpret_cast<const __half2 *>(&c.za), zb = *reinterpret_cast<const __half2 *>(&c.zb);
        const __half2 sixteenth = __halves2half2(__ushort_as_half(0x2C00u), __ushort_as_half(0x2C00u));
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const __half2 v = *reinterpret_cast<const __half2 *>(&r[j]);
            const __half2 o = (j & 1) ? __hfma2(v, sixteenth, zb) : __hsub2(v, za);
            a[j] = *reinterpret_cast<const uint32_t *>(&o);
        }
    }
    /* Domain q's BF16 scales (row g low, row g + 8 high) widened to FP32: exact, NaN kept. */
    static __device__ __forceinline__ void scale(const uint32_t *sc, int q, float &s_g, float &s_g8) {
        s_g = __uint_as_float(sc[q] << 16);
        s_g8 = __uint_as_float(sc[q] & 0xFFFF0000u);
    }
};

template <bool ASYM>
static void launch_group(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *ws,
                         const struct linear_w4a16_cfg *cfg, void *stream) {
    switch (w->group) {
    case 32: w4a16::launch_cfg<fmt_int4<32, ASYM>>(w, x, y, M, ws, cfg, 1.0f, 1.0f, stream); break;
    case 64: w4a16::launch_cfg<fmt_int4<64, ASYM>>(w, x, y, M, ws, cfg, 1.0f, 1.0f, stream); break;
    default: w4a16::launch_cfg<fmt_int4<128, ASYM>>(w, x, y, M, ws, cfg, 1.0f, 1.0f, stream); break;
    }
}

}  // namespace

extern "C" void linear_int4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                 void *workspace, const struct linear_w4a16_cfg *cfg, void *stream) {
    CHECK(w->format == QFORMAT_INT4_SYM || w->format == QFORMAT_INT4_ASYM, "linear_int4_cuda: not an int4 weight");
    if (w->group != 32 && w->group != 64 && w->group != 128)
        die("linear_int4_cuda: group %d is not 32, 64 or 128", w->group);
    w4a16::check_call("linear_int4_cuda", w, x, M, w->group);
    if (w->format == QFORMAT_INT4_ASYM) launch_group<true>(w, x, y, M, workspace, cfg, stream);
    else launch_group<false>(w, x, y, M, workspace, cfg, stream);
}
