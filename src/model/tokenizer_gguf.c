/* tokenizer_gguf -- tokenizer.ggml.* as a tokenizer.json tree; see tokenizer_gguf.h. */
#include "model/tokenizer_gguf.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/gguf.h"
#include "model/pretokenize.h"

/* A GGUF string as a cJSON string (no NUL inside: a byte-level spelling never has one). */
static char *cstr(const struct gguf_file *g, const struct gguf_kv *kv, uint64_t i) {
    if (memchr(kv->strs[i], '\0', (size_t)kv->str_lens[i]))
        die("%s: %s[%llu] holds a NUL byte", g->path, kv->key, (unsigned long long)i);
    char *s = xmalloc((size_t)kv->str_lens[i] + 1);
    memcpy(s, kv->strs[i], (size_t)kv->str_lens[i]);
    s[kv->str_lens[i]] = '\0';
    return s;
}

static const struct gguf_kv *need_arr(const struct gguf_file *g, const char *key, int want_str) {
    const struct gguf_kv *kv = gguf_find_kv(g, key);
    if (!kv) die("%s: missing key '%s' (no tokenizer in this GGUF)", g->path, key);
    if (kv->type != GGUF_TYPE_ARRAY || (want_str ? kv->arr_type != GGUF_TYPE_STRING : kv->arr_type == GGUF_TYPE_STRING))
        die("%s: key '%s': expected an array of %s", g->path, key, want_str ? "strings" : "integers");
    return kv;
}

cJSON *tokenizer_gguf_json(const char *path, int32_t *eos_id) {
    struct gguf_file g;
    gguf_open(&g, path);
    char *model = gguf_get_string(&g, "tokenizer.ggml.model"), *pre = gguf_get_string(&g, "tokenizer.ggml.pre");
    if (!model || strcmp(model, "gpt2"))
        die("%s: tokenizer.ggml.model is '%s', expected gpt2 (byte-level BPE)", path, model ? model : "(absent)");
    if (!pre || strcmp(pre, "qwen2"))
        die("%s: tokenizer.ggml.pre is '%s', expected qwen2 (Qwen's split regex)", path, pre ? pre : "(absent)");
    const struct gguf_kv *tok = need_arr(&g, "tokenizer.ggml.tokens", 1);
    const struct gguf_kv *typ = need_arr(&g, "tokenizer.ggml.token_type", 0);
    const struct gguf_kv *mer = need_arr(&g, "tokenizer.ggml.merges", 1);
    if (typ->n != tok->n)
        die("%s: %llu token types for %llu tokens", path, (unsigned long long)typ->n, (unsigned long long)tok->n);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "normalizer", cJSON_Parse("{\"type\":\"NFC\"}"));
    cJSON *pt = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pt, "type", "Sequence");
    cJSON *seq = cJSON_AddArrayToObject(pt, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", PRETOKENIZE_QWEN_PATTERN);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(seq, split);
    cJSON_AddItemToArray(seq, cJSON_Parse("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,"
                                          "\"use_regex\":false}"));
    cJSON_AddItemToObject(root, "decoder", cJSON_Parse("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                                                       "\"trim_offsets\":false,\"use_regex\":false}"));
    cJSON *bpe = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(bpe, "type", "BPE");
    cJSON_AddBoolToObject(bpe, "byte_fallback", 0);
    cJSON_AddBoolToObject(bpe, "ignore_merges", 0);
    cJSON *vocab = cJSON_AddObjectToObject(bpe, "vocab");
    cJSON *merges = cJSON_AddArrayToObject(bpe, "merges");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (uint64_t i = 0; i < tok->n; i++) {
        int64_t t = gguf_array_int(typ, i);
        if (t == 5) continue;   /* UNUSED: a hole */
        char *s = cstr(&g, tok, i);
        if (t == 1) cJSON_AddItemToObject(vocab, s, cJSON_CreateNumber((double)i));
        else if (t == 3 || t == 4) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", (double)i);
            cJSON_AddStringToObject(a, "content", s);
            cJSON_AddBoolToObject(a, "single_word", 0);
            cJSON_AddBoolToObject(a, "lstrip", 0);
            cJSON_AddBoolToObject(a, "rstrip", 0);
            cJSON_AddBoolToObject(a, "normalized", 0);
            cJSON_AddBoolToObject(a, "special", t == 3);
            cJSON_AddItemToArray(added, a);
        } else die("%s: token %llu ('%s') has type %lld, not NORMAL, CONTROL, USER_DEFINED or UNUSED", path,
                   (unsigned long long)i, s, (long long)t);
        free(s);
    }
    for (uint64_t i = 0; i < mer->n; i++) {
        char *s = cstr(&g, mer, i);
        cJSON_AddItemToArray(merges, cJSON_CreateString(s));
        free(s);
    }
    int64_t v;
    *eos_id = gguf_get_int(&g, "tokenizer.ggml.eos_token_id", &v) ? (int32_t)v : -1;
    free(model);
    free(pre);
    gguf_close(&g);
    return root;
}
