/* qformat -- the matrix-level registry of number formats, so callers never special-case a scheme.
 * A struct qtensor holds an N x K row-major matrix (N = output features, K = the reduction dimension) in one
 * of the schemes below: packed element codes, block scales and the per-tensor scale, laid out as the scheme's
 * own header says (bf16.h, fp8_tensor.h, fp8_channel.h, fp8_block.h, fp8_group.h, mxfp8.h, mxfp4.h, nvfp4.h,
 * nvfp8_2l.h, int4g_sym.h, int4g_asym.h, int8_channel.h). Canonical names ("nvfp4", "int4-g128-sym", ...)
 * are file names and figure labels. Rounding is round-to-nearest-even everywhere, saturating to the largest
 * finite value. A scale computed from a domain holding NaN or +-Inf is stored as NaN (so that domain decodes
 * to NaN); an all-zero domain gets scale 0 (E8M0: the smallest code) and decodes to exact zeros. */
#ifndef SRC_FORMATS_QFORMAT_H
#define SRC_FORMATS_QFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/e8m0.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schemes. Keep the order: it is the row order of the e01 tables. */
enum qformat {
    QFORMAT_BF16 = 0,      /* "bf16": BF16 elements, no scale */
    QFORMAT_FP8_TENSOR,    /* "fp8-tensor": E4M3, one FP32 scale amax/448 per tensor (nvfp8 recipe) */
    QFORMAT_FP8_CHANNEL,   /* "fp8-channel": E4M3, one FP32 scale per row (per output channel / token) */
    QFORMAT_FP8_BLOCK128,  /* "fp8-block128": E4M3, FP32 scale per 128x128 block (Qwen FP8 weights) */
    QFORMAT_FP8_GROUP128,  /* "fp8-group128": E4M3, FP32 scale per 1x128 group along K (fp8 activations) */
    QFORMAT_E5M2_TENSOR,   /* "e5m2-tensor": E5M2, one FP32 scale amax/57344 per tensor */
    QFORMAT_MXFP8,         /* "mxfp8": E4M3, blocks of 32 along K, E8M0 scale (OCP MX v1.0) */
    QFORMAT_MXFP4,         /* "mxfp4": E2M1, blocks of 32 along K, E8M0 scale, floor rule (OCP) */
    QFORMAT_MXFP4_CEIL,    /* "mxfp4-ceil": as mxfp4 with ModelOpt's ceil scale rule (never saturates) */
    QFORMAT_NVFP4,         /* "nvfp4": E2M1, blocks of 16, UE4M3 block scale + FP32 global 448*6/amax */
    QFORMAT_NVFP8_2L,      /* "nvfp8-2l": E4M3, blocks of 16, E4M3 block scale + FP32 global 448*448/amax */
    QFORMAT_INT4_SYM,      /* "int4-g128-sym": INT4 -8..7, BF16 scale amax/7 per group (GPTQ grid) */
    QFORMAT_INT4_ASYM,     /* "int4-g128-asym": UINT4 0..15, BF16 scale + 4-bit zero point (AWQ grid) */
    QFORMAT_INT8_CHANNEL,  /* "int8-channel": INT8, FP32 scale amax/127 per row */
    QFORMAT_COUNT
};

/* Options of a scheme. A zero-initialised struct means the DESIGN.md defaults. */
struct qparams {
    int group_size;         /* INT4 group size along K: 32, 64 or 128; 0 means 128. Ignored elsewhere. */
    enum e8m0_rule mx_rule; /* MX scale rule for mxfp8 / mxfp4: E8M0_RULE_FLOOR (0, OCP) or E8M0_RULE_CEIL.
                               QFORMAT_MXFP4_CEIL always uses ceil. */
    float amax;             /* > 0: a static (calibrated) per-tensor amax for the formats with a per-tensor
                               scale (fp8-tensor, e5m2-tensor, nvfp4 and nvfp8-2l globals); 0 = take the
                               amax of the data (dynamic). */
};

/* Static facts about a scheme. */
struct qformat_info {
    const char *name;    /* canonical name (group 128 for the int4 schemes) */
    int block_k;         /* K must be a multiple of this (0 = the INT4 group size parameter) */
    double bits;         /* bits per element including block scales, excluding per-tensor and per-row
                            scales (those depend on the shape: see qtensor_bits_per_element) */
    int has_global;      /* 1 if the scheme keeps one FP32 per-tensor scale in qtensor.global_scale */
    const char *desc;    /* one line for tables and --help */
};

