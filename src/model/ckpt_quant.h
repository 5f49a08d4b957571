/* ckpt_quant -- the quantized checkpoint layouts other tools write, read into our Linears: which layout a
 * checkpoint folder holds (config.json "quantization_config", or ModelOpt's hf_quant_config.json) and the
 * dispatch to one reader per layout, each in its own file with its published definition cited:
 *   compressed-tensors  ckpt_ct.h       pack-quantized (INT4/INT8), int-quantized, float-quantized (FP8),
 *                                       nvfp4-pack-quantized, mxfp4-pack-quantized
 *   AutoAWQ GEMM        ckpt_awq.h      qweight / qzeros / scales, nibble order [0,2,4,6,1,3,5,7]
 *   GPTQ                ckpt_gptq.h     AutoGPTQ / GPTQModel qweight / qzeros / scales / g_idx, v1 and v2 zeros
 *   ModelOpt            ckpt_modelopt.h NVFP4 (weight, weight_scale, weight_scale_2, input_scale) and FP8
 * Qwen's own block FP8 (quant_method fp8 + weight_block_size) stays in qwen3.c's loader.
 * A reader turns a module into its FP32 view `w` computed by the published dequantization (the exact product
 * of code, zero point and scales in FP32) and, when our scheme of src/formats decodes the same bytes to the
 * same FP32 values bit for bit, the packed qtensor (linear_set_packed); otherwise the Linear keeps the FP32
 * view only (say AWQ's FP16 scales that BF16 cannot hold). Activation settings are mapped onto the Linear's
 * act spec or refused with one line. API: ckpt_quant_detect / ckpt_quant_load_linear / ckpt_tensor. */
#ifndef SRC_MODEL_CKPT_QUANT_H
#define SRC_MODEL_CKPT_QUANT_H

#include <stdint.h>

#include "model/safetensors.h"
#include "ops/linear.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ckpt_kind {
    CKPT_KIND_NONE = 0,    /* unquantized, or Qwen block FP8 (qwen3.c) */
    CKPT_KIND_CT,          /* quant_method "compressed-tensors" */
    CKPT_KIND_AWQ,         /* quant_method "awq", version "gemm" */
    CKPT_KIND_GPTQ,        /* quant_method "gptq" */
    CKPT_KIND_MODELOPT     /* quant_method "modelopt" or hf_quant_config.json */
};

/* compressed-tensors QuantizationArgs (quant_args.py), the fields we use. */
enum ckpt_strategy {
    CKPT_STRATEGY_TENSOR = 0,
    CKPT_STRATEGY_CHANNEL,
    CKPT_STRATEGY_GROUP,
    CKPT_STRATEGY_BLOCK,
    CKPT_STRATEGY_TOKEN,
    CKPT_STRATEGY_TENSOR_GROUP
};

struct ckpt_qargs {
    int num_bits;
    int is_float;              /* type "float" (else "int") */
    enum ckpt_strategy strategy;
    int group_size;            /* group / tensor_group; -1 or 0 when unused */
    int block[2];              /* block_structure [rows, cols] */
    int symmetric;
    int dynamic;               /* 0 static, 1 dynamic, 2 "local" (NVFP4: dynamic blocks, static global) */
};

struct ckpt_quant {
    enum ckpt_kind kind;
    char format[40];           /* CT: "pack-quantized", ...; ModelOpt: quant_algo "NVFP4" / "FP8" */
    struct ckpt_qargs w;       /* CT weights (AWQ / GPTQ fill num_bits, group_size, symmetric) */
    struct ckpt_qargs a;       /* CT input_activations, valid when has_act */
    int has_act;
    int desc_act;              /* GPTQ act-order */
    int gptq_v2;               /* GPTQ checkpoint_format "gptq_v2": zero points stored as they are */
    char desc[160];            /* "compressed-tensors pack-quantized w4a16 int g128 sym", for reports */
    const char *what;          /* the file the settings came from, for errors */
    char what_buf[4096];
};

/* Reads the quantization settings of the checkpoint folder dir into q: config.json's quantization_config
 * (compressed-tensors, awq, gptq, modelopt) or hf_quant_config.json (ModelOpt). kind is CKPT_KIND_NONE for an
 * unquantized checkpoint and for Qwen's block FP8. Dies with one line naming the file and the setting for
 * anything these readers cannot honour (another quant_method, several config groups, 3/5/6/7-bit integers,
 * act-order in a layout that cannot carry it, unsupported activation settings). */
void ckpt_quant_detect(struct ckpt_quant *q, const char *dir);

/* Loads the Linear `prefix` (HF module name, N x K) of a quantized checkpoint into l (initialised here) when
 * the checkpoint holds it quantized; returns 1 then, 0 when the module is stored plainly (prefix.weight in
 * BF16 / F16 / F32, e.g. an ignored layer), leaving l untouched. Dies naming the file and tensor on any
 * missing tensor, wrong dtype or shape. */
int ckpt_quant_load_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix,
                           int64_t N, int64_t K, struct linear *l);

/* The tensor prefix.suffix, checked: dtype one of the mask's (bit 1 << enum safetensors_dtype), n_dims and
 * shape (d1 ignored when n_dims == 1; n_dims 0 accepts a scalar [] or [1]). Marks it used. When optional
 * and absent returns NULL; otherwise dies with "file: 'name': expected ..., got ...". */
struct safetensors_tensor *ckpt_tensor(const struct safetensors *st, const char *prefix, const char *suffix,
                                       unsigned dtype_mask, int n_dims, int64_t d0, int64_t d1, int optional);

#define CKPT_DT(x) (1u << SAFETENSORS_DTYPE_##x)

/* Reads element i of a little-endian int32 / float tensor buffer (safetensors data may be unaligned). */
int32_t ckpt_i32(const void *p, int64_t i);

/* A tensor of any float dtype (F32, F16, BF16, F8) as a fresh FP32 array (exact conversion). */
float *ckpt_f32(const struct safetensors_tensor *t);

/* Installs the result of a reader: w (N x K, owned) becomes l's FP32 view; if q is non-NULL (heap, owned) and
 * qtensor_dequantize(q) equals w bit for bit, q becomes l's packed tensor, else q is freed. fmt is a static
 * label ("ct-int4"). Returns 1 if q was attached. */
int ckpt_install(struct linear *l, int64_t N, int64_t K, float *w, struct qtensor *q, const char *fmt);

/* Integer weights by the published formula w[n][k] = (q[n][k] - z[n][g]) * s[n][g], g = g_idx[k] (or k / G
 * with G = K / n_g when g_idx is NULL), q unsigned b-bit codes (N x K), z zero points (N x n_g, may exceed
 * 2^b - 1: GPTQ v1 stores z - 1), s FP32 scales (N x n_g). Installs the FP32 view and, when our scheme holds the
 * same numbers, the packed tensor: int4-gG-sym (every z = 8), int4-gG-asym (z in 0..15), both with BF16 scales,
 * G in 32/64/128 and g_idx = k / G; int8-channel (b = 8, n_g = 1, every z = 128). Returns 1 if packed. */
int ckpt_install_int(struct linear *l, int64_t N, int64_t K, int bits, const uint8_t *q, const int16_t *z,
                     const float *s, int64_t n_g, const int32_t *g_idx, const char *fmt);

/* A qtensor of scheme f (params p) with arrays allocated at the sizes of qformat.h and zero contents, for a
 * reader to fill in the layout of the scheme's header. */
struct qtensor *ckpt_qtensor_new(enum qformat f, const struct qparams *p, int64_t N, int64_t K);

#ifdef __cplusplus
}
#endif
#endif
