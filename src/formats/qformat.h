/* qformat -- the matrix-level registry of number formats, so callers never special-case a scheme.
 * A struct qtensor holds an N x K row-major matrix (N = output features, K = the reduction dimension) in one
 * of the schemes below: packed element codes, block scales and the per-tensor scale, laid out as the scheme's
 * own header says (bf16.h, fp8_tensor.h, fp8_channel.h, fp8_block.h, fp8_group.h, mxfp8.h, mxfp4.h, nvfp4.h,
 * nvfp8_2l.h, int4g_sym.h, int4g_asym.h, int8_channel.h). Canonical names ("nvfp4", "int4-g128-sym", ...)
 * are file names and figure labels. Rounding is round-to-nearest-even everywhere, saturating to the largest
 * finite value. A scale computed from a domain holding NaN or +-Inf is stored as NaN (so that domain decodes
 * to NaN); an all-zero domain gets scale 0 (E8M0: the smallest code) and decodes to exact zeros.
 * Behaviour is one row of operations per scheme (struct qformat_ops, as ggml's type traits), exported by the
 * scheme's own file and listed in the table of qformat.c: adding a format is one enum value, one file and one
 * table line. Quantization splits into "choose the scales" and "round at the chosen scales" so that GPTQ and
 * AWQ can fix the scales of a group first and round its columns later (qtensor_choose_scales,
 * qtensor_quantize_col); qtensor_quantize is exactly alloc + choose(0, K) + every column (tested bytewise). */
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
    QFORMAT_NVFP4,         /* "nvfp4": E2M1, blocks of 16, UE4M3 block scale + FP32 global 448*6/amax;
                              "nvfp4-clamp": ModelOpt's block-scale clamp instead of the flush */
    QFORMAT_NVFP8_2L,      /* "nvfp8-2l": E4M3, blocks of 16, E4M3 block scale + FP32 global 448*448/amax */
    QFORMAT_INT4_SYM,      /* "int4-g128-sym": INT4 -8..7, BF16 scale amax/7.5 per group (GPTQ / compressed-
                              tensors grid); "-awq": amax/7 (AutoAWQ zero_point off) */
    QFORMAT_INT4_ASYM,     /* "int4-g128-asym": UINT4 0..15, BF16 scale + 4-bit zero point over [min(w,0),
                              max(w,0)]; "-awq": AutoAWQ's raw [min w, max w] */
    QFORMAT_INT8_CHANNEL,  /* "int8-channel": INT8, FP32 scale amax/127 per row */
    QFORMAT_COUNT
};

/* How choose_scales picks a domain's range (a domain: the elements that share one scale).
 * MINMAX: the range of the data (amax, or min/max for int4-asym) as each scheme's header says.
 * MSE: llm-compressor's MSE observer (src/llmcompressor/observers/mse.py, vllm-project/llm-compressor at
 *   09fd17a490cca4c2c2b2b920ea3eae684f6e77d4): for i = 0 .. maxshrink*grid - 1 (grid 100, maxshrink 0.2, so
 *   20 candidates) the range is shrunk by p = 1 - i/grid (FP32 product p*amax, or p*min and p*max), the
 *   domain is quantized with the scale the scheme's own rule gives that range, and the candidate with the
 *   smallest sum |q(x) - x|^2.4 (norm 2.4, summed in double) wins, the first one on ties (strict <, as there).
 *   Differences, on purpose: no early stop (llm-compressor stops after patience = 5 candidates without any
 *   improvement anywhere in the tensor, which couples the groups; a full search keeps every domain
 *   independent), and no moving average (weights are observed once). A domain with NaN/Inf keeps its
 *   min-max (NaN) scale. Applies to every scheme with scales (qformat_ops.has_mse): not to bf16, which has
 *   none. Where it is weaker: the per-tensor scale of nvfp4 / nvfp8-2l stays the min-max one (only the block
 *   scales are searched, against that fixed global); on mxfp8 / mxfp4 the E8M0 scale is a power of two, so
 *   shrinking by at most 19% can only choose between X and X/2; a static amax is never shrunk; per-tensor
 *   schemes (fp8-tensor, e5m2-tensor) search one scale for the whole tensor. */
enum qobserver {
    QOBSERVER_MINMAX = 0,
    QOBSERVER_MSE
};

#define QOBSERVER_MSE_GRID 100
#define QOBSERVER_MSE_MAXSHRINK 0.2
#define QOBSERVER_MSE_NORM 2.4

/* The INT4 scale rules (int4g_sym.h, int4g_asym.h say them exactly). GPTQ (0, the default) is the grid of
 * GPTQ, compressed-tensors and llm-compressor: sym s = amax/7.5, asym over [min(w,0), max(w,0)]. AWQ is
 * AutoAWQ's pseudo_quantize_tensor: sym s = amax/7 (zero_point off), asym over the raw [min w, max w] (0 not
 * forced into the range), both with AutoAWQ's 1e-5 floor on the range. Label suffix "-awq". */
