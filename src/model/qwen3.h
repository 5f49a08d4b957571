/* src/model/qwen3.h -- a Qwen3 / Qwen3-MoE model in memory: hyper-parameters plus FP32 weights.
 * qwen3_load reads an HF checkpoint directory (config.json, model.safetensors or its sharded index), checks
 * every tensor's presence, dtype and shape against the config (errors name the file and the tensor), converts
 * BF16 / F16 / F32 to FP32 (exact) and dequantizes Qwen's block FP8 (F8_E4M3 with weight_scale_inv per
 * 128 x 128 block: w = fp8 * scale_inv[n / 128][k / 128]) on load; non-finite weights give a warning.
 * Checkpoints in the layouts of other tools (compressed-tensors, AutoAWQ, GPTQ, ModelOpt: ckpt_quant.h) load
 * into Linears carrying their packed weights and activation settings; loaded_quant names the layout.
 * qwen3_load also accepts a Hugging Face model id resolved in the local cache (hf_cache.h).
 * Tensor names are those of HF checkpoints: model.embed_tokens.weight, model.layers.L.{input_layernorm,
 * post_attention_layernorm}.weight, model.layers.L.self_attn.{q,k,v,o}_proj.weight, .{q,k}_norm.weight,
 * model.layers.L.mlp.{gate,up,down}_proj.weight or (MoE) model.layers.L.mlp.gate.weight (router) and
 * model.layers.L.mlp.experts.X.{gate,up,down}_proj.weight, model.norm.weight, lm_head.weight (if untied).
 * Every projection is a struct linear that qwen3_for_each_linear visits (embeddings, lm_head, norms and the
 * router are not Linears: they stay as loaded). A path that is a .gguf file, or a folder holding one .gguf
 * and no config.json, is read by qwen3_gguf.h instead. API: qwen3_load / qwen3_free / qwen3_for_each_linear. */
#ifndef SRC_MODEL_QWEN3_H
#define SRC_MODEL_QWEN3_H

#include <stdint.h>

#include "model/qwen3_config.h"
#include "formats/qformat.h"
#include "ops/linear.h"

#ifdef __cplusplus
extern "C" {
#endif

struct qwen3_layer {
    float *attn_norm;            /* D, input_layernorm */
    float *mlp_norm;             /* D, post_attention_layernorm */
    float *q_norm, *k_norm;      /* D_h, per-head QK RMSNorm */
    struct linear q, k, v, o;    /* q: (H D_h) x D, k, v: (H_kv D_h) x D, o: D x (H D_h) */
    int is_moe;
    struct linear gate, up, down;             /* dense MLP: F x D, F x D, D x F */
    float *router;                            /* MoE: E x D, FP32 */
    struct linear *exp_gate, *exp_up, *exp_down;   /* MoE: E each, F_moe x D, F_moe x D, D x F_moe */
};

struct qwen3_model {
    struct qwen3_config cfg;
    char *dir;
    float *embed;                /* V x D */
    float *lm_head;              /* V x D; == embed when tie_word_embeddings */
    struct qtensor *lm_head_bf16; /* lm_head as BF16 elements for the packed decode GEMV (ops/cpu_exec.h), made
                                    by qwen3_cpu_pack_lm_head when every value is BF16-exact; NULL otherwise
                                    (owned) */
    float *final_norm;           /* D */
    float *inv_freq;             /* D_h / 2 RoPE frequencies from rope_theta */
    struct qwen3_layer *layers;  /* n_layers */
    int64_t n_nonfinite;         /* non-finite weight values seen on load (each tensor warned about) */
    char *loaded_quant;          /* the quantized layout the checkpoint was read from (ckpt_quant.h), e.g.
                                    "compressed-tensors pack-quantized w4a16 int g128 sym", "qwen fp8 block
                                    128x128"; NULL for a BF16 / F16 / F32 checkpoint (owned) */
};

enum qwen3_linear_kind {
    QWEN3_LINEAR_Q,
    QWEN3_LINEAR_K,
    QWEN3_LINEAR_V,
    QWEN3_LINEAR_O,
    QWEN3_LINEAR_GATE,
    QWEN3_LINEAR_UP,
    QWEN3_LINEAR_DOWN,
};

/* Loads the checkpoint in dir (see the header comment). Never returns on error: dies with one line naming the
 * file and tensor, exit status 1. The result is freed with qwen3_free. */
struct qwen3_model *qwen3_load(const char *dir);

/* Frees the model and every linear's format state. NULL is a no-op. */
void qwen3_free(struct qwen3_model *m);

/* One visit of qwen3_for_each_linear: name is the HF module name without ".weight"
 * ("model.layers.3.mlp.down_proj", "model.layers.5.mlp.experts.17.up_proj"), layer the decoder layer, expert
 * the expert index or -1, kind the projection; l may be modified (weights replaced, hooks set). */
typedef void (*qwen3_linear_fn)(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                                struct linear *l);

/* Calls fn for every Linear of the model, layer by layer in the order q, k, v, o, then gate, up, down (for MoE
 * layers: expert by expert, gate, up, down each). Returns the number of linears visited. */
int64_t qwen3_for_each_linear(struct qwen3_model *m, qwen3_linear_fn fn, void *ctx);

/* The input groups of a layer: Linears that read the same input, with what produces that input (AWQ scales
 * a group's input channels and folds the inverse into the producer; GPTQ shares one Hessian per group):
 *   ATTN_IN   input_layernorm -> q, k, v
 *   ATTN_OUT  v -> o (the attention output is a mix of v's rows: a per-channel scale folds into v only when
 *             H == H_kv, i.e. never under GQA; prev_foldable says so)
 *   MLP_IN    post_attention_layernorm -> gate, up (MoE: every expert's gate and up, plus the router, which
 *             also reads this input and stays BF16: a scale folded into the norm must be undone on the router)
 *   MLP_OUT   up -> down (MoE: one group per expert)
 * Visited layer by layer in this order. */
enum qwen3_group_kind {
    QWEN3_GROUP_ATTN_IN,
    QWEN3_GROUP_ATTN_OUT,
    QWEN3_GROUP_MLP_IN,
    QWEN3_GROUP_MLP_OUT,
};

struct qwen3_input_group {
    int layer, expert;                 /* expert index for an MoE MLP_OUT group, else -1 */
    enum qwen3_group_kind kind;
    float *norm;                       /* D: the RMSNorm weight producing the input, or NULL */
    struct linear *prev;               /* the Linear producing the input (v, up), or NULL */
    int prev_foldable;                 /* 1 when a per-input-channel scale can fold into prev's output rows */
    struct linear *members[3];         /* dense groups: the readers */
    int n_members;
    struct linear *experts_gate, *experts_up;   /* MoE MLP_IN: n_experts each; members unused */
    int64_t n_experts;
    float *router;                     /* MoE MLP_IN: E x D router (reads the same input), else NULL */
};

typedef void (*qwen3_group_fn)(void *ctx, const struct qwen3_input_group *g);

/* Calls fn for every input group (see above); returns the number of groups visited. */
int64_t qwen3_for_each_input_group(struct qwen3_model *m, qwen3_group_fn fn, void *ctx);

/* Short name of a kind: "q_proj", ..., "down_proj". */
const char *qwen3_linear_kind_name(enum qwen3_linear_kind kind);

#ifdef __cplusplus
}
#endif
#endif
