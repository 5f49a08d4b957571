/* qgemv -- packed-weight decode GEMV, AVX-512 / AVX2 / C; see qgemv.h. */
#include "ops/qgemv.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/e2m1.h"
#include "formats/e8m0.h"
#include "formats/mxfp4.h"
#include "ops/cpu_exec.h"

/* Inline decoders of the scales (the kernels call them per block): BF16 is the top half of an FP32; E8M0 code
 * c is 2^(c - 127), the FP32 with exponent field c for c in 1..254, the subnormal 2^-127 for 0, NaN for 255
 * (e8m0.h). Tested against bf16_to_float / e8m0_to_float in tests/test_qgemv.c. */
static inline float bf16_f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline float e8m0_f(uint8_t c) {
    uint32_t u = c == 0 ? 0x00400000u : c == 255 ? 0x7FC00000u : (uint32_t)c << 23;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
float qgemv_e8m0_value(uint8_t c) { return e8m0_f(c); }
float qgemv_bf16_value(uint16_t h) { return bf16_f(h); }

/* One row: y = sum_k W[n][k] x[k]. The row functions of each scheme and family share this shape. */
typedef float (*row_fn)(const struct qtensor *q, int64_t n, const float *x);

// ---- plain C (the twin the vector kernels are tested against, and the fall-back) ----

static float row_int8_c(const struct qtensor *q, int64_t n, const float *x) {
    const int8_t *c = (const int8_t *)q->data + n * q->K;
    float acc = 0.0f;
    for (int64_t k = 0; k < q->K; k++) acc += (float)c[k] * x[k];
    return ((const float *)q->scales)[n] * acc;
}

/* Nibble i of a row of packed 4-bit codes (element 2i low, 2i+1 high). */
static inline int nib(const uint8_t *p, int64_t i) { return (p[i >> 1] >> ((i & 1) * 4)) & 15; }

static float row_int4_c(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G;
    const uint8_t *c = q->data + n * K / 2;
    const uint16_t *s = (const uint16_t *)q->scales + n * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    float y = 0.0f;
    for (int64_t g = 0; g < ng; g++) {
        const int z = asym ? nib(q->zeros, n * ng + g) : 0;
        float acc = 0.0f;
        for (int64_t k = g * G; k < (g + 1) * G; k++) {
            const int v = nib(c, k);
            acc += (float)(asym ? v - z : ((v ^ 8) - 8)) * x[k];
        }
        y += bf16_f(s[g]) * acc;
    }
    return y;
}

static float row_mxfp4_c(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * nb;
    float y = 0.0f;
    for (int64_t j = 0; j < nb; j++) {
        float acc = 0.0f;
        for (int i = 0; i < MXFP4_BLOCK_SIZE; i++)
            acc += e2m1_to_float((b[j].qs[i >> 1] >> ((i & 1) * 4)) & 15) * x[j * MXFP4_BLOCK_SIZE + i];
        y += e8m0_f(b[j].e) * acc;
    }
    return y;
}

static float row_bf16_c(const struct qtensor *q, int64_t n, const float *x) {
    const uint16_t *c = (const uint16_t *)q->data + n * q->K;
    float acc = 0.0f;
    for (int64_t k = 0; k < q->K; k++) acc += bf16_to_float(c[k]) * x[k];
    return acc;
}

// ---- AVX2 + FMA ----

#define T_AVX2 __attribute__((target("avx2,fma")))

T_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

T_AVX2 static float row_int8_avx2(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K;
    const int8_t *c = (const int8_t *)q->data + n * K;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(c + k));
        __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
        __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + k), a0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + k + 8), a1);
    }
    float acc = hsum256(_mm256_add_ps(a0, a1));
    for (; k < K; k++) acc += (float)c[k] * x[k];
    return ((const float *)q->scales)[n] * acc;
}

/* 32 codes of 16 bytes as two vectors of 16 int8 each, in element order (low nibble first). */
T_AVX2 static inline void unpack32(const uint8_t *p, __m128i *e0, __m128i *e1) {
    const __m128i m = _mm_set1_epi8(15);
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m128i lo = _mm_and_si128(b, m), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    *e0 = _mm_unpacklo_epi8(lo, hi);
    *e1 = _mm_unpackhi_epi8(lo, hi);
}

/* acc += c (16 int8 values, as FP32) * x[0..15]. */
T_AVX2 static inline __m256 fma16_avx2(__m128i c, const float *x, __m256 acc) {
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c)), _mm256_loadu_ps(x), acc);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(c, 8))), _mm256_loadu_ps(x + 8),
                           acc);
}

T_AVX2 static float row_int4_avx2(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G;
    const uint8_t *c = q->data + n * K / 2;
    const uint16_t *s = (const uint16_t *)q->scales + n * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    const __m128i eight = _mm_set1_epi8(8);
    __m256 y = _mm256_setzero_ps();
    for (int64_t g = 0; g < ng; g++) {
        // sym: (v ^ 8) - 8 maps the nibble 0..15 to its two's complement value; asym: v - z (both exact).
        const __m128i off = asym ? _mm_set1_epi8((char)nib(q->zeros, n * ng + g)) : eight;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t k = g * G; k < (g + 1) * G; k += 32) {
            __m128i e0, e1;
            unpack32(c + k / 2, &e0, &e1);
            if (!asym) {
                e0 = _mm_xor_si128(e0, eight);
                e1 = _mm_xor_si128(e1, eight);
            }
            acc = fma16_avx2(_mm_sub_epi8(e0, off), x + k, acc);
            acc = fma16_avx2(_mm_sub_epi8(e1, off), x + k + 16, acc);
        }
        y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_set1_ps(bf16_f(s[g])), acc));
    }
    return hsum256(y);
}

