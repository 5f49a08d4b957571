/* cli -- see cli.h. */
#include "core/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

int64_t cli_int(const char *flag, const char *s, int64_t min) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE || v < min)
        die_usage("%s: expected an integer >= %lld, got '%s'", flag, (long long)min, s);
    return v;
}

void cli_backend_cpu_only(const char *backend) {
    if (!strcmp(backend, "cpu")) return;
    if (!strcmp(backend, "cuda"))
        die("--backend cuda: this driver runs the CPU engine only for now (simulated quantization gives the "
            "formats' exact numbers); use --backend cpu");
    die_usage("--backend: expected cpu or cuda, got '%s'", backend);
}
