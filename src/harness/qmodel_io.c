/* qmodel_io -- a quantized model as bytes; see qmodel_io.h (layout, check then apply). */
#include "harness/qmodel_io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/sha256.h"

/* The serialization below writes these structs field by field. A field added to any of them must be stored
 * (or stated irrelevant) here: the size check turns that into a build error of this file (x86-64 sizes). */
_Static_assert(sizeof(struct linear) == 112, "struct linear changed: update put_linear / get_linear");
_Static_assert(sizeof(struct qtensor) == 112, "struct qtensor changed: update put_qtensor / get_qtensor");
_Static_assert(sizeof(struct qparams) == 24, "struct qparams changed: update put_qparams / get_qparams");
_Static_assert(sizeof(struct linear_act) == 32, "struct linear_act changed: update put_linear / get_linear");
_Static_assert(sizeof(struct qwen3_layer) == 856, "struct qwen3_layer changed: update put_model / get_model");
_Static_assert(sizeof(struct qwen3_model) == 576, "struct qwen3_model changed: update put_model / get_model");
_Static_assert(sizeof(struct quant_stats) == 112, "struct quant_stats changed: update put_stats / get_stats");

/* Section tags: a payload that drifts out of step with the reader fails at the next tag. */
enum {
    TAG_STATS = 0x53544154,   /* "STAT" */
    TAG_MODEL = 0x4d4f444c,   /* "MODL" */
    TAG_LAYER = 0x4c415952,   /* "LAYR" */
    TAG_LINEAR = 0x4c494e52,  /* "LINR" */
    TAG_QTENSOR = 0x51544e53, /* "QTNS" */
    TAG_END = 0x454e4421      /* "END!" */
};
/* How a float array is stored: absent (NULL), its values, or only its sha256 (an array quant_apply never
 * changes, or an FP32 view equal to its packed tensor's dequantization), checked against the fresh model. */
enum { ARR_NULL = 0, ARR_DATA = 1, ARR_HASH = 2 };

// ---- writing: a growable byte buffer ----

