/* serve_gemv -- see serve_gemv.h. */
#include "serve_gemv.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "core/rng.h"

// ---- storage ----

static __host__ __device__ inline int fmt_is4(int fmt) { return fmt == SERVE_NVFP4 || fmt == SERVE_MXFP4 || fmt == SERVE_INT4_SYM || fmt == SERVE_INT4_ASYM; }

/* Scale plane bytes per matrix. */
static size_t scale_bytes_1(int fmt, int64_t N, int64_t K) {
    switch (fmt) {
    case SERVE_FP8_BLOCK: return (size_t)((N + 127) / 128 * (K / 128)) * 4;
    case SERVE_MXFP8:
    case SERVE_MXFP4: return (size_t)(N * (K / 32));
    case SERVE_NVFP4: return (size_t)(N * (K / 16));
    case SERVE_INT4_SYM:
    case SERVE_INT4_ASYM: return (size_t)(N * (K / 128)) * 2;
    default: return 0;
    }
}

extern "C" void serve_w_bytes(int fmt, int64_t N, int64_t K, int64_t n_mat, size_t *codes, size_t *scales,
                              size_t *zeros) {
    const size_t per = fmt == SERVE_BF16 ? 2 * (size_t)(N * K) : fmt_is4(fmt) ? (size_t)(N * K) / 2 : (size_t)(N * K);
    *codes = per * (size_t)n_mat;
    *scales = scale_bytes_1(fmt, N, K) * (size_t)n_mat;
    *zeros = fmt == SERVE_INT4_ASYM ? (size_t)(N * (K / 128)) * (size_t)n_mat : 0;
}

// ---- random fill (device, counter-based: value i of plane p of tensor id is rng_hash(seed ^ id-mix, i)) ----

static __device__ __forceinline__ float dev_unit(uint64_t h) { return (float)(h >> 40) * (1.0f / 16777216.0f); }

/* Random bits for code planes; BF16 planes get sum-of-three-uniforms values of the given rms (variance of
 * u1 + u2 + u3 - 1.5 is 1/4, so times 2 rms). */
static __global__ void fill_codes_kernel(uint32_t *p, int64_t n_words, uint64_t seed, int fmt, float rms) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_words) return;
    const uint64_t h = rng_hash(seed, (uint64_t)i);
    uint32_t w = (uint32_t)h;
    if (fmt == SERVE_BF16) {
        uint32_t out = 0;
        for (int j = 0; j < 2; j++) {
            const uint64_t r = rng_hash(seed ^ 0x5bd1e995u, (uint64_t)(2 * i + j));
            const float u = dev_unit(r) + dev_unit(r << 21) + dev_unit(r << 42) - 1.5f;
            const float v = u * 2.0f * rms;
            out |= (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(v)) << (16 * j);
        }
        w = out;
    } else if (!fmt_is4(fmt) || fmt == SERVE_NVFP4 || fmt == SERVE_MXFP4) {
        if (!fmt_is4(fmt)) {
            // E4M3 bytes with biased exponent 4..11 (2^-3 .. 2^4 times 1.m): random sign and mantissa, never NaN.
            uint32_t out = 0;
            for (int j = 0; j < 4; j++) {
                const uint32_t b = (uint32_t)(h >> (16 * j)) & 0xffffu;
                const uint32_t e = 4 + (b >> 8) % 8, m = b & 7u, s = (b >> 3) & 1u;
                out |= (s << 7 | e << 3 | m) << (8 * j);
            }
            w = out;
        }
    }
    p[i] = w;
}

/* Scales: FP32 (fp8 block) in [rms/4, rms/2); E8M0 in [e_ref - 3, e_ref]; UE4M3 with exponent field 5..8
 * (d in [0.25, 3.75]); FP16 (int4) in [0.75, 1.25) x base. Zeros (int4 asym) in 6..9. */
static __global__ void fill_scales_kernel(uint8_t *p, int64_t n, uint64_t seed, int fmt, float base, int e_ref) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const uint64_t h = rng_hash(seed, (uint64_t)i);
    switch (fmt) {
    case SERVE_FP8_BLOCK: ((float *)p)[i] = base * (1.0f + dev_unit(h)); break;
    case SERVE_MXFP8:
    case SERVE_MXFP4: p[i] = (uint8_t)(e_ref - (int)(h % 4)); break;
    case SERVE_NVFP4: p[i] = (uint8_t)((5 + (h >> 8) % 4) << 3 | (h & 7u)); break;
    case SERVE_INT4_SYM:
    case SERVE_INT4_ASYM: ((__half *)p)[i] = __float2half_rn(base * (0.75f + 0.5f * dev_unit(h))); break;
    default: break;
    }
}

