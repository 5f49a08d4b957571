/* progress -- see progress.h. */
#define _POSIX_C_SOURCE 200809L
#include "core/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "core/timer.h"

static void draw(struct progress *p) {
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 1.0;
    double el = monotonic_seconds() - p->t_start;
    double eta = frac > 0 ? el * (1.0 - frac) / frac : 0.0;
    int width = 30, fill = (int)(frac * width + 0.5);
    fprintf(stderr, "\r%s [", p->label);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %5.1f%% %6.1fs eta %6.1fs", 100.0 * frac, el, eta);
    fflush(stderr);
}

void progress_init(struct progress *p, const char *label, int64_t total) {
    p->label = label;
    p->total = total;
    p->done = 0;
    p->t_start = p->t_last = monotonic_seconds();
    p->tty = isatty(STDERR_FILENO);
}

void progress_add(struct progress *p, int64_t n) {
    p->done += n;
    if (!p->tty) return;
    double now = monotonic_seconds();
    if (now - p->t_last < 0.1 && p->done < p->total) return;
    p->t_last = now;
    draw(p);
}

void progress_end(struct progress *p) {
    if (!p->tty) return;
    p->done = p->total;
    draw(p);
    fputc('\n', stderr);
}
