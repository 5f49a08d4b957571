/* nll_cache -- per-token NLL files keyed by a run identity (see nll_cache.h). */
#include "eval/nll_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/sha256.h"

static const char NLL_MAGIC[8] = {'Q', 'L', 'N', 'L', 'L', 'v', '0', '1'};

/* SHA-256 over the parts' bytes in order (the payload as stored). */
static void payload_sha(int n_parts, const int64_t *n, const double *const *parts, char hex[SHA256_HEX_LEN]) {
    struct sha256_ctx c;
    sha256_init(&c);
    for (int i = 0; i < n_parts; i++) sha256_update(&c, parts[i], (size_t)n[i] * sizeof(double));
    uint8_t dig[32];
    sha256_final(&c, dig);
    for (int b = 0; b < 32; b++) snprintf(hex + 2 * b, 3, "%02x", dig[b]);
}

void nll_cache_write(const char *path, const char *key, int n_parts, const int64_t *n, const double *const *parts) {
    CHECK(n_parts >= 1 && strlen(key) == 64, "nll_cache_write: %d parts, key '%s'", n_parts, key);
    char hex[SHA256_HEX_LEN];
    payload_sha(n_parts, n, parts, hex);
    mkdir_parent(path);
    struct fileio_tmp t;
    fileio_tmp_begin(&t, path, 0);
    FILE *f = xfopen(t.tmp, "wb");
    const uint32_t head[2] = {NLL_CACHE_VERSION, (uint32_t)n_parts};
    xfwrite(NLL_MAGIC, 1, sizeof NLL_MAGIC, f, t.tmp);
    xfwrite(head, sizeof head[0], 2, f, t.tmp);
    xfwrite(key, 1, 64, f, t.tmp);
    xfwrite(hex, 1, 64, f, t.tmp);
    xfwrite(n, sizeof n[0], (size_t)n_parts, f, t.tmp);
    for (int i = 0; i < n_parts; i++) xfwrite(parts[i], sizeof(double), (size_t)n[i], f, t.tmp);
    xfclose(f, t.tmp);
    fileio_tmp_commit(&t, 1);
}

int nll_cache_read(const char *path, const char *key, int n_parts, const int64_t *n, double *const *parts,
                   char *why, size_t why_len) {
    CHECK(n_parts >= 1 && strlen(key) == 64, "nll_cache_read: %d parts, key '%s'", n_parts, key);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(why, why_len, "absent"); return 1; }
    int bad = 1;
    char magic[8], fkey[64], fsha[64], hex[SHA256_HEX_LEN];
    uint32_t head[2];
    int64_t *fn = xmalloc((size_t)n_parts * sizeof *fn);
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, NLL_MAGIC, 8)) { snprintf(why, why_len, "not an NLL cache file (magic)"); goto done; }
    if (fread(head, sizeof head[0], 2, f) != 2) { snprintf(why, why_len, "truncated header"); goto done; }
    if (head[0] != NLL_CACHE_VERSION) { snprintf(why, why_len, "version %u, expected %u", head[0], NLL_CACHE_VERSION); goto done; }
    if (head[1] != (uint32_t)n_parts) { snprintf(why, why_len, "%u parts, expected %d", head[1], n_parts); goto done; }
    if (fread(fkey, 1, 64, f) != 64 || fread(fsha, 1, 64, f) != 64) { snprintf(why, why_len, "truncated header"); goto done; }
    if (memcmp(fkey, key, 64)) { snprintf(why, why_len, "key differs (written for %.16s..., expected %.16s...)", fkey, key); goto done; }
    if (fread(fn, sizeof fn[0], (size_t)n_parts, f) != (size_t)n_parts) { snprintf(why, why_len, "truncated header"); goto done; }
    for (int i = 0; i < n_parts; i++)
        if (fn[i] != n[i]) { snprintf(why, why_len, "part %d holds %lld values, expected %lld", i, (long long)fn[i], (long long)n[i]); goto done; }
    for (int i = 0; i < n_parts; i++)
        if (fread(parts[i], sizeof(double), (size_t)n[i], f) != (size_t)n[i]) { snprintf(why, why_len, "truncated payload"); goto done; }
    if (fgetc(f) != EOF) { snprintf(why, why_len, "trailing bytes"); goto done; }
    payload_sha(n_parts, n, (const double *const *)parts, hex);
    if (memcmp(hex, fsha, 64)) { snprintf(why, why_len, "payload sha256 differs"); goto done; }
    bad = 0;
done:
    fclose(f);
    free(fn);
    return bad;
}
