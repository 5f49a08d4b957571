/* linear_w4a16.cuh -- the tile engine of the packed W4A16 GEMV (layout and contract: linear_w4a16.h),
 * included by the format files linear_nvfp4.cu, linear_mxfp4.cu and linear_int4.cu, each of which supplies a
 * format policy F:
 *   F::G       the scale domain along K (16, 32, 64, 128); an MMA covers 16 columns, G / 16 MMAs share a scale
 *   F::BPS     scale bytes per lane per step (2 or 4 bytes per domain, 256 / G domains), a multiple of 8
 *   F::BZ      zero-point bytes per lane per step (0, or 256 / G for INT4 asym)
 *   F::a_regs(w, z, j) -> the FP16 pair of A register j from the 32-bit code word w (z: the domain's zero
 *              points, F::zero_word), F::zero_word(zb, q), F::scale(sc, q, &s_g, &s_g8): the FP32 scales of
 *              domain q of the step for rows g and g + 8.
 * Napkin math (H200, 132 SMs at 1.98 GHz, copy bandwidth ~4.3 TB/s): at the copy bandwidth an SM
 * sub-partition receives 4.5-bit weights at ~7 per clock, so one MMA (256 weights per warp) is due every ~35
 * issue slots; the decode costs ~12-16 integer / FP16 operations per MMA and lane, 4 FFMA per scale domain,
 * 1 MMA, 1.25 loads (codes 1/4, x 1): about 20, under the 35. The other need is bytes in flight: ~3 MB over
 * the chip (4.3 TB/s x ~0.7 us), ~23 KB per SM; a warp keeps D steps of codes (2 KB each) in flight, so
 * 12-16 resident warps per SM cover it. Measured: the decode and scale instructions, not the bytes in flight,
 * are what holds the kernel back (experiments/e06-kernels/README.en.md). */
#ifndef KERNELS_LINEAR_W4A16_CUH
#define KERNELS_LINEAR_W4A16_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#include "common.cuh"
#include "core/check.h"
#include "linear_w4a16.h"