struct wbuf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct wbuf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u8(struct wbuf *b, int v) { uint8_t x = (uint8_t)v; put(b, &x, 1); }
static void put_u32(struct wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(struct wbuf *b, int v) { int32_t x = v; put(b, &x, 4); }
static void put_i64(struct wbuf *b, int64_t v) { put(b, &v, 8); }
static void put_f32(struct wbuf *b, float v) { put(b, &v, 4); }   /* the bits, NaN payloads included */
static void put_f64(struct wbuf *b, double v) { put(b, &v, 8); }

static void put_str(struct wbuf *b, const char *s) {
    put_u8(b, s != NULL);
    if (!s) return;
    put_i64(b, (int64_t)strlen(s));
    put(b, s, strlen(s));
}

/* A byte array that may be NULL (a qtensor's unused scales or zeros). */
static void put_blob(struct wbuf *b, const void *p, size_t n) {
    put_u8(b, p != NULL);
    if (!p) return;
    put_i64(b, (int64_t)n);
    put(b, p, n);
}

static void put_farray(struct wbuf *b, const float *a, int64_t n) {
    put_u8(b, a ? ARR_DATA : ARR_NULL);
    if (!a) return;
    put_i64(b, n);
    put(b, a, (size_t)n * sizeof *a);
}

static void put_fhash(struct wbuf *b, const float *a, int64_t n) {
    put_u8(b, a ? ARR_HASH : ARR_NULL);
    if (!a) return;
    put_i64(b, n);
    char hex[SHA256_HEX_LEN];
    sha256_buf(a, (size_t)n * sizeof *a, hex);
    put(b, hex, 64);
}

static void put_qparams(struct wbuf *b, const struct qparams *p) {
    put_i32(b, p->group_size);
    put_i32(b, (int)p->mx_rule);
    put_f32(b, p->amax);
    put_i32(b, (int)p->observer);
    put_i32(b, (int)p->int4_rule);
    put_i32(b, (int)p->nvfp4_rule);
}

static void put_qtensor(struct wbuf *b, const struct qtensor *q) {
    put_u32(b, TAG_QTENSOR);
    put_i32(b, (int)q->format);
    put_qparams(b, &q->params);
    put_i64(b, q->N);
    put_i64(b, q->K);
    put_f32(b, q->global_scale);
    put_i32(b, q->global_set);
    put_blob(b, q->data, q->data_bytes);
    put_blob(b, q->scales, q->scales_bytes);
    put_blob(b, q->zeros, q->zeros_bytes);
}

static void put_linear(struct wbuf *b, const struct linear *l) {
    put_u32(b, TAG_LINEAR);
    put_u8(b, l->w != NULL);
    if (!l->w) return;   /* a dense MLP's slot in an MoE layer */
    CHECK(!l->observe, "qcache: a Linear with an observer hook set (calibration still running?)");
    put_i64(b, l->N);
    put_i64(b, l->K);
    put_str(b, l->format);
    put_farray(b, l->b, l->N);
    put_u8(b, l->packed != NULL);
    if (l->packed) put_qtensor(b, l->packed);
    /* The FP32 view: only its hash when it is exactly the packed tensor's dequantization (linear_set_packed). */
    int derived = 0;
    if (l->packed) {
        float *d = xmalloc((size_t)(l->N * l->K) * sizeof *d);
        qtensor_dequantize(l->packed, d);
        derived = !memcmp(d, l->w, (size_t)(l->N * l->K) * sizeof *d);
        free(d);
    }
    if (derived) put_fhash(b, l->w, l->N * l->K);
    else put_farray(b, l->w, l->N * l->K);
    put_i32(b, (int)l->act.mode);
    put_i32(b, (int)l->act.format);
    put_qparams(b, &l->act.params);
    put_farray(b, l->in_scale, l->K);
    put_i32(b, (int)l->transform);
    put_i32(b, l->transform_block);
}

static void put_stats(struct wbuf *b, const struct quant_stats *s) {
    put_u32(b, TAG_STATS);
    put_i64(b, s->n_linears);
    put_i64(b, s->n_weights);
    put_i64(b, (int64_t)s->weight_bytes);
    put_f64(b, s->bits_per_weight);
    put_f64(b, s->seconds);
    put_i64(b, s->n_damp_raised);
    put_i64(b, s->n_weights_packed);
    put_i64(b, s->n_unpacked);
    put_i64(b, s->n_expert_hessians);
    put_i64(b, s->expert_rows_min);
    put_i64(b, s->expert_rows_median);
    put_i64(b, s->expert_rows_max);
    put_i64(b, s->n_experts_below_floor);
    put_i64(b, s->n_expert_rtn);
}

/* The config values the arrays' shapes follow (the key's config.json fixes the rest). */
static void put_cfg(struct wbuf *b, const struct qwen3_config *c) {
    const int64_t v[] = {c->n_layers, c->D, c->F, c->H, c->H_kv, c->D_h, c->V, c->E, c->F_moe, c->tie_word_embeddings,
                         c->attention_bias, c->is_moe};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) put_i64(b, v[i]);
}

static void put_model(struct wbuf *b, const struct qwen3_model *m) {
    const struct qwen3_config *c = &m->cfg;
    put_u32(b, TAG_MODEL);
    put_cfg(b, c);
    put_i64(b, m->n_nonfinite);
    put_str(b, m->loaded_quant);
    put_fhash(b, m->embed, c->V * c->D);
    put_u8(b, m->lm_head == m->embed);
    if (m->lm_head != m->embed) put_fhash(b, m->lm_head, c->V * c->D);
    put_u8(b, m->lm_head_bf16 != NULL);
    if (m->lm_head_bf16) put_qtensor(b, m->lm_head_bf16);
    put_farray(b, m->final_norm, c->D);
    put_farray(b, m->inv_freq, c->D_h / 2);
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        put_u32(b, TAG_LAYER);
        put_i64(b, l);
        put_i32(b, L->is_moe);
        put_farray(b, L->attn_norm, c->D);
        put_farray(b, L->mlp_norm, c->D);
        put_farray(b, L->q_norm, c->D_h);
        put_farray(b, L->k_norm, c->D_h);
        const struct linear *lin[] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
        for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++) put_linear(b, lin[i]);
        put_farray(b, L->router, c->E * c->D);
        put_u8(b, L->exp_gate != NULL);
        for (int64_t e = 0; L->exp_gate && e < c->E; e++) {
            put_linear(b, &L->exp_gate[e]);
            put_linear(b, &L->exp_up[e]);
            put_linear(b, &L->exp_down[e]);
        }
    }
    put_u32(b, TAG_END);
}

// ---- reading: a bounds-checked cursor; the first problem is kept as the miss's reason ----

struct rbuf {
    const uint8_t *p;
    size_t n, off;
    int apply;          /* 0: check only (the model untouched), 1: install into the model */
    char why[256];      /* the first problem, "" while none */
};

