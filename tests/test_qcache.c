/* test_qcache -- the quantized-model cache (src/harness/qcache.h).
 * 1. Round trip, one recipe of every kind of state on models/qwen3-tiny: bf16, rtn-int4 (packed INT4),
 *    nvfp4 (W4A4, dynamic activations), nvfp8 (static activation ranges), gptq, gptq-asym, awq (scales folded
 *    into norms and producers), gptq-mxfp4-had (Hadamard transform), and on models/qwen3-tiny-moe (its part
 *    skipped when its weights are absent: make models) gptq-g64, awq-g64 and awq-g64-routerfold (the router
 *    changed). Each recipe is quantized by harness_open_recipe, the drivers' own path (calibration from the
 *    harness's calibration sets, shrunk to 2 x 64 tokens), stored, and loaded onto a freshly loaded model:
 *    every field of the two models must be bit-equal (a comparison helper below, checked to see a one-bit
 *    change), quant_stats equal, and the logits of 16 tokens bit-equal. The fresh model must differ from the
 *    quantized one before the load (so the comparison can fail).
 *    Also a model carrying state no recipe makes today (input scale, new bias, an FP32 view that is not its
 *    packed dequantization, the packed BF16 lm_head), so every branch of the format is crossed.
 * 2. Damaged entries: a flipped payload byte, a truncated file, a cut header, an entry under another key's
 *    name: each a miss with one warning naming the file, the model untouched; storing again makes it a hit.
 *    An absent entry: a miss without a warning. The size bound removes the least recently used entries first
 *    and never the one it is told to keep.
 * 3. The key: the same inputs give the same key (twice, and from a second harness); another recipe, another
 *    recipe parameter, other calibration sizes or seed, another backend string (the engine's own threading)
 *    or another model give another key; calibration sizes do not change the key of a recipe that does not
 *    calibrate. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "harness/qcache.h"
#include "model/qwen3_cpu.h"
#include "ops/cpu_exec.h"
#include "test.h"

#define DENSE "models/qwen3-tiny"
#define MOE "models/qwen3-tiny-moe"
#define N_TOK 16
#define ALGO_SEQS 2   /* GPTQ / AWQ calibration sequences of 64 tokens (AWQ's cost is its grid, not its rows) */

static char g_tmp[] = "/tmp/test_qcache.XXXXXX";
static char g_dir[256];   /* the cache folder */

// ---- comparing two models field by field ----

static char g_why[512];

static int differ(const char *fmt, const char *a, long long b) {
    if (!g_why[0]) snprintf(g_why, sizeof g_why, fmt, a, b);
    return 0;
}

static int same_bytes(const void *a, const void *b, size_t n, const char *what, long long idx) {
    if (!a || !b) return a == b ? 1 : differ("%s[%lld]: NULL in one model only", what, idx);
    return !memcmp(a, b, n) ? 1 : differ("%s[%lld]: bytes differ", what, idx);
}

static int same_str(const char *a, const char *b, const char *what, long long idx) {
    if (!a || !b) return a == b ? 1 : differ("%s[%lld]: string NULL in one model only", what, idx);
    return !strcmp(a, b) ? 1 : differ("%s[%lld]: strings differ", what, idx);
}

static int same_params(const struct qparams *a, const struct qparams *b, const char *what, long long idx) {
    return (a->group_size == b->group_size && a->mx_rule == b->mx_rule && !memcmp(&a->amax, &b->amax, sizeof a->amax) &&
            a->observer == b->observer && a->int4_rule == b->int4_rule && a->nvfp4_rule == b->nvfp4_rule)
               ? 1
               : differ("%s[%lld]: qparams differ", what, idx);
}

static int same_qtensor(const struct qtensor *a, const struct qtensor *b, const char *what, long long idx) {
    if (!a || !b) return a == b ? 1 : differ("%s[%lld]: packed in one model only", what, idx);
    if (a->format != b->format || a->N != b->N || a->K != b->K || a->data_bytes != b->data_bytes ||
        a->scales_bytes != b->scales_bytes || a->zeros_bytes != b->zeros_bytes || a->global_set != b->global_set ||
        memcmp(&a->global_scale, &b->global_scale, sizeof a->global_scale))
        return differ("%s[%lld]: qtensor header differs", what, idx);
    return same_params(&a->params, &b->params, what, idx) && same_bytes(a->data, b->data, a->data_bytes, what, idx) &&
           same_bytes(a->scales, b->scales, a->scales_bytes, what, idx) &&
           same_bytes(a->zeros, b->zeros, a->zeros_bytes, what, idx);
}