/* A quantized N x K matrix. The meaning of the three byte arrays and of global_scale is set by the
 * scheme's header; unused arrays are NULL with size 0. Owned: release with qtensor_free(). */
struct qtensor {
    enum qformat format;
    struct qparams params;   /* as resolved: group_size filled in, mx_rule forced for mxfp4-ceil */
    int64_t N, K;
    float global_scale;      /* per-tensor FP32 scale (see the scheme's header), 0 when unused */
    uint8_t *data;           /* element codes, or packed blocks with inline scales */
    size_t data_bytes;
    uint8_t *scales;         /* separate scale array (FP32 or BF16, see the scheme) or NULL */
    size_t scales_bytes;
    uint8_t *zeros;          /* int4-asym zero points, two 4-bit values per byte, or NULL */
    size_t zeros_bytes;
};

/* Returns the static description of format f (f must be a valid enum value: CHECK). */
const struct qformat_info *qformat_info(enum qformat f);

/* Canonical name of f, e.g. "nvfp4", "int4-g128-sym". */
const char *qformat_name(enum qformat f);

/* Looks a canonical name up; returns the enum value or -1 if the name is unknown. The int4 names accept any
 * group size ("int4-g32-sym"): use qformat_parse to get it. */
int qformat_by_name(const char *name);

/* Like qformat_by_name, and also fills *p (zeroed first) with the options the name carries: the group size
 * of "int4-gG-sym|asym" (G in 32, 64, 128) and the ceil rule of "mxfp4-ceil". Returns -1 if unknown. */
int qformat_parse(const char *name, struct qparams *p);

/* Writes the label of (f, p) into buf (at most n bytes, NUL-terminated): the canonical name, with the group
 * size of p for the int4 schemes ("int4-g32-asym") and "-ceil" for mxfp8 with the ceil rule. Returns buf. */
char *qformat_label(enum qformat f, const struct qparams *p, char *buf, size_t n);

/* Fills out with the defaults resolved for f (group size 128, mx rule). p may be NULL (= all defaults). */
struct qparams qformat_resolve(enum qformat f, const struct qparams *p);

/* Checks that an N x K matrix can be stored in (f, p): N, K > 0, K a multiple of the block (or group)
 * along K, group size one of 32/64/128. Returns 0 if fine; else -1 with a message naming the format, K and
 * the block in err (n bytes), e.g. "nvfp4: K=12290 is not a multiple of 16 (nvfp4 block)". */
int qformat_check_shape(enum qformat f, const struct qparams *p, int64_t N, int64_t K, char *err, size_t n);

/* Quantizes the N x K row-major FP32 matrix w into out (its previous content is ignored; free it first if
 * it held a tensor). p may be NULL for the defaults. Dies (die(), exit 1) with the message of
 * qformat_check_shape when the shape does not fit the format. */
void qtensor_quantize(struct qtensor *out, enum qformat f, const float *w, int64_t N, int64_t K,
                      const struct qparams *p);

/* Decodes q into w_out (N x K floats, row-major). Exact: every decoded value is the product of a code and
 * its scales, computed with one rounding at most (see each scheme). */
void qtensor_dequantize(const struct qtensor *q, float *w_out);

/* Storage of q in bytes: element codes + all scales + zero points + 4 for a per-tensor FP32 scale. */
size_t qtensor_bytes(const struct qtensor *q);

/* Effective bits per element of an N x K tensor in (f, p), scales of every level included:
 * 8 * bytes / (N * K) for the layout qtensor_quantize would produce. */
double qtensor_bits_per_element(enum qformat f, const struct qparams *p, int64_t N, int64_t K);

/* Releases the arrays of q and zeroes it; safe on a zeroed or already freed qtensor. */
void qtensor_free(struct qtensor *q);

/* Quantize-dequantize activations in place: x is T x K row-major (T tokens), as the engine sees it at the
 * input of a quantized Linear for W8A8 / W4A4 recipes. Scales are dynamic per row / group / block, and for
 * per-tensor formats either dynamic over the whole T x K or static when p->amax > 0. Dies on a bad K. */
void qformat_fake_quant_rows(enum qformat f, float *x, int64_t T, int64_t K, const struct qparams *p);

#ifdef __cplusplus
}
#endif
#endif