T_AVX2 static float row_bf16_avx2(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K;
    const uint16_t *c = (const uint16_t *)q->data + n * K;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        // BF16 -> FP32 is the 16 bits shifted into the top half: exact.
        __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(c + k))), 16));
        __m256 w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(c + k + 8))), 16));
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + k), a0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + k + 8), a1);
    }
    float acc = hsum256(_mm256_add_ps(a0, a1));
    for (; k < K; k++) acc += bf16_to_float(c[k]) * x[k];
    return acc;
}

/* The 8 E2M1 magnitudes, code & 7 (OCP MX v1.0 table 5): 0, 0.5, 1, 1.5, 2, 3, 4, 6. */
static const float E2M1_MAG[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

/* 8 codes (one per 32-bit lane, 0..15) to their E2M1 values: magnitude by permute, sign bit 3 into bit 31. */
T_AVX2 static inline __m256 e2m1_8_avx2(__m256i c, __m256 lut) {
    __m256 mag = _mm256_permutevar8x32_ps(lut, c);
    __m256i sign = _mm256_slli_epi32(_mm256_srli_epi32(c, 3), 31);
    return _mm256_xor_ps(mag, _mm256_castsi256_ps(sign));
}

T_AVX2 static float row_mxfp4_avx2(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * nb;
    const __m256 lut = _mm256_loadu_ps(E2M1_MAG);
    __m256 y = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; j++) {
        __m128i e0, e1;
        unpack32(b[j].qs, &e0, &e1);
        const float *xb = x + j * MXFP4_BLOCK_SIZE;
        __m256 acc = _mm256_mul_ps(e2m1_8_avx2(_mm256_cvtepu8_epi32(e0), lut), _mm256_loadu_ps(xb));
        acc = _mm256_fmadd_ps(e2m1_8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(e0, 8)), lut), _mm256_loadu_ps(xb + 8),
                              acc);
        acc = _mm256_fmadd_ps(e2m1_8_avx2(_mm256_cvtepu8_epi32(e1), lut), _mm256_loadu_ps(xb + 16), acc);
        acc = _mm256_fmadd_ps(e2m1_8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(e1, 8)), lut), _mm256_loadu_ps(xb + 24),
                              acc);
        y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_set1_ps(e8m0_f(b[j].e)), acc));
    }
    return hsum256(y);
}

// ---- AVX-512 (F, BW, VL) ----

#define T_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

T_AVX512 static float row_int8_avx512(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K;
    const int8_t *c = (const int8_t *)q->data + n * K;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(c + k))));
        __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(c + k + 16))));
        a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + k), a0);
        a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), a1);
    }
    float acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; k < K; k++) acc += (float)c[k] * x[k];
    return ((const float *)q->scales)[n] * acc;
}

T_AVX512 static float row_int4_avx512(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G;
    const uint8_t *c = q->data + n * K / 2;
    const uint16_t *s = (const uint16_t *)q->scales + n * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    // The value of each nibble 0..15 as FP32 in one register, decoded by a permute: sym (v ^ 8) - 8, asym v - z
    // (the table shifted by the group's zero point, exact small integers).
    const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 sym = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    __m512 y = _mm512_setzero_ps();
    for (int64_t g = 0; g < ng; g++) {
        const __m512 lut = asym ? _mm512_sub_ps(iota, _mm512_set1_ps((float)nib(q->zeros, n * ng + g))) : sym;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t k = g * G; k < (g + 1) * G; k += 32) {
            __m128i e0, e1;
            unpack32(c + k / 2, &e0, &e1);
            acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(e0), lut), _mm512_loadu_ps(x + k), acc);
            acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(e1), lut), _mm512_loadu_ps(x + k + 16), acc);
        }
        y = _mm512_fmadd_ps(_mm512_set1_ps(bf16_f(s[g])), acc, y);
    }
    return _mm512_reduce_add_ps(y);
}

T_AVX512 static float row_bf16_avx512(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t K = q->K;
    const uint16_t *c = (const uint16_t *)q->data + n * K;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512 w0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(c + k))), 16));
        __m512 w1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(c + k + 16))), 16));
        a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + k), a0);
        a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), a1);
    }
    float acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; k < K; k++) acc += bf16_to_float(c[k]) * x[k];
    return acc;
}

T_AVX512 static float row_mxfp4_avx512(const struct qtensor *q, int64_t n, const float *x) {
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * nb;
    // All 16 E2M1 values (code order: sign bit 3) in one register: a permute decodes 16 codes.
    const __m512 lut = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f, -1.5f, -2.0f,
                                      -3.0f, -4.0f, -6.0f);
    __m512 y = _mm512_setzero_ps();
    for (int64_t j = 0; j < nb; j++) {
        __m128i e0, e1;
        unpack32(b[j].qs, &e0, &e1);
        const float *xb = x + j * MXFP4_BLOCK_SIZE;
        __m512 acc = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(e0), lut), _mm512_loadu_ps(xb));
        acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(e1), lut), _mm512_loadu_ps(xb + 16), acc);
        y = _mm512_add_ps(y, _mm512_mul_ps(_mm512_set1_ps(e8m0_f(b[j].e)), acc));
    }
    return _mm512_reduce_add_ps(y);
}

/* bf16, four rows at a time (the packed lm_head): x split once into its even and odd elements, so that 32
 * BF16 codes read as 16 32-bit words decode with one shift (even elements, the low halves) and one mask (odd
 * elements, already in place as the top half of an FP32): both exact. Another summation order than
 * row_bf16_avx512 (both within the bound of the header). */
