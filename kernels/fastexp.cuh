/* fastexp -- the device twin of src/ops/fastexp.c: the same FP32 e^x, operation for operation (Cody-Waite
 * reduction with the hex-float constants of fastexp.c, the degree-7 Taylor polynomial in the same Horner
 * order, 2^n applied as two exact power-of-two factors). Every operation is an explicitly rounded intrinsic
 * (__fmul_rn, __fadd_rn, __fsub_rn), so no FMA contraction can occur whatever -fmad says, and the result is
 * bit-identical to fastexp() on the CPU for every input (checked by tests/check_swiglu.cu over a dense sweep
 * of [-110, 95], NaN and +-Inf included). Header-only because it is a __device__ inline building block of
 * the swiglu and attention kernels, not a kernel of its own. */
#ifndef KERNELS_FASTEXP_CUH
#define KERNELS_FASTEXP_CUH

#include <stdint.h>

/* e^x (see src/ops/fastexp.h for the error bound: <= 1 ulp from the correctly rounded value). */
static __device__ __forceinline__ float dev_fastexp(float x) {
    // The clamp as plain comparisons: NaN fails both and stays NaN (fastexp_clamp).
    x = x < -104.0f ? -104.0f : x;
    x = x > 89.0f ? 89.0f : x;
    const float shifter = 0x1.8p+23f;
    const float t = __fadd_rn(__fmul_rn(x, 0x1.715476p+0f), shifter);
    const int32_t n = (int32_t)(__float_as_uint(t) - __float_as_uint(shifter));
    const float nf = __fsub_rn(t, shifter);
    const float r = __fsub_rn(__fsub_rn(x, __fmul_rn(nf, 0x1.62e4p-1f)), __fmul_rn(nf, 0x1.7f7d1cp-20f));
    const float s = __fmul_rn(r, r);
    float P = __fadd_rn(0x1.6c16c2p-10f, __fmul_rn(r, 0x1.a01a02p-13f));
    P = __fadd_rn(0x1.111112p-7f, __fmul_rn(r, P));
    P = __fadd_rn(0x1.555556p-5f, __fmul_rn(r, P));
    P = __fadd_rn(0x1.555556p-3f, __fmul_rn(r, P));
    P = __fadd_rn(0x1.0p-1f, __fmul_rn(r, P));
    const float p = __fadd_rn(1.0f, __fadd_rn(r, __fmul_rn(s, P)));
    const int32_t n1 = n / 2, n2 = n - n1;
    const float s1 = __uint_as_float((uint32_t)(n1 + 127) << 23), s2 = __uint_as_float((uint32_t)(n2 + 127) << 23);
    return __fmul_rn(__fmul_rn(p, s1), s2);
}

#endif
