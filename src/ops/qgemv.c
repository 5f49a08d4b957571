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
    const int64_t N = q->N;
    // Rows in blocks of 16 to whichever thread is free (ops/cpu_exec.h: a descheduled thread holds one block);
    // one thread below CPU_EXEC_PAR_MIN_BYTES, where a hand-off costs more than it saves.
#pragma omp parallel for schedule(dynamic, 16) if (N >= 64 && qtensor_bytes(q) >= CPU_EXEC_PAR_MIN_BYTES)
    for (int64_t n = 0; n < N; n++) y[n] = f(q, n, x);
}

void qgemv_f32(const float *w, int64_t ldw, const float *x, float *y, int64_t N, int64_t K) {
    typedef float (*dot_fn)(const float *, const float *, int64_t);
    static const dot_fn t[3] = {dot_f32_c, dot_f32_avx2, dot_f32_avx512};
    const dot_fn f = t[isa_now()];
#pragma omp parallel for schedule(dynamic, 16) if (N >= 64 && N * K * (int64_t)sizeof(float) >= CPU_EXEC_PAR_MIN_BYTES)
    for (int64_t n = 0; n < N; n++) y[n] = f(w + n * ldw, x, K);
}

double qgemv_bound(const float *w_row, const float *x, int64_t K) {
    const double u = ldexp(1.0, -24);
    double a = 0.0;
    for (int64_t k = 0; k < K; k++) a += fabs((double)w_row[k] * (double)x[k]);
    const double gK = K * u / (1 - K * u), gK2 = (K + 2) * u / (1 - (K + 2) * u);
    return (gK + gK2 + 2 * u) * a;
}
