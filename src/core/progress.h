/* progress -- a one-line progress bar on stderr, drawn only when stderr is a terminal (logs stay clean).
 * Redraws at most every 0.1 s; progress_end() finishes the line. Not thread-safe: call from one thread. */
#ifndef SRC_CORE_PROGRESS_H
#define SRC_CORE_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct progress {
    const char *label;
    int64_t total;
    int64_t done;
    double t_start, t_last;
    int tty;
};

void progress_init(struct progress *p, const char *label, int64_t total);
/* Adds n units of work done. */
void progress_add(struct progress *p, int64_t n);
void progress_end(struct progress *p);

#ifdef __cplusplus
}
#endif
#endif
