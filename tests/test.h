/* test -- a ten-line test helper in the style of antirez's testhelp.h.
 * TEST(cond, fmt, ...) prints "ok <case>" or "FAILED <case>" (one line per case, on stdout);
 * TEST_REPORT() prints "N passed, N failed" and evaluates to the exit status (0 iff nothing failed).
 * Each line is flushed at once, so a forked child (death tests) never re-prints buffered lines.
 * Counters are static, so each test program is one translation unit with its own main(). */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H
#include <stdio.h>
static int test_passed_, test_failed_;
#define TEST(cond, ...) do { int ok_ = !!(cond); printf(ok_ ? "ok " : "FAILED "); printf(__VA_ARGS__); \
    printf("\n"); fflush(stdout); if (ok_) test_passed_++; else test_failed_++; } while (0)
#define TEST_REPORT() (printf("%d passed, %d failed\n", test_passed_, test_failed_), test_failed_ ? 1 : 0)
#endif
