/* linear_nvfp4 -- see linear_nvfp4.h. */
#include "linear_nvfp4.h"

#include <cuda_fp16.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "formats/nvfp4.h"

/* Defaults of linear_nvfp4_cuda: 8 warps per 16-row tile, 4 groups of loads in flight per warp. The bench of
 * tests/check_linear_nvfp4.cu sweeps (warps, unroll) through linear_nvfp4_cuda_cfg. The unroll counts groups of
 * 64 k (512 bytes of codes per warp each). */
enum { GEMV_WARPS = 8, GEMV_UNROLL = 4 };

extern "C" void linear_nvfp4_packed_bytes(int64_t N, int64_t K, size_t *codes_bytes, size_t *scales_bytes) {
    const int64_t np = (N + 15) / 16 * 16, kp = (K + 63) / 64 * 64;
    *codes_bytes = (size_t)(np * kp / 2);
    *scales_bytes = (size_t)(np * kp / 16);
}

// ---- host packing ----

/* Code of (row n, column k) of q; 0 for padded rows and columns. */
static uint32_t code_at(const struct qtensor *q, int64_t n, int64_t k) {
    if (n >= q->N || k >= q->K) return 0;
    const struct nvfp4_block *b = (const struct nvfp4_block *)q->data + n * (q->K / NVFP4_BLOCK_SIZE) + k / 16;
    return (uint32_t)(b->qs[(k % 16) / 2] >> (4 * (k & 1))) & 0xFu;
}

static uint8_t scale_at(const struct qtensor *q, int64_t n, int64_t kt) {
    if (n >= q->N || kt >= q->K / NVFP4_BLOCK_SIZE) return 0;
    return ((const struct nvfp4_block *)q->data)[n * (q->K / NVFP4_BLOCK_SIZE) + kt].s;
}

/* Groups of 64 k (four MMA k-tiles u = 0..3) per 16-row tile rt. The MMA sums over its 16 k in any order, so
 * the k of a tile need not be consecutive: lane l = 4 g + t gets the physical columns 64 q + 16 t + 4 u + 0..3 in
 * tile u, as the A elements (k-slots 2t, 2t+1 | 2t+8, 2t+9 of the PTX fragment) and the B elements alike. Then
 * all of a lane's weights in the group lie in one NVFP4 block (4 q + t) per row, its 16 x values are contiguous
 * (two 16-byte loads), and its codes for the 4 tiles are one 16-byte word group. Word u of lane l, nibble i:
 * register i % 4, half i / 4 of the A fragment:
 *   register 0: row g,   k 64q+16t+4u + 0 / 1;   register 1: row g+8, same k;
 *   register 2: row g,   k 64q+16t+4u + 2 / 3;   register 3: row g+8, same k.
 * Scales: lane l's pair = block 4 q + t of rows g and g + 8. Columns past K (K padded to 64) are zero codes with
 * scale 0. */
extern "C" void linear_nvfp4_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales) {
    CHECK(q->format == QFORMAT_NVFP4 && q->K % NVFP4_BLOCK_SIZE == 0, "not an nvfp4 tensor");
    const int64_t Q = (q->K + 63) / 64, RT = (q->N + 15) / 16;
    uint32_t *cw = (uint32_t *)codes;
    for (int64_t rt = 0; rt < RT; rt++)
        for (int64_t qq = 0; qq < Q; qq++)
            for (int l = 0; l < 32; l++) {
                const int64_t g = l / 4, t = l % 4, r0 = 16 * rt + g, r1 = r0 + 8, lane_ix = (rt * Q + qq) * 32 + l;
                for (int u = 0; u < 4; u++) {
                    const int64_t kb = 64 * qq + 16 * t + 4 * u;
                    const uint32_t lo[4] = {code_at(q, r0, kb), code_at(q, r1, kb), code_at(q, r0, kb + 2),
                                            code_at(q, r1, kb + 2)};
                    const uint32_t hi[4] = {code_at(q, r0, kb + 1), code_at(q, r1, kb + 1), code_at(q, r0, kb + 3),
                                            code_at(q, r1, kb + 3)};
                    uint32_t w = 0;
                    for (int j = 0; j < 4; j++) w |= lo[j] << (4 * j) | hi[j] << (4 * (j + 4));
                    cw[lane_ix * 4 + u] = w;
                }
                scales[lane_ix * 2] = scale_at(q, r0, 4 * qq + t);
                scales[lane_ix * 2 + 1] = scale_at(q, r1, 4 * qq + t);
            }
}

