/* linear_nvfp4 -- see linear_nvfp4.h. */
#include "linear_nvfp4.h"

#include <cuda_fp16.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "formats/nvfp4.h"

/* Defaults of linear_nvfp4_cuda: 8 warps per 16-row tile, 8 k-tiles of loads in flight per warp. The bench of
 * tests/check_linear_nvfp4.cu sweeps (warps, unroll) through linear_nvfp4_cuda_cfg. */
enum { GEMV_WARPS = 8, GEMV_UNROLL = 8 };

extern "C" void linear_nvfp4_packed_bytes(int64_t N, int64_t K, size_t *codes_bytes, size_t *scales_bytes) {
    const int64_t np = (N + 15) / 16 * 16;
    *codes_bytes = (size_t)(np * K / 2);
    *scales_bytes = (size_t)(np * K / 16);
}

// ---- host packing ----

/* Code of (row n, column k) of q; 0 for padded rows. */
static uint32_t code_at(const struct qtensor *q, int64_t n, int64_t k) {
    if (n >= q->N) return 0;
    const struct nvfp4_block *b = (const struct nvfp4_block *)q->data + n * (q->K / NVFP4_BLOCK_SIZE) + k / 16;
    return (uint32_t)(b->qs[(k % 16) / 2] >> (4 * (k & 1))) & 0xFu;
}

static uint8_t scale_at(const struct qtensor *q, int64_t n, int64_t kt) {
    if (n >= q->N) return 0;
    return ((const struct nvfp4_block *)q->data)[n * (q->K / NVFP4_BLOCK_SIZE) + kt].s;
}

/* Tile (rt, kt), lane l = 4 g + t: nibble i of word l (bits 4i .. 4i+3) is the A-fragment element the MMA wants
 * in half i % 4 (low half: i < 4, high half: i >= 4) of register i % 4:
 *   register 0: row g, k 2t / 2t+1;  1: row g+8, k 2t / 2t+1;  2: row g, k 2t+8 / 2t+9;  3: row g+8, k 2t+8 / 2t+9
 * (PTX ISA, mma.m16n8k16 A fragment for .f16). Scales: pair g of the tile holds rows g and g + 8. */