static int same_linear(const struct linear *a, const struct linear *b, const char *what, long long idx) {
    if (a->N != b->N || a->K != b->K) return differ("%s[%lld]: shape differs", what, idx);
    const size_t nk = (size_t)(a->N * a->K) * sizeof(float);
    return same_bytes(a->w, b->w, nk, what, idx) &&
           same_bytes(a->b, b->b, (size_t)a->N * sizeof(float), what, idx) && same_str(a->format, b->format, what, idx) &&
           same_qtensor(a->packed, b->packed, what, idx) &&
           (a->act.mode == b->act.mode && a->act.format == b->act.format ? 1 : differ("%s[%lld]: act differs", what, idx)) &&
           same_params(&a->act.params, &b->act.params, what, idx) &&
           same_bytes(a->in_scale, b->in_scale, (size_t)a->K * sizeof(float), what, idx) &&
           (a->transform == b->transform && a->transform_block == b->transform_block
                ? 1
                : differ("%s[%lld]: transform differs", what, idx)) &&
           (a->observe == b->observe && a->observe_ctx == b->observe_ctx ? 1 : differ("%s[%lld]: hooks differ", what, idx));
}

/* 1 when every field of a and b is bit-equal (pointers compared by what they point to); else 0 and g_why. */
static int same_model(const struct qwen3_model *a, const struct qwen3_model *b) {
    g_why[0] = 0;
    const struct qwen3_config *c = &a->cfg, *d = &b->cfg;
    if (strcmp(c->architecture, d->architecture) || c->is_moe != d->is_moe || c->D != d->D || c->F != d->F ||
        c->n_layers != d->n_layers || c->H != d->H || c->H_kv != d->H_kv || c->D_h != d->D_h || c->V != d->V ||
        c->max_pos != d->max_pos || c->rms_norm_eps != d->rms_norm_eps || c->rope_theta != d->rope_theta ||
        c->tie_word_embeddings != d->tie_word_embeddings || c->attention_bias != d->attention_bias || c->E != d->E ||
        c->top_k != d->top_k || c->F_moe != d->F_moe || c->decoder_sparse_step != d->decoder_sparse_step ||
        c->norm_topk_prob != d->norm_topk_prob || memcmp(c->layer_is_moe, d->layer_is_moe, sizeof c->layer_is_moe) ||
        c->bos_id != d->bos_id || c->n_eos != d->n_eos || memcmp(c->eos_ids, d->eos_ids, sizeof c->eos_ids) ||
        c->fp8_block_n != d->fp8_block_n || c->fp8_block_k != d->fp8_block_k)
        return differ("%s[%lld]: config differs", "cfg", 0);
    const size_t VD = (size_t)(c->V * c->D) * sizeof(float), D = (size_t)c->D * sizeof(float);
    const size_t Dh = (size_t)c->D_h * sizeof(float);
    int ok = same_str(a->dir, b->dir, "dir", 0) && same_str(a->loaded_quant, b->loaded_quant, "loaded_quant", 0) &&
             (a->n_nonfinite == b->n_nonfinite ? 1 : differ("%s[%lld]: differs", "n_nonfinite", 0)) &&
             same_bytes(a->embed, b->embed, VD, "embed", 0) &&
             ((a->lm_head == a->embed) == (b->lm_head == b->embed) ? 1 : differ("%s[%lld]: tied in one only", "lm_head", 0)) &&
             same_bytes(a->lm_head, b->lm_head, VD, "lm_head", 0) &&
             same_qtensor(a->lm_head_bf16, b->lm_head_bf16, "lm_head_bf16", 0) &&
             same_bytes(a->final_norm, b->final_norm, D, "final_norm", 0) &&
             same_bytes(a->inv_freq, b->inv_freq, (size_t)(c->D_h / 2) * sizeof(float), "inv_freq", 0);
    for (int64_t l = 0; ok && l < c->n_layers; l++) {
        const struct qwen3_layer *L = &a->layers[l], *M = &b->layers[l];
        ok = (L->is_moe == M->is_moe ? 1 : differ("%s[%lld]: is_moe differs", "layer", l)) &&
             same_bytes(L->attn_norm, M->attn_norm, D, "attn_norm", l) && same_bytes(L->mlp_norm, M->mlp_norm, D, "mlp_norm", l) &&
             same_bytes(L->q_norm, M->q_norm, Dh, "q_norm", l) && same_bytes(L->k_norm, M->k_norm, Dh, "k_norm", l) &&
             same_linear(&L->q, &M->q, "q_proj", l) && same_linear(&L->k, &M->k, "k_proj", l) &&
             same_linear(&L->v, &M->v, "v_proj", l) && same_linear(&L->o, &M->o, "o_proj", l) &&
             same_linear(&L->gate, &M->gate, "gate_proj", l) && same_linear(&L->up, &M->up, "up_proj", l) &&
             same_linear(&L->down, &M->down, "down_proj", l) &&
             same_bytes(L->router, M->router, (size_t)(c->E * c->D) * sizeof(float), "router", l) &&
             ((L->exp_gate == NULL) == (M->exp_gate == NULL) ? 1 : differ("%s[%lld]: experts in one only", "layer", l));
        for (int64_t e = 0; ok && L->exp_gate && e < c->E; e++)
            ok = same_linear(&L->exp_gate[e], &M->exp_gate[e], "expert gate_proj (layer*E+e)", l * c->E + e) &&
                 same_linear(&L->exp_up[e], &M->exp_up[e], "expert up_proj (layer*E+e)", l * c->E + e) &&
                 same_linear(&L->exp_down[e], &M->exp_down[e], "expert down_proj (layer*E+e)", l * c->E + e);
    }
    return ok;
}

