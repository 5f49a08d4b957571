/* linear_int4 -- see linear_int4.h; the engine is linear_w4a16.cuh. */
#include "linear_int4.h"

#include "linear_w4a16.cuh"

namespace {

/* INT4 codes to exact FP16 integers c - z, BF16 group scales to FP32 (one domain = GG / 16 MMAs). */
template <int GG, bool ASYM>
struct fmt_int4 {
    enum { G = GG, BPS = (256 / GG) * 4, BZ = ASYM ? (256 / GG < 4 ? 4 : 256 / GG) : 0 };   /* BZ padded to 4 */
    /* The zero points of domain q for rows g (low 16 bits) and g + 8 (high): the stored nibbles (asym) or 8,
     * the offset of the stored sym codes. */
    static __device__ __forceinline__ uint32_t zero_word(const uint32_t *zb, int q) {
        if (!ASYM) return 8u | 8u << 16;
        const uint32_t b = (zb[q / 4] >> (8 * (q % 4))) & 0xFFu;
        return (b & 0xFu) | (b >> 4) << 16;
    }
    /* A register j: nibbles j and j + 4 of w ORed into 0x6400 read 1024 + u in FP16 (exact); minus 1024 + z
     * (the zero point of the register's row: registers 0 and 2 are row g, 1 and 3 row g + 8) is u - z. */
    static __device__ __forceinline__ uint32_t a_regs(uint32_t w, uint32_t z, int j) {
        const uint32_t u = ((w >> (4 * j)) & 0x000F000Fu) | 0x64006400u;
        const uint32_t zr = (j & 1) ? (z >> 16) : (z & 0xFFFFu);
        const uint32_t zz = 0x64006400u | zr | zr << 16;
        __half2 r = __hsub2(*reinterpret_cast<const __half2 *>(&u), *reinterpret_cast<const __half2 *>(&zz));
        return *reinterpret_cast<const uint32_t *>(&r);
    }
    /* Domain q's BF16 scales (row g low, row g + 8 high) widened to FP32: exact, NaN kept. */
    static __device__ __forceinline__ void scale(const uint32_t *sc, int q, float &s_g, float &s_g8) {
        s_g = __uint_as_float(sc[q] << 16);
        s_g8 = __uint_as_float(sc[q] & 0xFFFF0000u);
    }
};

template <bool ASYM>
static void launch_group(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *ws, int stages,
                         void *stream) {
    switch (w->group) {
    case 32: w4a16::launch_stages<fmt_int4<32, ASYM>>(w, x, y, M, ws, stages, 1.0f, 1.0f, stream); break;
    case 64: w4a16::launch_stages<fmt_int4<64, ASYM>>(w, x, y, M, ws, stages, 1.0f, 1.0f, stream); break;
    default: w4a16::launch_stages<fmt_int4<128, ASYM>>(w, x, y, M, ws, stages, 1.0f, 1.0f, stream); break;
    }
}

}  // namespace

extern "C" void linear_int4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                 void *workspace, int stages, void *stream) {
    CHECK(w->format == QFORMAT_INT4_SYM || w->format == QFORMAT_INT4_ASYM, "linear_int4_cuda: not an int4 weight");
    if (w->group != 32 && w->group != 64 && w->group != 128)
        die("linear_int4_cuda: group %d is not 32, 64 or 128", w->group);
    w4a16::check_call("linear_int4_cuda", w, x, M, w->group);
    if (w->format == QFORMAT_INT4_ASYM) launch_group<true>(w, x, y, M, workspace, stages, stream);
    else launch_group<false>(w, x, y, M, workspace, stages, stream);
}
