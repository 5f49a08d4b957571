/* common -- what every kernel file shares: CUDA_CHECK / launch checking (STYLE.md section 5), ceil_div, the
 * programmatic dependent launch calls (pdl_wait / pdl_trigger) and the device-side element codecs of the
 * quantize_* kernels. The codecs are written independently of the CPU twins in src/formats (threshold tables
 * for E2M1, frexpf for the MX exponent, the cvt.rn.satfinite instruction for E4M3 on sm_89+ through
 * cuda_fp8.h) so that tests/check_quantize.cu compares two implementations, not one twice. Rounding:
 * nearest-even, saturating, exactly as the headers in src/formats state. Codec arithmetic uses __fmul_rn /
 * __fdiv_rn so no FMA contraction can change a bit. */
#ifndef KERNELS_COMMON_CUH
#define KERNELS_COMMON_CUH

#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// ---- error checking ----

/* Reports a failed CUDA call with file:line, the expression, the error string and the device, then exits 1
 * (an environment error: driver, memory, bad launch). */
static inline void cuda_fail(const char *file, int line, const char *expr, cudaError_t e) {
    int dev = -1;
    cudaGetDevice(&dev);
    fflush(stdout);
    fprintf(stderr, "ql: %s:%d: CUDA error on device %d: %s: %s (%s)\n", file, line, dev, expr,
            cudaGetErrorString(e), cudaGetErrorName(e));
    exit(1);
}