static int same_stats(const struct quant_stats *a, const struct quant_stats *b) {
    return a->n_linears == b->n_linears && a->n_weights == b->n_weights && a->weight_bytes == b->weight_bytes &&
           !memcmp(&a->bits_per_weight, &b->bits_per_weight, sizeof(double)) &&
           !memcmp(&a->seconds, &b->seconds, sizeof(double)) && a->n_damp_raised == b->n_damp_raised &&
           a->n_weights_packed == b->n_weights_packed && a->n_unpacked == b->n_unpacked &&
           a->n_expert_hessians == b->n_expert_hessians && a->expert_rows_min == b->expert_rows_min &&
           a->expert_rows_median == b->expert_rows_median && a->expert_rows_max == b->expert_rows_max &&
           a->n_experts_below_floor == b->n_experts_below_floor && a->n_expert_rtn == b->n_expert_rtn;
}

// ---- helpers ----

static void logits_of(struct qwen3_model *m, float *out) {
    int32_t ids[N_TOK];
    for (int i = 0; i < N_TOK; i++) ids[i] = (int32_t)((i * 977 + 13) % m->cfg.V);
    struct engine *e = engine_create(m, "cpu");
    engine_forward(e, ids, N_TOK, out, NULL);
    engine_free(e);
}

/* stderr into a file while a call runs, so a test can read the warning it printed. */
static char g_err[300];
static int capture_begin(void) {
    fflush(stderr);
    int saved = dup(2), fd = open(g_err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(saved >= 0 && fd >= 0, "capture %s", g_err);
    dup2(fd, 2);
    close(fd);
    return saved;
}
static char *capture_end(int saved) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *s = file_read_all(g_err, NULL);
    fputs(s, stderr);   /* still in the log */
    return s;
}

static void harness_for(struct harness *h, const char *model, int64_t algo_seqs, int64_t seed) {
    struct harness_opts o;
    harness_defaults(&o);
    o.model = model;
    o.results = g_tmp;
    o.calib_seqs = 2, o.calib_len = 64;              /* static ranges: 2 x 64 tokens */
    o.algo_calib_seqs = algo_seqs, o.algo_calib_len = 64;   /* GPTQ / AWQ: algo_seqs x 64 tokens */
    o.seed = (uint64_t)seed;
    harness_init(h, "test-qcache", &o);
}

static void key_of(struct harness *h, const char *name, char key[SHA256_HEX_LEN]) {
    CHECK(qcache_key(h, recipe_by_name_or_die(name, "test"), key, NULL), "%s: not cacheable", name);
}

