/* manifest -- see manifest.h. */
#define _POSIX_C_SOURCE 200809L
#include "core/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/json_io.h"

static char *path_join3(const char *a, const char *b, const char *c, const char *d, const char *ext) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + strlen(ext) + 8;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s/%s/%s%s", a, b, c, d, ext);
    return p;
}

static void check_name(const char *what, const char *s) {
    if (!s || !*s || strchr(s, '/')) die("manifest: %s '%s' must be non-empty and contain no '/'", what, s ? s : "");
}

void manifest_init(struct manifest *m, const char *results_root, const char *experiment, const char *model,
                   const char *recipe) {
    check_name("experiment", experiment);
    check_name("model", model);
    check_name("recipe", recipe);
    memset(m, 0, sizeof *m);
    m->t_start = wall_seconds();
    m->key_fields = cJSON_CreateObject();
    cJSON_AddStringToObject(m->key_fields, "experiment", experiment);
    cJSON_AddStringToObject(m->key_fields, "model", model);
    cJSON_AddStringToObject(m->key_fields, "recipe", recipe);
    m->params = cJSON_AddObjectToObject(m->key_fields, "params");
    m->inputs = cJSON_AddArrayToObject(m->key_fields, "inputs");
    m->device = xstrdup("cpu");
    m->result_path = path_join3(results_root, model, experiment, recipe, ".json");
    char *runs = path_join3(results_root, model, experiment, "runs/", "");
    size_t n = strlen(runs) + strlen(recipe) + 8;
    m->run_path = xmalloc(n);
    snprintf(m->run_path, n, "%s%s.json", runs, recipe);
    free(runs);
}

void manifest_free(struct manifest *m) {
    cJSON_Delete(m->key_fields);
    free(m->device);
    free(m->result_path);
    free(m->run_path);
    memset(m, 0, sizeof *m);
}

static void param_check_new(struct manifest *m, const char *key) {
    CHECK(!m->cache_key[0], "manifest: parameter '%s' added after manifest_seal", key);
    CHECK(!cJSON_GetObjectItemCaseSensitive(m->params, key), "manifest: parameter '%s' added twice", key);
}

void manifest_param_int(struct manifest *m, const char *key, int64_t v) {
    param_check_new(m, key);
    CHECK(v > -9007199254740992LL && v < 9007199254740992LL, "parameter '%s' not exact in JSON", key);
    cJSON_AddNumberToObject(m->params, key, (double)v);
}

void manifest_param_num(struct manifest *m, const char *key, double v) {
    param_check_new(m, key);
    cJSON_AddNumberToObject(m->params, key, v);
}

void manifest_param_str(struct manifest *m, const char *key, const char *v) {
    param_check_new(m, key);
    cJSON_AddStringToObject(m->params, key, v);
}

void manifest_input_hash(struct manifest *m, const char *name, const char *sha256_hex) {
    CHECK(!m->cache_key[0], "manifest: input '%s' added after manifest_seal", name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "sha256", sha256_hex);
    cJSON_AddItemToArray(m->inputs, o);
}