static __global__ void fill_zeros_kernel(uint8_t *p, int64_t n, uint64_t seed) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = (uint8_t)(6 + rng_hash(seed, (uint64_t)i) % 4);
}

extern "C" void serve_w_random(struct serve_w *w, int fmt, int64_t N, int64_t K, int64_t n_mat, float rms,
                               uint64_t seed, uint64_t id) {
    if (K % 128 != 0 || N % 16 != 0)
        die("serve_w_random: %lld x %lld: the serving GEMV needs N %% 16 == 0 and K %% 128 == 0", (long long)N,
            (long long)K);
    memset(w, 0, sizeof *w);
    w->fmt = fmt;
    w->N = N;
    w->K = K;
    w->n_mat = n_mat;
    w->post = 1.0f;
    size_t cb, sb, zb;
    serve_w_bytes(fmt, N, K, n_mat, &cb, &sb, &zb);
    const uint64_t s0 = rng_hash(seed, id);
    CUDA_CHECK(cudaMalloc(&w->codes, cb));
    fill_codes_kernel<<<(unsigned)ceil_div((int64_t)cb / 4, 256), 256>>>((uint32_t *)w->codes, (int64_t)cb / 4,
                                                                          rng_hash(s0, 1), fmt, rms);
    CUDA_CHECK_LAUNCH();
    // Root-mean-square of the code values: E4M3 with exponent 2^-3..2^4 and mantissa 1..1.875: ~5.1;
    // E2M1 uniform over its 16 codes: sqrt(8.5625) = 2.93; int4 q - 8 over 0..15: sqrt(21.5) = 4.64.
    int e_ref = 0;
    float base = 0;
    switch (fmt) {
    case SERVE_FP8_BLOCK: base = rms / 5.1f / 1.5f; break;
    case SERVE_FP8_TENSOR: w->post = rms / 5.1f; break;
    case SERVE_MXFP8: e_ref = 127 + (int)floorf(log2f(rms / 5.1f)) + 1; break;
    case SERVE_MXFP4: e_ref = 127 + (int)floorf(log2f(rms / 2.93f)) + 1; break;
    case SERVE_NVFP4: w->post = rms / 2.93f / 1.6f; break;   /* 1 / g; the UE4M3 d has rms ~1.6 */
    case SERVE_INT4_SYM:
    case SERVE_INT4_ASYM: base = rms / 4.64f; break;
    default: break;
    }
    w->e_ref = e_ref;
    w->e_min = e_ref - 3;
    if (sb) {
        CUDA_CHECK(cudaMalloc(&w->scales, sb));
        const int64_t n = fmt == SERVE_FP8_BLOCK ? (int64_t)sb / 4 : fmt_is4(fmt) && fmt >= SERVE_INT4_SYM ? (int64_t)sb / 2 : (int64_t)sb;
        fill_scales_kernel<<<(unsigned)ceil_div(n, 256), 256>>>((uint8_t *)w->scales, n, rng_hash(s0, 2), fmt, base, e_ref);
        CUDA_CHECK_LAUNCH();
    }
    if (zb) {
        CUDA_CHECK(cudaMalloc(&w->zeros, zb));
        fill_zeros_kernel<<<(unsigned)ceil_div((int64_t)zb, 256), 256>>>(w->zeros, (int64_t)zb, rng_hash(s0, 3));
        CUDA_CHECK_LAUNCH();
    }
    CUDA_CHECK(cudaDeviceSynchronize());
}

extern "C" void serve_w_free(struct serve_w *w) {
    cudaFree(w->codes);
    cudaFree(w->scales);
    cudaFree(w->zeros);
    memset(w, 0, sizeof *w);
}

// ---- the GEMV ----

enum { GW = 8 };   /* warps per CTA (split K); one CTA per 16-row tile */

