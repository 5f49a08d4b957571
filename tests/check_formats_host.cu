/* check_formats_host -- our element encoders and decoders against CUDA's own __host__ conversions, the
 * independent third opinion of STYLE.md section 7: cuda_fp8.h (__nv_cvt_float_to_fp8 with __NV_SATFINITE for
 * E4M3 and E5M2, __nv_cvt_fp8_to_halfraw, __nv_cvt_float_to_e8m0 with cudaRoundZero / cudaRoundPosInf,
 * __nv_cvt_e8m0_to_bf16raw), cuda_fp4.h (__nv_cvt_float_to_fp4 E2M1 cudaRoundNearest, __nv_cvt_fp4_to_halfraw)
 * and cuda_bf16.h (__float2bfloat16_rn). Host code only: no cuda* runtime call, so it runs (and must pass)
 * on machines without a GPU. Inputs: every code's value, a dense sweep of floats around every rounding
 * boundary (midpoints +- 64 ulps), and 2^20 random bit patterns (NaN, Inf and subnormals included). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp4.h>
#include <cuda_fp8.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "formats/bf16.h"
#include "formats/e2m1.h"
#include "formats/e4m3.h"
#include "formats/e5m2.h"
#include "formats/e8m0.h"
#include "formats/ue4m3.h"
#include "test.h"

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int same(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return f2u(a) == f2u(b);
}

// ---- the CUDA side, one function per conversion ----

static uint8_t cuda_e4m3(float x) { return __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3); }
static uint8_t cuda_e5m2(float x) { return __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2); }
static uint8_t cuda_e2m1(float x) { return __nv_cvt_float_to_fp4(x, __NV_E2M1, cudaRoundNearest); }
static uint8_t cuda_e8m0_rz(float x) { return __nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundZero); }
static uint8_t cuda_e8m0_rp(float x) { return __nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundPosInf); }

static float half_raw_to_float(__half_raw h) { return __half2float(__half(h)); }

static float cuda_e4m3_dec(uint8_t c) { return half_raw_to_float(__nv_cvt_fp8_to_halfraw(c, __NV_E4M3)); }
static float cuda_e5m2_dec(uint8_t c) { return half_raw_to_float(__nv_cvt_fp8_to_halfraw(c, __NV_E5M2)); }
static float cuda_e2m1_dec(uint8_t c) { return half_raw_to_float(__nv_cvt_fp4_to_halfraw(c, __NV_E2M1)); }
static float cuda_e8m0_dec(uint8_t c) {
    __nv_bfloat16_raw r = __nv_cvt_e8m0_to_bf16raw(c);
    return u2f((uint32_t)r.x << 16);
}

static uint8_t our_e8m0_rz(float x) { return e8m0_from_float(x, E8M0_RULE_FLOOR); }
static uint8_t our_e8m0_rp(float x) { return e8m0_from_float(x, E8M0_RULE_CEIL); }
static uint8_t our_ue4m3(float x) { return ue4m3_from_float(x); }
/* UE4M3 is E4M3 restricted to non-negative scales: compare on |x| only. */
static uint8_t cuda_ue4m3(float x) { return isnan(x) ? 0x7F : cuda_e4m3(fabsf(x)); }
static uint8_t our_ue4m3_abs(float x) { return our_ue4m3(isnan(x) ? x : fabsf(x)); }

typedef uint8_t (*enc_fn)(float);
typedef float (*dec_fn)(uint8_t);

// ---- sweeps ----

/* Compares two encoders on x; prints the first five mismatches. Returns 1 on mismatch. */
static int cmp_enc(const char *name, enc_fn ours, enc_fn cuda, float x, int *shown) {
    uint8_t a = ours(x), b = cuda(x);
    if (a == b) return 0;
    if ((*shown)++ < 5)
        printf("  %s: x=%a (%.9g) ours=0x%02X cuda=0x%02X\n", name, (double)x, (double)x, a, b);
    return 1;
}

/* All codes decode alike; then the encoders agree on every code value, on +-64 ulps around every midpoint
 * between neighbouring codes (and around the decoded values themselves), and on random bit patterns. */