// ---- 1. round trips ----

/* The state the recipe is here to cover is really there (a is quantized, b fresh): what the round trip has to
 * carry. Returns a short description for the case line. */
static const char *covered(const struct recipe *r, const struct qwen3_model *a, const struct qwen3_model *b) {
    const struct qwen3_layer *L = &a->layers[0], *F = &b->layers[0];
    const size_t D = (size_t)a->cfg.D * sizeof(float);
    if (r->awq.router_fold)
        return memcmp(L->router, F->router, (size_t)(a->cfg.E * a->cfg.D) * sizeof(float)) ? "router columns scaled" : NULL;
    if (r->algo == RECIPE_ALGO_AWQ)
        return memcmp(L->attn_norm, F->attn_norm, D) && memcmp(L->mlp_norm, F->mlp_norm, D) ? "scales folded into the norms"
                                                                                         : NULL;
    if (r->transform == RECIPE_TRANSFORM_HADAMARD)
        return L->q.transform == LINEAR_TRANSFORM_HADAMARD && L->q.act.mode == LINEAR_ACT_DYNAMIC ? "Hadamard + dynamic act"
                                                                                               : NULL;
    if (r->act_mode == RECIPE_ACT_STATIC)
        return L->q.act.mode == LINEAR_ACT_STATIC && L->q.act.params.amax > 0 ? "static amax" : NULL;
    if (r->act_mode == RECIPE_ACT_DYNAMIC) return L->q.act.mode == LINEAR_ACT_DYNAMIC ? "dynamic act" : NULL;
    if (r->algo == RECIPE_ALGO_GPTQ) return L->q.packed && strcmp(L->q.format, F->q.format) ? "GPTQ packed" : NULL;
    return L->q.packed ? "packed weights" : NULL;
}


static void round_trip(struct harness *h, const char *name, const float *base_logits) {
    const struct recipe *r = recipe_by_name_or_die(name, "test");
    const double t0 = monotonic_seconds();
    struct qwen3_model *a;
    struct quant_stats sa;
    struct engine *ea = harness_open_recipe(h, r, &a, &sa);
    engine_free(ea);
    char key[SHA256_HEX_LEN], *canon = NULL;
    TEST(qcache_key(h, r, key, &canon) && strlen(key) == 64 && canon && strstr(canon, name),
         "%s: cacheable, key %.12s", name, key);
    TEST(qcache_store(g_dir, key, canon, a, &sa), "%s: stored", name);
    struct qwen3_model *b = qwen3_load(h->o.model);
    TEST(!same_model(a, b), "%s: the fresh model differs from the quantized one before the load (%s)", name, g_why);
    const char *what = covered(r, a, b);
    TEST(what, "%s: the quantized model carries its recipe's state (%s)", name, what ? what : "missing");
    struct quant_stats sb;
    memset(&sb, 0xff, sizeof sb);
    const int hit = qcache_lookup(g_dir, key, b, &sb);
    TEST(hit, "%s: hit", name);
    const int same = same_model(a, b);
    TEST(same, "%s: every field of the loaded model bit-equal to the quantized one%s%s", name, same ? "" : ": ", g_why);
    TEST(same_stats(&sa, &sb), "%s: quant_stats equal (n_linears %lld, bits_per_weight %.4f)", name,
         (long long)sb.n_linears, sb.bits_per_weight);
    const int64_t V = a->cfg.V;
    float *la = xmalloc((size_t)(N_TOK * V) * sizeof *la), *lb = xmalloc((size_t)(N_TOK * V) * sizeof *lb);
    logits_of(a, la);
    logits_of(b, lb);
    TEST(!memcmp(la, lb, (size_t)(N_TOK * V) * sizeof *la), "%s: logits of %d tokens bit-equal", name, N_TOK);
    if (base_logits && strcmp(name, "bf16"))
        TEST(memcmp(la, base_logits, (size_t)(N_TOK * V) * sizeof *la), "%s: logits differ from bf16's (quantized)", name);
    printf("# %s: %.1f s\n", name, monotonic_seconds() - t0);
    free(la), free(lb), free(canon);
    qwen3_free(a);
    qwen3_free(b);
}

