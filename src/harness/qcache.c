/* qcache -- the quantized-model cache shared by the drivers; see qcache.h (key, entry layout, size bound). */
#define _XOPEN_SOURCE 700
#include "harness/qcache.h"

#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "core/manifest.h"
#include "harness/qmodel_io.h"
#include "model/qwen3_gguf.h"
#include "ops/cpu_exec.h"
#include "qcode_id.h" /* build/gen/, written by the Makefile: QCODE_ID */

/* recipe_fields below writes every field of struct recipe: a new field is a build error here until it is added. */
_Static_assert(sizeof(struct recipe) == 152, "struct recipe changed: update recipe_fields() in qcache.c");

static const char MAGIC[8] = {'Q', 'L', 'Q', 'C', 'A', 'C', 'H', 'E'};
#define BYTE_ORDER_MARK 0x01020304u
/* magic 8 + version 4 + byte order 4 + key 64 + payload bytes 8 + payload sha256 64 + canon length 4 */
#define HEADER_FIXED 156

// ---- the key ----

/* Every field of struct recipe but desc (a comment), with exact float images (%a). */
static void recipe_fields(const struct recipe *r, char *buf, size_t n) {
    const struct qparams *p = &r->weight_params;
    snprintf(buf, n,
             "name=%s algo=%d transform=%d transform_block=%d weight=%d weight_params=%d,%d,%a,%d,%d,%d act_mode=%d "
             "act=%d gptq=%a,%d,%d,%d,%a awq=%d,%d,%d,%a,%d calib=%lld,%lld family=%d",
             r->name, (int)r->algo, (int)r->transform, r->transform_block, (int)r->weight, p->group_size,
             (int)p->mx_rule, (double)p->amax, (int)p->observer, (int)p->int4_rule, (int)p->nvfp4_rule,
             (int)r->act_mode, (int)r->act, r->gptq.damp, r->gptq.block, r->gptq.act_order, r->gptq.dynamic_groups,
             r->gptq.min_rows_k, r->awq.n_grid, r->awq.duo_scaling, r->awq.clip, r->awq.min_rows_k,
             r->awq.router_fold, (long long)r->calib_seqs, (long long)r->calib_len, (int)r->family);
}

static int has_file(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return file_exists(p);
}

int qcache_key(struct harness *h, const struct recipe *r, char key[SHA256_HEX_LEN], char **canon) {
    key[0] = 0;
    if (canon) *canon = NULL;
    const char *dir = h->o.model;
    if (r->algo == RECIPE_ALGO_CHECKPOINT || h->is_checkpoint) return 0;
    char *gguf = qwen3_gguf_path(dir);
    if (gguf) {
        free(gguf);
        return 0;
    }
    if (!has_file(dir, "config.json") ||
        !(has_file(dir, "model.safetensors") || has_file(dir, "model.safetensors.index.json")))
        return 0;
    struct manifest m;
    manifest_init(&m, ".", "qcache", "model", r->name);
    manifest_input_checkpoint(&m, dir);
    static const char *const EXTRA[] = {"generation_config.json", "tokenizer_config.json"};
    for (size_t i = 0; i < sizeof EXTRA / sizeof EXTRA[0]; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, EXTRA[i]);
        if (file_exists(p)) manifest_input(&m, EXTRA[i], p, NULL);
    }
    char fields[1024];
    recipe_fields(r, fields, sizeof fields);
    manifest_param_int(&m, "qcache_version", QCACHE_VERSION);
    manifest_param_str(&m, "code_id", QCODE_ID);
    manifest_param_str(&m, "compiler", __VERSION__);
    manifest_param_str(&m, "backend", cpu_exec_desc());
    manifest_param_str(&m, "blas_config", openblas_get_config());
    manifest_param_str(&m, "recipe_fields", fields);
    harness_manifest_recipe(h, &m, r);
    char *text = cJSON_PrintUnformatted(m.key_fields);
    CHECK(text, "cJSON_PrintUnformatted failed");
    sha256_buf(text, strlen(text), key);
    if (canon) *canon = xstrdup(text);
    cJSON_free(text);
    manifest_free(&m);
    return 1;
}

char *qcache_entry_path(const char *dir, const char *key, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s.qc", dir, key);
    return buf;
}

// ---- files ----

/* The whole file, or NULL: absent (*why "" : a plain miss) or unreadable (*why says why). */
static uint8_t *read_file(const char *path, size_t *len, char *why, size_t nwhy) {
    why[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno != ENOENT) snprintf(why, nwhy, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(why, nwhy, "not a regular file");
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *buf = xmalloc(n ? n : 1);
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            snprintf(why, nwhy, "read failed at byte %zu: %s", got, k < 0 ? strerror(errno) : "end of file");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)k;
    }
    close(fd);
    *len = n;
    return buf;
}