static void check_format(const char *name, enc_fn ours, enc_fn cuda, dec_fn our_dec, dec_fn cuda_dec,
                         unsigned n_codes) {
    int bad = 0, shown = 0;
    for (unsigned c = 0; c < n_codes; c++)
        if (!same(our_dec((uint8_t)c), cuda_dec((uint8_t)c))) {
            if (shown++ < 5)
                printf("  %s decode 0x%02X: ours=%a cuda=%a\n", name, c, (double)our_dec((uint8_t)c),
                       (double)cuda_dec((uint8_t)c));
            bad++;
        }
    TEST(bad == 0, "%s: all %u codes decode as CUDA decodes them", name, n_codes);
    /* Collect the finite code values, sorted, to find every rounding boundary. */
    float vals[256];
    int nv = 0;
    for (unsigned c = 0; c < n_codes; c++) {
        float v = our_dec((uint8_t)c);
        if (isfinite(v) && v >= 0) vals[nv++] = v;
    }
    for (int i = 1; i < nv; i++)
        for (int j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
            float t = vals[j];
            vals[j] = vals[j - 1];
            vals[j - 1] = t;
        }
    long n = 0;
    bad = 0;
    shown = 0;
    for (int i = 0; i < nv; i++) {
        /* Midpoint to the next value, and past the top the midpoint towards the next binade's step. */
        float lo = vals[i];
        float hi = i + 1 < nv ? vals[i + 1] : lo + (lo - vals[i - 1]);
        float pts[2] = {lo, (float)(((double)lo + (double)hi) / 2)};
        for (int p = 0; p < 2; p++) {
            float x = pts[p];
            for (int d = -64; d <= 64; d++) {
                float y = x;
                for (int s = 0; s < (d < 0 ? -d : d); s++) y = nextafterf(y, d < 0 ? -INFINITY : INFINITY);
                bad += cmp_enc(name, ours, cuda, y, &shown);
                bad += cmp_enc(name, ours, cuda, -y, &shown);
                n += 2;
            }
        }
    }
    TEST(bad == 0, "%s: encoders agree on %ld points around every boundary (%d differ)", name, n, bad);
    bad = 0;
    shown = 0;
    for (uint64_t i = 0; i < (1u << 20); i++) {
        uint32_t u = (uint32_t)rng_hash(0xF0F0, i);
        /* Half the samples are kept near the format's range by squeezing the exponent into 100..150. */
        if (i & 1) u = (u & 0x807FFFFFu) | ((100u + (u >> 23) % 51u) << 23);
        bad += cmp_enc(name, ours, cuda, u2f(u), &shown);
    }
    float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1e-45f, -1e-45f, 3.4028235e38f, 1e-38f};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) bad += cmp_enc(name, ours, cuda, specials[i], &shown);
    TEST(bad == 0, "%s: encoders agree on 2^20 random floats and the specials (%d differ)", name, bad);
}

static void check_bf16(void) {
    int bad = 0, shown = 0;
    for (uint64_t i = 0; i < (1u << 20); i++) {
        float x = u2f((uint32_t)rng_hash(0xB16, i));
        __nv_bfloat16 h = __float2bfloat16_rn(x);
        __nv_bfloat16_raw r = h;
        uint16_t ours = bf16_from_float(x);
        int ok = isnan(x) ? (((r.x & 0x7F80) == 0x7F80 && (r.x & 0x7F)) && isnan(bf16_to_float(ours)))
                          : (ours == r.x);
        if (!ok && shown++ < 5) printf("  bf16: x=%a ours=0x%04X cuda=0x%04X\n", (double)x, ours, r.x);
        bad += !ok;
    }
    /* Exact ties: bit 15 set, lower bits clear, both parities of bit 16. */
    for (uint32_t m = 0; m < 4096; m++) {
        float x = u2f(0x3F808000u + (m << 16));
        __nv_bfloat16_raw r = __float2bfloat16_rn(x);
        bad += bf16_from_float(x) != r.x;
    }
    TEST(bad == 0, "bf16: __float2bfloat16_rn agrees on 2^20 random floats and 4096 ties (%d differ)", bad);
}

int main(void) {
    check_format("e4m3", e4m3_from_float, cuda_e4m3, e4m3_to_float, cuda_e4m3_dec, 256);
    check_format("e5m2", e5m2_from_float, cuda_e5m2, e5m2_to_float, cuda_e5m2_dec, 256);
    check_format("e2m1", e2m1_from_float, cuda_e2m1, e2m1_to_float, cuda_e2m1_dec, 16);
    check_format("e8m0 floor/rz", our_e8m0_rz, cuda_e8m0_rz, e8m0_to_float, cuda_e8m0_dec, 256);
    check_format("e8m0 ceil/rp", our_e8m0_rp, cuda_e8m0_rp, e8m0_to_float, cuda_e8m0_dec, 256);
    check_format("ue4m3", our_ue4m3_abs, cuda_ue4m3, e4m3_to_float, cuda_e4m3_dec, 128);
    check_bf16();
    return TEST_REPORT();
}