static __device__ __forceinline__ void mma_f16(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

static __device__ __forceinline__ void mma_bf16(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

static __device__ __forceinline__ uint32_t hmul2u(uint32_t a, uint32_t b) {
    __half2 r = __hmul2(*reinterpret_cast<const __half2 *>(&a), *reinterpret_cast<const __half2 *>(&b));
    return *reinterpret_cast<const uint32_t *>(&r);
}
static __device__ __forceinline__ uint32_t hsub2u(uint32_t a, uint32_t b) {
    __half2 r = __hsub2(*reinterpret_cast<const __half2 *>(&a), *reinterpret_cast<const __half2 *>(&b));
    return *reinterpret_cast<const uint32_t *>(&r);
}
/* Two E4M3 bytes (low byte first) -> FP16x2 (exact). */
static __device__ __forceinline__ uint32_t e4m3x2_h2(uint32_t two) {
    __half2_raw r = __nv_cvt_fp8x2_to_halfraw2((__nv_fp8x2_storage_t)(two & 0xffffu), __NV_E4M3);
    return (uint32_t)r.x | (uint32_t)r.y << 16;
}
/* 2^s as FP16 bits in both halves, s in [-24, 15]. */
static __device__ __forceinline__ uint32_t pow2_h2(int s) {
    const uint32_t h = s >= -14 ? (uint32_t)(s + 15) << 10 : 1u << (s + 24);
    return h | h << 16;
}

/* Per step and lane: KS columns of the step, lane t takes columns [t * KS/4, (t+1) * KS/4) as S chunks of 16;
 * each chunk gives 8 A pairs per row (pair p, then four MMA k-tiles use pairs (2j, 2j+1)). Pairing of the 16
 * columns: ADJ (bf16, fp8): pair p = columns 2p, 2p+1; NIB (4-bit): pair 4h + i = columns 8h + i, 8h + i + 4,
 * the two nibbles one mask extracts. x is paired identically, so the MMA sums the same products. */
template <int FMT>
struct fmt_traits {
    static constexpr bool is4 = FMT == SERVE_NVFP4 || FMT == SERVE_MXFP4 || FMT == SERVE_INT4_SYM || FMT == SERVE_INT4_ASYM;
    static constexpr int S = is4 ? 2 : 1;           /* chunks per lane per step */
    static constexpr int KS = 64 * S;               /* columns per step */
    static constexpr int NV = FMT == SERVE_BF16 ? 2 : 1; /* uint4 per row per step */
    static constexpr bool post_step = FMT == SERVE_FP8_BLOCK || FMT == SERVE_INT4_SYM || FMT == SERVE_INT4_ASYM;
};

/* The step's operands, loaded together so that U steps of a warp are in flight at once (U * 1 KB per warp for
 * the 4- and 8-bit formats, U * 2 KB for BF16): the code words of rows r0 and r1, and their scale bits. */
template <int FMT>
struct step_regs {
    uint4 raw0[fmt_traits<FMT>::NV], raw1[fmt_traits<FMT>::NV];
    uint32_t sc0, sc1;   /* nvfp4: the two UE4M3 bytes of the lane's chunks; mx: the E8M0 byte; int4: FP16
                            bits; fp8 block: FP32 bits */
    uint32_t z0, z1;     /* int4 asym zero points */
};

template <int FMT>
static __device__ __forceinline__ void load_step(step_regs<FMT> &r, const struct serve_w &w, const uint8_t *c0,
                                                 const uint8_t *c1, int64_t s, int64_t R0, int64_t R1, int64_t r0,
                                                 int64_t r1, int64_t mat, int t) {
    typedef fmt_traits<FMT> TR;
    const int64_t K = w.K;
    const size_t step_bytes = FMT == SERVE_BF16 ? (size_t)TR::KS * 2 : TR::is4 ? (size_t)TR::KS / 2 : (size_t)TR::KS;
#pragma unroll
    for (int v = 0; v < TR::NV; v++) {
        r.raw0[v] = __ldg((const uint4 *)(c0 + (size_t)s * step_bytes) + v);
        r.raw1[v] = __ldg((const uint4 *)(c1 + (size_t)s * step_bytes) + v);
    }
    const int64_t col0 = s * TR::KS + t * (TR::KS / 4);
    if (FMT == SERVE_NVFP4) {
        const uint16_t *sc = (const uint16_t *)((const uint8_t *)w.scales + (col0 / 16));
        r.sc0 = __ldg(sc + R0 * (K / 32));
        r.sc1 = __ldg(sc + R1 * (K / 32));
    } else if (FMT == SERVE_MXFP4 || FMT == SERVE_MXFP8) {
        const uint8_t *sc = (const uint8_t *)w.scales;
        r.sc0 = __ldg(sc + R0 * (K / 32) + col0 / 32);
        r.sc1 = __ldg(sc + R1 * (K / 32) + col0 / 32);
    } else if (FMT == SERVE_FP8_BLOCK) {
        const uint32_t *sc = (const uint32_t *)w.scales;
        const int64_t nb = (w.N + 127) / 128;
        r.sc0 = __ldg(sc + (mat * nb + r0 / 128) * (K / 128) + col0 / 128);
        r.sc1 = __ldg(sc + (mat * nb + r1 / 128) * (K / 128) + col0 / 128);
    } else if (FMT == SERVE_INT4_SYM || FMT == SERVE_INT4_ASYM) {
        const uint16_t *sc = (const uint16_t *)w.scales;
        r.sc0 = __ldg(sc + R0 * (K / 128) + col0 / 128);
        r.sc1 = __ldg(sc + R1 * (K / 128) + col0 / 128);
        if (FMT == SERVE_INT4_ASYM) {
            r.z0 = __ldg(w.zeros + R0 * (K / 128) + col0 / 128);
            r.z1 = __ldg(w.zeros + R1 * (K / 128) + col0 / 128);
        }
    }
}

/* U: steps of a warp loaded before any is computed (bytes in flight): the base value, doubled for launches of
 * few CTAs (launch_fmt). */
template <int FMT>
struct fmt_unroll {
    static constexpr int U = FMT == SERVE_BF16 ? 2 : 4;
};

template <int FMT, int MT, int U>
static __global__ void __launch_bounds__(32 * GW)
serve_gemv_kernel(struct serve_w w, const uint16_t *__restrict__ x, int64_t M, struct serve_seg seg,
                  const int32_t *__restrict__ pair_mat, int64_t x_div, int stage_x) {
    // A tile: 16 rows of matrix `mat`; lane (g = lane / 4, t = lane % 4) owns tile rows g, g + 8: matrix rows
    // 16 rt + g, 16 rt + g + 8, or in GLU mode (seg.glu16) gate row 8 rt + g and up row F + 8 rt + g (F = N / 2).
    // PDL: the weights do not depend on the preceding kernel, so a dense launch loads its first U steps before
    // it waits; a paired launch reads the routing (pair_mat) first, so it waits at once. x is read after the wait,
    // through L2 (it was written by the preceding kernel): staged once into shared memory (stage_x: its rows fit
    // the dynamic shared memory), else loaded with __ldcg where used.
    typedef fmt_traits<FMT> TR;
    __shared__ float s_part[GW][32][4 * MT];
    pdl_trigger();
    if (pair_mat) pdl_wait();
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    const int64_t N = w.N, K = w.K, rt = blockIdx.x, steps = K / TR::KS;
    const int glu = seg.glu16 != NULL;
    int64_t mat = 0;
    const int64_t p = blockIdx.y;
    if (pair_mat) {
        mat = __ldcg(pair_mat + p);
        x += (p / x_div) * K;
    }
    const int64_t r0 = glu ? 8 * rt + g : 16 * rt + g, r1 = glu ? N / 2 + 8 * rt + g : r0 + 8;   /* matrix rows */
    const int64_t R0 = mat * N + r0, R1 = mat * N + r1;       /* rows within the stack */
    const size_t row_bytes = FMT == SERVE_BF16 ? (size_t)K * 2 : TR::is4 ? (size_t)K / 2 : (size_t)K;
    const uint8_t *c0 = (const uint8_t *)w.codes + (size_t)R0 * row_bytes + (size_t)t * (TR::NV * 16);
    const uint8_t *c1 = (const uint8_t *)w.codes + (size_t)R1 * row_bytes + (size_t)t * (TR::NV * 16);
    float acc[MT][4];
#pragma unroll
    for (int m = 0; m < MT; m++) acc[m][0] = acc[m][1] = acc[m][2] = acc[m][3] = 0.0f;

    extern __shared__ uint4 s_x[];
    step_regs<FMT> rg[U];
#pragma unroll
    for (int u = 0; u < U; u++)   /* the first batch, before the wait */
        if (warp + (int64_t)u * GW < steps) load_step<FMT>(rg[u], w, c0, c1, warp + (int64_t)u * GW, R0, R1, r0, r1, mat, t);
    pdl_wait();
    if (stage_x) {
        const int64_t n4 = (pair_mat ? 1 : M) * K / 8;
        for (int64_t i = threadIdx.x; i < n4; i += 32 * GW) s_x[i] = __ldcg((const uint4 *)x + i);
        __syncthreads();
    }
    for (int64_t sb = warp; sb < steps; sb += GW * U) {
        if (sb != warp) {
#pragma unroll
            for (int u = 0; u < U; u++)
                if (sb + (int64_t)u * GW < steps) load_step<FMT>(rg[u], w, c0, c1, sb + (int64_t)u * GW, R0, R1, r0, r1, mat, t);
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t s = sb + (int64_t)u * GW;
            if (s >= steps) break;
            const step_regs<FMT> &r = rg[u];
            const int64_t col0 = s * TR::KS + t * (TR::KS / 4);   /* the lane's first column */
            uint32_t d0[TR::S], d1[TR::S], zz0 = 0x64086408u, zz1 = 0x64086408u;   /* 1024 + 8 in FP16 (int4 sym) */
            float ps0 = 1.0f, ps1 = 1.0f;
#pragma unroll
            for (int c = 0; c < TR::S; c++) d0[c] = d1[c] = 0x3c003c00u;
            if (FMT == SERVE_NVFP4) {
#pragma unroll
                for (int c = 0; c < TR::S; c++) {
                    __half_raw h0 = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)((r.sc0 >> (8 * c)) & 0xffu), __NV_E4M3);
                    __half_raw h1 = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)((r.sc1 >> (8 * c)) & 0xffu), __NV_E4M3);
                    d0[c] = (uint32_t)h0.x | (uint32_t)h0.x << 16;
                    d1[c] = (uint32_t)h1.x | (uint32_t)h1.x << 16;
                }
            } else if (FMT == SERVE_MXFP4 || FMT == SERVE_MXFP8) {
#pragma unroll
                for (int c = 0; c < TR::S; c++) {
                    d0[c] = pow2_h2((int)r.sc0 - w.e_ref);
                    d1[c] = pow2_h2((int)r.sc1 - w.e_ref);
                }
            } else if (FMT == SERVE_FP8_BLOCK) {
                ps0 = __uint_as_float(r.sc0);
                ps1 = __uint_as_float(r.sc1);
            } else if (FMT == SERVE_INT4_SYM || FMT == SERVE_INT4_ASYM) {
                ps0 = __half2float(__ushort_as_half((unsigned short)r.sc0));
                ps1 = __half2float(__ushort_as_half((unsigned short)r.sc1));
                if (FMT == SERVE_INT4_ASYM) {
                    const uint32_t z0 = 0x6400u + r.z0, z1 = 0x6400u + r.z1;
                    zz0 = z0 | z0 << 16;
                    zz1 = z1 | z1 << 16;
                }
            }
            float tmp[MT][4];
            if (TR::post_step) {
#pragma unroll
                for (int m = 0; m < MT; m++) tmp[m][0] = tmp[m][1] = tmp[m][2] = tmp[m][3] = 0.0f;
            }
#pragma unroll
            for (int c = 0; c < TR::S; c++) {
                // A pairs of the chunk: a0[q] row r0, a1[q] row r1.
                uint32_t a0[8], a1[8];
                if (FMT == SERVE_BF16) {
                    const uint32_t *u0 = (const uint32_t *)r.raw0, *u1 = (const uint32_t *)r.raw1;
#pragma unroll
                    for (int q = 0; q < 8; q++) {
                        a0[q] = u0[q];
                        a1[q] = u1[q];
                    }
                } else if (!TR::is4) {
                    const uint32_t *u0 = (const uint32_t *)r.raw0, *u1 = (const uint32_t *)r.raw1;
#pragma unroll
                    for (int q = 0; q < 8; q++) {
                        a0[q] = e4m3x2_h2(u0[q / 2] >> (16 * (q % 2)));
                        a1[q] = e4m3x2_h2(u1[q / 2] >> (16 * (q % 2)));
                        if (FMT == SERVE_MXFP8) {
                            a0[q] = hmul2u(a0[q], d0[0]);
                            a1[q] = hmul2u(a1[q], d1[0]);
                        }
                    }
                } else {
                    const uint32_t *u0 = (const uint32_t *)r.raw0 + 2 * c, *u1 = (const uint32_t *)r.raw1 + 2 * c;
#pragma unroll
                    for (int q = 0; q < 8; q++) {
                        const uint32_t v0 = u0[q / 4] >> (4 * (q % 4)), v1 = u1[q / 4] >> (4 * (q % 4));
                        if (FMT == SERVE_NVFP4 || FMT == SERVE_MXFP4) {
                            a0[q] = hmul2u(((v0 & 0x00070007u) << 9) | ((v0 & 0x00080008u) << 12), d0[c]);
                            a1[q] = hmul2u(((v1 & 0x00070007u) << 9) | ((v1 & 0x00080008u) << 12), d1[c]);
                        } else {
                            a0[q] = hsub2u((v0 & 0x000f000fu) | 0x64006400u, zz0);
                            a1[q] = hsub2u((v1 & 0x000f000fu) | 0x64006400u, zz1);
                        }
                    }
                }
                // B pairs per token tile, then the four k-tiles.
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    const int64_t tok = 8 * m + g;
                    uint32_t xw[8];
                    if (tok < M) {
                        const int64_t xo = tok * K + col0 + 16 * c;
                        uint4 xa, xb;
                        if (stage_x) {
                            xa = s_x[xo / 8];
                            xb = s_x[xo / 8 + 1];
                        } else {
                            xa = __ldcg((const uint4 *)(x + xo));
                            xb = __ldcg((const uint4 *)(x + xo) + 1);
                        }
                        xw[0] = xa.x; xw[1] = xa.y; xw[2] = xa.z; xw[3] = xa.w;
                        xw[4] = xb.x; xw[5] = xb.y; xw[6] = xb.z; xw[7] = xb.w;
                    } else {
#pragma unroll
                        for (int q = 0; q < 8; q++) xw[q] = 0;
                    }
                    uint32_t b[8];
#pragma unroll
                    for (int q = 0; q < 8; q++) {
                        if (TR::is4) {
                            const int h = q / 4, i = q % 4;
                            b[q] = __byte_perm(xw[4 * h + i / 2], xw[4 * h + 2 + i / 2], (i % 2) ? 0x7632 : 0x5410);
                        } else {
                            b[q] = xw[q];
                        }
                    }
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        const uint32_t a[4] = {a0[2 * j], a1[2 * j], a0[2 * j + 1], a1[2 * j + 1]};
                        float *cc = TR::post_step ? tmp[m] : acc[m];
                        if (FMT == SERVE_BF16) mma_bf16(cc, a, b[2 * j], b[2 * j + 1]);
                        else mma_f16(cc, a, b[2 * j], b[2 * j + 1]);
                    }
                }
            }
            if (TR::post_step) {
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    acc[m][0] = fmaf(ps0, tmp[m][0], acc[m][0]);
                    acc[m][1] = fmaf(ps0, tmp[m][1], acc[m][1]);
                    acc[m][2] = fmaf(ps1, tmp[m][2], acc[m][2]);
                    acc[m][3] = fmaf(ps1, tmp[m][3], acc[m][3]);
                }
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int i = 0; i < 4; i++) s_part[warp][lane][4 * m + i] = acc[m][i];
    __syncthreads();
    if (warp != 0) return;
    float post = w.post;
    if (FMT == SERVE_NVFP4 || FMT == SERVE_MXFP4) post *= 16384.0f;   /* the 2^-14 of the E2M1 bit placement */
    if (FMT == SERVE_MXFP4 || FMT == SERVE_MXFP8) post *= exp2f((float)(w.e_ref - 127));
