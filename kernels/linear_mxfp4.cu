/* linear_mxfp4 -- see linear_mxfp4.h; the engine is linear_w4a16.cuh. */
#include "linear_mxfp4.h"

#include "linear_w4a16.cuh"

namespace {

/* E2M1 codes to FP16 (w4a16::decode_e2m1) and E8M0 block scales to FP32 (one domain = two MMAs). */
struct fmt_mxfp4 {
    enum { G = 32, BPS = 16, BZ = 0 };
    static constexpr bool FOLD = false;
    struct dom_t {};
    static __device__ __forceinline__ dom_t domain(const uint32_t *, const uint32_t *, int) { return dom_t(); }
    static __device__ __forceinline__ void decode(uint32_t w, const dom_t &, uint32_t a[4]) {
        w4a16::decode_e2m1(w, a);
    }
    /* 2^(e-127) in FP32: the code is the biased exponent; code 0 is the subnormal 2^-127 (0x00400000), 0xFF NaN
     * (0x7FC00000): both are e << 23 with bit 22 set, which x = ((e + 1) & 0xFF) - 2 (negative exactly for
     * those two codes) supplies through its sign-extended high bits. Branch-free (the ternaries compiled to
     * branches: 18 per unit). */
    static __device__ __forceinline__ float e8m0(uint32_t e) {
        const uint32_t x = ((e + 1u) & 0xFFu) - 2u;
        return __uint_as_float((e << 23) | ((x >> 9) & 0x00400000u));
    }
    static __device__ __forceinline__ void scale(const uint32_t *sc, int q, float &s_g, float &s_g8) {
        const uint32_t pair = (sc[q / 2] >> (16 * (q & 1))) & 0xFFFFu;
        s_g = e8m0(pair & 0xFFu);
        s_g8 = e8m0(pair >> 8);
    }
};

}  // namespace

extern "C" void linear_mxfp4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                  void *workspace, const struct linear_w4a16_cfg *cfg, void *stream) {
    CHECK(w->format == QFORMAT_MXFP4, "linear_mxfp4_cuda: not an mxfp4 weight");
    w4a16::check_call("linear_mxfp4_cuda", w, x, M, fmt_mxfp4::G);
    // y = acc * 2^14 (exact): undoes the decode's placement.
    w4a16::launch_cfg<fmt_mxfp4>(w, x, y, M, workspace, cfg, 16384.0f, 1.0f, stream);
}
