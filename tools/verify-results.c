/* verify-results -- the comparison step of `make verify` (see src/core/verify.h).
 * Usage: build/bin/verify-results COMMITTED_ROOT FRESH_ROOT
 * Prints a Markdown table (one row per fresh results file) and a summary to stdout; exits 1 when a metric
 * differs beyond its tolerance or a result's identity differs, 0 otherwise, 2 on a bad command line. */
#include <stdio.h>

#include "core/check.h"   // defines: check_set_progname, die_usage
#include "core/verify.h"  // defines: verify_trees

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    if (argc != 3) die_usage("usage: verify-results COMMITTED_ROOT FRESH_ROOT");
    int failures = verify_trees(argv[1], argv[2], stdout);
    if (failures) fprintf(stderr, "%s: %d result(s) differ from the committed ones\n", check_progname(), failures);
    return failures ? 1 : 0;
}