#pragma unroll
    for (int m = 0; m < MT; m++) {
        float v[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            v[i] = 0.0f;
            for (int q = 0; q < GW; q++) v[i] += s_part[q][lane][4 * m + i];
            v[i] *= post;
        }
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int64_t tok = pair_mat ? 0 : 8 * m + 2 * t + (i & 1);
            if (tok >= M || (pair_mat && (i & 1)) || (glu && i >= 2)) continue;
            const int64_t row = pair_mat ? p : tok;
            if (glu) {
                // h = silu(gate) * up, rounded to FP16 / BF16: the next Linear's input.
                const int64_t F = N / 2;
                const float gt = v[i], up = v[i + 2], h = gt / (1.0f + __expf(-gt)) * up;
                seg.glu16[row * F + r0] = seg.glu_half ? __half_as_ushort(__float2half_rn(h))
                                                       : __bfloat16_as_ushort(__float2bfloat16_rn(h));
                continue;
            }
            const int64_t n = (i < 2) ? r0 : r1;
            int sg = 0;
            while (sg + 1 < seg.n_seg && n >= seg.n0[sg + 1]) sg++;
            const int64_t ld = seg.n0[sg + 1] - seg.n0[sg];
            seg.y[sg][row * ld + n - seg.n0[sg]] = v[i];
        }
    }
}

