/* linear_w4a16.cuh -- the engine of the packed W4A16 GEMV (layout and contract: linear_w4a16.h), included by
 * the format files linear_nvfp4.cu, linear_mxfp4.cu and linear_int4.cu, each of which supplies a format
 * policy F:
 *   F::G       the scale domain along K (16, 32, 64, 128); an MMA covers 16 columns, G / 16 MMAs share a scale
 *   F::BPS     scale bytes per lane per unit (2 or 4 bytes per domain, 256 / G domains), a multiple of 8
 *   F::BZ      zero-point bytes per lane per unit (0, or max(4, 256 / G) for INT4 asym)
 *   F::FOLD    true when the scale is folded into the FP16 A values (exact: NVFP4), so that every MMA of the
 *              unit chains into the accumulator; false: G / 16 MMAs chain from zero, then acc += sum * scale
 *   F::dom_t   the per-domain decode context (zero points, or the folded scales), F::domain(sc, zb, q) -> it
 *   F::decode(w, ctx, a[4])  the four FP16-pair A registers of one MMA from its 32-bit code word
 *   F::scale(sc, q, &s_g, &s_g8)  (FOLD false) the FP32 scales of domain q for rows g and g + 8.
 * Work split: the weight is RT = N/16 tiles x S = Kp/256 steps "units" (one unit: 16 rows x 256 columns, 2 KB
 * of codes, stored step-major: unit u = step * RT + tile, so the same step of consecutive tiles is contiguous).
 * One wave of CTAs of P warps (P divides S: the K split of a tile, chosen so that the tiles times P fill the
 * GPU's warp slots, at most 16); CTA c takes the tiles c, c + C, c + 2C, ... (the count of CTAs balanced so that
 * every CTA takes the same number of tiles, within one), and its warp p the steps [p S/P, (p+1) S/P) of each.
 * At any moment the warps of the grid thus read the same few steps of consecutive tiles: a dense window of
 * DRAM (a first version that gave each warp its own contiguous range of units, 2000 scattered streams,
 * plateaued at 0.73-0.77 of the copy bandwidth for every format on the lm_head). Each warp streams its units
 * through D + 1 register buffers (D units in flight while one is computed; D = 1 by default), across tile
 * boundaries, so the loads never drain until the warp's last unit. P = 1: each warp stores its tiles; P > 1:
 * the P partial sums of a tile meet in shared memory (one barrier per tile, double-buffered), summed in warp
 * order by warp 0: deterministic, no workspace.
 * Napkin math (H200, 132 SMs at ~1.98 GHz, copy bandwidth ~4.2 TB/s): at the copy bandwidth an SM receives
 * ~16 bytes per clock, one 256-weight MMA's worth of 4.5-bit weights per ~9 clocks, i.e. ~35 issue slots of
 * its four schedulers per MMA. Per MMA: the decode (INT4: 1 shift, 4 LOP3, 4 HSUB2 / HFMA2; E2M1: 5 shifts,
 * 6 LOP3), the folded NVFP4 scale (4 HMUL2 and a cvt) or the per-domain FFMAs, 1 MMA, one x load and 1/4 of
 * a 16-byte code load: 12-20 slots. Bytes in flight: ~3 MB over the chip (4.2 TB/s x ~0.7 us), ~23 KB per
 * SM; 16 resident warps with D = 2 units of 2 KB each keep ~64 KB in flight per SM. */
#ifndef KERNELS_LINEAR_W4A16_CUH
#define KERNELS_LINEAR_W4A16_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#include "common.cuh"
#include "core/check.h"
#include "linear_w4a16.h"

/* Records the grid's warps of the last launch (linear_w4a16.cu; read by linear_w4a16_last_warps). */
extern "C" void linear_w4a16_note_warps(int64_t w);

namespace w4a16 {

enum { SPANS = 4, STEP = 256 };

/* Kernel arguments: the planes, shape, and the output transform y = (acc * out_mul) / out_div (out_div rounds
 * once: NVFP4's 1 / g; out_mul = 2^14 is exact). */
struct args {
    const uint4 *codes;
    const uint8_t *scales, *zeros;
    const uint16_t *x;
    float *y;
    int64_t N, K, RT, n_steps;
    float out_mul, out_div;
};

static __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* The same MMA with a zero accumulator (the first of a scale domain): no register moves to clear it. */
static __device__ __forceinline__ void mma16816_zero(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%10,%10,%10,%10};\n"
                 : "=f"(c[0]), "=f"(c[1]), "=f"(c[2]), "=f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "f"(0.0f));
}