/* The comparison helper sees a one-bit change anywhere it looks (here: one weight, one scale byte, a format). */
static void helper_control(const char *model) {
    struct qwen3_model *a = qwen3_load(model), *b = qwen3_load(model);
    TEST(same_model(a, b), "helper: two loads of %s compare equal (%s)", model, g_why);
    uint32_t bits;
    memcpy(&bits, &b->layers[1].v.w[5], 4);
    bits ^= 1;
    memcpy(&b->layers[1].v.w[5], &bits, 4);
    TEST(!same_model(a, b) && strstr(g_why, "v_proj[1]"), "helper: one flipped bit of a weight is seen (%s)", g_why);
    qwen3_free(b);
    b = qwen3_load(model);
    b->layers[0].o.format = "other";
    TEST(!same_model(a, b) && strstr(g_why, "o_proj[0]"), "helper: another format name is seen (%s)", g_why);
    qwen3_free(a);
    qwen3_free(b);
}

// ---- 2. damaged entries ----

static void write_bytes(const char *path, const uint8_t *p, size_t n) {
    FILE *f = xfopen(path, "wb");
    xfwrite(p, 1, n, f, path);
    xfclose(f, path);
}

/* A damaged entry must be a miss with a warning naming it, the model untouched. */
static void expect_miss(const char *what, const char *key, const char *path, int want_warning) {
    struct qwen3_model *m = qwen3_load(DENSE), *fresh = qwen3_load(DENSE);
    struct quant_stats st;
    int saved = capture_begin();
    const int hit = qcache_lookup(g_dir, key, m, &st);
    char *err = capture_end(saved);
    const int warned = strstr(err, path) && strstr(err, "miss") && strchr(err, '\n') == strrchr(err, '\n');
    TEST(!hit && (want_warning ? warned : !err[0]), "%s: a miss, %s", what,
         want_warning ? "one warning naming the file" : "silently");
    TEST(same_model(m, fresh), "%s: the model is untouched (%s)", what, g_why);
    free(err);
    qwen3_free(m);
    qwen3_free(fresh);
}

static void damaged(struct harness *h) {
    const struct recipe *r = recipe_by_name_or_die("rtn-int4", "test");
    char key[SHA256_HEX_LEN], *canon, path[4096];
    CHECK(qcache_key(h, r, key, &canon), "key");
    qcache_entry_path(g_dir, key, path, sizeof path);
    struct qwen3_model *q = qwen3_load(DENSE);
    struct quant_stats st;
    quant_apply(q, r, NULL, &st);
    qcache_store(g_dir, key, canon, q, &st);
    size_t n;
    uint8_t *good = (uint8_t *)file_read_all(path, &n);
    uint8_t *bad = xmalloc(n);

    memcpy(bad, good, n);
    bad[n / 2] ^= 0x40;
    write_bytes(path, bad, n);
    expect_miss("flipped payload byte", key, path, 1);
    write_bytes(path, good, n / 3);
    expect_miss("truncated entry", key, path, 1);
    write_bytes(path, good, 20);
    expect_miss("cut header", key, path, 1);
    memcpy(bad, good, n);
    memcpy(bad, "XLQCACHE", 8);
    write_bytes(path, bad, n);
    expect_miss("bad magic", key, path, 1);

    /* The same bytes under another key's name. */
    char other[SHA256_HEX_LEN], opath[4096];
    key_of(h, "rtn-int4-asym", other);
    qcache_entry_path(g_dir, other, opath, sizeof opath);
    write_bytes(opath, good, n);
    expect_miss("an entry under another key's name", other, opath, 1);
    unlink(opath);
    expect_miss("absent entry", other, opath, 0);

    /* Stored again: replaced, a hit. */
    qcache_store(g_dir, key, canon, q, &st);
    struct qwen3_model *m = qwen3_load(DENSE);
    TEST(qcache_lookup(g_dir, key, m, NULL) && same_model(q, m), "damaged entry replaced by the next store: a hit (%s)", g_why);
    qwen3_free(m);
    qwen3_free(q);
    free(good), free(bad), free(canon);
}

/* State no recipe of the table makes today, so every branch of the format is crossed: an input scale, a bias
 * the fresh model lacks, an FP32 view that is not its packed tensor's dequantization (stored by value), the
 * packed BF16 lm_head of the serving path. */
