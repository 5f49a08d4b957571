/* fuzz -- the fuzz targets of tests/fuzz/ (issue 9): one function per reader, int fuzz_<name>(data, size),
 * called by libFuzzer (tests/fuzz/libfuzzer_main.c, `make fuzz`) and by the regression replay in
 * tests/test_fuzz.c (`make test`: every input kept under tests/fuzz/<name>/regress/). A reader that rejects
 * its input calls die(); the targets turn that into a return through fuzz_die_handler (a longjmp), so the
 * defined outcome of any input is "accepted" or "one error line", and anything else (an ASan or UBSan report,
 * a signal, a failed property) is a finding. Targets run from the repository root. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

struct fuzz_target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
};

/* The targets, in tests/fuzz/targets.c; FUZZ_N_TARGETS entries. */
extern const struct fuzz_target FUZZ_TARGETS[];
extern const int FUZZ_N_TARGETS;

/* Installs the die() handler, silences die()/warn() text unless FUZZ_VERBOSE=1, makes the scratch folder. */
void fuzz_init(void);

/* The scratch folder (/dev/shm/ql-fuzz-<pid> or build/tmp/fuzz-<pid>), and a file in it written with data. */
const char *fuzz_scratch(void);
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

/* Where die() returns to: set by FUZZ_TRY in each target. */
extern jmp_buf fuzz_jmp;
extern int fuzz_died;
#define FUZZ_TRY (fuzz_died = 0, setjmp(fuzz_jmp) == 0)

#endif