/* E2M1 codes to FP16 pairs e2m1 * 2^-14 (NVFP4 and MXFP4; the bit layout of linear_w4a16.h): the three
 * magnitude bits (e e m) of a nibble land on FP16 bits 9-11 and its sign on bit 15, which reads
 * 2^(ee-15) (1 + m/2) for ee > 0 and the subnormal m 2^-15 for ee = 0. Register j's magnitudes sit at bits
 * {9, 6, 3, 0} + 16 h and its signs at {15, 12, 14, 13} + 16 h of the code word, so 5 shifts and 6 LOP3 serve
 * all four registers (the fewest for this FP16 placement, by exhaustive search over the bit layouts). */
static __device__ __forceinline__ void decode_e2m1(uint32_t w, uint32_t a[4]) {
    a[0] = w & 0x8E008E00u;
    a[1] = (w << 3) & 0x8E008E00u;
    a[2] = ((w << 6) & 0x0E000E00u) | ((w << 1) & 0x80008000u);
    a[3] = ((w << 9) & 0x0E000E00u) | ((w << 2) & 0x80008000u);
}

/* The per-lane data of one unit: 4 code words (one per span), its scales and zero points. */
template <class F>
struct unit_data {
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

/* Loads unit u of the lane (codes of its 4 spans, its scales and zero points) into registers; the loads stay
 * in flight until the registers are first read. cw = codes + lane, sw = scales + g BPS, zw = zeros + g BZ;
 * u = step * RT + tile (the planes are step-major: the same step of consecutive tiles is contiguous). */
template <class F>
static __device__ __forceinline__ void load_unit(unit_data<F> &d, const uint4 *cw, const uint8_t *sw,
                                                 const uint8_t *zw, int64_t u) {
#pragma unroll
    for (int s = 0; s < SPANS; s++) d.w[s] = ld_stream16(cw + (u * SPANS + s) * 32);
    const uint8_t *sp = sw + u * (8 * F::BPS);
#pragma unroll
    for (int i = 0; i < F::BPS / 8; i++) {
        const uint2 v = __ldg(reinterpret_cast<const uint2 *>(sp) + i);
        d.sc[2 * i] = v.x;
        d.sc[2 * i + 1] = v.y;
    }
    if (F::BZ == 8) {
        const uint2 v = __ldg(reinterpret_cast<const uint2 *>(zw + u * 64));
        d.zb[0] = v.x;
        d.zb[1] = v.y;
    } else if (F::BZ == 4) {
        d.zb[0] = __ldg(reinterpret_cast<const uint32_t *>(zw + u * 32));
    }
}

/* One unit (256 columns) of the lane's two rows: 16 MMAs. xr points at x[token][4 t] (token min(g, M - 1):
 * the B columns g >= M hold a copy of a real token, whose C columns are never stored). TAIL: the unit may run
 * past K into the zero padding: MMA mi reads its x only when its 16 columns lie before K (lim = K - col0),
 * else B = 0. */
template <class F, bool TAIL>
static __device__ __forceinline__ void compute_unit(const unit_data<F> &d, const uint16_t *xr, int64_t col0,
                                                    int64_t lim, float acc[4]) {
    constexpr int PER = F::G / 16;   /* MMAs per scale domain */
    float c[4];
    typename F::dom_t ctx;
#pragma unroll
    for (int mi = 0; mi < 16; mi++) {
        const int s = mi / 4, u = mi % 4, q = mi / PER;
        uint2 xv = make_uint2(0u, 0u);
        if (!TAIL || 16 * mi < lim) xv = __ldg(reinterpret_cast<const uint2 *>(xr + col0 + 16 * mi));
        const uint32_t w = u == 0 ? d.w[s].x : u == 1 ? d.w[s].y : u == 2 ? d.w[s].z : d.w[s].w;
        if (mi % PER == 0) ctx = F::domain(d.sc, d.zb, q);
        uint32_t a[4];
        F::decode(w, ctx, a);
        if constexpr (F::FOLD) {
            mma16816(acc, a, xv.x, xv.y);
        } else {
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
}

/* Stores the 4 C-fragment values of tile rt: v0, v1 = row g, tokens 2t, 2t+1; v2, v3 = row g + 8. */
template <int M>
static __device__ __forceinline__ void store_tile(float *y, int64_t N, float out_mul, float out_div, int64_t rt,
                                                  int g, int t, const float v[4]) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int64_t row = rt * 16 + g + (i >= 2 ? 8 : 0);
        const int tok = 2 * t + (i & 1);
        if (row < N && tok < M) y[tok * N + row] = __fdiv_rn(v[i] * out_mul, out_div);
    }
}

/* The most warps per CTA (the K split of a tile): 16 at depth 1 (<= 128 registers), 8 at depth 2. */
static constexpr int max_p(int D) { return D == 1 ? 16 : 8; }

template <class F, int M, int D>
static __global__ void __launch_bounds__(32 * max_p(D)) w4a16_kernel(const args a) {
    // codes: [n_steps][RT][4 spans][32 lanes] 16 B (unit u = step * RT + tile); scales: [units][8 g][BPS];
    // zeros: [units][8][BZ]. CTA c takes the tiles c, c + C, c + 2C, ...; its P warps split each tile's steps
    // into P equal chunks (P divides n_steps), warp p the steps [p L, (p + 1) L), L = n_steps / P.
    extern __shared__ float s_part[];   /* [2 tile parities][P warps][4][32] when P > 1 */
    const int lane = threadIdx.x % 32, p = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    const int P = blockDim.x / 32;
    const int64_t C = gridDim.x, RT = a.RT, L = a.n_steps / P;
    const int64_t n_tiles = blockIdx.x < RT ? (RT - 1 - blockIdx.x) / C + 1 : 0;
    const int64_t n = n_tiles * L, s0 = p * L;
    if (n == 0) return;   /* the whole CTA: no barrier is left waiting */
    const uint4 *cw = a.codes + lane;
    const uint8_t *sw = a.scales + g * F::BPS;
    const uint8_t *zw = F::BZ ? a.zeros + g * F::BZ : nullptr;
    const uint16_t *xr = a.x + (int64_t)(g < M ? g : M - 1) * a.K + 4 * t;   /* B column g = token g */
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // The warp's units, tile by tile (r = 0 .. n_tiles - 1: tile blockIdx.x + r C) and step by step (j = 0 ..
    // L - 1: step s0 + j), stream through D + 1 register buffers (indexed by unrolled constants only): the
    // buffer of unit i is i mod (D + 1); unit i + D is loaded into the buffer that unit i - 1 left. (lr, lj):
    // the tile and step of the next unit to load; (rt, j): of the unit computed.
    int64_t lrt = blockIdx.x, lj = 0, rt = blockIdx.x, j = 0;
    unit_data<F> b[D + 1];
#pragma unroll
    for (int k = 0; k < D; k++)
        if (k < n) {
            load_unit<F>(b[k], cw, sw, zw, (s0 + lj) * RT + lrt);
            if (++lj == L) { lj = 0; lrt += C; }
        }
    int par = 0;
    for (int64_t i0 = 0; i0 < n; i0 += D + 1) {
#pragma unroll
        for (int r = 0; r <= D; r++) {
            const int64_t i = i0 + r;
            if (i >= n) break;
            if (i + D < n) {
                load_unit<F>(b[(r + D) % (D + 1)], cw, sw, zw, (s0 + lj) * RT + lrt);
                if (++lj == L) { lj = 0; lrt += C; }
            }
            const int64_t col0 = (s0 + j) * STEP, lim = a.K - col0;
            if (lim >= STEP) compute_unit<F, false>(b[r], xr, col0, lim, acc);
            else compute_unit<F, true>(b[r], xr, col0, lim, acc);
            if (++j == L) {   /* the end of this warp's chunk of tile rt */
                if (P == 1) {
                    store_tile<M>(a.y, a.N, a.out_mul, a.out_div, rt, g, t, acc);
                } else {
                    // The P chunks of the tile summed in warp order through shared memory (double-buffered
                    // by tile parity: one barrier per tile); warp 0 stores.
#pragma unroll
                    for (int k = 0; k < 4; k++) s_part[((par * P + p) * 4 + k) * 32 + lane] = acc[k];
                    __syncthreads();
                    if (p == 0) {
                        float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                        for (int w = 0; w < P; w++)
#pragma unroll
                            for (int k = 0; k < 4; k++) v[k] += s_part[((par * P + w) * 4 + k) * 32 + lane];
                        store_tile<M>(a.y, a.N, a.out_mul, a.out_div, rt, g, t, v);
                    }
                    par ^= 1;
                }
#pragma unroll
                for (int k = 0; k < 4; k++) acc[k] = 0.0f;
                j = 0;
                rt += C;
            }
        }
    }
}

/* The SM count of the current device (queried once), and the CTAs of P warps that fit on one SM for kernel
 * k (queried once per instantiation and P). */
static inline int sm_count() {
    static int n = 0;
    if (n == 0) {
        int dev = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    }
    return n;
}

static inline size_t smem_bytes(int P) { return P > 1 ? (size_t)2 * P * 128 * sizeof(float) : 0; }

template <class F, int M, int D>
static int ctas_per_sm(int P) {
    static int n[max_p(D) + 1];
    if (n[P] == 0) {
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n[P], w4a16_kernel<F, M, D>, 32 * P, smem_bytes(P)));
        if (n[P] < 1) n[P] = 1;
    }
    return n[P];
}

