/* logits_file -- reading and writing QLLOGITS files; see logits_file.h. */
#include "model/logits_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"

static uint32_t rd_u32(FILE *f, const char *path) {
    unsigned char b[4];
    xfread(b, 1, 4, f, path);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void logits_file_read(struct logits_file *lf, const char *path) {
    memset(lf, 0, sizeof *lf);
    FILE *f = xfopen(path, "rb");
    char magic[8];
    xfread(magic, 1, 8, f, path);
    if (memcmp(magic, LOGITS_FILE_MAGIC, 8) != 0) die("%s: not a logits file (magic is not %s)", path, LOGITS_FILE_MAGIC);
    uint32_t version = rd_u32(f, path);
    if (version != LOGITS_FILE_VERSION) die("%s: logits file version %u, expected %d", path, version, LOGITS_FILE_VERSION);
    lf->n_seqs = (int)rd_u32(f, path);
    lf->V = rd_u32(f, path);
    lf->D = rd_u32(f, path);
    lf->n_hidden = rd_u32(f, path);
    lf->seqs = xcalloc((size_t)(lf->n_seqs ? lf->n_seqs : 1), sizeof *lf->seqs);
    for (int s = 0; s < lf->n_seqs; s++) {
        struct logits_seq *q = &lf->seqs[s];
        q->T = rd_u32(f, path);
        q->ids = xmalloc((size_t)q->T * sizeof(int32_t));
        q->logits = xmalloc((size_t)(q->T * lf->V) * sizeof(float));
        // The host is little-endian (x86-64, aarch64): the arrays are read as they lie.
        xfread(q->ids, sizeof(int32_t), (size_t)q->T, f, path);
        xfread(q->logits, sizeof(float), (size_t)(q->T * lf->V), f, path);
        if (lf->n_hidden) {
            q->hidden = xmalloc((size_t)(lf->n_hidden * q->T * lf->D) * sizeof(float));
            xfread(q->hidden, sizeof(float), (size_t)(lf->n_hidden * q->T * lf->D), f, path);
        }
    }
    xfclose(f, path);
}

void logits_file_write(const char *path, const struct logits_file *lf) {
    size_t n = 8 + 5 * 4;
    for (int s = 0; s < lf->n_seqs; s++)
        n += 4 + (size_t)lf->seqs[s].T * (4 + 4 * (size_t)lf->V + 4 * (size_t)(lf->n_hidden * lf->D));
    unsigned char *buf = xmalloc(n), *p = buf;
    uint32_t hdr[5] = {LOGITS_FILE_VERSION, (uint32_t)lf->n_seqs, (uint32_t)lf->V, (uint32_t)lf->D,
                       (uint32_t)lf->n_hidden};
    memcpy(p, LOGITS_FILE_MAGIC, 8);
    p += 8;
    memcpy(p, hdr, sizeof hdr);
    p += sizeof hdr;
    for (int s = 0; s < lf->n_seqs; s++) {
        const struct logits_seq *q = &lf->seqs[s];
        uint32_t T = (uint32_t)q->T;
        memcpy(p, &T, 4);
        p += 4;
        memcpy(p, q->ids, (size_t)q->T * 4);
        p += q->T * 4;
        memcpy(p, q->logits, (size_t)(q->T * lf->V) * 4);
        p += q->T * lf->V * 4;
        if (lf->n_hidden) {
            memcpy(p, q->hidden, (size_t)(lf->n_hidden * q->T * lf->D) * 4);
            p += lf->n_hidden * q->T * lf->D * 4;
        }
    }
    CHECK((size_t)(p - buf) == n, "logits file size");
    file_write_atomic(path, buf, n);
    free(buf);
}

void logits_file_free(struct logits_file *lf) {
    for (int s = 0; s < lf->n_seqs; s++) {
        free(lf->seqs[s].ids);
        free(lf->seqs[s].logits);
        free(lf->seqs[s].hidden);
    }
    free(lf->seqs);
    memset(lf, 0, sizeof *lf);
}