void manifest_input(struct manifest *m, const char *name, const char *path, const char *expected_sha256) {
    char hex[SHA256_HEX_LEN];
    sha256_file_cached(path, hex);
    if (expected_sha256 && strcmp(hex, expected_sha256) != 0)
        die("%s: sha256 mismatch for input '%s': expected %s, found %s", path, name, expected_sha256, hex);
    manifest_input_hash(m, name, hex);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void manifest_input_checkpoint(struct manifest *m, const char *dir) {
    const char *files[] = {"config.json", "model.safetensors", "model.safetensors.index.json", "tokenizer.json"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (file_exists(path)) manifest_input(m, files[i], path, NULL);
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (!file_exists(path)) return;
    cJSON *idx = json_read_file(path);
    const cJSON *map = json_get(idx, "weight_map", path);
    int n = 0;
    char **shards = NULL;
    for (const cJSON *it = map->child; it; it = it->next) {
        if (!cJSON_IsString(it)) die("%s: weight_map values must be strings", path);
        int dup = 0;
        for (int j = 0; j < n && !dup; j++) dup = !strcmp(shards[j], it->valuestring);
        if (dup) continue;
        shards = xrealloc(shards, (size_t)(n + 1) * sizeof *shards);
        shards[n++] = it->valuestring;
    }
    qsort(shards, (size_t)n, sizeof *shards, cmp_str);
    for (int j = 0; j < n; j++) {
        snprintf(path, sizeof path, "%s/%s", dir, shards[j]);
        manifest_input(m, shards[j], path, NULL);
    }
    free(shards);
    cJSON_Delete(idx);
}

const char *manifest_model_name(const char *dir, char *buf, size_t n) {
    snprintf(buf, n, "%s", dir);
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
    const char *s = strrchr(buf, '/');
    return s ? s + 1 : buf;
}

void manifest_device(struct manifest *m, const char *device) {
    free(m->device);
    m->device = xstrdup(device);
}

void manifest_seal(struct manifest *m) {
    char bin[SHA256_HEX_LEN];
    /* /proc/self/exe is the running driver: with deterministic builds (no __DATE__, -ffile-prefix-map) the
     * same sources and compiler give the same hash on any machine. */
    sha256_file("/proc/self/exe", bin);
    cJSON_AddStringToObject(m->key_fields, "binary_sha256", bin);
    char *canon = cJSON_PrintUnformatted(m->key_fields);
    CHECK(canon, "cJSON_PrintUnformatted failed");
    sha256_buf(canon, strlen(canon), m->cache_key);
    cJSON_free(canon);
}

void manifest_print(const struct manifest *m, FILE *f) {
    char *s = cJSON_PrintUnformatted(m->key_fields);
    fprintf(f, "%s: manifest %s\n%s: device %s (recorded, not in the key)\n%s: cache_key %s\n", check_progname(), s,
            check_progname(), m->device, check_progname(), m->cache_key[0] ? m->cache_key : "(unsealed)");
    cJSON_free(s);
}

/* ---- the existing results file ---- */

/* The results file at m->result_path, or NULL when there is none. A file that is not a results file (a crash
 * cannot leave one: writes are atomic, but a hand edit or a bad merge can) stops the run with the way out. */
static cJSON *existing_read(const struct manifest *m) {
    if (!file_exists(m->result_path)) return NULL;
    size_t len;
    char *text = file_read_all(m->result_path, &len);
    const char *end = NULL;
    cJSON *old = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    free(text);
    if (!old)
        die("%s: corrupt results file (invalid JSON near byte %zu); hint: restore it (git checkout -- %s) or "
            "recompute it with FORCE=1 (driver flag --force)", m->result_path, off, m->result_path);
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(old, "manifest");
    char dup[256];
    if (!cJSON_IsObject(man) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(old, "metrics")) ||
        json_results_duplicate(old, dup, sizeof dup)) {
        cJSON_Delete(old);
        die("%s: corrupt results file (expected objects 'manifest' and 'metrics', no key twice); hint: restore it (git checkout "
            "-- %s) or recompute it with FORCE=1 (driver flag --force)", m->result_path, m->result_path);
    }
    return old;
}

static int is_sampled(const cJSON *v) { return cJSON_IsString(v) && !strncmp(v->valuestring, "sampled", 7); }

/* A parameter that says this run scores or calibrates on sampled text where the existing result used files. */
static int params_worse(const cJSON *ours, const cJSON *theirs, char *why, size_t n) {
    for (const cJSON *t = theirs ? theirs->child : NULL; t; t = t->next) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ours, t->string);
        if (cJSON_IsString(t) && !is_sampled(t) && is_sampled(o)) {
            snprintf(why, n, "parameter '%s' is '%s' there but '%s' here", t->string, t->valuestring, o->valuestring);
            return 1;
        }
    }
    return 0;
}

static const cJSON *input_named(const cJSON *inputs, const char *name) {
    for (const cJSON *it = inputs ? inputs->child : NULL; it; it = it->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) return it;
    }
    return NULL;
}

/* Ours a strict subset of theirs, by input name: the existing result saw everything this run has, and more. */
static int inputs_worse(const cJSON *ours, const cJSON *theirs, char *why, size_t n) {
    int n_ours = 0, n_theirs = 0;
    for (const cJSON *it = ours ? ours->child : NULL; it; it = it->next, n_ours++) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (!cJSON_IsString(nm) || !input_named(theirs, nm->valuestring)) return 0;
    }
    const char *lacking = NULL;
    for (const cJSON *it = theirs ? theirs->child : NULL; it; it = it->next, n_theirs++) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (!lacking && cJSON_IsString(nm) && !input_named(ours, nm->valuestring)) lacking = nm->valuestring;
    }
    if (n_theirs <= n_ours || !lacking) return 0;
    snprintf(why, n, "it used input '%s', which this run does not have", lacking);
    return 1;
}

static const cJSON *case_named(const cJSON *cases, const char *name) {
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) return c;
    }
    return NULL;
}

