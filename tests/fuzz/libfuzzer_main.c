/* libfuzzer_main -- the libFuzzer entry for one target of tests/fuzz/targets.c, chosen at build time with
 * -DFUZZ_NAME='"safetensors"' (the Makefile's fuzz section builds build/fuzz/bin/fuzz_<name>). */
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "fuzz.h"

static int (*g_fn)(const uint8_t *, size_t);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fuzz_init();
    for (int i = 0; i < FUZZ_N_TARGETS; i++)
        if (!strcmp(FUZZ_TARGETS[i].name, FUZZ_NAME)) g_fn = FUZZ_TARGETS[i].fn;
    CHECK(g_fn, "no fuzz target %s", FUZZ_NAME);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return g_fn(data, size); }
