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
 * the chip (4.3 TB/s x ~0.7 us), ~23 KB per SM; a warp keeps one step of codes (2 KB) plus the next in
 * flight, so 12-16 resident warps per SM cover it. Measured numbers: experiments/e06-kernels/README.en.md. */
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

/* Bytes of one lane's slot in one pipeline stage: 64 of codes, then the scales, then the zero points; a
 * multiple of 16 so that every slot's codes are 16-byte aligned. */
template <class F>
struct slot {
    enum { BYTES = (64 + F::BPS + F::BZ + 15) / 16 * 16 };
};

static __device__ __forceinline__ void cp_async16(uint32_t dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}
static __device__ __forceinline__ void cp_async8(uint32_t dst, const void *src) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(dst), "l"(src));
}
static __device__ __forceinline__ void cp_async4(uint32_t dst, const void *src) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(dst), "l"(src));
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
static __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

/* Issues the copies of step st (codes of its 4 spans, its scales and zero points) into the lane's slot at
 * shared address dst: 4 x 16 + BPS / 8 x 8 + (BZ / 8 x 8 | 4) bytes, all asynchronous (cp.async). Each lane
 * copies and later reads only its own slot, so no barrier is needed between lanes. */
template <class F>
static __device__ __forceinline__ void issue_step(uint32_t dst, const uint4 *cw, const uint8_t *sw, const uint8_t *zw,
                                                  int64_t st) {
#pragma unroll
    for (int s = 0; s < SPANS; s++) cp_async16(dst + 16 * s, cw + (st * SPANS + s) * 32);
#pragma unroll
    for (int i = 0; i < F::BPS / 8; i++) cp_async8(dst + 64 + 8 * i, sw + st * F::BPS + 8 * i);
    if (F::BZ == 8) cp_async8(dst + 64 + F::BPS, zw + st * 8);
    else if (F::BZ == 4) cp_async4(dst + 64 + F::BPS, zw + st * 4);
}

/* Reads a completed slot back into registers. */
template <class F>
static __device__ __forceinline__ void read_step(step_data<F> &d, const uint8_t *slot_p) {
#pragma unroll
    for (int s = 0; s < SPANS; s++) d.w[s] = reinterpret_cast<const uint4 *>(slot_p)[s];
#pragma unroll
    for (int i = 0; i < F::BPS / 8; i++) {
        const uint2 v = reinterpret_cast<const uint2 *>(slot_p + 64)[i];
        d.sc[2 * i] = v.x;
        d.sc[2 * i + 1] = v.y;
    }
    if (F::BZ == 8) {
        const uint2 v = *reinterpret_cast<const uint2 *>(slot_p + 64 + F::BPS);
        d.zb[0] = v.x;
        d.zb[1] = v.y;
    } else if (F::BZ == 4) {
        d.zb[0] = *reinterpret_cast<const uint32_t *>(slot_p + 64 + F::BPS);
    }
}

/* One step (256 columns) of the lane's two rows: 16 MMAs, G / 16 of them chained per scale domain, then
 * acc += domain sum * scale in FP32. xr points at x[token][4 t] (token 0 for lanes g >= M, masked by xm);
 * MASK: the step may run past K (its 4-column chunks at or past K read x as 0). */
template <class F, bool MASK>
static __device__ __forceinline__ void compute_step(const step_data<F> &d, const uint16_t *xr, uint32_t xm,
                                                    int64_t col0, int64_t K, int t, float acc[4]) {
    constexpr int PER = F::G / 16;   /* MMAs per scale domain */
    float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int mi = 0; mi < 16; mi++) {
        const int s = mi / 4, u = mi % 4, q = mi / PER;
        const int64_t col = col0 + 16 * mi;
        uint2 xv = make_uint2(0u, 0u);
        if (!MASK || col + 4 * t < K) xv = __ldg(reinterpret_cast<const uint2 *>(xr + col));
        const uint32_t w = u == 0 ? d.w[s].x : u == 1 ? d.w[s].y : u == 2 ? d.w[s].z : d.w[s].w;
        const uint32_t z = F::zero_word(d.zb, q);
        uint32_t a[4];
#pragma unroll
        for (int j = 0; j < 4; j++) a[j] = F::a_regs(w, z, j);
        mma16816(c, a, xv.x & xm, xv.y & xm);
        if (mi % PER == PER - 1) {
            float s_g, s_g8;
            F::scale(d.sc, q, s_g, s_g8);
            acc[0] = fmaf(c[0], s_g, acc[0]);
            acc[1] = fmaf(c[1], s_g, acc[1]);
            acc[2] = fmaf(c[2], s_g8, acc[2]);
            acc[3] = fmaf(c[3], s_g8, acc[3]);
            c[0] = c[1] = c[2] = c[3] = 0.0f;
        }
    }
}