static int bad(struct rbuf *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct rbuf *r, const char *fmt, ...) {
    if (!r->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
    }
    r->off = r->n;   /* every later read fails too */
    return -1;
}

static const uint8_t *take(struct rbuf *r, size_t n) {
    if (r->why[0]) return NULL;
    if (n > r->n - r->off) {
        bad(r, "payload ends early at byte %zu (%zu more expected)", r->off, n);
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}
static uint8_t get_u8(struct rbuf *r) {
    const uint8_t *p = take(r, 1);
    return p ? *p : 0;
}
/* The fixed-size readers: bytes copied out (the payload has no alignment), zero after a problem. */
#define GETTER(name, type, size)                  \
    static type name(struct rbuf *r) {            \
        type v = 0;                               \
        const uint8_t *p = take(r, size);         \
        if (p) memcpy(&v, p, size);               \
        return v;                                 \
    }
GETTER(get_u32, uint32_t, 4)
GETTER(get_i32, int32_t, 4)
GETTER(get_i64, int64_t, 8)
GETTER(get_f32, float, 4)
GETTER(get_f64, double, 8)
#undef GETTER

static int expect_tag(struct rbuf *r, uint32_t tag, const char *what) {
    uint32_t t = get_u32(r);
    if (r->why[0]) return -1;
    return t == tag ? 0 : bad(r, "%s: tag 0x%08x where 0x%08x was expected", what, t, tag);
}

/* Format names are static strings in the model (linear.h: not owned); a loaded name is kept for the process. */
static const char *intern(const char *s, size_t n) {
    static struct interned { struct interned *next; char s[]; } *list;
    for (struct interned *it = list; it; it = it->next)
        if (strlen(it->s) == n && !memcmp(it->s, s, n)) return it->s;
    struct interned *it = xmalloc(sizeof *it + n + 1);
    memcpy(it->s, s, n);
    it->s[n] = 0;
    it->next = list;
    list = it;
    return it->s;
}

/* A string: *out receives NULL or a pointer into the payload, *len its length. */
static void get_str(struct rbuf *r, const char **out, size_t *len) {
    *out = NULL, *len = 0;
    if (!get_u8(r)) return;
    int64_t n = get_i64(r);
    if (n < 0 || n > 4096) {
        bad(r, "string of %lld bytes", (long long)n);
        return;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (p) *out = (const char *)p, *len = (size_t)n;
}

static int same_str(const char *a, size_t na, const char *b) {
    if (!a || !b) return !a && !b;
    return strlen(b) == na && !memcmp(a, b, na);
}

/* A float array for *dst, n values when present. Check: the length. Apply: the values copied into *dst
 * (allocated when the fresh model has none; freed when the entry holds none). ARR_HASH: the fresh model's
 * array must hash to the stored digest (check), and stays as it is. */
static void get_farray(struct rbuf *r, float **dst, int64_t n, const char *what) {
    const int mode = get_u8(r);
    if (r->why[0]) return;
    if (mode == ARR_NULL) {
        if (r->apply) free(*dst), *dst = NULL;
        return;
    }
    const int64_t got = get_i64(r);
    if (mode != ARR_DATA && mode != ARR_HASH) {
        bad(r, "%s: array mode %d", what, mode);
        return;
    }
    if (got != n) {
        bad(r, "%s: %lld values where the model has %lld", what, (long long)got, (long long)n);
        return;
    }
    if (mode == ARR_HASH) {
        const uint8_t *h = take(r, 64);
        if (!h || r->apply) return;
        char hex[SHA256_HEX_LEN];
        if (!*dst) {
            bad(r, "%s: the model has no such array", what);
            return;
        }
        sha256_buf(*dst, (size_t)n * sizeof **dst, hex);
        if (memcmp(hex, h, 64)) bad(r, "%s: the model's values differ from the entry's", what);
        return;
    }
    const uint8_t *p = take(r, (size_t)n * sizeof(float));
    if (!p || !r->apply) return;
    if (!*dst) *dst = xmalloc((size_t)n * sizeof **dst);
    memcpy(*dst, p, (size_t)n * sizeof **dst);
}

static void get_qparams(struct rbuf *r, struct qparams *p) {
    memset(p, 0, sizeof *p);
    p->group_size = get_i32(r);
    p->mx_rule = (enum e8m0_rule)get_i32(r);
    p->amax = get_f32(r);
    p->observer = (enum qobserver)get_i32(r);
    p->int4_rule = (enum int4_rule)get_i32(r);
    p->nvfp4_rule = (enum nvfp4_rule)get_i32(r);
}

static const uint8_t *get_blob(struct rbuf *r, size_t expect, int *present, const char *what) {
    *present = get_u8(r);
    if (!*present || r->why[0]) return NULL;
    int64_t n = get_i64(r);
    if (n < 0 || (size_t)n != expect) {
        bad(r, "%s: %lld bytes where the layout has %zu", what, (long long)n, expect);
        return NULL;
    }
    return take(r, (size_t)n);
}

/* A qtensor of N x K. Check: the format, the shape and the layout's byte sizes. Apply: a fresh heap copy. The
 * view *v (pointing into the payload) is filled in both modes, so a check can dequantize it. */
static struct qtensor *get_qtensor(struct rbuf *r, int64_t N, int64_t K, struct qtensor *v, const char *what) {
    memset(v, 0, sizeof *v);
    if (expect_tag(r, TAG_QTENSOR, what)) return NULL;
    const int f = get_i32(r);
    get_qparams(r, &v->params);
    v->N = get_i64(r);
    v->K = get_i64(r);
    v->global_scale = get_f32(r);
    v->global_set = get_i32(r);
    if (r->why[0]) return NULL;
    char err[256];
    if (f < 0 || f >= QFORMAT_COUNT) {
        bad(r, "%s: format %d", what, f);
        return NULL;
    }
    v->format = (enum qformat)f;
    if (v->N != N || v->K != K || qformat_check_shape(v->format, &v->params, N, K, err, sizeof err) != 0) {
        bad(r, "%s: packed %lld x %lld (%s) for a %lld x %lld matrix", what, (long long)v->N, (long long)v->K,
            qformat_name(v->format), (long long)N, (long long)K);
        return NULL;
    }
    size_t nd, ns, nz;
    qformat_ops(v->format)->layout(&v->params, N, K, &nd, &ns, &nz);
    int pd, ps, pz;
    const uint8_t *d = get_blob(r, nd, &pd, what), *s = get_blob(r, ns, &ps, what), *z = get_blob(r, nz, &pz, what);
    if (r->why[0]) return NULL;
    if (!pd) {
        bad(r, "%s: no element codes", what);
        return NULL;
    }
    v->data = (uint8_t *)d, v->data_bytes = nd;
    v->scales = ps ? (uint8_t *)s : NULL, v->scales_bytes = ps ? ns : 0;
    v->zeros = pz ? (uint8_t *)z : NULL, v->zeros_bytes = pz ? nz : 0;
    if (!r->apply) return NULL;
    struct qtensor *q = xmalloc(sizeof *q);
    *q = *v;
    q->data = xmalloc(nd ? nd : 1);
    memcpy(q->data, d, nd);
    if (ps) {
        q->scales = xmalloc(ns ? ns : 1);
        memcpy(q->scales, s, ns);
    }
    if (pz) {
        q->zeros = xmalloc(nz ? nz : 1);
        memcpy(q->zeros, z, nz);
    }
    return q;
}

static void free_qtensor(struct qtensor *q) {
    if (!q) return;
    qtensor_free(q);
    free(q);
}

static void get_linear(struct rbuf *r, struct linear *l, const char *what) {
    if (expect_tag(r, TAG_LINEAR, what)) return;
    const int present = get_u8(r);
    if (r->why[0]) return;
    if (present != (l->w != NULL)) {
        bad(r, "%s: %s in the entry, %s in the model", what, present ? "present" : "absent",
            l->w ? "present" : "absent");
        return;
    }
    if (!present) return;
    const int64_t N = get_i64(r), K = get_i64(r);
    if (!r->why[0] && (N != l->N || K != l->K)) {
        bad(r, "%s: %lld x %lld in the entry, %lld x %lld in the model", what, (long long)N, (long long)K,
            (long long)l->N, (long long)l->K);
        return;
    }
    const char *fmt;
    size_t fmt_len;
    get_str(r, &fmt, &fmt_len);
    get_farray(r, &l->b, N, what);
    const int has_packed = get_u8(r);
    struct qtensor view, *q = NULL;
    if (has_packed) q = get_qtensor(r, N, K, &view, what);
    if (r->why[0]) return;
    /* The FP32 view: its hash is checked against the stored tensor's dequantization (check mode), or its
     * values copied (apply); a hash-only view needs a packed tensor. */
    const size_t off = r->off;
    const int mode = get_u8(r);
    if (!r->why[0] && mode != ARR_HASH && mode != ARR_DATA) {
        bad(r, "%s: no FP32 view (array mode %d)", what, mode);
        return;
    }
    if (mode == ARR_HASH && !has_packed) {
        bad(r, "%s: an FP32 view stored by hash without a packed tensor", what);
        return;
    }
    if (mode == ARR_HASH) {
        const int64_t n = get_i64(r);
        const uint8_t *h = take(r, 64);
        if (!h) return;
        if (n != N * K) {
            bad(r, "%s: FP32 view of %lld values", what, (long long)n);
            return;
        }
        if (!r->apply) {
            /* The view's arrays sit at any byte offset of the payload: aligned copies for the codecs. */
            struct qtensor al = view;
            al.data = xmalloc(view.data_bytes ? view.data_bytes : 1);
            memcpy(al.data, view.data, view.data_bytes);
            if (view.scales) {
                al.scales = xmalloc(view.scales_bytes ? view.scales_bytes : 1);
                memcpy(al.scales, view.scales, view.scales_bytes);
            }
            if (view.zeros) {
                al.zeros = xmalloc(view.zeros_bytes ? view.zeros_bytes : 1);
                memcpy(al.zeros, view.zeros, view.zeros_bytes);
            }
            float *d = xmalloc((size_t)(N * K) * sizeof *d);
            qtensor_dequantize(&al, d);
            free(al.data), free(al.scales), free(al.zeros);
            char hex[SHA256_HEX_LEN];
            sha256_buf(d, (size_t)(N * K) * sizeof *d, hex);
            free(d);
            if (memcmp(hex, h, 64)) {
                bad(r, "%s: the packed tensor's dequantization differs from the stored FP32 view", what);
                return;
            }
        }
    } else {
        r->off = off;
        float *w = l->w;
        get_farray(r, &w, N * K, what);   /* ARR_DATA: copies into l->w in apply mode (same size) */
    }
    struct linear_act act = {0};
    const int act_mode = get_i32(r), act_format = get_i32(r);
    get_qparams(r, &act.params);
    if (!r->why[0] && (act_mode < LINEAR_ACT_NONE || act_mode > LINEAR_ACT_STATIC || act_format < 0 ||
                       act_format >= QFORMAT_COUNT)) {
        bad(r, "%s: activation mode %d format %d", what, act_mode, act_format);
        return;
    }
    act.mode = (enum linear_act_mode)act_mode;
    act.format = (enum qformat)act_format;
    get_farray(r, &l->in_scale, K, what);
    const int transform = get_i32(r), block = get_i32(r);
    if (!r->why[0] && transform != LINEAR_TRANSFORM_NONE &&
        !(transform == LINEAR_TRANSFORM_HADAMARD && block > 0 && K % block == 0 && (block & (block - 1)) == 0)) {
        bad(r, "%s: transform %d block %d for K = %lld", what, transform, block, (long long)K);
        return;
    }
    if (r->why[0] || !r->apply) {
        free_qtensor(q);
        return;
    }
    const char *name = same_str(fmt, fmt_len, l->format) ? l->format : fmt ? intern(fmt, fmt_len) : NULL;
    if (q && mode == ARR_HASH) {
        linear_set_packed(l, q, name);   /* w = its exact dequantization, as when it was stored */
    } else {
        if (l->packed && l->packed != q) free_qtensor(l->packed);
        l->packed = q;
        l->format = name;
    }
    l->act = act;
    l->transform = (enum linear_transform)transform;
    l->transform_block = block;
}

static void get_stats(struct rbuf *r, struct quant_stats *s) {
    memset(s, 0, sizeof *s);
    if (expect_tag(r, TAG_STATS, "quant_stats")) return;
    s->n_linears = get_i64(r);
    s->n_weights = get_i64(r);
    s->weight_bytes = (size_t)get_i64(r);
    s->bits_per_weight = get_f64(r);
    s->seconds = get_f64(r);
    s->n_damp_raised = get_i64(r);
    s->n_weights_packed = get_i64(r);
    s->n_unpacked = get_i64(r);
    s->n_expert_hessians = get_i64(r);
    s->expert_rows_min = get_i64(r);
    s->expert_rows_median = get_i64(r);
    s->expert_rows_max = get_i64(r);
    s->n_experts_below_floor = get_i64(r);
    s->n_expert_rtn = get_i64(r);
}

static void get_model(struct rbuf *r, struct qwen3_model *m) {
    const struct qwen3_config *c = &m->cfg;
    if (expect_tag(r, TAG_MODEL, "model")) return;
    const int64_t v[] = {c->n_layers, c->D, c->F, c->H, c->H_kv, c->D_h, c->V, c->E, c->F_moe, c->tie_word_embeddings,
                         c->attention_bias, c->is_moe};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const int64_t got = get_i64(r);
        if (!r->why[0] && got != v[i]) {
            bad(r, "config value %zu is %lld in the entry, %lld in the model", i, (long long)got, (long long)v[i]);
            return;
        }
    }
    const int64_t nonfinite = get_i64(r);
    const char *lq;
    size_t lq_len;
    get_str(r, &lq, &lq_len);
    if (!r->why[0] && (nonfinite != m->n_nonfinite || !same_str(lq, lq_len, m->loaded_quant))) {
        bad(r, "the model was loaded differently (non-finite values, quantized layout)");
        return;
    }
    get_farray(r, &m->embed, c->V * c->D, "model.embed_tokens");
    const int tied = get_u8(r);
    if (!r->why[0] && tied != (m->lm_head == m->embed)) {
        bad(r, "lm_head tied in one of the entry and the model only");
        return;
    }
    if (!tied) get_farray(r, &m->lm_head, c->V * c->D, "lm_head");
    if (get_u8(r)) {
        struct qtensor view;
        struct qtensor *q = get_qtensor(r, c->V, c->D, &view, "lm_head_bf16");
        if (q) {
            free_qtensor(m->lm_head_bf16);
            m->lm_head_bf16 = q;
        }
    } else if (r->apply && m->lm_head_bf16) {
        free_qtensor(m->lm_head_bf16);
        m->lm_head_bf16 = NULL;
    }
    get_farray(r, &m->final_norm, c->D, "model.norm");
    get_farray(r, &m->inv_freq, c->D_h / 2, "inv_freq");
    for (int64_t l = 0; l < c->n_layers && !r->why[0]; l++) {
        struct qwen3_layer *L = &m->layers[l];
        char what[128];
        snprintf(what, sizeof what, "model.layers.%lld", (long long)l);
        if (expect_tag(r, TAG_LAYER, what)) return;
        const int64_t idx = get_i64(r);
        const int is_moe = get_i32(r);
        if (!r->why[0] && (idx != l || is_moe != L->is_moe)) {
            bad(r, "%s: layer %lld (moe %d) in the entry, moe %d in the model", what, (long long)idx, is_moe,
                L->is_moe);
            return;
        }
        get_farray(r, &L->attn_norm, c->D, what);
        get_farray(r, &L->mlp_norm, c->D, what);
        get_farray(r, &L->q_norm, c->D_h, what);
        get_farray(r, &L->k_norm, c->D_h, what);
        struct linear *lin[] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
        for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++) get_linear(r, lin[i], what);
        get_farray(r, &L->router, c->E * c->D, what);
        const int has_exp = get_u8(r);
        if (!r->why[0] && has_exp != (L->exp_gate != NULL)) {
            bad(r, "%s: experts in one of the entry and the model only", what);
            return;
        }
        for (int64_t e = 0; has_exp && e < c->E; e++) {
            get_linear(r, &L->exp_gate[e], what);
            get_linear(r, &L->exp_up[e], what);
            get_linear(r, &L->exp_down[e], what);
        }
    }
    expect_tag(r, TAG_END, "end of payload");
    if (!r->why[0] && r->off != r->n) bad(r, "%zu bytes after the end of the payload", r->n - r->off);
}

// ---- the three entry points ----

void qmodel_io_write(const struct qwen3_model *m, const struct quant_stats *st, uint8_t **out, size_t *n) {
    const struct quant_stats zero = {0};
    struct wbuf b = {0};
    put_stats(&b, st ? st : &zero);
    put_model(&b, m);
    *out = b.p;
    *n = b.n;
}

int qmodel_io_check(const uint8_t *p, size_t n, struct qwen3_model *m, char *why, size_t nwhy) {
    struct rbuf r = {.p = p, .n = n};
    struct quant_stats s;
    get_stats(&r, &s);
    get_model(&r, m);
    snprintf(why, nwhy, "%s", r.why);
    return r.why[0] ? -1 : 0;
}

void qmodel_io_apply(const uint8_t *p, size_t n, struct qwen3_model *m, struct quant_stats *st) {
    struct rbuf r = {.p = p, .n = n, .apply = 1};
    struct quant_stats s;
    get_stats(&r, &s);
    get_model(&r, m);
    CHECK(!r.why[0], "qmodel_io: a checked payload failed to install: %s", r.why);
    if (st) *st = s;
}