// ---- device ----

/* Nibbles j and j + 4 of w as a half2, value e2m1 * 2^-14: sign to FP16 bit 15 and the magnitude eem to bits
 * 9-11, which reads 2^(ee-15) (1 + m/2) for ee > 0 and the subnormal m 2^-15 for ee = 0, i.e. e2m1(eem) 2^-14. */
static __device__ __forceinline__ uint32_t dev_e2m1_pair(uint32_t w, int j) {
    const uint32_t t = w >> (4 * j);
    return ((t & 0x00070007u) << 9) | ((t & 0x00080008u) << 12);
}

static __device__ __forceinline__ uint32_t hmul2_bits(uint32_t a, __half2 d) {
    __half2 h = __hmul2(*reinterpret_cast<const __half2 *>(&a), d);
    return *reinterpret_cast<const uint32_t *>(&h);
}

/* One CTA per tile of 16 rows; warp w takes the 64-k groups w, w + 8, ..., GEMV_UNROLL groups per step with all
 * their loads issued first (the previous layout, one 4-byte load per k-tile, let the compiler interleave loads
 * with MMAs, so few were in flight and every launch cost ~15 us whatever its size on the H200). Napkin math per
 * group and lane (16 rows x 64 k per warp): one 16-byte code load (512 contiguous bytes per warp), one 2-byte
 * scale load, two 16-byte x loads (L1 / L2 hits), 16 pairs x ~4 integer operations and 16 HMUL2 to form the A
 * fragments, 4 MMAs: ~3 lane-instructions per weight against ~4.4 available per weight at the copy bandwidth. */
template <int M, int GEMV_WARPS, int GEMV_UNROLL>
static __global__ void __launch_bounds__(32 * GEMV_WARPS, 1)
linear_nvfp4_kernel(const uint4 *codes, const uint16_t *scales, float g_scale, const uint16_t *x, float *y,
                    int64_t N, int64_t K) {
    // codes: RT x Q x 32 lanes x 4 words; scales: RT x Q x 32 lanes x 2 bytes; x: M x K FP16; y: M x N
    __shared__ __half s_d[256];                 /* UE4M3 byte -> d in FP16 (exact: 4 significant bits) */
    __shared__ float s_part[GEMV_WARPS][32][4]; /* the warps' accumulators */
    for (int i = threadIdx.x; i < 256; i += blockDim.x) s_d[i] = __float2half_rn(dev_e4m3_value((uint8_t)i));
    __syncthreads();
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    const int64_t rt = blockIdx.x, Q = (K + 63) / 64;
    const uint4 *cw = codes + rt * Q * 32 + lane;
    const uint16_t *sw = scales + rt * Q * 32 + lane;
    const uint16_t *xr = x + (int64_t)(g < M ? g : 0) * K + 16 * t;   /* B column g = token g (zero if g >= M) */
    float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t q0 = warp; q0 < Q; q0 += GEMV_WARPS * GEMV_UNROLL) {
        // All loads of GEMV_UNROLL groups first: 16 + 2 + 32 bytes per lane and group.
        uint4 w[GEMV_UNROLL], xa[GEMV_UNROLL], xb[GEMV_UNROLL];
        uint16_t s2[GEMV_UNROLL];
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++) {
            const int64_t q = q0 + (int64_t)u * GEMV_WARPS;
            // Unconditional loads from clamped, always valid addresses, zeroed afterwards: a load under a branch
            // is one the compiler will not issue early.
            const int live = q < Q, xlive = live && g < M && 64 * q + 16 * t < K;
            const int64_t qc = live ? q : Q - 1;
            const uint16_t *xp = xlive ? xr + 64 * q : x;
            const uint32_t mw = 0u - (uint32_t)live, mx = 0u - (uint32_t)xlive;   /* all ones or zero */
            const uint4 wv = __ldg(cw + qc * 32), xav = __ldg(reinterpret_cast<const uint4 *>(xp)),
                        xbv = __ldg(reinterpret_cast<const uint4 *>(xp + 8));
            const uint16_t sv = __ldg(sw + qc * 32);
            w[u] = make_uint4(wv.x & mw, wv.y & mw, wv.z & mw, wv.w & mw);
            s2[u] = (uint16_t)(sv & mw);
            xa[u] = make_uint4(xav.x & mx, xav.y & mx, xav.z & mx, xav.w & mx);
            xb[u] = make_uint4(xbv.x & mx, xbv.y & mx, xbv.z & mx, xbv.w & mx);
        }
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++) {
            const __half2 d0 = __half2half2(s_d[s2[u] & 0xFF]), d1 = __half2half2(s_d[s2[u] >> 8]);
            const uint32_t ws[4] = {w[u].x, w[u].y, w[u].z, w[u].w};
            const uint32_t xs[8] = {xa[u].x, xa[u].y, xa[u].z, xa[u].w, xb[u].x, xb[u].y, xb[u].z, xb[u].w};
#pragma unroll
            for (int tile = 0; tile < 4; tile++) {
                const uint32_t a0 = hmul2_bits(dev_e2m1_pair(ws[tile], 0), d0);
                const uint32_t a1 = hmul2_bits(dev_e2m1_pair(ws[tile], 1), d1);
                const uint32_t a2 = hmul2_bits(dev_e2m1_pair(ws[tile], 2), d0);
                const uint32_t a3 = hmul2_bits(dev_e2m1_pair(ws[tile], 3), d1);
                asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
                             "{%8,%9}, {%0,%1,%2,%3};\n"
                             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                             : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(xs[2 * tile]), "r"(xs[2 * tile + 1]));
            }
        }
    }
    for (int i = 0; i < 4; i++) s_part[warp][lane][i] = c[i];
    __syncthreads();
    if (warp != 0) return;
    // Fixed order over the warps, then the exact 2^14 and one division by g. C fragment: c0, c1 = row g,
    // tokens 2t, 2t+1; c2, c3 = row g + 8, tokens 2t, 2t+1.
    for (int i = 0; i < 4; i++) {
        float v = 0.0f;
        for (int wi = 0; wi < GEMV_WARPS; wi++) v += s_part[wi][lane][i];
        const int64_t row = rt * 16 + g + (i >= 2 ? 8 : 0), tok = 2 * t + (i & 1);
        if (row < N && tok < M) y[tok * N + row] = __fdiv_rn(v * 16384.0f, g_scale);
    }
}