/* The K split P of a tile (warps per CTA): the largest divisor of n_steps that is at most the warps that fit
 * on the GPU per tile (at most pmax; ksplit > 0 asks for at most that many). */
static inline int choose_p(int64_t RT, int64_t n_steps, int64_t warps_fit, int ksplit, int pmax) {
    int64_t target = ksplit > 0 ? ksplit : warps_fit / RT;
    if (target > pmax) target = pmax;
    if (target < 1) target = 1;
    int P = 1;
    for (int q = 1; q <= target; q++)
        if (n_steps % q == 0) P = q;
    return P;
}

/* Host side: sizes the grid (P warps per CTA; CTAs of one wave, balanced so that each takes the same number
 * of tiles within one) and launches the M-specialised kernel. */
template <class F, int M, int D>
static void launch_m(const args &a, int ksplit, int max_ctas, cudaStream_t s) {
    const int64_t warps_fit = (int64_t)sm_count() * ctas_per_sm<F, M, D>(1);   /* one-warp CTAs: the warp limit */
    const int P = choose_p(a.RT, a.n_steps, warps_fit, ksplit, max_p(D));
    int64_t fit = (int64_t)sm_count() * ctas_per_sm<F, M, D>(P);
    if (max_ctas > 0 && fit > max_ctas) fit = max_ctas;
    const int64_t rounds = ceil_div(a.RT, fit);
    const int64_t ctas = ceil_div(a.RT, rounds);
    linear_w4a16_note_warps(ctas * P);
    w4a16_kernel<F, M, D><<<(unsigned)ctas, 32 * P, smem_bytes(P), s>>>(a);
    CUDA_CHECK_LAUNCH();
}