T_AVX512 static void rows4_bf16_avx512(const struct qtensor *q, int64_t n0, const float *xe, const float *xo, float *out) {
    const int64_t K = q->K;
    const uint16_t *c = (const uint16_t *)q->data + n0 * K;
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 32) {
        const __m512 ve = _mm512_load_ps(xe + k / 2), vo = _mm512_load_ps(xo + k / 2);
#define BF_R(r)                                                                                                        \
    {                                                                                                                  \
        const __m512i v = _mm512_loadu_si512(c + r * K + k);                                                          \
        a##r = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), ve, a##r);                               \
        a##r = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, hi)), vo, a##r);                                \
    }
        BF_R(0) BF_R(1) BF_R(2) BF_R(3)
#undef BF_R
    }
    out[0] = _mm512_reduce_add_ps(a0), out[1] = _mm512_reduce_add_ps(a1);
    out[2] = _mm512_reduce_add_ps(a2), out[3] = _mm512_reduce_add_ps(a3);
}

// ---- FP32 rows (the OWN-mode decode GEMV of ops/cpu_exec.h) ----

static float dot_f32_c(const float *w, const float *x, int64_t K) {
    float acc = 0.0f;
    for (int64_t k = 0; k < K; k++) acc += w[k] * x[k];
    return acc;
}

T_AVX2 static float dot_f32_avx2(const float *w, const float *x, int64_t K) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(x + k), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 8), _mm256_loadu_ps(x + k + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 16), _mm256_loadu_ps(x + k + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 24), _mm256_loadu_ps(x + k + 24), a3);
    }
    float acc = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; k < K; k++) acc += w[k] * x[k];
    return acc;
}

T_AVX512 static float dot_f32_avx512(const float *w, const float *x, int64_t K) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(x + k), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + k + 16), _mm512_loadu_ps(x + k + 16), a1);
    }
    float acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; k < K; k++) acc += w[k] * x[k];
    return acc;
}

// ---- dispatch ----

static enum qgemv_isa g_isa = QGEMV_ISA_AUTO;

static int cpu_has(enum qgemv_isa isa) {
    switch (isa) {
    case QGEMV_ISA_C: return 1;
    case QGEMV_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case QGEMV_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    default: return 0;
    }
}

static enum qgemv_isa isa_now(void) {
    if (g_isa != QGEMV_ISA_AUTO) return g_isa;
    return cpu_has(QGEMV_ISA_AVX512) ? QGEMV_ISA_AVX512 : cpu_has(QGEMV_ISA_AVX2) ? QGEMV_ISA_AVX2 : QGEMV_ISA_C;
}

int qgemv_set_isa(enum qgemv_isa isa) {
    if (isa == QGEMV_ISA_AUTO) { g_isa = isa; return 1; }
    if (!cpu_has(isa)) return 0;
    g_isa = isa;
    return 1;
}

const char *qgemv_isa_name(void) {
    static const char *names[] = {"c", "avx2", "avx512"};
    return names[isa_now()];
}

int qgemv_supported(const struct qtensor *q) {
    switch (q->format) {
    case QFORMAT_BF16:
    case QFORMAT_INT8_CHANNEL: return 1;
    case QFORMAT_INT4_SYM:
    case QFORMAT_INT4_ASYM: return q->params.group_size % 32 == 0 && q->K % q->params.group_size == 0;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: return q->K % MXFP4_BLOCK_SIZE == 0;
    default: return 0;
    }
}

static row_fn pick(const struct qtensor *q) {
    static const row_fn t[3][4] = {
        {row_int8_c, row_int4_c, row_mxfp4_c, row_bf16_c},
        {row_int8_avx2, row_int4_avx2, row_mxfp4_avx2, row_bf16_avx2},
        {row_int8_avx512, row_int4_avx512, row_mxfp4_avx512, row_bf16_avx512},
    };
    const int s = q->format == QFORMAT_INT8_CHANNEL                                   ? 0
                  : (q->format == QFORMAT_INT4_SYM || q->format == QFORMAT_INT4_ASYM) ? 1
                  : q->format == QFORMAT_BF16                                          ? 3
                                                                                      : 2;
    return t[isa_now()][s];
}

void qgemv(const struct qtensor *q, const float *x, float *y) {
    CHECK(qgemv_supported(q), "qgemv: scheme %d has no packed kernel", (int)q->format);
    const row_fn f = pick(q);
    const int64_t N = q->N, K = q->K;
    if (q->format == QFORMAT_BF16 && isa_now() == QGEMV_ISA_AVX512 && K % 32 == 0 && N >= 4) {
        // The lm_head: four-row blocks on the even / odd split of x (rows4_bf16_avx512), the last N % 4 rows
        // one at a time.
        float *xe = aligned_alloc(64, (size_t)(K + 15) / 16 * 16 * sizeof(float));
        CHECK(xe, "qgemv: out of memory (K = %lld)", (long long)K);
        float *xo = xe + K / 2;
        for (int64_t k = 0; k < K / 2; k++) xe[k] = x[2 * k], xo[k] = x[2 * k + 1];
        const int64_t N4 = N / 4;
#pragma omp parallel for schedule(dynamic, 4) if (N >= 64 && qtensor_bytes(q) >= (size_t)cpu_exec_par_min_bytes())
        for (int64_t i = 0; i < N4; i++) rows4_bf16_avx512(q, 4 * i, xe, xo, y + 4 * i);
        for (int64_t n = 4 * N4; n < N; n++) y[n] = f(q, n, x);
        free(xe);
        return;
    }
    // Rows in blocks of 16 to whichever thread is free (ops/cpu_exec.h: a descheduled thread holds one block);
    // one thread below cpu_exec_par_min_bytes(), where a hand-off costs more than it saves.
#pragma omp parallel for schedule(dynamic, 16) if (N >= 64 && qtensor_bytes(q) >= (size_t)cpu_exec_par_min_bytes())
    for (int64_t n = 0; n < N; n++) y[n] = f(q, n, x);
}