static int g_pdl;
enum { GEMV_XS_MAX = 64 * 1024 };   /* x staged in shared memory up to this many bytes per CTA */

extern "C" void serve_gemv_set_pdl(int on) { g_pdl = on; }

template <int FMT>
static void launch_fmt(const struct serve_w *w, const uint16_t *x, int64_t M, const struct serve_seg *seg,
                       const int32_t *pair_mat, int64_t n_pairs, int64_t x_div, cudaStream_t st) {
    const dim3 grid((unsigned)(w->N / 16), pair_mat ? (unsigned)n_pairs : 1u);   /* GLU: N / 16 = F / 8 tiles */
    // U doubled (more bytes in flight per warp) when the launch has no more CTAs than the GPU holds at once with
    // that variant's occupancy: the extra registers cost nothing then. U does not change the summation order.
    constexpr int U = fmt_unroll<FMT>::U;
    static int n_sm = 0, occ[2][2];
    if (!n_sm) {
        int dev;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&n_sm, cudaDevAttrMultiProcessorCount, dev));
        CUDA_CHECK(cudaFuncSetAttribute(serve_gemv_kernel<FMT, 1, U>, cudaFuncAttributeMaxDynamicSharedMemorySize, GEMV_XS_MAX));
        CUDA_CHECK(cudaFuncSetAttribute(serve_gemv_kernel<FMT, 1, 2 * U>, cudaFuncAttributeMaxDynamicSharedMemorySize, GEMV_XS_MAX));
        CUDA_CHECK(cudaFuncSetAttribute(serve_gemv_kernel<FMT, 4, U>, cudaFuncAttributeMaxDynamicSharedMemorySize, GEMV_XS_MAX));
        CUDA_CHECK(cudaFuncSetAttribute(serve_gemv_kernel<FMT, 4, 2 * U>, cudaFuncAttributeMaxDynamicSharedMemorySize, GEMV_XS_MAX));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[0][0], serve_gemv_kernel<FMT, 1, U>, 32 * GW, 0));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[0][1], serve_gemv_kernel<FMT, 1, 2 * U>, 32 * GW, 0));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[1][0], serve_gemv_kernel<FMT, 4, U>, 32 * GW, 0));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ[1][1], serve_gemv_kernel<FMT, 4, 2 * U>, 32 * GW, 0));
    }
    const int mt4 = M > 8;
    const int64_t ctas = (int64_t)grid.x * grid.y;
    static int allow_big = -1;   /* QL_SERVE_GEMV_BIGU=0: always the base U (a diagnostic switch) */
    if (allow_big < 0) allow_big = !(getenv("QL_SERVE_GEMV_BIGU") && !strcmp(getenv("QL_SERVE_GEMV_BIGU"), "0"));
    const int big = allow_big && ctas <= (int64_t)occ[mt4][1] * n_sm;
    cudaLaunchConfig_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.gridDim = grid;
    cfg.blockDim = dim3(32 * GW);
    cfg.stream = st;
    const size_t xs = (size_t)(pair_mat ? 1 : M) * (size_t)w->K * 2;   /* x rows a CTA reads, bytes */
    static int allow_stage = -1;   /* QL_SERVE_GEMV_STAGE=0: x always through __ldcg (a diagnostic switch) */
    if (allow_stage < 0) allow_stage = !(getenv("QL_SERVE_GEMV_STAGE") && !strcmp(getenv("QL_SERVE_GEMV_STAGE"), "0"));
    const int stage = allow_stage && xs <= GEMV_XS_MAX;
    cfg.dynamicSmemBytes = stage ? xs : 0;
    cudaLaunchAttribute at;
    pdl_attach(&cfg, &at, g_pdl);
    const struct serve_w wv = *w;
    const struct serve_seg sv = *seg;
    if (!mt4 && !big) CUDA_CHECK(cudaLaunchKernelEx(&cfg, serve_gemv_kernel<FMT, 1, U>, wv, x, M, sv, pair_mat, x_div, stage));
    else if (!mt4) CUDA_CHECK(cudaLaunchKernelEx(&cfg, serve_gemv_kernel<FMT, 1, 2 * U>, wv, x, M, sv, pair_mat, x_div, stage));
    else if (!big) CUDA_CHECK(cudaLaunchKernelEx(&cfg, serve_gemv_kernel<FMT, 4, U>, wv, x, M, sv, pair_mat, x_div, stage));
    else CUDA_CHECK(cudaLaunchKernelEx(&cfg, serve_gemv_kernel<FMT, 4, 2 * U>, wv, x, M, sv, pair_mat, x_div, stage));
    CUDA_CHECK_LAUNCH();
}