template <class F, int D>
static void launch(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, int ksplit, int max_ctas,
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
    a.out_mul = out_mul;
    a.out_div = out_div;
    switch (M) {
    case 1: launch_m<F, 1, D>(a, ksplit, max_ctas, s); break;
    case 2: launch_m<F, 2, D>(a, ksplit, max_ctas, s); break;
    case 3: launch_m<F, 3, D>(a, ksplit, max_ctas, s); break;
    case 4: launch_m<F, 4, D>(a, ksplit, max_ctas, s); break;
    case 5: launch_m<F, 5, D>(a, ksplit, max_ctas, s); break;
    case 6: launch_m<F, 6, D>(a, ksplit, max_ctas, s); break;
    case 7: launch_m<F, 7, D>(a, ksplit, max_ctas, s); break;
    default: launch_m<F, 8, D>(a, ksplit, max_ctas, s); break;
    }
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

/* Dispatch on the pipeline depth D (units in flight per warp while one computes; 0: the default 1) and the K
 * split (0: chosen per shape). */
template <class F>
static void launch_cfg(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                       const struct linear_w4a16_cfg *cfg, float out_mul, float out_div, void *stream) {
    (void)workspace;
    if (w->N == 0) return;
    cudaStream_t s = (cudaStream_t)stream;
    const int depth = cfg ? cfg->depth : 0;
    const int ks = cfg ? cfg->ksplit : 0, mc = cfg ? cfg->max_ctas : 0;
    if (depth == 0 || depth == 1) launch<F, 1>(w, x, y, M, ks, mc, out_mul, out_div, s);
    else if (depth == 2) launch<F, 2>(w, x, y, M, ks, mc, out_mul, out_div, s);
    else CHECK(0, "linear_w4a16: no variant with pipeline depth %d", depth);
}

}  // namespace w4a16

#endif
