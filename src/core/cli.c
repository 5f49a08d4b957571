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