namespace w4a16 {

enum { SPANS = 4, STEP = 256 };

/* Kernel arguments: the planes, shape and reduction workspace (counters[RT], then partials
 * [n_split][RT][4][32] floats), and the output transform y = (acc * out_mul) / out_div (out_div rounds once:
 * NVFP4's 1 / g; out_mul = 2^14 is exact). */
struct args {
    const uint4 *codes;
    const uint8_t *scales, *zeros;
    const uint16_t *x;
    float *y;
    unsigned *count;
    float *part;
    int64_t N, K, RT, n_steps, steps_per_split;
    float out_mul, out_div;
};

static __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* The per-lane data of one step: 4 code words (one per span), its scales and zero points. */
template <class F>
struct step_data {
    uint4 w[SPANS];
    uint32_t sc[F::BPS / 4];
    uint32_t zb[F::BZ / 4 > 0 ? F::BZ / 4 : 1];
};

/* 16 bytes of weights that are read once: no L1 allocation (L1 keeps x). */
static __device__ __forceinline__ uint4 ld_stream16(const uint4 *p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

/* Loads step st of the lane (codes of its 4 spans, its scales and zero points) into registers; the loads stay
 * in flight until the registers are first read. */
template <class F>
static __device__ __forceinline__ void load_step(step_data<F> &d, const uint4 *cw, const uint8_t *sw,
                                                 const uint8_t *zw, int64_t st) {
#pragma unroll
    for (int s = 0; s < SPANS; s++) d.w[s] = ld_stream16(cw + (st * SPANS + s) * 32);
#pragma unroll
    for (int i = 0; i < F::BPS / 8; i++) {
        const uint2 v = __ldg(reinterpret_cast<const uint2 *>(sw + st * F::BPS) + i);
        d.sc[2 * i] = v.x;
        d.sc[2 * i + 1] = v.y;
    }
    if (F::BZ == 8) {
        const uint2 v = __ldg(reinterpret_cast<const uint2 *>(zw + st * 8));
        d.zb[0] = v.x;
        d.zb[1] = v.y;
    } else if (F::BZ == 4) {
        d.zb[0] = __ldg(reinterpret_cast<const uint32_t *>(zw + st * 4));
    }
}

/* The same MMA with a zero accumulator (the first of a scale domain): no register moves to clear it. */
static __device__ __forceinline__ void mma16816_zero(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%10,%10,%10,%10};\n"
                 : "=f"(c[0]), "=f"(c[1]), "=f"(c[2]), "=f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.0f));
}

/* One step (256 columns) of the lane's two rows: 16 MMAs, G / 16 of them chained per scale domain, then
 * acc += domain sum * scale in FP32. xr points at x[token][4 t] (token 0 for lanes g >= M, which load
 * nothing: xok false, B = 0); MMA mi reads its x only when its 4 columns lie before K (a step may run past K
 * into the zero padding: lim = K - col0 - 4 t). */
template <class F>
static __device__ __forceinline__ void compute_step(const step_data<F> &d, const uint16_t *xr, bool xok,
                                                    int64_t col0, int64_t K, int t, float acc[4]) {
    constexpr int PER = F::G / 16;   /* MMAs per scale domain */
    const int64_t lim = K - col0 - 4 * t;
    float c[4];
#pragma unroll
    for (int mi = 0; mi < 16; mi++) {
        const int s = mi / 4, u = mi % 4, q = mi / PER;
        uint2 xv = make_uint2(0u, 0u);
        if (xok && 16 * mi < lim) xv = __ldg(reinterpret_cast<const uint2 *>(xr + col0 + 16 * mi));
        const uint32_t w = u == 0 ? d.w[s].x : u == 1 ? d.w[s].y : u == 2 ? d.w[s].z : d.w[s].w;
        const uint32_t z = F::zero_word(d.zb, q);
        uint32_t a[4];
#pragma unroll
        for (int j = 0; j < 4; j++) a[j] = F::a_regs(w, z, j);
        if (mi % PER == 0) mma16816_zero(c, a, xv.x, xv.y);
        else mma16816(c, a, xv.x, xv.y);
        if (mi % PER == PER - 1) {
            float s_g, s_g8;
            F::scale(d.sc, q, s_g, s_g8);
            acc[0] = fmaf(c[0], s_g, acc[0]);
            acc[1] = fmaf(c[1], s_g, acc[1]);
            acc[2] = fmaf(c[2], s_g8, acc[2]);
            acc[3] = fmaf(c[3], s_g8, acc[3]);
        }
    }
}

template <class F, int M, int WARPS, int D>
static __global__ void __launch_bounds__(32 * WARPS, 4) w4a16_kernel(const args a) {
    // codes: RT x (Kp/64) x 32 x 16 B; scales: RT x 8 x n_steps x BPS; x: M x K FP16; y: M x N FP32
    __shared__ float s_part[WARPS][4][32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    const int64_t rt = blockIdx.x;
    const int split = blockIdx.y, n_split = gridDim.y;
    const int64_t st0 = (int64_t)split * a.steps_per_split;
    const int64_t st1 = min(st0 + a.steps_per_split, a.n_steps);
    const uint4 *cw = a.codes + rt * a.n_steps * SPANS * 32 + lane;
    const uint8_t *sw = a.scales + (rt * 8 + g) * a.n_steps * F::BPS;
    const uint8_t *zw = F::BZ ? a.zeros + (rt * 8 + g) * a.n_steps * F::BZ : nullptr;
    const uint16_t *xr = a.x + (int64_t)(g < M ? g : 0) * a.K + 4 * t;   /* B column g = token g */
    const bool xok = g < M;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // The warp's steps: first, first + WARPS, ...; n_my of them, streamed through D + 1 register buffers
    // (indexed by unrolled constants only): D steps are in flight while one is computed. The buffer of step i
    // is i mod (D + 1); step i + D is loaded into the buffer that step i - 1 left.
    const int64_t first = st0 + warp;
    const int64_t n_my = first < st1 ? (st1 - first + WARPS - 1) / WARPS : 0;
    step_data<F> b[D + 1];
#pragma unroll
    for (int k = 0; k < D; k++)
        if (k < n_my) load_step<F>(b[k], cw, sw, zw, first + k * WARPS);
    for (int64_t i0 = 0; i0 < n_my; i0 += D + 1) {
#pragma unroll
        for (int r = 0; r <= D; r++) {
            const int64_t i = i0 + r;
            if (i >= n_my) break;
            if (i + D < n_my) load_step<F>(b[(r + D) % (D + 1)], cw, sw, zw, first + (i + D) * WARPS);
            compute_step<F>(b[r], xr, xok, (first + i * WARPS) * STEP, a.K, t, acc);
        }
    }
#pragma unroll
    for (int i = 0; i < 4; i++) s_part[warp][i][lane] = acc[i];
    __syncthreads();
    if (warp != 0) return;
    float v[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {   /* fixed order over the warps */
        v[i] = 0.0f;
        for (int wi = 0; wi < WARPS; wi++) v[i] += s_part[wi][i][lane];
    }
    if (n_split > 1) {
        // Cross-CTA split of K: publish this CTA's partial, and the last CTA of the tile (the counter) sums all
        // of them in split order (threadFenceReduction pattern: fence before the count, fence after it).
        float *pp = a.part + ((int64_t)split * a.RT + rt) * 128;
#pragma unroll
        for (int i = 0; i < 4; i++) pp[i * 32 + lane] = v[i];
        __threadfence();
        __syncwarp();
        unsigned old = 0;
        if (lane == 0) old = atomicAdd(a.count + rt, 1u);
        old = __shfl_sync(0xFFFFFFFFu, old, 0);
        if (old != (unsigned)n_split - 1) return;
        __threadfence();
#pragma unroll
        for (int i = 0; i < 4; i++) {
            v[i] = 0.0f;
            for (int sp = 0; sp < n_split; sp++) v[i] += __ldcg(a.part + ((int64_t)sp * a.RT + rt) * 128 + i * 32 + lane);
        }
        if (lane == 0) a.count[rt] = 0;   /* ready for the next launch */
    }
    // C fragment: v0, v1 = row g, tokens 2t, 2t+1; v2, v3 = row g + 8, tokens 2t, 2t+1.
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int64_t row = rt * 16 + g + (i >= 2 ? 8 : 0);
        const int tok = 2 * t + (i & 1);
        if (row < a.N && tok < M) a.y[tok * a.N + row] = __fdiv_rn(v[i] * a.out_mul, a.out_div);
    }
}

/* Host side: fills the arguments, checks the preconditions and launches the M-specialised kernel. */
template <class F, int WARPS, int D>
static void launch(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                   float out_mul, float out_div, cudaStream_t s) {
    args a;
    a.codes = reinterpret_cast<const uint4 *>(w->codes);
    a.scales = w->scales;
    a.zeros = w->zeros;
    a.x = x;
    a.y = y;
    a.N = w->N;
    a.K = w->K;
    a.RT = ceil_div(w->N, LINEAR_W4A16_TILE_N);
    a.n_steps = ceil_div(w->K, STEP);
    const int n_split = linear_w4a16_n_split(w->N, w->K);
    a.steps_per_split = ceil_div(a.n_steps, n_split);
    a.count = reinterpret_cast<unsigned *>(workspace);
    a.part = reinterpret_cast<float *>(reinterpret_cast<uint8_t *>(workspace) + ceil_div(a.RT * 4, 256) * 256);
    a.out_mul = out_mul;
    a.out_div = out_div;
    CHECK(n_split == 1 || workspace != nullptr, "linear_w4a16: a K split needs the workspace");
    const dim3 grid((unsigned)a.RT, (unsigned)n_split);
#define W4A16_CASE(m) case m: w4a16_kernel<F, m, WARPS, D><<<grid, 32 * WARPS, 0, s>>>(a); break
    switch (M) {
        W4A16_CASE(1); W4A16_CASE(2); W4A16_CASE(3); W4A16_CASE(4);
        W4A16_CASE(5); W4A16_CASE(6); W4A16_CASE(7); W4A16_CASE(8);
    }
#undef W4A16_CASE
    CUDA_CHECK_LAUNCH();
}

/* The shared preconditions (one-line errors naming the kernel, what was expected and what came). */
static inline void check_call(const char *name, const struct linear_w4a16 *w, const uint16_t *x, int64_t M,
                              int domain) {
    if (w->K <= 0 || w->K % domain != 0)
        die("%s: K=%lld is not a positive multiple of %d (the scale domain)", name, (long long)w->K, domain);
    if (M < 1 || M > LINEAR_W4A16_MAX_M)
        die("%s: M=%lld outside 1 .. %d", name, (long long)M, LINEAR_W4A16_MAX_M);
    CHECK((uintptr_t)w->codes % 16 == 0 && (uintptr_t)w->scales % 8 == 0 && (uintptr_t)x % 8 == 0 &&
          (uintptr_t)w->zeros % 8 == 0, "linear_w4a16: plane alignment");
}

/* Dispatch on the pipeline depth (steps in flight per warp while one computes; the bench sweeps 1 and 2):
 * 4 warps per CTA. */
template <class F>
static void launch_depth(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                          int depth, float out_mul, float out_div, void *stream) {
    if (w->N == 0) return;
    cudaStream_t s = (cudaStream_t)stream;
    if (depth == 0 || depth == 2) launch<F, 4, 2>(w, x, y, M, workspace, out_mul, out_div, s);
    else if (depth == 1) launch<F, 4, 1>(w, x, y, M, workspace, out_mul, out_div, s);
    else CHECK(0, "linear_w4a16: no variant with pipeline depth %d", depth);
}

}  // namespace w4a16

#endif
