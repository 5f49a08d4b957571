/* ckpt_tensors -- the part every checkpoint writer shares (the "ql" layout of qcheckpoint.h and the layouts of
 * other tools in ckpt_write.h): a list of safetensors tensors whose names and converted arrays it owns, the
 * float policy (an FP32 array is written in BF16 when every value is exactly a BF16 number, NaN included, so a
 * BF16 source round-trips bit for bit; else in F32 from the model's own buffer), the tensors that are never a
 * quantized Linear (embeddings, norms, MoE router, final norm, untied lm_head), and the folder around
 * model.safetensors: tensors sorted by name (as the source checkpoints' headers are), config.json from the
 * source's, and the tokenizer and generation files copied. Each writer adds only its Linears and its
 * quantization_config. API: ckpt_tensors_{own,push,push_float,f32,push_plain_linear,push_others,write,
 * source_config,finish,free}. */
#ifndef SRC_QUANT_CKPT_TENSORS_H
#define SRC_QUANT_CKPT_TENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/qwen3.h"
#include "model/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zero-initialise; everything it points at lives until ckpt_tensors_free. */
struct ckpt_tensors {
    struct safetensors_desc *d;
    int n, cap;
    void **own;
    int n_own, cap_own;
};

/* Takes ownership of p (freed by ckpt_tensors_free) and returns it. */
void *ckpt_tensors_own(struct ckpt_tensors *t, void *p);

/* Adds a tensor named "base.suffix" (or base when suffix is NULL; the name is copied) of shape [d0] or
 * [d0, d1] over data, which must outlive the write (the model's buffers, or arrays owned by t). */
void ckpt_tensors_push(struct ckpt_tensors *t, const char *base, const char *suffix, enum safetensors_dtype dt,
                       int n_dims, int64_t d0, int64_t d1, const void *data);

/* An FP32 array under the float policy of the header (BF16 when exact, else F32). */
void ckpt_tensors_push_float(struct ckpt_tensors *t, const char *base, const char *suffix, int n_dims, int64_t d0,
                             int64_t d1, const float *x);

/* A one-element F32 array holding v, owned by t. */
float *ckpt_tensors_f32(struct ckpt_tensors *t, float v);

/* A Linear that is not quantized (l->packed NULL): "<module>.bias" when it has one, then "<module>.weight",
 * both under the float policy. */
void ckpt_tensors_push_plain_linear(struct ckpt_tensors *t, const char *module, const struct linear *l);

/* Every tensor of m that is not a decoder Linear, under its HF name (qwen3.h). */
void ckpt_tensors_push_others(struct ckpt_tensors *t, const struct qwen3_model *m);

/* Sorts the tensors by name and writes out_dir/model.safetensors (out_dir created); returns its bytes. */
size_t ckpt_tensors_write(struct ckpt_tensors *t, const char *out_dir);

/* The source's config.json (m->dir) without its "quantization_config"; the caller owns the object. */
cJSON *ckpt_tensors_source_config(const struct qwen3_model *m);

/* Writes cfg as out_dir/config.json (atomically) and copies generation_config.json, tokenizer.json and
 * tokenizer_config.json from m->dir where they exist. cfg stays the caller's. */
void ckpt_tensors_finish(const struct qwen3_model *m, const cJSON *cfg, const char *out_dir);

/* Frees the list and everything it owns; t is zeroed. */
void ckpt_tensors_free(struct ckpt_tensors *t);

#ifdef __cplusplus
}
#endif
#endif