#define CUDA_CHECK(x) \
    do { cudaError_t e_ = (x); if (e_ != cudaSuccess) cuda_fail(__FILE__, __LINE__, #x, e_); } while (0)

/* After every launch: the launch error, and with make DEBUG_SYNC=1 a synchronise so asynchronous faults
 * are reported at the kernel that caused them. */
#if defined(QL_DEBUG_SYNC) && QL_DEBUG_SYNC
#define CUDA_CHECK_LAUNCH() do { CUDA_CHECK(cudaGetLastError()); CUDA_CHECK(cudaDeviceSynchronize()); } while (0)
#else
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
#endif

static inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- programmatic dependent launch ----

/* Programmatic dependent launch (sm_90; no-ops on older targets): pdl_wait waits for the preceding kernel's
 * completion (a no-op when launched without the attribute), pdl_trigger lets the next kernel's CTAs be
 * scheduled early. Used by kernels/serve_gemv.cu and kernels/serve_attention.cu; pdl_attach also by
 * src/engine/qwen3_cuda.cu's srv_launch. */
static __device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
static __device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

/* Host side: fills *at with the programmatic-stream-serialization attribute and, when on, attaches it to *cfg
 * (a launch with cudaLaunchKernelEx; *at must live until that launch). */
static inline void pdl_attach(cudaLaunchConfig_t *cfg, cudaLaunchAttribute *at, int on) {
    at->id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at->val.programmaticStreamSerializationAllowed = 1;
    if (on) {
        cfg->attrs = at;
        cfg->numAttrs = 1;
    }
}

// ---- device element codecs ----

/* E2M1 by rounding the FP32 bits, independently of the threshold table of src/formats/e2m1.c. Below 1 the
 * grid is 0, 0.5, 1 (codes 0, 1, 2): round 2|x| to an integer, nearest-even (0.25 -> 0, 0.75 -> 1.0). From 1
 * up the grid is FP32 with one mantissa bit: add 0x1FFFFF plus the kept bit to the bits (round-to-nearest-
 * even at bit 22; a carry moves into the exponent), after clamping |x| to 6 so larger values saturate. Then
 * bits >> 22 = 2 * biased exponent + mantissa bit, and the code is that minus 252 (1.0 -> 2, 6.0 -> 7).
 * NaN is sent to 7 with sign 0 (+6), as src/formats/e2m1.h states. */
static __device__ __forceinline__ uint8_t dev_e2m1(float x) {
    float a = fabsf(x);
    int lo = __float2int_rn(__fmul_rn(a, 2.0f));
    uint32_t u = __float_as_uint(fminf(a, 6.0f));
    u += 0x1FFFFFu + ((u >> 22) & 1u);
    int hi = (int)(u >> 22) - 252;
    if (isnan(x)) return 7;
    return (uint8_t)((a < 1.0f ? lo : hi) | (signbit(x) ? 0x8 : 0));
}

static __device__ __forceinline__ float dev_e2m1_value(uint8_t c) {
    const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    float v = mag[c & 7];
    return (c & 8) ? -v : v;
}

/* E4M3 through cuda_fp8.h: cvt.rn.satfinite.e4m3x2.f32 on sm_89+, CUDA's software conversion on older
 * devices. NaN is mapped to 0x7F explicitly (the policy of e4m3.h) rather than trusting the hardware. */
static __device__ __forceinline__ uint8_t dev_e4m3(float x) {
    if (isnan(x)) return 0x7F;
    return (uint8_t)__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3);
}

/* E4M3 decode from the bit fields: exponent 0 is subnormal (m * 2^-9), 0x7F/0xFF NaN. */
static __device__ __forceinline__ float dev_e4m3_value(uint8_t c) {
    int e = (c >> 3) & 15, m = c & 7;
    float v;
    if (e == 15 && m == 7) return __int_as_float(0x7FC00000);
    if (e == 0) v = ldexpf((float)m, -9);
    else v = ldexpf((float)(8 + m), e - 10); /* (1 + m/8) * 2^(e-7) */
    return (c & 0x80) ? -v : v;
}

/* UE4M3 block scale: the E4M3 code of a non-negative value; NaN -> 0x7F, zero and negative -> 0. */
static __device__ __forceinline__ uint8_t dev_ue4m3(float x) {
    if (isnan(x)) return 0x7F;
    if (!(x > 0.0f)) return 0;
    return dev_e4m3(x);
}

/* The OCP MX scale exponent, E8M0-coded: floor(log2 amax) - emax (frexpf gives amax = f * 2^ex with f in
 * [0.5, 1), so floor(log2 amax) = ex - 1, subnormals included), +1 under the ceil rule when amax / 2^e would
 * exceed max_elem (ldexpf is exact there), clamped to [-127, 127]. amax 0 -> code 0, NaN/Inf -> 0xFF. */
static __device__ __forceinline__ uint8_t dev_mx_scale(float amax, int emax, float max_elem, int ceil_rule) {
    if (!isfinite(amax)) return 0xFF;
    if (amax == 0.0f) return 0;
    int ex;
    frexpf(amax, &ex);
    int e = ex - 1 - emax;
    if (ceil_rule && ldexpf(amax, -e) > max_elem) e++;
    e = e < -127 ? -127 : e > 127 ? 127 : e;
    return (uint8_t)(e + 127);
}

/* 2^(c-127) for an E8M0 code (0xFF: NaN); ldexpf is exact down to the subnormal 2^-127. */
static __device__ __forceinline__ float dev_e8m0_value(uint8_t c) {
    return c == 0xFF ? __int_as_float(0x7FC00000) : ldexpf(1.0f, (int)c - 127);
}

/* 1 / 2^(c-127) = 2^(127-c), exact for every finite code (2^-127 .. 2^127 are all representable), so
 * x * dev_e8m0_recip(c) is the exact quotient x / 2^(c-127) rounded once: bit-identical to __fdiv_rn,
 * subnormal results included, at the cost of one multiply. 0xFF: NaN. */
static __device__ __forceinline__ float dev_e8m0_recip(uint8_t c) {
    return c == 0xFF ? __int_as_float(0x7FC00000) : ldexpf(1.0f, 127 - (int)c);
}

/* max |x| over n values, NaN if any is NaN or infinite (the poison rule of src/formats/amax.h). fmaxf is
 * exact and order-free, so any reduction order gives the same bits. */
static __device__ __forceinline__ float dev_amax(const float *x, int n) {
    float m = 0.0f;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        bad |= !isfinite(a);
        m = fmaxf(m, a);
    }
    return bad ? __int_as_float(0x7FC00000) : m;
}

// ---- tiles: the memory-bound layout of the block codecs ----
/* A CTA of QTILE_THREADS threads quantizes one tile of QTILE_ELEMS consecutive elements in QTILE_UNROLL
 * steps of QTILE_STEP; in each step thread t owns elements 4t .. 4t+3 (one 16-byte load), so a block of 16
 * (NVFP4) spans 4 lanes and a block of 32 (MX) 8 lanes of one warp, and the block amax is a shuffle
 * reduction inside that lane group. All QTILE_UNROLL loads are issued before any arithmetic, so each thread
 * keeps 64 bytes in flight (what it takes to cover DRAM latency at full bandwidth). The packed blocks are
 * built in shared memory and leave in 16-byte stores, because a block of 9, 17 or 33 bytes cannot be stored
 * aligned by the thread that computes it. A step is a whole number of blocks for every block size here.
 * Tuning, measured on the H100 (check_quantize --bench, 8192 x 8192): 2 and 8 steps were no faster than 4.
 * The FP8 codecs then run at 0.98-0.99 of a device-to-device copy; the FP4 ones at 0.74-0.78, most likely
 * limited by the instructions of the software E2M1 conversion (Hopper has no FP4 cvt): the same memory
 * pattern reaches 0.99 for FP8, more loads in flight did not help, and a shorter E2M1 gained 5%. */
