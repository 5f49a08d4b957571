/* cli -- small helpers shared by the command-line parsers of the drivers and of ql's commands.
 * Parsing errors are usage errors: one line "prog: usage: ..." on stderr and exit status 2 (STYLE.md section 5).
 * Each parser stays in its own driver (its flags are its own); only the value checks live here. */
#ifndef SRC_CORE_CLI_H
#define SRC_CORE_CLI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses s as a decimal integer >= min for option `flag`; anything else (empty, trailing characters, out of
 * range) is a usage error naming the flag and the value. */
int64_t cli_int(const char *flag, const char *s, int64_t min);


#ifdef __cplusplus
}
#endif
#endif
