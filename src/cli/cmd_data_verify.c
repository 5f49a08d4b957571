/* cmd_data_verify -- see cmd_data_verify.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd_data_verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "data/dataset.h"

static const char usage[] =
    "usage: ql data-verify [--data-dir DIR] [--fetch-list FILE]\n"
    "       ql data-verify --install NAME FILE --data-dir DIR\n"
    "  Checks every pinned evaluation file (src/data/dataset.c) where the programs will find it: the first of\n"
    "  --data-dir, $QL_DATA_DIR, ./data, ../shared/data that holds it. Prints one line per file on stderr;\n"
    "  exits 0 when all are verified, 1 when one is missing or its sha256 differs (NOT verified).\n"
    "  --fetch-list FILE  write the missing files that have a public URL, one per line:\n"
    "                     NAME<TAB>URL<TAB>SHA256 OF THE DOWNLOAD<TAB>MEMBER IN THE ZIP or -\n"
    "  --install NAME FILE  move FILE to DIR/NAME if its sha256 is NAME's pin; else remove it and exit 1\n";

static void require_dir(const char *dir) {
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) die_usage("--data-dir %s: not a folder", dir);
}

/* Moves a downloaded file into data_dir/name when it is the pinned file; removes it otherwise. */
static int install(const char *name, const char *file, const char *data_dir) {
    const struct dataset_file *f = dataset_file_by_name(name);
    if (!f) die_usage("--install: '%s' is not a pinned file (see src/data/dataset.c)", name);
    char err[512];
    if (dataset_verify(file, f->name, f->sha256, err, sizeof err, NULL) != 0) {
        unlink(file);
        die("%s: NOT installed (removed)", err);
    }
    size_t n = strlen(data_dir) + strlen(name) + 2;
    char *dst = xmalloc(n);
    snprintf(dst, n, "%s/%s", data_dir, name);
    mkdir_parent(dst);
    if (rename(file, dst) != 0) die("%s: cannot move %s into place: %s", dst, file, strerror(errno));
    fprintf(stderr, "\xe2\x9c\x93 %s (downloaded and verified: %s)\n", name, dst);
    free(dst);
    return 0;
}

int cmd_data_verify(int argc, char **argv) {
    const char *data_dir = NULL, *fetch_list = NULL, *inst_name = NULL, *inst_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(a, "--data-dir") && i + 1 < argc) data_dir = argv[++i];
        else if (!strcmp(a, "--fetch-list") && i + 1 < argc) fetch_list = argv[++i];
        else if (!strcmp(a, "--install") && i + 2 < argc) inst_name = argv[++i], inst_file = argv[++i];
        else { fputs(usage, stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (inst_name) {
        if (!data_dir) die_usage("--install needs --data-dir (where the file goes)");
        mkdir_p(data_dir);
        return install(inst_name, inst_file, data_dir);
    }
    if (data_dir) require_dir(data_dir);
    FILE *fl = NULL;
    struct fileio_tmp t;
    if (fetch_list) {
        fileio_tmp_begin(&t, fetch_list, 0);
        fl = xfopen(t.tmp, "w");
    }
    int bad = 0;
    for (int i = 0; i < dataset_file_count(); i++) {
        const struct dataset_file *f = dataset_file_at(i);
        char *path = dataset_find(f->name, data_dir);
        if (!path) {
            fprintf(stderr, "\xe2\x9c\x97 %s: not found (searched %s%s$QL_DATA_DIR, ./data, ../shared/data)%s\n",
                    f->name, data_dir ? data_dir : "", data_dir ? ", " : "",
                    f->url ? "" : "; no public URL (a derived file: see ../shared/data/SOURCES.md)");
            if (fl && f->url)
                fprintf(fl, "%s\t%s\t%s\t%s\n", f->name, f->url, f->url_sha256, f->member ? f->member : "-");
            bad = 1;
            continue;
        }
        char err[512];
        if (dataset_verify(path, f->name, f->sha256, err, sizeof err, NULL) != 0) {
            /* The programs read this copy first and stop on it: it is an error, not "verified elsewhere". */
            fprintf(stderr, "%s: error: %s: NOT verified (the programs read this copy; remove or replace it)\n",
                    check_progname(), err);
            bad = 1;
        } else {
            fprintf(stderr, "\xe2\x9c\x93 %s (verified: %s)\n", f->name, path);
        }
        free(path);
    }
    if (fl) {
        xfclose(fl, t.tmp);
        fileio_tmp_commit(&t, 0);
    }
    return bad ? 1 : 0;
}