/* The header of an entry (qcache.h): "" when it is whole and names key, else the reason it is not. Sets
 * *payload / *payload_n. */
static void check_header(const uint8_t *buf, size_t n, const char *key, const uint8_t **payload, size_t *payload_n,
                         char *why, size_t nwhy) {
    why[0] = 0;
    uint32_t version, bom, canon_len;
    uint64_t payload_bytes;
    if (n < HEADER_FIXED) {
        snprintf(why, nwhy, "truncated header (%zu bytes)", n);
        return;
    }
    if (memcmp(buf, MAGIC, 8)) {
        snprintf(why, nwhy, "not a qcache entry (bad magic)");
        return;
    }
    memcpy(&version, buf + 8, 4);
    memcpy(&bom, buf + 12, 4);
    memcpy(&payload_bytes, buf + 80, 8);
    memcpy(&canon_len, buf + 152, 4);
    if (version != QCACHE_VERSION) snprintf(why, nwhy, "version %u, this build reads %d", version, QCACHE_VERSION);
    else if (bom != BYTE_ORDER_MARK) snprintf(why, nwhy, "written with another byte order");
    else if (strlen(key) != 64 || memcmp(buf + 16, key, 64))
        snprintf(why, nwhy, "holds another key (%.64s)", (const char *)buf + 16);
    else if ((uint64_t)canon_len > n - HEADER_FIXED || payload_bytes != n - HEADER_FIXED - canon_len)
        snprintf(why, nwhy, "truncated or padded: %zu bytes where the header says %llu", n,
                 (unsigned long long)HEADER_FIXED + canon_len + payload_bytes);
    if (why[0]) return;
    const uint8_t *canon = buf + HEADER_FIXED;
    char hex[SHA256_HEX_LEN];
    *payload = canon + canon_len;
    *payload_n = (size_t)payload_bytes;
    sha256_buf(*payload, *payload_n, hex);
    if (memcmp(hex, buf + 88, 64)) {
        snprintf(why, nwhy, "payload sha256 %s differs from the header's (corrupt)", hex);
        return;
    }
    if (canon_len) {
        sha256_buf(canon, canon_len, hex);
        if (memcmp(hex, key, 64)) snprintf(why, nwhy, "its key text does not hash to its key");
    }
}

int qcache_lookup(const char *dir, const char *key, struct qwen3_model *m, struct quant_stats *st) {
    char path[4096], why[256];
    qcache_entry_path(dir, key, path, sizeof path);
    size_t n = 0, payload_n = 0;
    uint8_t *buf = read_file(path, &n, why, sizeof why);
    if (!buf) {
        if (why[0]) warn("qcache: %s: %s; treated as a miss", path, why);
        return 0;
    }
    const uint8_t *payload = NULL;
    check_header(buf, n, key, &payload, &payload_n, why, sizeof why);
    /* The whole payload is checked against m first; only then installed (a miss leaves m untouched). */
    if (why[0] || qmodel_io_check(payload, payload_n, m, why, sizeof why) != 0) {
        warn("qcache: %s: %s; treated as a miss (the next store replaces it)", path, why);
        free(buf);
        return 0;
    }
    qmodel_io_apply(payload, payload_n, m, st);
    free(buf);
    utimensat(AT_FDCWD, path, NULL, 0);   /* most recently used (qcache_prune) */
    return 1;
}

// ---- storing and pruning ----
// mkdir_tolerant and write_atomic below and read_file above are the non-fatal twins of core/fileio.h's mkdir_p,
// file_write_atomic and json_io's readers: a cache that cannot be written or read is a warning, never a stop.
// They belong in core/fileio.c as *_try variants; that file is linked into the drivers, so the move waits for
// the regeneration that lands the wiring (git revert 460ed08).

static int mkdir_tolerant(const char *dir) {
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/') continue;
        const char c = *s;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) rc = -1;
        *s = c;
        if (!c) break;
    }
    free(p);
    struct stat sb;
    return rc == 0 || (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) ? 0 : -1;
}

static void unlink_cleanup(void *p) { unlink(p); }

/* Two byte ranges written one after the other. */
struct part {
    const uint8_t *p;
    size_t n;
};

/* tmp + fsync + rename, as core/fileio.h, but a failure is returned (-1, errno kept), never fatal. */
static int write_atomic(const char *path, const struct part *parts, int n_parts) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    check_on_die(unlink_cleanup, tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666), rc = fd < 0 ? -1 : 0;
    for (int i = 0; i < n_parts && rc == 0; i++) {
        size_t off = 0;
        while (off < parts[i].n) {
            ssize_t w = write(fd, parts[i].p + off, parts[i].n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                rc = -1;
                break;
            }
            off += (size_t)w;
        }
    }
    int err = errno;
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0) && rc == 0) rc = -1, err = errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1, err = errno;
    if (rc != 0) unlink(tmp);
    check_on_die_remove(unlink_cleanup, tmp);
    errno = err;
    return rc;
}