void qgemv_f32(const float *w, int64_t ldw, const float *x, float *y, int64_t N, int64_t K) {
    typedef float (*dot_fn)(const float *, const float *, int64_t);
    static const dot_fn t[3] = {dot_f32_c, dot_f32_avx2, dot_f32_avx512};
    const dot_fn f = t[isa_now()];
#pragma omp parallel for schedule(dynamic, 16) if (N >= 64 && N * K * (int64_t)sizeof(float) >= cpu_exec_par_min_bytes())
    for (int64_t n = 0; n < N; n++) y[n] = f(w + n * ldw, x, K);
}

// ---- int8 activations (qgemv_q8; the derivation of its bound is in qgemv.h) ----

/* The activations of one GEMV quantized per 32-block (the vec_dot scheme of llama.cpp's Q8_0): d_b = amax_b /
 * 127, q_k = rint(x_k / d_b) (computed as x_k * fl(1 / d_b), clamped to +-127). Two layouts of the codes:
 *   natural (the C kernels, int8-channel): q in element order;
 *   nibble (the VNNI 4-bit kernels): per pair of blocks j, j + 1 (64 bytes): the even elements of j, the even
 *   elements of j + 1, the odd elements of j, the odd elements of j + 1. That is the byte order of [low
 *   nibbles | high nibbles] of the pair's 32 code bytes, so a 4-bit row needs no unpacking shuffle.
 * Per pair, for the VNNI kernels: dx = d of the block each of the 16 int32 lanes of vpdpbusd covers, and negS
 * = minus the sum of q over the 16 bytes of each block half (even / odd elements) in the first lane of that
 * half (0 elsewhere): an unsigned code u with offset o (value u - o) gives sum (u - o) q = vpdpbusd(o * negS,
 * u, q), exactly, in int32. */
struct q8act {
    int64_t K;
    int8_t *q;          /* K codes */
    float *d;           /* K/32 block scales */
    float *dx;          /* K/64 x 16 (VNNI layouts) */
    int32_t *negS;      /* K/64 x 16 (VNNI layouts) */
    void *mem;
};

enum q8_layout {
    Q8_NATURAL = 0,
    Q8_NIBBLE,      /* mxfp4 */
    Q8_NIBBLE16     /* int4: the same codes; dx of the high (odd-element) half is d_b / 16 (see nibbles16_vnni) */
};

/* One block's scale and reciprocal; d is NaN for a block holding a NaN (it propagates to the outputs). */
static inline void q8_scale(float amax, float *d, float *id) {
    *d = amax / 127.0f;
    *id = *d > 0.0f ? 1.0f / *d : 0.0f;
}

static inline int8_t q8_code(float x, float id) {
    float t = nearbyintf(x * id);       /* round to nearest even, as vcvtps2dq in the default MXCSR mode */
    if (!(t == t)) return 0;
    return (int8_t)(t > 127.0f ? 127 : t < -127.0f ? -127 : (int)t);
}

static void q8_prep_c(struct q8act *a, const float *x) {
    for (int64_t b = 0; b < a->K / 32; b++) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        int nan = 0;
        for (int i = 0; i < 32; i++) {
            amax = fmaxf(amax, fabsf(xb[i]));
            nan |= xb[i] != xb[i];
        }
        float d, id;
        q8_scale(amax, &d, &id);
        a->d[b] = nan ? NAN : d;
        for (int i = 0; i < 32; i++) a->q[32 * b + i] = q8_code(xb[i], id);
    }
}

#define T_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

/* AVX-512 prep of either VNNI layout; the same codes and scales as q8_prep_c (same operations, same rounding). */
T_VNNI static void q8_prep_vnni(struct q8act *a, const float *x, enum q8_layout lay) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int64_t b = 0; b < a->K / 32; b++) {
        __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
        const int nan = _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d, id;
        q8_scale(amax, &d, &id);
        if (nan) d = NAN, id = 0.0f;
        a->d[b] = d;
        if (lay != Q8_NATURAL) {
            __m512 e = _mm512_permutex2var_ps(v0, even, v1), o = _mm512_permutex2var_ps(v0, odd, v1);
            v0 = e, v1 = o;
        }
        const __m512 vid = _mm512_set1_ps(id);
        __m512i q0 = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid)), lo), hi);
        __m512i q1 = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid)), lo), hi);
        const int S0 = _mm512_reduce_add_epi32(q0), S1 = _mm512_reduce_add_epi32(q1);
        const int64_t p = b / 2, h = b % 2;
        int8_t *qp = a->q + 64 * p;
        float *dx = a->dx + 16 * p;
        int32_t *ns = a->negS + 16 * p;
        if (lay != Q8_NATURAL) {
            _mm_storeu_si128((__m128i *)(qp + 16 * h), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(qp + 32 + 16 * h), _mm512_cvtepi32_epi8(q1));
            for (int i = 0; i < 4; i++) dx[4 * h + i] = d, dx[8 + 4 * h + i] = lay == Q8_NIBBLE16 ? d * 0.0625f : d;
            for (int i = 0; i < 4; i++) ns[4 * h + i] = ns[8 + 4 * h + i] = 0;
            ns[4 * h] = -S0, ns[8 + 4 * h] = -S1;
        } else {
            _mm_storeu_si128((__m128i *)(qp + 32 * h), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(qp + 32 * h + 16), _mm512_cvtepi32_epi8(q1));
            for (int i = 0; i < 8; i++) dx[8 * h + i] = d, ns[8 * h + i] = 0;
            ns[8 * h] = -(S0 + S1);
        }
    }
}

/* The 4-bit weight codes of a pair of blocks (32 bytes b) as 64 unsigned bytes in the nibble layout: b & 15 in
 * the low half, b >> 4 in the high half (a 64-bit lane shift by 0 or 4, then the mask). */
T_VNNI static inline __m512i nibbles_vnni(__m256i b) {
    const __m512i sh = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
    return _mm512_and_si512(_mm512_srlv_epi64(_mm512_broadcast_i64x4(b), sh), _mm512_set1_epi8(15));
}

