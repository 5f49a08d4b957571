/* hf_cache -- Hugging Face model ids resolved in the local cache; see hf_cache.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/hf_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* "org/name" with safe characters only (no "..", no second slash). */
static int id_shaped(const char *s) {
    if (!*s || s[0] == '.' || s[0] == '/') return 0;
    int slashes = 0;
    for (const char *p = s; *p && *p != '@'; p++) {
        if (*p == '/') slashes++;
        else if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= 'A' && *p <= 'Z')))
            return 0;
    }
    return slashes == 1 && !strstr(s, "..") && s[strlen(s) - 1] != '/';
}

/* The first line of a refs file, trimmed, into out; 0 if absent. */
static int read_ref(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (!ok) return 0;
    out[strcspn(out, " \r\n\t")] = 0;
    return out[0] != 0 && !strchr(out, '/');
}

char *hf_cache_find(const char *name, char *searched, size_t n) {
    struct stat sb;
    if (searched && n) searched[0] = 0;
    if (stat(name, &sb) == 0 || !id_shaped(name)) return xstrdup(name);
    char id[512], rev[256] = "main";
    snprintf(id, sizeof id, "%s", name);
    char *at = strchr(id, '@');
    if (at) {
        *at = 0;
        snprintf(rev, sizeof rev, "%s", at + 1);
        if (!rev[0] || strchr(rev, '/') || strstr(rev, "..")) return NULL;
    }
    char repo[600] = "models--";
    for (const char *p = id; *p; p++) {
        size_t l = strlen(repo);
        if (*p == '/') snprintf(repo + l, sizeof repo - l, "--");
        else if (l + 1 < sizeof repo) repo[l] = *p, repo[l + 1] = 0;
    }
    /* The hub cache roots, in huggingface_hub's order of precedence (all that are set are tried). */
    char roots[4][1024];
    int n_roots = 0;
    const char *e;
    if ((e = getenv("HF_HUB_CACHE")) && *e) snprintf(roots[n_roots++], sizeof roots[0], "%s", e);
    if ((e = getenv("HF_HOME")) && *e) snprintf(roots[n_roots++], sizeof roots[0], "%s/hub", e);
    if ((e = getenv("XDG_CACHE_HOME")) && *e) snprintf(roots[n_roots++], sizeof roots[0], "%s/huggingface/hub", e);
    if ((e = getenv("HOME")) && *e) snprintf(roots[n_roots++], sizeof roots[0], "%s/.cache/huggingface/hub", e);
    for (int i = 0; i < n_roots; i++) {
        char base[4096], path[8192], hash[256];
        if (snprintf(base, sizeof base, "%s/%s", roots[i], repo) >= (int)sizeof base) continue;   /* too long */
        if (searched && n) {
            size_t l = strlen(searched);
            snprintf(searched + l, n - l, "%s%s", l ? ", " : "", base);
        }
        snprintf(path, sizeof path, "%s/refs/%s", base, rev);
        if (!read_ref(path, hash, sizeof hash)) snprintf(hash, sizeof hash, "%s", rev);   /* a commit hash */
        snprintf(path, sizeof path, "%s/snapshots/%s", base, hash);
        if (is_dir(path)) return xstrdup(path);
    }
    return NULL;
}

char *hf_cache_resolve(const char *name) {
    char searched[8192];
    char *p = hf_cache_find(name, searched, sizeof searched);
    if (!p) die("%s: not a folder and not in the local Hugging Face cache (no network access; searched %s for "
                "refs and snapshots)", name, searched[0] ? searched : "no cache folder: HF_HUB_CACHE, HF_HOME, HOME unset");
    return p;
}