enum int4_rule {
    INT4_RULE_GPTQ = 0,
    INT4_RULE_AWQ = 1
};

/* The NVFP4 block-scale rule (nvfp4.h): FLUSH (0, the default, TensorRT-LLM's kernel: a block scale that
 * rounds to 0 in UE4M3 flushes the block to zeros) or CLAMP (current ModelOpt: the scale is clamped to
 * [2^-9, 448] before the cast, so the block keeps its values; an all-zero block stores scale 1.0). Label
 * "nvfp4-clamp". */
enum nvfp4_rule {
    NVFP4_RULE_FLUSH = 0,
    NVFP4_RULE_CLAMP = 1
};

/* Options of a scheme. A zero-initialised struct means the DESIGN.md defaults. */
struct qparams {
    int group_size;         /* INT4 group size along K: 32, 64 or 128; 0 means 128. Ignored elsewhere. */
    enum e8m0_rule mx_rule; /* MX scale rule for mxfp8 / mxfp4: E8M0_RULE_FLOOR (0, OCP) or E8M0_RULE_CEIL.
                               QFORMAT_MXFP4_CEIL always uses ceil. */
    float amax;             /* > 0: a static (calibrated) per-tensor amax for the formats with a per-tensor
                               scale (fp8-tensor, e5m2-tensor, nvfp4 and nvfp8-2l globals); 0 = take the
                               amax of the data (dynamic). */
    enum qobserver observer; /* how choose_scales picks ranges; label suffix "-mse" */
    enum int4_rule int4_rule;   /* int4-gG-sym / -asym scale rule; ignored elsewhere */
    enum nvfp4_rule nvfp4_rule; /* nvfp4 block-scale rule; ignored elsewhere */
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
    int global_set;          /* 1 once global_scale holds the per-tensor scale (choose_scales over [0, K) or
                                a static amax); the per-column path CHECKs it */
};

/* One row of the registry: the facts and the operations of a scheme. Every scheme file exports one (or two,
 * for the files holding two schemes: fp8_tensor.c, mxfp4.c). Fields:
 *   name, block_k, bits, has_global, desc: the facts (name canonical, group 128 for int4; block_k = 0 means
 *     the int4 group size parameter; bits per element with block scales, without per-tensor or per-row ones:
 *     see qtensor_bits_per_element);
 *   layout: byte sizes of data, scales, zeros for an N x K tensor in the resolved params p;
 *   choose_scales, quantize_col, quantize, dequantize, scale_at, zero_at: what the qtensor_* functions of the
 *     same name call (see them below); quantize is the scheme's fast path (its row codecs, the twins of the
 *     CUDA kernels), which must equal choose + every column byte for byte (tests/test_formats.c checks it);
 *   code_at: the value of the stored code of element (n, k) before zero point and scale (an E2M1 value, an
 *     integer code...), so that dequantize = (code_at - zero_at) * scale_at; exactly for every scheme but
 *     nvfp4 and nvfp8-2l, which decode (code * d) / g with one rounding where the identity has two;
 *   has_mse: 1 if the MSE observer applies (enum qobserver);
 *   choose_scales_shrunk: choose_scales with every domain's range multiplied by p (p = 1 is choose_scales);
 *   n_domains, domain_at, copy_domain: the scale domains (index of the domain of element (n, k), and copying
 *     one domain's scale, zero point or per-tensor scale from another tensor of the same shape); the MSE
 *     observer of qformat.c is written once against these;
 *   resolve: fills the defaults of p and clears the options that do not apply (NULL: no options);
 *   parse: 1 if name is a label of this scheme other than the canonical name, filling p (NULL: none);
 *   label: writes the label of the resolved p (NULL: the name);
 *   variants: NULL-terminated labels of the named options of this scheme that e01 measures besides the
 *     default (NULL: none). The field set may grow. */
struct qformat_ops {
    const char *name;
    int block_k;
    double bits;
    int has_global;
    const char *desc;
    void (*layout)(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales, size_t *zeros);
    void (*choose_scales)(struct qtensor *q, const float *w, int64_t k0, int64_t k1);
    void (*quantize_col)(struct qtensor *q, int64_t k, const float *col, int64_t col_stride, float *deq,
                         int64_t deq_stride);
    void (*quantize)(struct qtensor *q, const float *w);
    void (*dequantize)(const struct qtensor *q, float *w);
    float (*scale_at)(const struct qtensor *q, int64_t n, int64_t k);
    float (*zero_at)(const struct qtensor *q, int64_t n, int64_t k);
    float (*code_at)(const struct qtensor *q, int64_t n, int64_t k);
    int has_mse;
    void (*choose_scales_shrunk)(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p);
    int64_t (*n_domains)(const struct qtensor *q);
    int64_t (*domain_at)(const struct qtensor *q, int64_t n, int64_t k);
    void (*copy_domain)(struct qtensor *dst, const struct qtensor *src, int64_t d);
    void (*resolve)(struct qparams *p);
    int (*parse)(const char *name, struct qparams *p);
    void (*label)(const struct qparams *p, char *buf, size_t n);
    const char *const *variants;
};