/* The int4 codes of a pair as 64 bytes with one AND of the code bytes broadcast to both halves: b & 0x0F in the
 * low half (the even elements' codes) and b & 0xF0 = 16 x the odd elements' codes in the high half (kept
 * there: the Q8_NIBBLE16 layout's dx is d_b / 16 for those lanes, and their offsets are 16 o). One operation
 * instead of a shift and a mask. */
T_VNNI static inline __m512i nibbles16_vnni(const uint8_t *p) {
    const __m512i m = _mm512_inserti64x4(_mm512_set1_epi8(0x0F), _mm256_set1_epi8((char)0xF0), 1);
    return _mm512_and_si512(_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p)), m);
}

/* The offsets o of the int4 lanes in the Q8_NIBBLE16 layout: o in the low half, 16 o in the high half. */
T_VNNI static inline __m512i off16_vnni(__m512i o) {
    return _mm512_sllv_epi32(o, _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(4), 1));
}

/* The lanes of the second block of a pair: 4..7 and 12..15 in the nibble layout. */
#define Q8_HI ((__mmask16)0xF0F0)

T_VNNI static float row_int4_q8_vnni(const struct qtensor *q, int64_t n, const struct q8act *a) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G;
    const uint8_t *c = q->data + n * K / 2;
    const uint16_t *s = (const uint16_t *)q->scales + n * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    // sym: the nibble is two's complement, value (v ^ 8) - 8: u = v ^ 8 with offset 8; asym: u = v, offset z
    // (in the high half 16 v ^ 0x80 and 16 v, offsets 128 and 16 z: nibbles16_vnni).
    const __m512i flip = asym ? _mm512_setzero_si512() : _mm512_inserti64x4(_mm512_set1_epi8(8), _mm256_set1_epi8((char)0x80), 1);
    __m512 y = _mm512_setzero_ps();
    if (G % 64 == 0) {
        // A group is G / 64 pairs: their int32 dots times the activation scales, then once the group's scale.
        for (int64_t g = 0; g < ng; g++) {
            const __m512i z = off16_vnni(_mm512_set1_epi32(asym ? nib(q->zeros, n * ng + g) : 8));
            __m512 acc = _mm512_setzero_ps();
            for (int64_t p = g * G / 64; p < (g + 1) * G / 64; p++) {
                const __m512i ns = _mm512_load_si512(a->negS + 16 * p);
                const __m512i init = _mm512_mullo_epi32(ns, z);
                const __m512i u = _mm512_xor_si512(nibbles16_vnni(c + 32 * p), flip);
                const __m512i dot = _mm512_dpbusd_epi32(init, u, _mm512_load_si512(a->q + 64 * p));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_load_ps(a->dx + 16 * p), acc);
            }
            y = _mm512_fmadd_ps(_mm512_set1_ps(bf16_f(s[g])), acc, y);
        }
    } else {
        // G = 32: a scale (and zero point) per block, blended over the pair's lanes.
        for (int64_t p = 0; p < K / 64; p++) {
            const __m512 ws = _mm512_mask_blend_ps(Q8_HI, _mm512_set1_ps(bf16_f(s[2 * p])), _mm512_set1_ps(bf16_f(s[2 * p + 1])));
            const __m512i z = asym ? _mm512_mask_blend_epi32(Q8_HI, _mm512_set1_epi32(nib(q->zeros, n * ng + 2 * p)),
                                                             _mm512_set1_epi32(nib(q->zeros, n * ng + 2 * p + 1)))
                                   : _mm512_set1_epi32(8);
            const __m512i init = _mm512_mullo_epi32(_mm512_load_si512(a->negS + 16 * p), off16_vnni(z));
            const __m512i u = _mm512_xor_si512(nibbles16_vnni(c + 32 * p), flip);
            const __m512i dot = _mm512_dpbusd_epi32(init, u, _mm512_load_si512(a->q + 64 * p));
            y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws, _mm512_load_ps(a->dx + 16 * p)), y);
        }
    }
    return _mm512_reduce_add_ps(y);
}

/* Half the E8M0 scale, 2^(c - 128), exact (the codes below are 2 * E2M1, integers): 2^-128 and 2^-127 are
 * FP32 subnormals, 255 is NaN. */
static inline float e8m0_half_f(uint8_t c) {
    uint32_t u = c == 255 ? 0x7FC00000u : c >= 2 ? (uint32_t)(c - 1) << 23 : c == 1 ? 0x00400000u : 0x00200000u;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

T_VNNI static float row_mxfp4_q8_vnni(const struct qtensor *q, int64_t n, const struct q8act *a) {
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * nb;
    // Code -> 2 * E2M1 + 12 (0..24, unsigned for vpdpbusd; the offset 12 comes back through negS).
    const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    __m512 y = _mm512_setzero_ps();
    for (int64_t p = 0; p < nb / 2; p++) {
        const __m256i codes = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)b[2 * p].qs)),
                                                      _mm_loadu_si128((const __m128i *)b[2 * p + 1].qs), 1);
        const __m512i u = _mm512_shuffle_epi8(lut, nibbles_vnni(codes));
        const __m512i ns = _mm512_load_si512(a->negS + 16 * p);
        const __m512i init = _mm512_add_epi32(_mm512_slli_epi32(ns, 3), _mm512_slli_epi32(ns, 2));
        const __m512i dot = _mm512_dpbusd_epi32(init, u, _mm512_load_si512(a->q + 64 * p));
        const __m512 ws = _mm512_mask_blend_ps(Q8_HI, _mm512_set1_ps(e8m0_half_f(b[2 * p].e)), _mm512_set1_ps(e8m0_half_f(b[2 * p + 1].e)));
        y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws, _mm512_load_ps(a->dx + 16 * p)), y);
    }
    return _mm512_reduce_add_ps(y);
}

