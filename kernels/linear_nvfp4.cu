/* linear_nvfp4 -- see linear_nvfp4.h. */
#include "linear_nvfp4.h"

#include <string.h>

#include <cuda_fp16.h>

#include "common.cuh"
#include "core/check.h"
#include "formats/nvfp4.h"

extern "C" void linear_nvfp4_pack_host(const struct qtensor *q, uint8_t *codes, uint8_t *scales) {
    CHECK(q->format == QFORMAT_NVFP4 && q->K % NVFP4_BLOCK_SIZE == 0, "not an nvfp4 tensor");
    const struct nvfp4_block *b = (const struct nvfp4_block *)q->data;
    const int64_t nb = q->N * (q->K / NVFP4_BLOCK_SIZE);
    for (int64_t i = 0; i < nb; i++) {
        scales[i] = b[i].s;
        memcpy(codes + i * (NVFP4_BLOCK_SIZE / 2), b[i].qs, NVFP4_BLOCK_SIZE / 2);
    }
}

enum { GEMV_WARPS = 4, GEMV_ROWS = 4 };

/* The 8 E2M1 codes of w (element e in bits 4e .. 4e+3) as four half2 (elements j and j + 4 in h[j]), each
 * value times 2^-14 exactly: a code s|eem placed at FP16 bit 15 (sign) and bits 9-11 (the two low exponent
 * bits and the top mantissa bit) reads 2^(ee-15) (1 + m/2) for ee > 0 and the subnormal m 2^-15 for ee = 0,
 * which is e2m1(eem) 2^-14 in both cases; the 2^14 is folded into the block scale (exact: a power of two). */
static __device__ __forceinline__ void dev_e2m1x8_half2(uint32_t w, __half2 h[4]) {
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const uint32_t t = w >> (4 * j);
        const uint32_t b = ((t & 0x00070007u) << 9) | ((t & 0x00080008u) << 12);
        h[j] = *reinterpret_cast<const __half2 *>(&b);
    }
}

/* GEMV_ROWS rows per warp, so the x values a lane loads (8 per token and step) serve GEMV_ROWS rows: with one
 * row per warp (the first version) a lane read 4 bytes of x for every 0.5 byte of codes, and the L1 traffic of
 * x, not DRAM, bounded the kernel at 0.08-0.10 of the copy bandwidth on the H200. Lane l takes the 8 weights
 * k = 8 s .. 8 s + 7 of each row for s = l, l + 32, ... (one 4-byte code word, the scale byte of its block).
 * Napkin math per 8 weights and row: one 4-byte load, ~16 integer ops and 8 conversions to decode, 8 M FMAs;
 * at 4.3 TB/s the H200 streams 7.6e12 weights/s against ~3.3e13 lane-instructions/s, ~4.4 per weight. */
template <int M>
static __global__ void __launch_bounds__(32 * GEMV_WARPS)
linear_nvfp4_kernel(const uint32_t *codes, const uint8_t *scales, float g, const float *x, float *y, int64_t N,
                    int64_t K) {
    // codes: N x K/8 words; scales: N x K/16; x: M x K; y: M x N
    __shared__ float sval[256];    /* UE4M3 byte -> d 2^14 (0x7F: NaN) */
    for (int i = threadIdx.x; i < 256; i += blockDim.x) sval[i] = dev_e4m3_value((uint8_t)i) * 16384.0f;
    __syncthreads();
    const int lane = threadIdx.x % 32;
    const int64_t n0 = ((int64_t)blockIdx.x * GEMV_WARPS + threadIdx.x / 32) * GEMV_ROWS;
    if (n0 >= N) return;
    const int64_t KW = K / 8, KS = K / 16;
    const uint32_t *cr[GEMV_ROWS];
    const uint8_t *sr[GEMV_ROWS];
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++) {
        const int64_t nr = n0 + r < N ? n0 + r : N - 1;   /* past the last row: recompute it, never store */
        cr[r] = codes + nr * KW;
        sr[r] = scales + nr * KS;
    }
    float acc[M][GEMV_ROWS];
#pragma unroll
    for (int m = 0; m < M; m++)
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) acc[m][r] = 0.0f;
#pragma unroll 4
    for (int64_t s = lane; s < KW; s += 32) {
        uint32_t w[GEMV_ROWS];
        float d[GEMV_ROWS];
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) {
            w[r] = __ldg(cr[r] + s);
            d[r] = sval[__ldg(sr[r] + s / 2)];
        }
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) {
            __half2 h[4];
            dev_e2m1x8_half2(w[r], h);
            float2 f[4];
#pragma unroll
            for (int j = 0; j < 4; j++) f[j] = __half22float2(h[j]);
#pragma unroll
            for (int m = 0; m < M; m++) {
                const float4 xa = __ldg(reinterpret_cast<const float4 *>(x + m * K) + 2 * s);
                const float4 xb = __ldg(reinterpret_cast<const float4 *>(x + m * K) + 2 * s + 1);
                float a = f[0].x * xa.x, b = f[0].y * xb.x;
                a += f[1].x * xa.y; b += f[1].y * xb.y;
                a += f[2].x * xa.z; b += f[2].y * xb.z;
                a += f[3].x * xa.w; b += f[3].y * xb.w;
                acc[m][r] += d[r] * (a + b);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < M; m++)
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) {
            float v = acc[m][r];
            for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, off);
            if (lane == 0 && n0 + r < N) y[m * N + n0 + r] = __fdiv_rn(v, g);
        }
}

extern "C" void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const float *x, float *y,
                                  int64_t M, int64_t N, int64_t K, void *stream) {
    if (K % NVFP4_BLOCK_SIZE != 0)
        die("linear_nvfp4_cuda: K=%lld is not a multiple of %d (the NVFP4 block)", (long long)K, NVFP4_BLOCK_SIZE);
    if (M < 1 || M > LINEAR_NVFP4_MAX_M) die("linear_nvfp4_cuda: M=%lld outside 1 .. %d", (long long)M, LINEAR_NVFP4_MAX_M);
    CHECK((uintptr_t)codes % 4 == 0 && (uintptr_t)x % 16 == 0, "alignment");
    if (N == 0) return;
    const unsigned grid = (unsigned)ceil_div(N, GEMV_WARPS * GEMV_ROWS);
    cudaStream_t s = (cudaStream_t)stream;
    const uint32_t *cw = reinterpret_cast<const uint32_t *>(codes);
#define GEMV_CASE(m) \
    case m: linear_nvfp4_kernel<m><<<grid, 32 * GEMV_WARPS, 0, s>>>(cw, scales, global, x, y, N, K); break
    switch (M) {
        GEMV_CASE(1); GEMV_CASE(2); GEMV_CASE(3); GEMV_CASE(4); GEMV_CASE(5); GEMV_CASE(6); GEMV_CASE(7); GEMV_CASE(8);
    }
#undef GEMV_CASE
    CUDA_CHECK_LAUNCH();
}