extern "C" void serve_gemv_cuda(const struct serve_w *w, const uint16_t *x, int64_t M, const struct serve_seg *seg,
                                const int32_t *pair_mat, int64_t n_pairs, int64_t x_div, void *stream) {
    cudaStream_t st = (cudaStream_t)stream;
    if (M < 1 || M > SERVE_GEMV_MAX_M || (pair_mat && M != 1))
        die("serve_gemv_cuda: M = %lld tokens, expected 1 .. %d (1 per pair when paired)", (long long)M, SERVE_GEMV_MAX_M);
    if (w->K % 128 != 0 || w->N % 16 != 0) die("serve_gemv_cuda: %lld x %lld: expected N %% 16 == 0, K %% 128 == 0", (long long)w->N, (long long)w->K);
    if ((w->fmt == SERVE_MXFP4 || w->fmt == SERVE_MXFP8) && w->e_ref - w->e_min > 9)
        die("serve_gemv_cuda: an MX tensor's scale exponents span %d binades; the FP16 GEMV holds 9", w->e_ref - w->e_min);
    if (seg->glu16) CHECK(w->N % 16 == 0, "GLU rows");
    else CHECK(seg->n_seg >= 1 && seg->n_seg <= 3 && seg->n0[0] == 0 && seg->n0[seg->n_seg] == w->N, "segments");
    switch (w->fmt) {
    case SERVE_BF16: launch_fmt<SERVE_BF16>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_FP8_BLOCK: launch_fmt<SERVE_FP8_BLOCK>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_FP8_TENSOR: launch_fmt<SERVE_FP8_TENSOR>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_MXFP8: launch_fmt<SERVE_MXFP8>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_NVFP4: launch_fmt<SERVE_NVFP4>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_MXFP4: launch_fmt<SERVE_MXFP4>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_INT4_SYM: launch_fmt<SERVE_INT4_SYM>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    case SERVE_INT4_ASYM: launch_fmt<SERVE_INT4_ASYM>(w, x, M, seg, pair_mat, n_pairs, x_div, st); break;
    default: die("serve_gemv_cuda: unknown format %d", w->fmt);
    }
}