/* Metrics: every number there is a number here; every named case there exists here. */
static int metrics_worse(const cJSON *ours, const cJSON *theirs, const cJSON *our_cases, const cJSON *their_cases,
                         char *why, size_t n) {
    for (const cJSON *t = theirs ? theirs->child : NULL; t; t = t->next) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ours, t->string);
        if (cJSON_IsNumber(t) && !cJSON_IsNumber(o)) {
            snprintf(why, n, "metric '%s' is %.17g there but %s here", t->string, t->valuedouble,
                     o ? "null" : "absent");
            return 1;
        }
        if (is_sampled(o) && cJSON_IsString(t) && !is_sampled(t)) {
            snprintf(why, n, "metric '%s' is '%s' there but '%s' here", t->string, t->valuestring, o->valuestring);
            return 1;
        }
    }
    for (const cJSON *c = their_cases ? their_cases->child : NULL; c; c = c->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(nm) && !case_named(our_cases, nm->valuestring)) {
            snprintf(why, n, "case '%s' is there but not here", nm->valuestring);
            return 1;
        }
    }
    return 0;
}

int manifest_existing_better(const struct manifest *m, const cJSON *metrics, const cJSON *cases, char *why,
                             size_t n) {
    cJSON *old = existing_read(m);
    if (!old) return 0;
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(old, "manifest");
    int worse = params_worse(m->params, cJSON_GetObjectItemCaseSensitive(man, "params"), why, n) ||
                (metrics && metrics_worse(metrics, cJSON_GetObjectItemCaseSensitive(old, "metrics"), cases,
                                          cJSON_GetObjectItemCaseSensitive(old, "cases"), why, n));
    cJSON_Delete(old);
    return worse;
}

int manifest_cache_hit(struct manifest *m) {
    CHECK(m->cache_key[0], "manifest_cache_hit before manifest_seal");
    m->guarded = 1;
    cJSON *old = existing_read(m);
    if (!old) return 0;
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(old, "manifest");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(man, "cache_key");
    int hit = cJSON_IsString(key) && strcmp(key->valuestring, m->cache_key) == 0;
    char why[512];
    if (!hit && (params_worse(m->params, cJSON_GetObjectItemCaseSensitive(man, "params"), why, sizeof why) ||
                 inputs_worse(m->inputs, cJSON_GetObjectItemCaseSensitive(man, "inputs"), why, sizeof why))) {
        warn("%s: kept: this machine can only compute a worse-informed result (%s); FORCE=1 (--force) replaces it",
             m->result_path, why);
        hit = 1;
    }
    cJSON_Delete(old);
    return hit;
}

int manifest_existing_param_is(const struct manifest *m, const char *key, const char *value) {
    cJSON *old = existing_read(m);
    if (!old) return 0;
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(old, "manifest");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(man, "params");
    const cJSON *v = params ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;
    int is = cJSON_IsString(v) && strcmp(v->valuestring, value) == 0;
    cJSON_Delete(old);
    return is;
}

void manifest_write_result(struct manifest *m, cJSON *metrics, cJSON *cases) {
    CHECK(m->cache_key[0], "manifest_write_result before manifest_seal");
    /* Every number must be finite: cJSON would print NaN as null and hide a broken metric. */
    for (const cJSON *it = metrics->child; it; it = it->next)
        if (cJSON_IsNumber(it) && !(it->valuedouble == it->valuedouble && it->valuedouble - it->valuedouble == 0))
            die("%s: metric '%s' is not finite", m->result_path, it->string);
    char why[512];
    if (m->guarded && manifest_existing_better(m, metrics, cases, why, sizeof why))
        die("%s: kept: it is better informed than this run's result (%s); FORCE=1 (--force) replaces it",
            m->result_path, why);
    const char *rev = getenv("QL_GIT_REV");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "experiment", cJSON_Duplicate(json_get(m->key_fields, "experiment", "manifest"), 1));
    cJSON_AddItemToObject(root, "model", cJSON_Duplicate(json_get(m->key_fields, "model", "manifest"), 1));
    cJSON_AddItemToObject(root, "recipe", cJSON_Duplicate(json_get(m->key_fields, "recipe", "manifest"), 1));
    cJSON *man = cJSON_Duplicate(m->key_fields, 1);
    cJSON_AddStringToObject(man, "device", m->device);
    cJSON_AddStringToObject(man, "cache_key", m->cache_key);
    cJSON_AddItemToObject(root, "manifest", man);
    cJSON_AddItemToObject(root, "metrics", metrics);
    if (cases) cJSON_AddItemToObject(root, "cases", cases);
    json_write_atomic(m->result_path, root);
    cJSON_Delete(root);
    double t_end = wall_seconds();
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON *run = cJSON_CreateObject();
    cJSON_AddStringToObject(run, "cache_key", m->cache_key);
    cJSON_AddStringToObject(run, "code_version", rev && *rev ? rev : "unknown");
    cJSON_AddNumberToObject(run, "start_unix_s", m->t_start);
    cJSON_AddNumberToObject(run, "end_unix_s", t_end);
    cJSON_AddNumberToObject(run, "wall_s", t_end - m->t_start);
    cJSON_AddStringToObject(run, "host", host);
    json_write_atomic(m->run_path, run);
    cJSON_Delete(run);
}