template <int W, int U>
static void launch(const uint4 *cw, const uint16_t *sw, float global, const uint16_t *x, float *y, int64_t M,
                   int64_t N, int64_t K, cudaStream_t s) {
    const unsigned grid = (unsigned)ceil_div(N, 16);
#define GEMV_CASE(m) \
    case m: linear_nvfp4_kernel<m, W, U><<<grid, 32 * W, 0, s>>>(cw, sw, global, x, y, N, K); break
    switch (M) {
        GEMV_CASE(1); GEMV_CASE(2); GEMV_CASE(3); GEMV_CASE(4); GEMV_CASE(5); GEMV_CASE(6); GEMV_CASE(7); GEMV_CASE(8);
    }
#undef GEMV_CASE
}

extern "C" void linear_nvfp4_cuda_cfg(const uint8_t *codes, const uint8_t *scales, float global, const uint16_t *x,
                                      float *y, int64_t M, int64_t N, int64_t K, int warps, int unroll, void *stream) {
    if (K % NVFP4_BLOCK_SIZE != 0)
        die("linear_nvfp4_cuda: K=%lld is not a multiple of %d (the NVFP4 block)", (long long)K, NVFP4_BLOCK_SIZE);
    if (M < 1 || M > LINEAR_NVFP4_MAX_M) die("linear_nvfp4_cuda: M=%lld outside 1 .. %d", (long long)M, LINEAR_NVFP4_MAX_M);
    CHECK((uintptr_t)codes % 16 == 0 && (uintptr_t)scales % 2 == 0 && (uintptr_t)x % 16 == 0, "alignment");
    if (N == 0) return;
    cudaStream_t s = (cudaStream_t)stream;
    const uint4 *cw = reinterpret_cast<const uint4 *>(codes);
    const uint16_t *sw = reinterpret_cast<const uint16_t *>(scales);
    if (warps == 8 && unroll == 4) launch<8, 4>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 4 && unroll == 8) launch<4, 8>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 8 && unroll == 2) launch<8, 2>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 16 && unroll == 2) launch<16, 2>(cw, sw, global, x, y, M, N, K, s);
    else CHECK(0, "linear_nvfp4: no variant with %d warps and unroll %d", warps, unroll);
    CUDA_CHECK_LAUNCH();
}

extern "C" void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const uint16_t *x, float *y,
                                  int64_t M, int64_t N, int64_t K, void *stream) {
    linear_nvfp4_cuda_cfg(codes, scales, global, x, y, M, N, K, GEMV_WARPS, GEMV_UNROLL, stream);
}