// ---- dequantization to BF16 (prefill) ----

static __device__ __forceinline__ float dev_e2m1v(uint32_t c) {
    const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    const float v = mag[c & 7u];
    return (c & 8u) ? -v : v;
}

/* One thread per 8 consecutive weights of a row (one group of every format). */
static __global__ void dequant_kernel(struct serve_w w, int64_t row0, int64_t n_rows, uint16_t *out) {
    const int64_t K = w.K, i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_rows * (K / 8)) return;
    const int64_t r = row0 + i / (K / 8), k0 = (i % (K / 8)) * 8;   /* stack row, first column */
    float v[8];
    const int fmt = w.fmt;
    if (fmt == SERVE_BF16) {
        const uint16_t *c = (const uint16_t *)w.codes + r * K + k0;
        for (int j = 0; j < 8; j++) v[j] = __bfloat162float(__ushort_as_bfloat16(c[j]));
    } else if (fmt == SERVE_FP8_BLOCK || fmt == SERVE_FP8_TENSOR || fmt == SERVE_MXFP8) {
        const uint8_t *c = (const uint8_t *)w.codes + r * K + k0;
        float s = w.post;
        if (fmt == SERVE_FP8_BLOCK) {
            const int64_t mat = r / w.N, rr = r % w.N, nb = (w.N + 127) / 128;
            s = ((const float *)w.scales)[(mat * nb + rr / 128) * (K / 128) + k0 / 128];
        } else if (fmt == SERVE_MXFP8) {
            s = exp2f((float)((int)((const uint8_t *)w.scales)[r * (K / 32) + k0 / 32] - 127));
        }
        for (int j = 0; j < 8; j++) v[j] = __half2float(__half(__nv_cvt_fp8_to_halfraw(c[j], __NV_E4M3))) * s;
    } else {
        const uint8_t *c = (const uint8_t *)w.codes + (r * K + k0) / 2;
        float s = 1.0f, z = 8.0f;
        if (fmt == SERVE_NVFP4) {
            s = __half2float(__half(__nv_cvt_fp8_to_halfraw(((const uint8_t *)w.scales)[r * (K / 16) + k0 / 16], __NV_E4M3)));
        } else if (fmt == SERVE_MXFP4) {
            s = exp2f((float)((int)((const uint8_t *)w.scales)[r * (K / 32) + k0 / 32] - 127));
        } else {
            s = __half2float(((const __half *)w.scales)[r * (K / 128) + k0 / 128]);
            if (fmt == SERVE_INT4_ASYM) z = (float)w.zeros[r * (K / 128) + k0 / 128];
        }
        for (int j = 0; j < 8; j++) {
            const uint32_t q = (c[j / 2] >> (4 * (j & 1))) & 0xfu;
            if (fmt == SERVE_NVFP4) v[j] = (dev_e2m1v(q) * s) * w.post;      /* (e2m1 * d) / g */
            else if (fmt == SERVE_MXFP4) v[j] = dev_e2m1v(q) * s;
            else v[j] = ((float)q - z) * s;
        }
    }
    uint16_t *o = out + (r - row0) * K + k0;
    for (int j = 0; j < 8; j++) o[j] = __bfloat16_as_ushort(__float2bfloat16_rn(v[j]));
}

extern "C" void serve_dequant_bf16_cuda(const struct serve_w *w, int64_t row0, int64_t n_rows, uint16_t *out,
                                        void *stream) {
    const int64_t n = n_rows * (w->K / 8);
    dequant_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(*w, row0, n_rows, out);
    CUDA_CHECK_LAUNCH();
}

static __global__ void to16_kernel(uint16_t *y, const float *x, int64_t n, int half) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = half ? __half_as_ushort(__float2half_rn(x[i])) : __bfloat16_as_ushort(__float2bfloat16_rn(x[i]));
}

extern "C" void serve_to_16_cuda(uint16_t *y, const float *x, int64_t n, int half, void *stream) {
    to16_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(y, x, n, half);
    CUDA_CHECK_LAUNCH();
}
