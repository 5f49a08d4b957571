/* ggml_block -- ggml's tensor types as GGUF stores them, and the exact maps between our schemes and them.
 * Source: ggml-org/ggml at d99724f2b141fed9e1a9f402213506c081433465, include/ggml.h (enum ggml_type),
 * src/ggml-common.h (block structs), src/ggml-quants.c (dequantize_row_*), src/ggml-impl.h
 * (ggml_e8m0_to_fp32_half, ggml_ue4m3_to_fp32). Layouts (a row of ne[0] = K values, blocks along K):
 *   F32 4 bytes, F16 / BF16 2 bytes per value;
 *   Q8_0  32 values: FP16 d, int8 qs[32];                     y[j] = qs[j] * d
 *   Q4_0  32 values: FP16 d, qs[16];  y[j] = ((qs[j] & 15) - 8) d, y[j + 16] = ((qs[j] >> 4) - 8) d
 *   Q4_1  32 values: FP16 d, FP16 m, qs[16]; y[j] = (qs[j] & 15) d + m, y[j + 16] = (qs[j] >> 4) d + m
 *   MXFP4 32 values: E8M0 e, qs[16];  y[j] = e2m1(qs[j] & 15) 2^(e-127), y[j + 16] from the high nibble
 *         (ggml writes kvalues = 2 e2m1 times 2^(e-128): the same numbers for every e < 255)
 *   NVFP4 64 values: UE4M3 d[4], qs[32]; sub-block s of 16: y[16s + j] = e2m1(qs[8s + j] & 15) ue4m3(d[s]),
 *         y[16s + j + 8] from the high nibble (ggml: kvalues 2 e2m1 times ue4m3 / 2, identical), no
 *         per-tensor scale inside the tensor: llama.cpp multiplies the matmul output by an F32 tensor
 *         "<name minus .weight>.scale" of shape {1} (src/llama-graph.cpp build_lora_mm, w_s).
 * Note the nibble order: ggml puts element j and j + 16 (j + 8 in an NVFP4 sub-block) in one byte, ours
 * (int4.h, mxfp4.h, nvfp4.h) elements 2i and 2i + 1; the maps below reorder. Where ggml and we differ: ggml
 * decodes E8M0 255 as 2^127 and UE4M3 0x7F as 0, we as NaN, so a block holding NaN is refused on export.
 * Our own rules (not ggml's quantize_row_*_ref, whose ties go away from zero in Q8_0 / Q4 and to the smaller
 * magnitude in MXFP4): Q8_0 d = f16_rne(amax / 127), q = clamp(rint(x / d), -127, 127) ties to even against
 * the FP16 d as stored; all-zero block d = 0. API: ggml_block_info, ggml_block_dequantize_row, f16 encode,
 * ggml_block_pack_* (our scheme -> ggml bytes, exact or refused) and ggml_block_quantize_q8_0_row. */
#ifndef SRC_FORMATS_GGML_BLOCK_H
#define SRC_FORMATS_GGML_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ggml_block_type {
    GGML_BLOCK_F32 = 0,
    GGML_BLOCK_F16 = 1,
    GGML_BLOCK_Q4_0 = 2,
    GGML_BLOCK_Q4_1 = 3,
    GGML_BLOCK_Q8_0 = 8,
    GGML_BLOCK_BF16 = 30,
    GGML_BLOCK_MXFP4 = 39,
    GGML_BLOCK_NVFP4 = 40
};

/* Values per block and bytes per block of a ggml type, and its ggml name ("q4_0"); 0 when we do not know
 * the type (the caller refuses it). */
int ggml_block_info(uint32_t type, int64_t *block_values, int64_t *block_bytes, const char **name);

/* Bytes of a row of K values (K a multiple of the block: CHECK). */
size_t ggml_block_row_bytes(uint32_t type, int64_t K);

/* Decodes one row of K values of a known type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, MXFP4, NVFP4 without its
 * per-tensor scale) into y, as the formulas of the header comment say: every product is of a small integer
 * (or E2M1 value) and a power of two / FP16 / UE4M3 scale, exact in FP32; Q4_1 adds m with one FP32 rounding,
 * as ggml does. */
void ggml_block_dequantize_row(uint32_t type, const void *x, float *y, int64_t K);

/* IEEE binary16 encoding with round-to-nearest-even, overflow to +-Inf, NaN to a quiet NaN. */
uint16_t ggml_block_f16_from_float(float x);

/* The packers: our qtensor (N x K) -> ggml bytes of `type` in dst (N * row_bytes). Each returns -1 when the
 * values are carried exactly, else the flat index (n * K + k) of the first element whose block cannot be
 * represented, and writes nothing meaningful then:
 *   int4-gG-sym -> Q4_0: per 32-block d = f16(s) of its group (G / 32 blocks share it), nibble q + 8.
 *     Exact iff s is an FP16 number: BF16 s (8 significant bits) fits FP16 when 2^-17 <= s <= 65504 roughly;
 *     precisely when f16 round-trips it. Otherwise (s above 65504, or below FP16's subnormal grid) refused,
 *     except a block of zero codes (it decodes to zeros at any scale: d = 0).
 *   int4-gG-asym -> Q4_1: d = f16(s), m = f16_rne(-z s) (z s is exact in FP32; FP16 has 11 significant bits
 *     and z s may need 12): *n_inexact counts the groups whose m rounded, each then off by at most half an
 *     FP16 ulp of z s (<= 2^-11 z s, z <= 15) in every element; a d that is not FP16 is refused, except a
 *     group whose codes all equal z (zeros at any scale, AutoAWQ's floored all-zero group: d = m = 0).
 *   mxfp4 (either scale rule) -> MXFP4: E8M0 copied, codes reordered; a NaN block (e = 255) refused.
 *   nvfp4 -> NVFP4 (K % 64 == 0, else refused at element 0): UE4M3 codes and E2M1 codes copied
 *     (reordered); the per-tensor 1/g is returned in *tensor_scale (FP32 1/g, one rounding: ggml's weight is
 *     e2m1 d (1/g) where ours is (e2m1 d) / g, a relative difference of at most 2^-23). A NaN block refused. */
int64_t ggml_block_pack_q4_0(const struct qtensor *q, uint8_t *dst);
int64_t ggml_block_pack_q4_1(const struct qtensor *q, uint8_t *dst, int64_t *n_inexact);
int64_t ggml_block_pack_mxfp4(const struct qtensor *q, uint8_t *dst);
int64_t ggml_block_pack_nvfp4(const struct qtensor *q, uint8_t *dst, float *tensor_scale);

/* Quantizes one row of K values (K % 32 == 0: CHECK) to Q8_0 with our rule (header comment). NaN in a
 * block gives d = NaN (FP16) and zero codes. */
void ggml_block_quantize_q8_0_row(const float *x, uint8_t *dst, int64_t K);

#ifdef __cplusplus
}
#endif
#endif
