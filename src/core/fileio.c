/* fileio -- see fileio.h. */
#define _XOPEN_SOURCE 700
#include "core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"

void mkdir_p(const char *dir) {
    char *p = xstrdup(dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) die("%s: cannot create directory: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) die("%s: cannot create directory: %s", p, strerror(errno));
    free(p);
}

void mkdir_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return;
    char *dir = xstrdup(path);
    dir[slash - path] = '\0';
    mkdir_p(dir);
    free(dir);
}

static void unlink_cleanup(void *p) { unlink(p); }

void file_write_atomic(const char *path, const void *buf, size_t len) {
    mkdir_parent(path);
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    check_on_die(unlink_cleanup, tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) die("%s: cannot create: %s", tmp, strerror(errno));
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            unlink(tmp);
            die("%s: write failed: %s", tmp, strerror(errno));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        die("%s: flush failed: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        die("%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    }
    check_on_die_remove(unlink_cleanup, tmp);
    free(tmp);
}

// ---- temporary names ----

static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int fileio_remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode)) return unlink(path);
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmp_cleanup(void *arg) {
    struct fileio_tmp *t = arg;
    fileio_remove_tree(t->tmp);
}

void fileio_tmp_begin(struct fileio_tmp *t, const char *final_path, int is_dir) {
    size_t n = strlen(final_path) + 32;
    t->final = xstrdup(final_path);
    t->tmp = xmalloc(n);
    t->is_dir = is_dir;
    snprintf(t->tmp, n, "%s.tmp.%ld", final_path, (long)getpid());
    mkdir_parent(final_path);
    if (fileio_remove_tree(t->tmp) != 0) die("%s: cannot remove a stale temporary: %s", t->tmp, strerror(errno));
    if (is_dir && mkdir(t->tmp, 0777) != 0) die("%s: cannot create directory: %s", t->tmp, strerror(errno));
    check_on_die(tmp_cleanup, t);
}

void fileio_tmp_commit(struct fileio_tmp *t, int replace) {
    if (!t->is_dir) {
        int fd = open(t->tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) die("%s: cannot flush: %s", t->tmp, strerror(errno));
        close(fd);
        if (rename(t->tmp, t->final) != 0) die("%s: cannot rename %s into place: %s", t->final, t->tmp, strerror(errno));
    } else {
        char *old = NULL;
        struct stat sb;
        if (lstat(t->final, &sb) == 0) {
            if (!replace) die("%s: exists; refusing to replace it (use --force)", t->final);
            size_t n = strlen(t->final) + 32;
            old = xmalloc(n);
            snprintf(old, n, "%s.old.%ld", t->final, (long)getpid());
            if (rename(t->final, old) != 0) die("%s: cannot move aside to %s: %s", t->final, old, strerror(errno));
        }
        if (rename(t->tmp, t->final) != 0) {
            int e = errno;
            if (old) rename(old, t->final);
            die("%s: cannot rename %s into place: %s", t->final, t->tmp, strerror(e));
        }
        if (old && fileio_remove_tree(old) != 0) warn("%s: could not remove the replaced folder", old);
        free(old);
    }
    check_on_die_remove(tmp_cleanup, t);
    free(t->tmp), free(t->final);
    memset(t, 0, sizeof *t);
}

void fileio_tmp_abort(struct fileio_tmp *t) {
    fileio_remove_tree(t->tmp);
    check_on_die_remove(tmp_cleanup, t);
    free(t->tmp), free(t->final);
    memset(t, 0, sizeof *t);
}

int fileio_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int fileio_dir_nonempty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}