T_VNNI static float row_int8_q8_vnni(const struct qtensor *q, int64_t n, const struct q8act *a) {
    const int64_t K = q->K;
    const int8_t *c = (const int8_t *)q->data + n * K;
    const __m512i flip = _mm512_set1_epi8((char)0x80);   /* c + 128: unsigned, offset 128 */
    __m512 acc = _mm512_setzero_ps();
    for (int64_t p = 0; p < K / 64; p++) {
        const __m512i u = _mm512_xor_si512(_mm512_loadu_si512(c + 64 * p), flip);
        const __m512i init = _mm512_slli_epi32(_mm512_load_si512(a->negS + 16 * p), 7);
        const __m512i dot = _mm512_dpbusd_epi32(init, u, _mm512_load_si512(a->q + 64 * p));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_load_ps(a->dx + 16 * p), acc);
    }
    return ((const float *)q->scales)[n] * _mm512_reduce_add_ps(acc);
}

/* Four rows at a time (the GEMV's main loop): the activation vectors of a pair are loaded once for the four
 * rows, and the four sums reduced together. The same operations per row as the one-row kernels above, in
 * another summation order (both within the bound). */
#define Q8_R4(X) X(0) X(1) X(2) X(3)

/* The sums of a0..a3, in lanes 0..3. */
T_VNNI static inline __m128 hsum4_vnni(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
#define Q8_H(r)                                                                                                        \
    const __m256 h##r = _mm256_add_ps(_mm512_castps512_ps256(a##r),                                                    \
                                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a##r), 1)));           \
    const __m128 f##r = _mm_add_ps(_mm256_castps256_ps128(h##r), _mm256_extractf128_ps(h##r, 1));
    Q8_R4(Q8_H)
#undef Q8_H
    return _mm_hadd_ps(_mm_hadd_ps(f0, f1), _mm_hadd_ps(f2, f3));
}

T_VNNI static void rows4_int4_q8_vnni(const struct qtensor *q, int64_t n0, const struct q8act *a, float *out) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G, rb = K / 2;
    const uint8_t *c = q->data + n0 * rb;
    const uint16_t *s = (const uint16_t *)q->scales + n0 * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    const __m512i flip = asym ? _mm512_setzero_si512() : _mm512_inserti64x4(_mm512_set1_epi8(8), _mm256_set1_epi8((char)0x80), 1);
    const __m512i sh37 = _mm512_inserti64x4(_mm512_set1_epi32(3), _mm256_set1_epi32(7), 1);   /* sym: 8, 128 */
#define Q8_Z(r) __m512 y##r = _mm512_setzero_ps();
    Q8_R4(Q8_Z)
#undef Q8_Z
    for (int64_t g = 0; g < ng; g++) {
#define Q8_G(r)                                                                                                        \
    __m512 acc##r = _mm512_setzero_ps();                                                                               \
    const __m512i z##r = off16_vnni(_mm512_set1_epi32(asym ? nib(q->zeros, (n0 + r) * ng + g) : 8));
        Q8_R4(Q8_G)
#undef Q8_G
        for (int64_t p = g * G / 64; p < (g + 1) * G / 64; p++) {
            const __m512i qv = _mm512_load_si512(a->q + 64 * p), ns = _mm512_load_si512(a->negS + 16 * p);
            const __m512 dx = _mm512_load_ps(a->dx + 16 * p);
            const __m512i i8 = _mm512_sllv_epi32(ns, sh37);
#define Q8_P(r)                                                                                                        \
    {                                                                                                                  \
        const __m512i u = _mm512_xor_si512(nibbles16_vnni(c + r * rb + 32 * p), flip);                                 \
        const __m512i init = asym ? _mm512_mullo_epi32(ns, z##r) : i8;                                                 \
        acc##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, u, qv)), dx, acc##r);                    \
    }
            Q8_R4(Q8_P)
#undef Q8_P
        }
#define Q8_S(r) y##r = _mm512_fmadd_ps(_mm512_set1_ps(bf16_f(s[r * ng + g])), acc##r, y##r);
        Q8_R4(Q8_S)
#undef Q8_S
    }
    _mm_storeu_ps(out, hsum4_vnni(y0, y1, y2, y3));
}

/* Half the E8M0 scale as FP32 bits, by code (e8m0_half_f as a table for the four-row kernel). */
#define Q8_E1(e) ((uint32_t)(e) << 23),
#define Q8_E4(e) Q8_E1(e) Q8_E1(e + 1) Q8_E1(e + 2) Q8_E1(e + 3)
#define Q8_E16(e) Q8_E4(e) Q8_E4(e + 4) Q8_E4(e + 8) Q8_E4(e + 12)
#define Q8_E64(e) Q8_E16(e) Q8_E16(e + 16) Q8_E16(e + 32) Q8_E16(e + 48)
/* code c >= 2: exponent field c - 1; 0, 1: the subnormals 2^-128, 2^-127; 255: NaN */
static const uint32_t E8M0_HALF[256] = {0x00200000u, 0x00400000u, Q8_E1(1) Q8_E1(2) Q8_E4(3) Q8_E4(7) Q8_E4(11)
                                        Q8_E16(15) Q8_E16(31) Q8_E16(47) Q8_E64(63) Q8_E64(127) Q8_E16(191) Q8_E16(207)
                                        Q8_E16(223) Q8_E4(239) Q8_E4(243) Q8_E4(247) Q8_E1(251) Q8_E1(252) Q8_E1(253)
                                        0x7FC00000u};

static float e8m0_half_table(uint8_t c) {
    float f;
    memcpy(&f, &E8M0_HALF[c], 4);
    return f;
}
float qgemv_e8m0_half_value(uint8_t c, int table) { return table ? e8m0_half_table(c) : e8m0_half_f(c); }

