/* qgroups -- input groups as units; see qgroups.h. */
#include "quant/qgroups.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

static void push(struct qgroups *g, const struct qgroup_unit *u) {
    g->u = xrealloc(g->u, (size_t)(g->n + 1) * sizeof *g->u);
    g->u[g->n++] = *u;
}

static void visit_group(void *ctx, const struct qwen3_input_group *ig) {
    struct qgroups *g = ctx;
    struct qgroup_unit u;
    memset(&u, 0, sizeof u);
    u.layer = ig->layer, u.expert = ig->expert, u.kind = ig->kind;
    u.norm = ig->norm, u.prev = ig->prev, u.prev_foldable = ig->prev_foldable;
    if (ig->n_experts > 0) {
        for (int64_t e = 0; e < ig->n_experts; e++) {
            u.expert = (int)e;
            u.readers[0] = &ig->experts_gate[e], u.readers[1] = &ig->experts_up[e];
            u.n_readers = 2;
            u.router = ig->router;
            push(g, &u);
        }
        return;
    }
    for (int i = 0; i < ig->n_members; i++) u.readers[i] = ig->members[i];
    u.n_readers = ig->n_members;
    push(g, &u);
}

static void visit_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct qgroups *g = ctx;
    g->lin = xrealloc(g->lin, (size_t)(g->n_linears + 1) * sizeof *g->lin);
    g->names = xrealloc(g->names, (size_t)(g->n_linears + 1) * sizeof *g->names);
    g->lin[g->n_linears] = l;
    g->names[g->n_linears++] = xstrdup(name);
}

void qgroups_collect(struct qgroups *g, struct qwen3_model *m) {
    memset(g, 0, sizeof *g);
    qwen3_for_each_input_group(m, visit_group, g);
    qwen3_for_each_linear(m, visit_linear, g);
}

const char *qgroups_name(const struct qgroups *g, const struct linear *l) {
    for (int64_t i = 0; i < g->n_linears; i++)
        if (g->lin[i] == l) return g->names[i];
    CHECK(0, "linear %p is not one of the model's", (const void *)l);
    return NULL;
}

void qgroups_free(struct qgroups *g) {
    for (int64_t i = 0; i < g->n_linears; i++) free(g->names[i]);
    free(g->names);
    free(g->lin);
    free(g->u);
    memset(g, 0, sizeof *g);
}