static void synthetic(void) {
    const struct recipe *r = recipe_by_name_or_die("rtn-int4", "test");
    struct qwen3_model *q = qwen3_load(DENSE);
    quant_apply(q, r, NULL, NULL);
    struct linear *ls = &q->layers[0].q, *lb = &q->layers[1].k, *lv = &q->layers[2].v;
    ls->in_scale = xmalloc((size_t)ls->K * sizeof(float));
    for (int64_t k = 0; k < ls->K; k++) ls->in_scale[k] = 1.0f + (float)(k % 7) / 64.0f;
    lb->b = xmalloc((size_t)lb->N * sizeof(float));
    for (int64_t n = 0; n < lb->N; n++) lb->b[n] = (float)(n % 5) / 32.0f;
    lv->w[3] += 0.5f;
    TEST(qwen3_cpu_pack_lm_head(q), "synthetic: lm_head packed as BF16");
    char key[SHA256_HEX_LEN];
    sha256_buf("synthetic", 9, key);
    qcache_store(g_dir, key, NULL, q, NULL);
    struct qwen3_model *m = qwen3_load(DENSE);
    struct quant_stats st;
    const int hit = qcache_lookup(g_dir, key, m, &st);
    const int same = hit && same_model(q, m);
    TEST(same, "synthetic: in_scale, a new bias, a view stored by value, lm_head_bf16 round-trip%s%s", same ? "" : ": ",
         g_why);
    const struct quant_stats zero = {0};
    TEST(hit && same_stats(&st, &zero), "synthetic: stored without stats: zeros");
    const int64_t V = q->cfg.V;
    float *la = xmalloc((size_t)(N_TOK * V) * sizeof *la), *lb2 = xmalloc((size_t)(N_TOK * V) * sizeof *lb2);
    logits_of(q, la);
    logits_of(m, lb2);
    TEST(!memcmp(la, lb2, (size_t)(N_TOK * V) * sizeof *la), "synthetic: logits of %d tokens bit-equal", N_TOK);
    free(la), free(lb2);
    qwen3_free(q);
    qwen3_free(m);
}

/* The size bound: least recently used first, never the entry just stored. */
static void prune_case(const char *d, int64_t bound, const char *keep, int want_removed, const char *want_left) {
    const char *names[3] = {"a", "b", "c"};
    char p[400];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s.qc", d, names[i]);
        uint8_t buf[1000] = {0};
        write_bytes(p, buf, sizeof buf);
        struct timespec ts[2] = {{1000 + i, 0}, {1000 + i, 0}};   /* a used first, c last */
        utimensat(AT_FDCWD, p, ts, 0);
    }
    const int removed = qcache_prune(d, bound, keep);
    char left[4] = "";
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s.qc", d, names[i]);
        if (file_exists(p)) strcat(left, names[i]);
    }
    TEST(removed == want_removed && !strcmp(left, want_left),
         "prune 3 x 1000 bytes to %lld keeping %s: removed %d, left '%s' (want %d, '%s')", (long long)bound, keep,
         removed, left, want_removed, want_left);
}

static void prune(void) {
    char d[300];
    snprintf(d, sizeof d, "%s/prune", g_tmp);
    mkdir(d, 0777);
    prune_case(d, 2500, "c", 1, "bc");   /* the least recently used goes first */
    prune_case(d, 1500, "a", 2, "a");    /* the kept entry stays even when it is the oldest */
    prune_case(d, 3000, NULL, 0, "abc"); /* within the bound: nothing */
}

// ---- 3. keys ----

