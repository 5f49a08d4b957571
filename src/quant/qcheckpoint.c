/* qcheckpoint -- the quantized model written from memory; see qcheckpoint.h. */
#include "quant/qcheckpoint.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/safetensors.h"
#include "quant/ckpt_tensors.h"

/* ---- the tensor list (quant/ckpt_tensors.h) plus the modules of the config ---- */

struct tlist {
    struct ckpt_tensors ct;
    cJSON *modules;
};

static void push_linear(struct tlist *t, const char *module, const struct linear *l) {
    if (!l->packed) {
        ckpt_tensors_push_plain_linear(&t->ct, module, l);
        return;
    }
    struct ckpt_tensors *ct = &t->ct;
    if (l->b) ckpt_tensors_push_float(ct, module, "bias", 1, l->N, 0, l->b);
    const struct qtensor *q = l->packed;
    const char *suffix[3] = {"weight_packed", "weight_scales", "weight_zeros"};
    const uint8_t *arr[3] = {q->data, q->scales, q->zeros};
    size_t bytes[3] = {q->data_bytes, q->scales_bytes, q->zeros_bytes};
    for (int k = 0; k < 3; k++)
        if (arr[k] && bytes[k]) ckpt_tensors_push(ct, module, suffix[k], SAFETENSORS_DTYPE_U8, 1, (int64_t)bytes[k], 0, arr[k]);
    if (qformat_info(q->format)->has_global)
        ckpt_tensors_push(ct, module, "weight_global_scale", SAFETENSORS_DTYPE_F32, 1, 1, 0,
                          ckpt_tensors_f32(ct, q->global_scale));
    if (l->act.mode == LINEAR_ACT_STATIC && l->act.params.amax > 0)
        ckpt_tensors_push(ct, module, "input_amax", SAFETENSORS_DTYPE_F32, 1, 1, 0, ckpt_tensors_f32(ct, l->act.params.amax));
    if (l->in_scale) ckpt_tensors_push(ct, module, "input_channel_scale", SAFETENSORS_DTYPE_F32, 1, l->K, 0, l->in_scale);
    cJSON *shape = cJSON_CreateArray();
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->N));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->K));
    cJSON_AddItemToObject(t->modules, module, shape);
}

/* Every decoder Linear of m, layer by layer in the order of the "modules" object (q, k, v, o, then gate, up,
 * down, or each expert's); the other tensors come from ckpt_tensors_push_others. */
static void collect(struct tlist *t, const struct qwen3_model *m) {
    const struct qwen3_config *c = &m->cfg;
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        char mod[300];
        const struct linear *attn[4] = {&L->q, &L->k, &L->v, &L->o};
        for (int i = 0; i < 4; i++) {
            snprintf(mod, sizeof mod, "model.layers.%lld.self_attn.%s", (long long)l,
                     qwen3_linear_kind_name((enum qwen3_linear_kind)i));
            push_linear(t, mod, attn[i]);
        }
        if (!L->is_moe) {
            const struct linear *mlp[3] = {&L->gate, &L->up, &L->down};
            for (int i = 0; i < 3; i++) {
                snprintf(mod, sizeof mod, "model.layers.%lld.mlp.%s", (long long)l,
                         qwen3_linear_kind_name((enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i)));
                push_linear(t, mod, mlp[i]);
            }
            continue;
        }
        for (int64_t e = 0; e < c->E; e++) {
            const struct linear *ex[3] = {&L->exp_gate[e], &L->exp_up[e], &L->exp_down[e]};
            for (int i = 0; i < 3; i++) {
                snprintf(mod, sizeof mod, "model.layers.%lld.mlp.experts.%lld.%s", (long long)l, (long long)e,
                         qwen3_linear_kind_name((enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i)));
                push_linear(t, mod, ex[i]);
            }
        }
    }
    ckpt_tensors_push_others(&t->ct, m);
}

size_t qcheckpoint_write(const struct qwen3_model *m, const struct recipe *r, const char *out_dir) {
    struct tlist t;
    memset(&t, 0, sizeof t);
    t.modules = cJSON_CreateObject();
    collect(&t, m);
    size_t out_bytes = ckpt_tensors_write(&t.ct, out_dir);

    /* config.json: the source's, plus the description of what was done. */
    cJSON *cfg = ckpt_tensors_source_config(m);
    cJSON *qc = cJSON_AddObjectToObject(cfg, "quantization_config");
    cJSON_AddStringToObject(qc, "quant_method", "ql");
    cJSON_AddStringToObject(qc, "algorithm", recipe_algo_name(r->algo));
    cJSON_AddStringToObject(qc, "recipe", r->name);
    char label[64];
    cJSON_AddStringToObject(qc, "weight_format", qformat_label(r->weight, &r->weight_params, label, sizeof label));
    if (r->act_mode == RECIPE_ACT_NONE) cJSON_AddNullToObject(qc, "activation_format");
    else cJSON_AddStringToObject(qc, "activation_format", qformat_name(r->act));
    cJSON_AddStringToObject(qc, "activation_scheme", r->act_mode == RECIPE_ACT_NONE      ? "none"
                                                     : r->act_mode == RECIPE_ACT_DYNAMIC ? "dynamic"
                                                                                         : "static");
    cJSON_AddNumberToObject(qc, "hadamard_block",
                            r->transform == RECIPE_TRANSFORM_HADAMARD ? (r->transform_block ? r->transform_block : 128) : 0);
    cJSON_AddItemToObject(qc, "modules", t.modules);
    ckpt_tensors_finish(m, cfg, out_dir);
    cJSON_Delete(cfg);
    ckpt_tensors_free(&t.ct);
    return out_bytes;
}
