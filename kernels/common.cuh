/* common -- what every kernel file shares: CUDA_CHECK / launch checking (STYLE.md section 5), ceil_div,
 * and the device-side element codecs of the quantize_* kernels. The codecs are written independently of
 * the CPU twins in src/formats (threshold tables for E2M1, frexpf for the MX exponent, the cvt.rn.satfinite
 * instruction for E4M3 on sm_89+ through cuda_fp8.h) so that tests/check_quantize.cu compares two
 * implementations, not one twice. Rounding: nearest-even, saturating, exactly as the headers in src/formats
 * state. Codec arithmetic uses __fmul_rn / __fdiv_rn so no FMA contraction can change a bit. */
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

// ---- device element codecs ----

/* E2M1 by thresholds on |x|: the midpoints 0.25 0.75 1.25 1.75 2.5 3.5 5 between the magnitudes
 * 0 0.5 1 1.5 2 3 4 6, with `<=` where the lower code is even (ties go down) and `<` where it is odd (ties
 * go up). NaN fails every comparison and lands on 7 with sign 0 (+6), as src/formats/e2m1.h states. */
static __device__ __forceinline__ uint8_t dev_e2m1(float x) {
    float a = fabsf(x);
    uint8_t c = a <= 0.25f ? 0 : a < 0.75f ? 1 : a <= 1.25f ? 2 : a < 1.75f ? 3
              : a <= 2.5f ? 4 : a < 3.5f ? 5 : a <= 5.0f ? 6 : 7;
    return (uint8_t)(c | ((!isnan(x) && signbit(x)) ? 0x8 : 0));
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

#endif
