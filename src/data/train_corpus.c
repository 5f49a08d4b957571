/* train_corpus -- a prefix of the training text, through liblzma; see train_corpus.h. */
#include "data/train_corpus.h"

#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"

char *train_corpus_find(void) {
    const char *env = getenv("QL_CORPUS_DIR");
    const char *dirs[3] = {env && *env ? env : NULL, "corpus", "../shared/corpus"};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i]) continue;
        size_t n = strlen(dirs[i]) + strlen(TRAIN_CORPUS_NAME) + 2;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s", dirs[i], TRAIN_CORPUS_NAME);
        if (file_exists(p)) return p;
        free(p);
    }
    return NULL;
}

char *train_corpus_prefix(const char *path, size_t max_bytes, size_t *len) {
    CHECK(max_bytes > 0 && max_bytes <= TRAIN_CORPUS_MAX_PREFIX, "prefix of %zu bytes", max_bytes);
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: cannot open (expected the xz-compressed training text)", path);
    lzma_stream s = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) die("%s: liblzma decoder init failed", path);
    char *out = xmalloc(max_bytes + 1);
    uint8_t in[1 << 16];
    s.next_out = (uint8_t *)out;
    s.avail_out = max_bytes;
    lzma_action act = LZMA_RUN;
    while (s.avail_out > 0) {
        if (s.avail_in == 0 && act == LZMA_RUN) {
            s.next_in = in;
            s.avail_in = fread(in, 1, sizeof in, f);
            if (ferror(f)) die("%s: read error", path);
            if (feof(f)) act = LZMA_FINISH;
        }
        lzma_ret r = lzma_code(&s, act);
        if (r == LZMA_STREAM_END) break;
        if (r != LZMA_OK) die("%s: xz decoding failed (liblzma error %d): expected an .xz stream", path, (int)r);
    }
    size_t n = max_bytes - s.avail_out;
    lzma_end(&s);
    fclose(f);
    while (n > 0 && out[n - 1] != '\n') n--;
    if (n == 0) die("%s: no complete line in the first %zu bytes", path, max_bytes);
    out[n] = 0;
    *len = n;
    return out;
}
