/* memstat -- peak RSS from /proc; see memstat.h. */
#include "core/memstat.h"

#include <stdio.h>
#include <string.h>

int memstat_peak_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    /* The write reaches the kernel at fclose; its error (EINVAL on kernels without "5") shows there. */
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

int64_t memstat_peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) {
            if (sscanf(line + 6, "%lld", &kb) != 1) kb = -1;
            break;
        }
    fclose(f);
    return kb < 0 ? -1 : (int64_t)kb * 1024;
}
