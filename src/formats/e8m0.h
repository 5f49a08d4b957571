/* e8m0 -- the E8M0 scale codec of OCP MX v1.0 (section 5.4.1): an 8-bit biased exponent, value 2^(c-127).
 * Codes 0..254 are 2^-127 .. 2^127 (code 0 is 2^-127, so there is no zero); 0xFF is NaN. The encoder rounds
 * log2|x| down (E8M0_RULE_FLOOR, CUDA's cudaRoundZero) or up (E8M0_RULE_CEIL, cudaRoundPosInf), ignores the
 * sign, saturates to [2^-127, 2^127] (0 and float subnormals below 2^-127 give code 0, +-Inf gives 0xFE, as
 * __NV_SATFINITE does), and maps NaN to 0xFF. e8m0_mx_scale is the shared scale rule of mxfp8 and mxfp4:
 * X = 2^(floor(log2 amax) - emax_elem) (OCP section 6.3), or the ceil rule of NVIDIA ModelOpt (the smallest
 * power of two with amax / X <= max_elem), both computed exactly on the float's bits. */
#ifndef SRC_FORMATS_E8M0_H
#define SRC_FORMATS_E8M0_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define E8M0_NAN 0xFFu
#define E8M0_BIAS 127

/* Rounding of log2 for the E8M0 encoder, and the MX scale rule (same two choices). */
enum e8m0_rule {
    E8M0_RULE_FLOOR = 0, /* OCP MX v1.0: floor(log2 amax) - emax_elem; may saturate the largest elements */
    E8M0_RULE_CEIL = 1   /* ModelOpt: the smallest 2^e with amax / 2^e <= max_elem; never saturates */
};

/* Encodes |x| as E8M0 with log2 rounded down (FLOOR) or up (CEIL); see the header for 0, Inf, NaN. */
uint8_t e8m0_from_float(float x, enum e8m0_rule rule);

/* Decodes an E8M0 code: 2^(c-127) exactly (code 0 is the float subnormal 2^-127); 0xFF gives NaN. */
float e8m0_to_float(uint8_t c);

/* The MX block scale for a block with largest magnitude amax and elements whose largest binade has
 * exponent emax_elem (E4M3_EMAX = 8, E2M1_EMAX = 2) and largest value max_elem (448, 6). FLOOR is the OCP
 * rule; CEIL increments it when amax / X would exceed max_elem. The exponent is clamped to [-127, 127].
 * amax == 0 gives code 0 (the smallest scale; the block's elements are all zero codes); a NaN or infinite
 * amax gives 0xFF (NaN), which poisons the block. */
uint8_t e8m0_mx_scale(float amax, int emax_elem, float max_elem, enum e8m0_rule rule);

#ifdef __cplusplus
}
#endif
#endif
