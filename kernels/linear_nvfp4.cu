/* linear_nvfp4 -- see linear_nvfp4.h. */
#include "linear_nvfp4.h"

#include <string.h>

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

enum { GEMV_WARPS = 8 };

/* Row n per warp. Napkin math (H200, 4.8 TB/s): per 32 weights a lane issues 1 code load, 1 scale load,
 * 8 M x loads (L1 hits after the first row: x is M x K, shared by all rows), 16 table loads and 32 M FMAs,
 * so M = 1 needs ~2.2 lane-instructions per weight against ~3.9 available per weight at full bandwidth. */
template <int M>
static __global__ void __launch_bounds__(32 * GEMV_WARPS)
linear_nvfp4_kernel(const uint8_t *codes, const uint8_t *scales, float g, const float *x,
                    float *y, int64_t N, int64_t K) {
    // codes: N x K/2; scales: N x K/16; x: M x K; y: M x N
    __shared__ float2 pair[256];   /* code byte -> (value of the low nibble, value of the high nibble) */
    __shared__ float sval[256];    /* UE4M3 byte -> d (0x7F: NaN) */
    for (int i = threadIdx.x; i < 256; i += blockDim.x) {
        pair[i] = make_float2(dev_e2m1_value((uint8_t)(i & 15)), dev_e2m1_value((uint8_t)(i >> 4)));
        sval[i] = dev_e4m3_value((uint8_t)i);
    }
    __syncthreads();
    const int lane = threadIdx.x % 32;
    const int64_t n = (int64_t)blockIdx.x * GEMV_WARPS + threadIdx.x / 32;
    if (n >= N) return;
    const uint4 *cr = reinterpret_cast<const uint4 *>(codes + n * (K / 2));
    const uint16_t *sr = reinterpret_cast<const uint16_t *>(scales + n * (K / 16));
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; m++) acc[m] = 0.0f;
    const int64_t n_chunks = K / 32;
#pragma unroll 2
    for (int64_t c = lane; c < n_chunks; c += 32) {
        const uint4 cw = __ldg(cr + c);
        const uint16_t sw = __ldg(sr + c);
        const float d0 = sval[sw & 0xFF], d1 = sval[sw >> 8];
        const uint32_t words[4] = {cw.x, cw.y, cw.z, cw.w};
#pragma unroll
        for (int m = 0; m < M; m++) {
            const float4 *xr = reinterpret_cast<const float4 *>(x + m * K + c * 32);
            float a[2] = {0.0f, 0.0f};
#pragma unroll
            for (int wi = 0; wi < 4; wi++) {
                const float4 x0 = __ldg(xr + 2 * wi), x1 = __ldg(xr + 2 * wi + 1);
                const uint32_t wv = words[wi];
                const float2 p0 = pair[wv & 0xFF], p1 = pair[(wv >> 8) & 0xFF], p2 = pair[(wv >> 16) & 0xFF],
                             p3 = pair[wv >> 24];
                float s = a[wi / 2];
                s += p0.x * x0.x; s += p0.y * x0.y; s += p1.x * x0.z; s += p1.y * x0.w;
                s += p2.x * x1.x; s += p2.y * x1.y; s += p3.x * x1.z; s += p3.y * x1.w;
                a[wi / 2] = s;
            }
            acc[m] += d0 * a[0] + d1 * a[1];
        }
    }
#pragma unroll
    for (int m = 0; m < M; m++) {
        float v = acc[m];
        for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, off);
        if (lane == 0) y[m * N + n] = __fdiv_rn(v, g);
    }
}

extern "C" void linear_nvfp4_cuda(const uint8_t *codes, const uint8_t *scales, float global, const float *x, float *y,
                                  int64_t M, int64_t N, int64_t K, void *stream) {
    if (K % 32 != 0) die("linear_nvfp4_cuda: K=%lld is not a multiple of 32 (two NVFP4 blocks per lane step)", (long long)K);
    if (M < 1 || M > LINEAR_NVFP4_MAX_M) die("linear_nvfp4_cuda: M=%lld outside 1 .. %d", (long long)M, LINEAR_NVFP4_MAX_M);
    CHECK((uintptr_t)codes % 16 == 0 && (uintptr_t)x % 16 == 0 && (uintptr_t)scales % 2 == 0, "alignment");
    if (N == 0) return;
    const unsigned grid = (unsigned)ceil_div(N, GEMV_WARPS);
    cudaStream_t s = (cudaStream_t)stream;
#define GEMV_CASE(m) \
    case m: linear_nvfp4_kernel<m><<<grid, 32 * GEMV_WARPS, 0, s>>>(codes, scales, global, x, y, N, K); break
    switch (M) {
        GEMV_CASE(1); GEMV_CASE(2); GEMV_CASE(3); GEMV_CASE(4); GEMV_CASE(5); GEMV_CASE(6); GEMV_CASE(7); GEMV_CASE(8);
    }
#undef GEMV_CASE
    CUDA_CHECK_LAUNCH();
}
