/* engine -- the backend-independent half of the engine interface; see engine.h. */
#define _GNU_SOURCE
#include "engine/engine.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"

struct engine {
    const struct engine_backend *be;
    void *impl;
    struct qwen3_model *m;
    char desc[256];
    char code_sha256[SHA256_HEX_LEN];      /* "" for cpu */
};

struct engine_seq {
    struct engine *e;
    void *kv;
    int64_t len, cap;
    enum kv_cache_dtype dtype;
};

/* ---- backends ---- */

/* The CUDA engine is a shared library next to the programs (build/lib/ beside build/bin/), loaded on demand:
 * the C programs never link CUDA, so their bytes (and the cache keys of CPU results) do not depend on whether
 * nvcc was present at build time. The library exports `qwen3_cuda_backend`, returning its struct
 * engine_backend. QL_CUDA_ENGINE overrides the path (tests, installed layouts). */
#define ENGINE_CUDA_LIB "libql_cuda_engine.so"

static char *cuda_lib_path(char *buf, size_t n) {
    const char *env = getenv("QL_CUDA_ENGINE");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return buf;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) {
        snprintf(buf, n, "build/lib/%s", ENGINE_CUDA_LIB);
        return buf;
    }
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;                     /* .../build/bin */
    snprintf(buf, n, "%s/../lib/%s", exe, ENGINE_CUDA_LIB);
    return buf;
}

static void cuda_lib_check(char *path, size_t n) {
    cuda_lib_path(path, n);
    if (access(path, R_OK) != 0)
        die("no CUDA engine in this build: %s not found (build with nvcc present: make all)", path);
}

void engine_backend_identity(const char *backend, char sha[SHA256_HEX_LEN]) {
    sha[0] = 0;
    if (!strcmp(backend, "cpu")) return;
    if (strcmp(backend, "cuda")) die("unknown backend '%s' (expected cpu or cuda)", backend);
    char path[PATH_MAX + 64];
    cuda_lib_check(path, sizeof path);
    sha256_file(path, sha);
}

static const struct engine_backend *cuda_backend(char sha[SHA256_HEX_LEN]) {
    char path[PATH_MAX + 64];
    cuda_lib_check(path, sizeof path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) die("%s: cannot load the CUDA engine: %s", path, dlerror());
    /* POSIX's sanctioned way to turn dlsym's object pointer into a function pointer (dlsym(3)). */
    const struct engine_backend *(*get)(void);
    *(void **)(&get) = dlsym(h, "qwen3_cuda_backend");
    if (!get) die("%s: no symbol qwen3_cuda_backend (not a CUDA engine library?)", path);
    sha256_file(path, sha);
    return get();
}

struct engine *engine_create(struct qwen3_model *m, const char *backend) {
    struct engine *e = xcalloc(1, sizeof *e);
    e->m = m;
    if (!strcmp(backend, "cpu")) e->be = engine_cpu_backend();
    else if (!strcmp(backend, "cuda")) e->be = cuda_backend(e->code_sha256);
    else die("unknown backend '%s' (expected cpu or cuda)", backend);
    e->impl = e->be->init(m, e->desc, sizeof e->desc);
    return e;
}

void engine_free(struct engine *e) {
    if (!e) return;
    e->be->free(e->impl);
    free(e);
}

struct qwen3_model *engine_model(const struct engine *e) { return e->m; }
int64_t engine_n_vocab(const struct engine *e) { return e->m->cfg.V; }
const char *engine_backend_name(const struct engine *e) { return e->be->name; }
const char *engine_desc(const struct engine *e) { return e->desc; }
const char *engine_code_sha256(const struct engine *e) { return e->code_sha256; }

void engine_forward(struct engine *e, const int32_t *ids, int64_t T, float *logits, float *hidden) {
    CHECK(T > 0, "T=%lld", (long long)T);
    e->be->forward(e->impl, NULL, ids, T, 0, logits, hidden, 0);
}

/* ---- sequences ---- */

struct engine_seq *engine_seq_new(struct engine *e, int64_t cap, enum kv_cache_dtype dtype) {
    CHECK(cap > 0, "cap=%lld", (long long)cap);
    struct engine_seq *s = xcalloc(1, sizeof *s);
    s->e = e;
    s->cap = cap;
    s->dtype = dtype;
    s->kv = e->be->kv_new(e->impl, cap, dtype);
    return s;
}

void engine_seq_free(struct engine_seq *s) {
    if (!s) return;
    s->e->be->kv_free(s->e->impl, s->kv);
    free(s);
}

int64_t engine_seq_len(const struct engine_seq *s) { return s->len; }
int64_t engine_seq_cap(const struct engine_seq *s) { return s->cap; }

void engine_seq_append(struct engine_seq *s, const int32_t *ids, int64_t T, float *logits, float *hidden,
                       int last_only) {
    CHECK(T > 0, "T=%lld", (long long)T);
    if (s->len + T > s->cap)
        die("context of %lld tokens exceeds the sequence capacity of %lld", (long long)(s->len + T),
            (long long)s->cap);
    s->e->be->forward(s->e->impl, s->kv, ids, T, s->len, logits, hidden, last_only);
    s->len += T;
}

void engine_seq_truncate(struct engine_seq *s, int64_t len) {
    CHECK(len >= 0 && len <= s->len, "truncate to %lld of %lld", (long long)len, (long long)s->len);
    s->len = len;
}

struct engine_seq *engine_seq_fork(const struct engine_seq *s) {
    struct engine_seq *f = engine_seq_new(s->e, s->cap, s->dtype);
    s->e->be->kv_copy(s->e->impl, f->kv, s->kv, s->len);
    f->len = s->len;
    return f;
}