#define QTILE_THREADS 256
#define QTILE_UNROLL 4
#define QTILE_STEP (4 * QTILE_THREADS)
#define QTILE_ELEMS (QTILE_UNROLL * QTILE_STEP)

/* Loads x[i .. i+3] into v; elements at or past n read as 0 (the tail tile: a lane group lies wholly inside
 * or wholly outside [0, n), since n is a multiple of the block size). vec: x is 16-byte aligned. */
static __device__ __forceinline__ void dev_load4(const float *x, int64_t i, int64_t n, int vec, float v[4]) {
    if (vec && i + 3 < n) {
        float4 q = *reinterpret_cast<const float4 *>(x + i);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
        return;
    }
    for (int j = 0; j < 4; j++) v[j] = i + j < n ? x[i + j] : 0.0f;
}

/* max |v| over the 4 values of each of `lanes` consecutive lanes (lanes = 4 or 8, a power of two dividing
 * 32): every lane of the group gets the block amax, NaN if any value is NaN or infinite -- the poison rule
 * of dev_amax, reduced as a separate flag because fmaxf drops NaN. All 32 lanes must call it. */
static __device__ __forceinline__ float dev_group_amax(const float *v, int lanes) {
    float m = 0.0f;
    int bad = 0;
    for (int j = 0; j < 4; j++) {
        float a = fabsf(v[j]);
        bad |= !isfinite(a);
        m = fmaxf(m, a);
    }
    for (int off = lanes / 2; off > 0; off /= 2) {
        m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, off));
        bad |= __shfl_xor_sync(0xFFFFFFFFu, bad, off);
    }
    return bad ? __int_as_float(0x7FC00000) : m;
}

/* Copies the tile's n_bytes of packed blocks from shared memory to dst with the widest store (16, 4 or 1
 * bytes) that both dst's alignment and n_bytes allow. Called by all threads after __syncthreads(). */
static __device__ __forceinline__ void dev_store_tile(uint8_t *dst, const uint8_t *tile, int n_bytes) {
    uintptr_t a = (uintptr_t)dst;
    if (a % 16 == 0 && n_bytes % 16 == 0) {
        for (int w = threadIdx.x; w < n_bytes / 16; w += blockDim.x)
            reinterpret_cast<uint4 *>(dst)[w] = reinterpret_cast<const uint4 *>(tile)[w];
    } else if (a % 4 == 0 && n_bytes % 4 == 0) {
        for (int w = threadIdx.x; w < n_bytes / 4; w += blockDim.x)
            reinterpret_cast<uint32_t *>(dst)[w] = reinterpret_cast<const uint32_t *>(tile)[w];
    } else {
        for (int w = threadIdx.x; w < n_bytes; w += blockDim.x) dst[w] = tile[w];
    }
}

/* The tile loop of the block codecs (quantize_nvfp4, _mxfp4, _mxfp8): loads the CTA's tile (all QTILE_UNROLL
 * loads issued first), calls enc(v, part, out) once per step -- v the thread's 4 elements, part its lane's
 * index inside its block (0 .. BS/4 - 1), out that block's BLOCK_BYTES bytes in shared memory; enc writes
 * codes for its 4 elements, and part 0 the scale -- then stores the tile's whole blocks to y. Every lane of
 * the warp calls enc, so enc may shuffle within its lane group (dev_group_amax). */
template <int BS, int BLOCK_BYTES, class Enc>
static __device__ __forceinline__ void dev_quantize_tile(const float *x, uint8_t *y, int64_t n, int vec, Enc enc) {
    static_assert(QTILE_STEP % BS == 0 && (QTILE_ELEMS / BS * BLOCK_BYTES) % 16 == 0, "tile of whole blocks");
    __shared__ __align__(16) uint8_t tile[QTILE_ELEMS / BS * BLOCK_BYTES];
    int64_t i0 = (int64_t)blockIdx.x * QTILE_ELEMS;
    float v[QTILE_UNROLL][4];
    for (int u = 0; u < QTILE_UNROLL; u++) dev_load4(x, i0 + u * QTILE_STEP + 4 * threadIdx.x, n, vec, v[u]);
    for (int u = 0; u < QTILE_UNROLL; u++) {
        int local = u * QTILE_STEP + 4 * threadIdx.x;
        enc(v[u], local % BS / 4, tile + local / BS * BLOCK_BYTES);
    }
    __syncthreads();
    int64_t n_tile = min((int64_t)QTILE_ELEMS, n - i0);
    dev_store_tile(y + i0 / BS * BLOCK_BYTES, tile, (int)(n_tile / BS * BLOCK_BYTES));
}

#endif