static int64_t max_bytes_from_env(void) {
    const char *s = getenv("QL_QCACHE_MAX_MB");
    if (!s || !*s) return (int64_t)QCACHE_MAX_MB_DEFAULT << 20;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0 || v > (1LL << 40)) {
        warn("QL_QCACHE_MAX_MB: expected a size in MiB, got '%s'; using %d", s, QCACHE_MAX_MB_DEFAULT);
        return (int64_t)QCACHE_MAX_MB_DEFAULT << 20;
    }
    return (int64_t)v << 20;
}

int qcache_store(const char *dir, const char *key, const char *canon, const struct qwen3_model *m,
                 const struct quant_stats *st) {
    CHECK(strlen(key) == 64, "qcache: key '%s' is not a sha256", key);
    char path[4096];
    qcache_entry_path(dir, key, path, sizeof path);
    if (mkdir_tolerant(dir) != 0) {
        warn("qcache: %s: cannot create the folder (%s); the quantized model is not cached", dir, strerror(errno));
        return 0;
    }
    uint8_t *payload;
    size_t payload_n;
    qmodel_io_write(m, st, &payload, &payload_n);
    char hex[SHA256_HEX_LEN];
    sha256_buf(payload, payload_n, hex);
    const uint32_t canon_len = canon ? (uint32_t)strlen(canon) : 0, version = QCACHE_VERSION, bom = BYTE_ORDER_MARK;
    const uint64_t pn = payload_n;
    uint8_t *head = xmalloc(HEADER_FIXED + canon_len);
    memcpy(head, MAGIC, 8);
    memcpy(head + 8, &version, 4);
    memcpy(head + 12, &bom, 4);
    memcpy(head + 16, key, 64);
    memcpy(head + 80, &pn, 8);
    memcpy(head + 88, hex, 64);
    memcpy(head + 152, &canon_len, 4);
    if (canon_len) memcpy(head + HEADER_FIXED, canon, canon_len);
    const struct part parts[2] = {{head, HEADER_FIXED + canon_len}, {payload, payload_n}};
    const int rc = write_atomic(path, parts, 2);
    if (rc != 0) warn("qcache: %s: cannot write (%s); the quantized model is not cached", path, strerror(errno));
    else fprintf(stderr, "%s: qcache: stored %s (%.1f MiB)\n", check_progname(), path,
                 (double)(HEADER_FIXED + canon_len + payload_n) / 1048576.0);
    free(payload);
    free(head);
    if (rc == 0) qcache_prune(dir, max_bytes_from_env(), key);
    return rc == 0;
}

struct entry {
    char *path;
    int64_t bytes;
    struct timespec mtime;
};

static int cmp_entry(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->path, y->path);
}

int qcache_prune(const char *dir, int64_t max_bytes, const char *keep) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct entry *es = NULL;
    int n = 0, removed = 0;
    int64_t total = 0;
    const time_t now = time(NULL);
    char keep_name[128] = "";
    if (keep) snprintf(keep_name, sizeof keep_name, "%s.qc", keep);
    for (struct dirent *de; (de = readdir(d));) {
        const char *nm = de->d_name;
        const size_t len = strlen(nm);
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, nm);
        struct stat sb;
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (strstr(nm, ".qc.tmp.")) {   /* a writer that was killed (SIGKILL leaves its temp file) */
            if (now - sb.st_mtime > 3600) unlink(p);
            continue;
        }
        if (len < 4 || strcmp(nm + len - 3, ".qc")) continue;
        total += (int64_t)sb.st_size;
        if (!strcmp(nm, keep_name)) continue;
        es = xrealloc(es, (size_t)(n + 1) * sizeof *es);
        es[n++] = (struct entry){xstrdup(p), (int64_t)sb.st_size, sb.st_mtim};
    }
    closedir(d);
    if (n > 1) qsort(es, (size_t)n, sizeof *es, cmp_entry);
    for (int i = 0; i < n && total > max_bytes; i++) {
        if (unlink(es[i].path) != 0) continue;
        total -= es[i].bytes;
        removed++;
        fprintf(stderr, "%s: qcache: removed %s (least recently used; the cache is bounded at %lld MiB)\n",
                check_progname(), es[i].path, (long long)(max_bytes >> 20));
    }
    for (int i = 0; i < n; i++) free(es[i].path);
    free(es);
    return removed;
}
