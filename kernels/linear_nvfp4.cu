/* linear_nvfp4 -- see linear_nvfp4.h; the engine is linear_w4a16.cuh. */
#include "linear_nvfp4.h"

#include <cuda_fp8.h>

#include "linear_w4a16.cuh"

namespace {

/* E2M1 codes to FP16 pairs and UE4M3 block scales to FP32 (one domain = one MMA). */
struct fmt_nvfp4 {
    enum { G = 16, BPS = 32, BZ = 0 };
    static __device__ __forceinline__ uint32_t zero_word(const uint32_t *, int) { return 0; }
    /* A register j: nibbles j (low half) and j + 4 (high half) of w as e2m1 * 2^-14 in FP16: the magnitude
     * bits (eem) move to FP16 bits 9-11 and the sign to bit 15, which reads 2^(ee-15) (1 + m/2) for ee > 0 and
     * the subnormal m 2^-15 for ee = 0. Nibble j sits at bits 4j (and 4j + 16): shifts 9 - 4j and 12 - 4j. */
    static __device__ __forceinline__ uint32_t a_regs(uint32_t w, uint32_t, int j) {
        const uint32_t mag = j == 3 ? (w >> 3) : (w << (9 - 4 * j));
        const uint32_t sgn = w << (12 - 4 * j);
        return (mag & 0x0E000E00u) | (sgn & 0x80008000u);
    }
    /* Domain q's scale bytes (rows g, g + 8) through the sm_89+ cvt.rn.f16x2.e4m3x2: UE4M3 values are exact in
     * FP16 (2^-9 .. 448) and in FP32; 0x7F decodes to NaN. */
    static __device__ __forceinline__ void scale(const uint32_t *sc, int q, float &s_g, float &s_g8) {
        const __nv_fp8x2_storage_t pair = (__nv_fp8x2_storage_t)((sc[q / 2] >> (16 * (q & 1))) & 0xFFFFu);
        const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(pair, __NV_E4M3);
        __half_raw lo, hi;
        lo.x = h.x;
        hi.x = h.y;
        s_g = __half2float(__half(lo));
        s_g8 = __half2float(__half(hi));
    }
};

}  // namespace

extern "C" void linear_nvfp4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                  void *workspace, int stages, void *stream) {
    CHECK(w->format == QFORMAT_NVFP4, "linear_nvfp4_cuda: not an nvfp4 weight");
    w4a16::check_call("linear_nvfp4_cuda", w, x, M, fmt_nvfp4::G);
    // y = (acc * 2^14) / g: the 2^14 undoes the decode's placement (exact), the division rounds once.
    w4a16::launch_stages<fmt_nvfp4>(w, x, y, M, workspace, stages, 16384.0f, w->global_scale, stream);
}