extern "C" void linear_nvfp4_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales) {
    CHECK(q->format == QFORMAT_NVFP4 && q->K % NVFP4_BLOCK_SIZE == 0, "not an nvfp4 tensor");
    const int64_t KT = q->K / 16, RT = (q->N + 15) / 16;
    uint32_t *cw = (uint32_t *)codes;
    for (int64_t rt = 0; rt < RT; rt++)
        for (int64_t kt = 0; kt < KT; kt++) {
            for (int l = 0; l < 32; l++) {
                const int64_t g = l / 4, t = l % 4, r0 = 16 * rt + g, r1 = r0 + 8, k0 = 16 * kt + 2 * t;
                const uint32_t lo[4] = {code_at(q, r0, k0), code_at(q, r1, k0), code_at(q, r0, k0 + 8),
                                        code_at(q, r1, k0 + 8)};
                const uint32_t hi[4] = {code_at(q, r0, k0 + 1), code_at(q, r1, k0 + 1), code_at(q, r0, k0 + 9),
                                        code_at(q, r1, k0 + 9)};
                uint32_t w = 0;
                for (int j = 0; j < 4; j++) w |= lo[j] << (4 * j) | hi[j] << (4 * (j + 4));
                cw[(rt * KT + kt) * 32 + l] = w;
            }
            for (int g = 0; g < 8; g++) {
                scales[((rt * KT + kt) * 8 + g) * 2] = scale_at(q, 16 * rt + g, kt);
                scales[((rt * KT + kt) * 8 + g) * 2 + 1] = scale_at(q, 16 * rt + g + 8, kt);
            }
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

/* One CTA per tile of 16 rows; warp w takes the k-tiles w, w + 8, ... Napkin math per k-tile and lane: one
 * 4-byte code load (the warp's 32 loads are one 128-byte line), one 2-byte scale load, two 4-byte x loads (L1 /
 * L2 hits: x is at most 8 x K FP16), ~16 integer operations and 4 HMUL2 to form the A fragment, one MMA for
 * 16 x 16 weights: ~3 lane-instructions per weight against ~4.4 available per weight at the copy bandwidth. */
template <int M, int GEMV_WARPS, int GEMV_UNROLL>
static __global__ void __launch_bounds__(32 * GEMV_WARPS)
linear_nvfp4_kernel(const uint32_t *codes, const uint16_t *scales, float g_scale, const uint16_t *x, float *y,
                    int64_t N, int64_t K) {
    // codes: RT x KT x 32 words; scales: RT x KT x 8 pairs; x: M x K FP16; y: M x N
    __shared__ __half s_d[256];                 /* UE4M3 byte -> d in FP16 (exact: 4 significant bits) */
    __shared__ float s_part[GEMV_WARPS][32][4]; /* the warps' accumulators */
    for (int i = threadIdx.x; i < 256; i += blockDim.x) s_d[i] = __float2half_rn(dev_e4m3_value((uint8_t)i));
    __syncthreads();
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
    const int64_t rt = blockIdx.x, KT = K / 16;
    const uint32_t *cw = codes + rt * KT * 32 + lane;
    const uint16_t *sw = scales + rt * KT * 8 + g;
    const uint16_t *xr = x + (int64_t)(g < M ? g : 0) * K + 2 * t;   /* B column g = token g (zero if g >= M) */
    float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // GEMV_UNROLL k-tiles per step, all loads issued before any arithmetic (GEMV_UNROLL x 128 bytes of codes in
    // flight per warp; the tail step masks its loads instead of branching around them).
    for (int64_t kt0 = warp; kt0 < KT; kt0 += GEMV_WARPS * GEMV_UNROLL) {
        uint32_t w[GEMV_UNROLL], b0[GEMV_UNROLL], b1[GEMV_UNROLL];
        uint16_t s2[GEMV_UNROLL];
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++) {
            const int64_t kt = kt0 + (int64_t)u * GEMV_WARPS;
            const int live = kt < KT;
            w[u] = live ? __ldg(cw + kt * 32) : 0u;
            s2[u] = live ? __ldg(sw + kt * 8) : (uint16_t)0;
            b0[u] = live && g < M ? __ldg(reinterpret_cast<const unsigned int *>(xr + kt * 16)) : 0u;
            b1[u] = live && g < M ? __ldg(reinterpret_cast<const unsigned int *>(xr + kt * 16 + 8)) : 0u;
        }
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++) {
            const __half2 d0 = __half2half2(s_d[s2[u] & 0xFF]), d1 = __half2half2(s_d[s2[u] >> 8]);
            const uint32_t a0 = hmul2_bits(dev_e2m1_pair(w[u], 0), d0), a1 = hmul2_bits(dev_e2m1_pair(w[u], 1), d1);
            const uint32_t a2 = hmul2_bits(dev_e2m1_pair(w[u], 2), d0), a3 = hmul2_bits(dev_e2m1_pair(w[u], 3), d1);
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                         "{%0,%1,%2,%3};\n"
                         : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                         : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0[u]), "r"(b1[u]));
        }
    }
    for (int i = 0; i < 4; i++) s_part[warp][lane][i] = c[i];
    __syncthreads();
    if (warp != 0) return;
    // Fixed order over the warps, then the exact 2^14 and one division by g. C fragment: c0, c1 = row g,
    // tokens 2t, 2t+1; c2, c3 = row g + 8, tokens 2t, 2t+1.
    for (int i = 0; i < 4; i++) {
        float v = 0.0f;
        for (int w = 0; w < GEMV_WARPS; w++) v += s_part[w][lane][i];
        const int64_t row = rt * 16 + g + (i >= 2 ? 8 : 0), tok = 2 * t + (i & 1);
        if (row < N && tok < M) y[tok * N + row] = __fdiv_rn(v * 16384.0f, g_scale);
    }
}

template <int W, int U>
static void launch(const uint32_t *cw, const uint16_t *sw, float global, const uint16_t *x, float *y, int64_t M,
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
    CHECK((uintptr_t)codes % 4 == 0 && (uintptr_t)scales % 2 == 0 && (uintptr_t)x % 4 == 0, "alignment");
    if (N == 0) return;
    cudaStream_t s = (cudaStream_t)stream;
    const uint32_t *cw = reinterpret_cast<const uint32_t *>(codes);
    const uint16_t *sw = reinterpret_cast<const uint16_t *>(scales);
    if (warps == 8 && unroll == 8) launch<8, 8>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 4 && unroll == 8) launch<4, 8>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 8 && unroll == 4) launch<8, 4>(cw, sw, global, x, y, M, N, K, s);
    else if (warps == 16 && unroll == 4) launch<16, 4>(cw, sw, global, x, y, M, N, K, s);
    else CHECK(0, "linear_nvfp4: no variant with %d warps and unroll %d", warps, unroll);
    CUDA_CHECK_LAUNCH();
}

extern "C" void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const uint16_t *x, float *y,
                                  int64_t M, int64_t N, int64_t K, void *stream) {
    linear_nvfp4_cuda_cfg(codes, scales, global, x, y, M, N, K, GEMV_WARPS, GEMV_UNROLL, stream);
}