/* The row of format f (f must be a valid enum value: CHECK). */
const struct qformat_ops *qformat_ops(enum qformat f);

/* The static facts of format f: its ops row (name, block_k, bits, has_global, desc are the first fields).
 * Kept for the callers written before the ops table; same as qformat_ops. */
const struct qformat_ops *qformat_info(enum qformat f);

/* Canonical name of f, e.g. "nvfp4", "int4-g128-sym". */
const char *qformat_name(enum qformat f);

/* Looks a canonical name up; returns the enum value or -1 if the name is unknown. The int4 names accept any
 * group size ("int4-g32-sym"): use qformat_parse to get it. */
int qformat_by_name(const char *name);

/* Like qformat_by_name, and also fills *p (zeroed first) with the options the name carries: the group size
 * of "int4-gG-sym|asym" (G in 32, 64, 128), the ceil rule of "mxfp4-ceil" / "mxfp8-ceil", and the MSE
 * observer of a "-mse" suffix (any scheme with has_mse). Returns -1 if unknown. */
int qformat_parse(const char *name, struct qparams *p);

/* Writes the label of (f, p) into buf (at most n bytes, NUL-terminated): the canonical name, with the group
 * size of p for the int4 schemes ("int4-g32-asym"), "-ceil" for mxfp8 with the ceil rule, and "-mse" for the
 * MSE observer. qformat_parse(label) gives (f, p) back. Returns buf. */
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

/* Allocates q for an N x K matrix in (f, p): params resolved, arrays zeroed, global_scale 0 and unset. p may
 * be NULL. Dies (exit 1) with the message of qformat_check_shape on a bad shape, as qtensor_quantize. */
void qtensor_alloc(struct qtensor *q, enum qformat f, const struct qparams *p, int64_t N, int64_t K);

/* Chooses the scales (and zero points, and the per-tensor global scale) of the domains covering columns
 * [k0, k1) from w (N x K row-major, the weights as they are now), with q->params.observer. k0 and k1 are
 * multiples of the block along K (CHECK). Domains spanning all of K (per-row scales) are chosen from the
 * whole row. The per-tensor scale is computed only when [k0, k1) = [0, K) (from a static amax whenever
 * q->params.amax > 0), otherwise it must already be set (CHECK q->global_set). Codes are not touched. */
void qtensor_choose_scales(struct qtensor *q, const float *w, int64_t k0, int64_t k1);

/* Rounds column k (col[n * col_stride], n < N) at the scales already chosen, stores its codes in q, and
 * writes the dequantized values to deq[n * deq_stride] when deq != NULL (the same values qtensor_dequantize
 * would give). This is what GPTQ calls per column. */
void qtensor_quantize_col(struct qtensor *q, int64_t k, const float *col, int64_t col_stride, float *deq,
                          int64_t deq_stride);

/* The generic quantizer: choose_scales(0, K), then quantize_col for every k. q allocated by qtensor_alloc.
 * The scheme fast paths call it for options their row codecs do not implement (the MSE observer). */
void qtensor_quantize_generic(struct qtensor *q, const float *w);

/* The effective multiplier of element (n, k), per-tensor scale included (d / g for nvfp4), and its zero
 * point (0 for symmetric schemes); and the value of its stored code (see qformat_ops.code_at). */
float qtensor_scale_at(const struct qtensor *q, int64_t n, int64_t k);
float qtensor_zero_at(const struct qtensor *q, int64_t n, int64_t k);
float qtensor_code_at(const struct qtensor *q, int64_t n, int64_t k);

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

// ---- helpers for the scheme files (the qformat_ops implementations) ----

/* CHECKs 0 <= k0 < k1 <= q->K and that both are multiples of block. */
void qformat_check_cols(const struct qtensor *q, int64_t k0, int64_t k1, int64_t block);

/* Whether the per-tensor scale is (re)computed by choose_scales over [k0, k1): 1 for a static amax or for
 * [0, K); else CHECKs that it was set before and returns 0. */
int qformat_global_due(const struct qtensor *q, int64_t k0, int64_t k1);

/* Resets the scheme-specific options of p (group size, MX rule, ...) to 0, keeping amax and observer: the
 * resolve of a scheme calls it and then restores the options it owns. */
void qformat_clear_options(struct qparams *p);

/* The per-tensor amax of w (N x K): the static q->params.amax when > 0, else amax_ref over the data. */
float qformat_tensor_amax(const struct qtensor *q, const float *w);

/* Quantize-dequantize activations in place: x is T x K row-major (T tokens), as the engine sees it at the
 * input of a quantized Linear for W8A8 / W4A4 recipes. Scales are dynamic per row / group / block, and for
 * per-tensor formats either dynamic over the whole T x K or static when p->amax > 0. Dies on a bad K. */
void qformat_fake_quant_rows(enum qformat f, float *x, int64_t T, int64_t K, const struct qparams *p);

#ifdef __cplusplus
}
#endif
#endif