T_VNNI static void rows4_mxfp4_q8_vnni(const struct qtensor *q, int64_t n0, const struct q8act *a, float *out) {
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n0 * nb;
    const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
#define Q8_Z(r) __m512 y##r = _mm512_setzero_ps();
    Q8_R4(Q8_Z)
#undef Q8_Z
    for (int64_t p = 0; p < nb / 2; p++) {
        const __m512i qv = _mm512_load_si512(a->q + 64 * p), ns = _mm512_load_si512(a->negS + 16 * p);
        const __m512 dx = _mm512_load_ps(a->dx + 16 * p);
        const __m512i init = _mm512_add_epi32(_mm512_slli_epi32(ns, 3), _mm512_slli_epi32(ns, 2));
#define Q8_P(r)                                                                                                        \
    {                                                                                                                  \
        const struct mxfp4_block *br = b + r * nb + 2 * p;                                                            \
        const __m256i codes = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)br[0].qs)), \
                                                      _mm_loadu_si128((const __m128i *)br[1].qs), 1);                 \
        const __m512i u = _mm512_shuffle_epi8(lut, nibbles_vnni(codes));                                              \
        const __m512 ws = _mm512_castsi512_ps(_mm512_mask_blend_epi32(Q8_HI, _mm512_set1_epi32((int)E8M0_HALF[br[0].e]), \
                                                                      _mm512_set1_epi32((int)E8M0_HALF[br[1].e])));   \
        y##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, u, qv)), _mm512_mul_ps(ws, dx), y##r);     \
    }
        Q8_R4(Q8_P)
#undef Q8_P
    }
    _mm_storeu_ps(out, hsum4_vnni(y0, y1, y2, y3));
}

T_VNNI static void rows4_int8_q8_vnni(const struct qtensor *q, int64_t n0, const struct q8act *a, float *out) {
    const int64_t K = q->K;
    const int8_t *c = (const int8_t *)q->data + n0 * K;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
#define Q8_Z(r) __m512 y##r = _mm512_setzero_ps();
    Q8_R4(Q8_Z)
#undef Q8_Z
    for (int64_t p = 0; p < K / 64; p++) {
        const __m512i qv = _mm512_load_si512(a->q + 64 * p);
        const __m512i init = _mm512_slli_epi32(_mm512_load_si512(a->negS + 16 * p), 7);
        const __m512 dx = _mm512_load_ps(a->dx + 16 * p);
#define Q8_P(r)                                                                                                        \
    y##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, _mm512_xor_si512(_mm512_loadu_si512(c + r * K + 64 * p), flip), qv)), \
                           dx, y##r);
        Q8_R4(Q8_P)
#undef Q8_P
    }
    const __m128 sc = _mm_loadu_ps((const float *)q->scales + n0);
    _mm_storeu_ps(out, _mm_mul_ps(sc, hsum4_vnni(y0, y1, y2, y3)));
}

/* Plain C twins on the natural layout: each block's integer dot (exact), times (weight scale * d_b). */
static float row_int4_q8_c(const struct qtensor *q, int64_t n, const struct q8act *a) {
    const int64_t K = q->K, G = q->params.group_size, ng = K / G;
    const uint8_t *c = q->data + n * K / 2;
    const uint16_t *s = (const uint16_t *)q->scales + n * ng;
    const int asym = q->format == QFORMAT_INT4_ASYM;
    float y = 0.0f;
    for (int64_t b = 0; b < K / 32; b++) {
        const int64_t g = 32 * b / G;
        const int z = asym ? nib(q->zeros, n * ng + g) : 8;
        int32_t dot = 0;
        for (int64_t k = 32 * b; k < 32 * b + 32; k++) dot += ((asym ? nib(c, k) : nib(c, k) ^ 8) - z) * a->q[k];
        y += bf16_f(s[g]) * a->d[b] * (float)dot;
    }
    return y;
}

static float row_mxfp4_q8_c(const struct qtensor *q, int64_t n, const struct q8act *a) {
    static const int8_t twice[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};   /* 2 * E2M1 */
    const int64_t nb = q->K / MXFP4_BLOCK_SIZE;
    const struct mxfp4_block *b = (const struct mxfp4_block *)q->data + n * nb;
    float y = 0.0f;
    for (int64_t j = 0; j < nb; j++) {
        int32_t dot = 0;
        for (int i = 0; i < 32; i++) dot += twice[(b[j].qs[i >> 1] >> ((i & 1) * 4)) & 15] * a->q[32 * j + i];
        y += e8m0_half_f(b[j].e) * a->d[j] * (float)dot;
    }
    return y;
}

static float row_int8_q8_c(const struct qtensor *q, int64_t n, const struct q8act *a) {
    const int8_t *c = (const int8_t *)q->data + n * q->K;
    float acc = 0.0f;
    for (int64_t b = 0; b < q->K / 32; b++) {
        int32_t dot = 0;
        for (int64_t k = 32 * b; k < 32 * b + 32; k++) dot += c[k] * a->q[k];
        acc += a->d[b] * (float)dot;
    }
    return ((const float *)q->scales)[n] * acc;
}

static int cpu_has_vnni(void) { return cpu_has(QGEMV_ISA_AVX512) && __builtin_cpu_supports("avx512vnni"); }

int qgemv_q8_supported(const struct qtensor *q) {
    return q->format != QFORMAT_BF16 && qgemv_supported(q);
}

const char *qgemv_q8_isa_name(void) { return isa_now() == QGEMV_ISA_AVX512 && cpu_has_vnni() ? "avx512-vnni" : "c"; }

typedef float (*row_q8_fn)(const struct qtensor *q, int64_t n, const struct q8act *a);

typedef void (*rows4_q8_fn)(const struct qtensor *q, int64_t n0, const struct q8act *a, float *out);