template <class F, int M, int WARPS, int S>
static __global__ void __launch_bounds__(32 * WARPS) w4a16_kernel(const args a) {
    // codes: RT x (Kp/64) x 32 x 16 B; scales: RT x 8 x n_steps x BPS; x: M x K FP16; y: M x N FP32
    // smem: WARPS x S stages x 32 lanes x slot bytes (the ring of each warp), dynamic.
    extern __shared__ __align__(16) uint8_t ring[];
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
    const uint32_t xm = g < M ? 0xFFFFFFFFu : 0u;
    uint8_t *my = ring + ((size_t)warp * S * 32 + lane) * slot<F>::BYTES;   /* stage k at + k * 32 * BYTES */
    const uint32_t my_s = (uint32_t)__cvta_generic_to_shared(my);
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // The warp's steps: first, first + WARPS, ...; n_my of them. S - 1 are in flight before the first compute,
    // and each iteration issues the step S - 1 ahead into the stage it consumed last (one commit group per
    // step, empty ones included, so wait_group<S - 1> always means "step i has landed").
    const int64_t first = st0 + warp;
    const int64_t n_my = first < st1 ? (st1 - first + WARPS - 1) / WARPS : 0;
#pragma unroll
    for (int k = 0; k < S - 1; k++) {
        if (k < n_my) issue_step<F>(my_s + k * 32 * slot<F>::BYTES, cw, sw, zw, first + k * WARPS);
        cp_async_commit();
    }
    for (int64_t i = 0; i < n_my; i++) {
        const int64_t ahead = i + S - 1;
        if (ahead < n_my) issue_step<F>(my_s + (uint32_t)(ahead % S) * 32 * slot<F>::BYTES, cw, sw, zw, first + ahead * WARPS);
        cp_async_commit();
        cp_async_wait<S - 1>();
        step_data<F> cur;
        read_step<F>(cur, my + (size_t)(i % S) * 32 * slot<F>::BYTES);
        const int64_t st = first + i * WARPS;
        if ((st + 1) * STEP <= a.K) compute_step<F, false>(cur, xr, xm, st * STEP, a.K, t, acc);
        else compute_step<F, true>(cur, xr, xm, st * STEP, a.K, t, acc);
    }
    cp_async_wait<0>();
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
template <class F, int WARPS, int S>
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
    const size_t smem = (size_t)WARPS * S * 32 * slot<F>::BYTES;
    static int attr_set = 0;   /* per instantiation: lift the 48 KB default once (a host-side cache) */
    if (!attr_set) {
#define W4A16_ATTR(m) CUDA_CHECK(cudaFuncSetAttribute(w4a16_kernel<F, m, WARPS, S>, \
                                                      cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem))
        W4A16_ATTR(1); W4A16_ATTR(2); W4A16_ATTR(3); W4A16_ATTR(4);
        W4A16_ATTR(5); W4A16_ATTR(6); W4A16_ATTR(7); W4A16_ATTR(8);
#undef W4A16_ATTR
        attr_set = 1;
    }
#define W4A16_CASE(m) case m: w4a16_kernel<F, m, WARPS, S><<<grid, 32 * WARPS, smem, s>>>(a); break
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

/* Dispatch on the pipeline depth (stages per warp; the bench sweeps them): 4 warps per CTA, S stages. */
template <class F>
static void launch_stages(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                         int stages, float out_mul, float out_div, void *stream) {
    if (w->N == 0) return;
    cudaStream_t s = (cudaStream_t)stream;
    if (stages == 0 || stages == 4) launch<F, 4, 4>(w, x, y, M, workspace, out_mul, out_div, s);
    else if (stages == 3) launch<F, 4, 3>(w, x, y, M, workspace, out_mul, out_div, s);
    else if (stages == 6) launch<F, 4, 6>(w, x, y, M, workspace, out_mul, out_div, s);
    else CHECK(0, "linear_w4a16: no variant with %d pipeline stages", stages);
}

}  // namespace w4a16

#endif
