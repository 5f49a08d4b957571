/* qgroups -- the input groups of a model (qwen3_for_each_input_group) flattened into units that share one
 * input, for the layer-by-layer algorithms: dense groups stay as they are (q,k,v; o; gate,up; down); an MoE
 * MLP_IN group becomes one unit per expert (its gate and up read the tokens routed to it), its router noted
 * on each. Also the HF module name of every Linear (for the activation spec and messages). Units keep the
 * visitor's order (layer by layer: ATTN_IN, ATTN_OUT, MLP_IN, MLP_OUT). API: qgroups_collect / _name / _free. */
#ifndef SRC_QUANT_QGROUPS_H
#define SRC_QUANT_QGROUPS_H

#include <stdint.h>

#include "model/qwen3.h"

#ifdef __cplusplus
extern "C" {
#endif

struct qgroup_unit {
    int layer, expert;               /* expert index or -1 */
    enum qwen3_group_kind kind;
    struct linear *readers[3];       /* Linears reading this input (first: the one hooked for statistics) */
    int n_readers;
    float *norm;                     /* producing RMSNorm weight (D) or NULL */
    struct linear *prev;             /* producing Linear or NULL */
    int prev_foldable;
    float *router;                   /* MoE MLP_IN: the E x D router reading the same input, else NULL */
};

struct qgroups {
    int64_t n;
    struct qgroup_unit *u;
    int64_t n_linears;
    struct linear **lin;             /* every Linear ... */
    char **names;                    /* ... and its module name */
};

void qgroups_collect(struct qgroups *g, struct qwen3_model *m);

/* The module name of l ("model.layers.0.self_attn.q_proj"); CHECKs that l is one of the model's. */
const char *qgroups_name(const struct qgroups *g, const struct linear *l);

void qgroups_free(struct qgroups *g);

#ifdef __cplusplus
}
#endif
#endif