static void keys(struct harness *h) {
    char k1[SHA256_HEX_LEN], k2[SHA256_HEX_LEN], k3[SHA256_HEX_LEN];
    key_of(h, "gptq", k1);
    key_of(h, "gptq", k2);
    TEST(!strcmp(k1, k2), "key: the same inputs give the same key");
    struct harness h2;
    harness_for(&h2, DENSE, ALGO_SEQS, 1);
    key_of(&h2, "gptq", k2);
    TEST(!strcmp(k1, k2), "key: a second harness with the same flags gives the same key");
    key_of(h, "gptq-asym", k2);
    TEST(strcmp(k1, k2), "key: another recipe, another key");
    struct recipe r = *recipe_by_name("gptq");
    r.gptq.damp = 0.02;
    CHECK(qcache_key(h, &r, k2, NULL), "key");
    TEST(strcmp(k1, k2), "key: another GPTQ damping, another key");
    r = *recipe_by_name("gptq");
    r.gptq.min_rows_k = 0.5;   /* not in the results' manifests of dense models, but a field of the recipe */
    CHECK(qcache_key(h, &r, k2, NULL), "key");
    TEST(strcmp(k1, k2), "key: another recipe field (gptq.min_rows_k), another key");
    harness_free(&h2, 0);

    harness_for(&h2, DENSE, ALGO_SEQS + 1, 1);
    key_of(&h2, "gptq", k2);
    key_of(&h2, "rtn-int4", k3);
    char kr[SHA256_HEX_LEN];
    key_of(h, "rtn-int4", kr);
    TEST(strcmp(k1, k2), "key: other GPTQ calibration sizes (%d sequences), another key", ALGO_SEQS + 1);
    TEST(!strcmp(kr, k3), "key: calibration sizes leave the key of a recipe that does not calibrate");
    harness_free(&h2, 0);
    harness_for(&h2, DENSE, ALGO_SEQS, 2);
    key_of(&h2, "gptq", k2);
    TEST(strcmp(k1, k2), "key: another calibration seed, another key");
    key_of(h, "nvfp8", k3);
    key_of(&h2, "nvfp8", kr);
    TEST(strcmp(k3, kr), "key: static-range recipe: another calibration seed, another key");
    harness_free(&h2, 0);

    struct cpu_exec own = {CPU_THREADS_OWN, 0}, blas = {CPU_THREADS_BLAS, 0};
    cpu_exec_set(&own);
    key_of(h, "gptq", k2);
    cpu_exec_set(&blas);
    TEST(strcmp(k1, k2), "key: another backend string (engine threads), another key");
    key_of(h, "gptq", k2);
    TEST(!strcmp(k1, k2), "key: the backend restored, the key back");
    if (file_exists(MOE "/model.safetensors")) {
        harness_for(&h2, MOE, ALGO_SEQS, 1);
        key_of(&h2, "gptq", k2);
        TEST(strcmp(k1, k2), "key: another model, another key");
        harness_free(&h2, 0);
    }
    struct recipe ck = *recipe_by_name("gptq");
    ck.algo = RECIPE_ALGO_CHECKPOINT;
    TEST(!qcache_key(h, &ck, k2, NULL) && !k2[0], "key: a checkpoint recipe is not cacheable");
}

int main(void) {
    check_set_progname("test_qcache");
    CHECK(mkdtemp(g_tmp), "mkdtemp");
    snprintf(g_dir, sizeof g_dir, "%s/qcache", g_tmp);
    snprintf(g_err, sizeof g_err, "%s/stderr.txt", g_tmp);
    const double t0 = monotonic_seconds();

    helper_control(DENSE);
    struct harness h;
    harness_for(&h, DENSE, ALGO_SEQS, 1);
    struct qwen3_model *m0 = qwen3_load(DENSE);
    float *base = xmalloc((size_t)(N_TOK * m0->cfg.V) * sizeof *base);
    logits_of(m0, base);
    qwen3_free(m0);
    static const char *const DENSE_RECIPES[] = {"bf16", "rtn-int4", "nvfp4", "nvfp8", "gptq", "gptq-asym", "awq",
                                                "gptq-mxfp4-had"};
    for (size_t i = 0; i < sizeof DENSE_RECIPES / sizeof DENSE_RECIPES[0]; i++) round_trip(&h, DENSE_RECIPES[i], base);
    damaged(&h);
    synthetic();
    prune();
    keys(&h);
    harness_free(&h, 0);
    free(base);

    if (file_exists(MOE "/model.safetensors")) {
        harness_for(&h, MOE, ALGO_SEQS, 1);
        static const char *const MOE_RECIPES[] = {"gptq-g64", "awq-g64", "awq-g64-routerfold"};
        for (size_t i = 0; i < sizeof MOE_RECIPES / sizeof MOE_RECIPES[0]; i++) round_trip(&h, MOE_RECIPES[i], NULL);
        harness_free(&h, 0);
    } else {
        printf("skip moe: %s/model.safetensors not found (make models)\n", MOE);
    }
    printf("# total %.1f s\n", monotonic_seconds() - t0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) warn("could not remove %s", g_tmp);
    return TEST_REPORT();
}
