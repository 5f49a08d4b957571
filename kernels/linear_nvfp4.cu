/* linear_nvfp4 -- see linear_nvfp4.h; the engine is linear_w4a16.cuh. */
#include "linear_nvfp4.h"

#include <cuda_fp8.h>

#include "linear_w4a16.cuh"

namespace {

/* E2M1 codes to FP16 (w4a16::decode_e2m1) times the block's UE4M3 scale in FP16 (exact: see
 * linear_nvfp4.h), so all 16 MMAs of a unit chain into the accumulator (one domain = one MMA). */
struct fmt_nvfp4 {
    enum { G = 16, BPS = 32, BZ = 0 };
    static constexpr bool FOLD = true;
    struct dom_t {
        __half2 d;   /* the scales of rows g (low) and g + 8 (high) */
    };
    /* Domain q's scale bytes (rows g, g + 8) through the sm_89+ cvt.rn.f16x2.e4m3x2: UE4M3 values are exact in
     * FP16 (2^-9 .. 448); 0x7F decodes to NaN. */
    static __device__ __forceinline__ dom_t domain(const uint32_t *sc, const uint32_t *, int q) {
        const __nv_fp8x2_storage_t pair = (__nv_fp8x2_storage_t)((sc[q / 2] >> (16 * (q & 1))) & 0xFFFFu);
        const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(pair, __NV_E4M3);
        dom_t c;
        c.d = *reinterpret_cast<const __half2 *>(&h);
        return c;
    }
    /* Registers 0 and 2 hold row g, 1 and 3 row g + 8: each times its row's scale (HMUL2, exact). */
    static __device__ __forceinline__ void decode(uint32_t w, const dom_t &c, uint32_t a[4]) {
        uint32_t r[4];
        w4a16::decode_e2m1(w, r);
        const __half2 lo = __low2half2(c.d), hi = __high2half2(c.d);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const __half2 v = __hmul2(*reinterpret_cast<const __half2 *>(&r[j]), (j & 1) ? hi : lo);
            a[j] = *reinterpret_cast<const uint32_t *>(&v);
        }
    }
};

}  // namespace

extern "C" void linear_nvfp4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M,
                                  void *workspace, const struct linear_w4a16_cfg *cfg, void *stream) {
    CHECK(w->format == QFORMAT_NVFP4, "linear_nvfp4_cuda: not an nvfp4 weight");
    w4a16::check_call("linear_nvfp4_cuda", w, x, M, fmt_nvfp4::G);
    // y = (acc * 2^14) / g: the 2^14 undoes the decode's placement (exact), the division rounds once.
    w4a16::launch_cfg<fmt_nvfp4>(w, x, y, M, workspace, cfg, 16384.0f, w->global_scale, stream);
}