/* The activation layout a scheme's kernel reads: the VNNI 4-bit kernels the nibble one, all else natural. */
static enum q8_layout q8_layout_of(const struct qtensor *q, int vnni) {
    if (!vnni || q->format == QFORMAT_INT8_CHANNEL) return Q8_NATURAL;
    return q->format == QFORMAT_INT4_SYM || q->format == QFORMAT_INT4_ASYM ? Q8_NIBBLE16 : Q8_NIBBLE;
}

void qgemv_q8_multi(const struct qtensor *const *qs, int n, const float *x, float *const *ys) {
    enum { MAXJ = 8 };
    CHECK(n >= 1 && n <= MAXJ, "qgemv_q8_multi: %d tensors (1..%d)", n, (int)MAXJ);
    const int64_t K = qs[0]->K;
    const int vnni = K % 64 == 0 && isa_now() == QGEMV_ISA_AVX512 && cpu_has_vnni();
    for (int j = 0; j < n; j++) {
        CHECK(qgemv_q8_supported(qs[j]), "qgemv_q8: scheme %d has no int8-activation kernel", (int)qs[j]->format);
        CHECK(qs[j]->K == K, "qgemv_q8_multi: K %lld and %lld", (long long)qs[j]->K, (long long)K);
    }
    for (int j = 1; j < n; j++)
        if (q8_layout_of(qs[j], vnni) != q8_layout_of(qs[0], vnni)) {  // two layouts: one call each
            for (int i = 0; i < n; i++) qgemv_q8_multi(&qs[i], 1, x, &ys[i]);
            return;
        }
    static const row_q8_fn t[2][3] = {{row_int8_q8_c, row_int4_q8_c, row_mxfp4_q8_c},
                                      {row_int8_q8_vnni, row_int4_q8_vnni, row_mxfp4_q8_vnni}};
    static const rows4_q8_fn t4[3] = {rows4_int8_q8_vnni, rows4_int4_q8_vnni, rows4_mxfp4_q8_vnni};
    // Work units of four rows, tensor after tensor: the four-row kernel where it exists (not int4 G = 32),
    // else the one-row kernel four times (and at a tensor's end).
    row_q8_fn f[MAXJ];
    rows4_q8_fn f4[MAXJ];
    int64_t first[MAXJ + 1] = {0};
    size_t bytes = 0;
    for (int j = 0; j < n; j++) {
        const struct qtensor *q = qs[j];
        const int s = q->format == QFORMAT_INT8_CHANNEL ? 0 : (q->format == QFORMAT_INT4_SYM || q->format == QFORMAT_INT4_ASYM) ? 1 : 2;
        f[j] = t[vnni][s];
        f4[j] = vnni && (s != 1 || q->params.group_size % 64 == 0) ? t4[s] : NULL;
        first[j + 1] = first[j] + (q->N + 3) / 4;
        bytes += qtensor_bytes(q);
    }
    // One block of memory: codes, block scales, and the per-pair vectors (64-byte aligned, K % 32 == 0).
    const size_t nq = (size_t)((K + 63) / 64 * 64), nb = (size_t)(K / 32), np = (size_t)((K + 63) / 64);
    struct q8act a = {.K = K};
    a.mem = aligned_alloc(64, nq + 64 * np * 2 + 4 * ((nb + 15) / 16 * 16));
    CHECK(a.mem, "qgemv_q8: out of memory (K = %lld)", (long long)K);
    a.q = a.mem;
    a.dx = (float *)((uint8_t *)a.mem + nq);
    a.negS = (int32_t *)(a.dx + 16 * np);
    a.d = (float *)(a.negS + 16 * np);
    if (vnni) q8_prep_vnni(&a, x, q8_layout_of(qs[0], vnni));
    else q8_prep_c(&a, x);
    const int64_t units = first[n];
#pragma omp parallel for schedule(dynamic, 4) if (units >= 16 && bytes >= (size_t)cpu_exec_par_min_bytes())
    for (int64_t u = 0; u < units; u++) {
        int j = 0;
        while (u >= first[j + 1]) j++;
        const struct qtensor *q = qs[j];
        const int64_t n0 = 4 * (u - first[j]);
        if (f4[j] && n0 + 4 <= q->N) f4[j](q, n0, &a, ys[j] + n0);
        else
            for (int64_t r = n0; r < n0 + 4 && r < q->N; r++) ys[j][r] = f[j](q, r, &a);
    }
    free(a.mem);
}

void qgemv_q8(const struct qtensor *q, const float *x, float *y) { qgemv_q8_multi(&q, 1, x, &y); }

double qgemv_q8_bound(const float *w_row, const float *x, int64_t K, int int8_channel) {
    const double u = ldexp(1.0, -24);
    double A = 0.0, E = 0.0;
    for (int64_t b = 0; b < K / 32; b++) {
        double amax = 0.0, sw = 0.0;
        for (int64_t k = 32 * b; k < 32 * b + 32; k++) {
            amax = fmax(amax, fabs((double)x[k]));
            sw += fabs((double)w_row[k]);
            A += fabs((double)w_row[k] * (double)x[k]);
        }
        E += (amax / 127.0 * (1.0 + u) * (0.5 + ldexp(1.0, -15)) + ldexp(1.0, -126)) * sw;
    }
    const double gK = K * u / (1 - K * u), gK3 = (K + 3) * u / (1 - (K + 3) * u);
    return gK * A + E + (gK3 + (int8_channel ? u / (1 - u) : 0.0)) * (A + E);
}

double qgemv_bound(const float *w_row, const float *x, int64_t K) {
    const double u = ldexp(1.0, -24);
    double a = 0.0;
    for (int64_t k = 0; k < K; k++) a += fabs((double)w_row[k] * (double)x[k]);
    const double gK = K * u / (1 - K * u), gK2 = (K + 2) * u / (1 - (K + 2) * u);
    return (gK + gK2 + 2 * u) * a;
}
