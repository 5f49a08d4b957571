/* run_tests -- the project's tiny test runner.
 * Usage: build/bin/run_tests PROGRAM...
 * Runs each test program in turn (from the current directory), reads its stdout+stderr, counts the
 * "ok <case>" and "FAILED <case>" lines that tests/test.h prints, echoes FAILED and SKIP lines (and "skip <part>"
 * lines, a part of a program left out for want of data), and appends the
 * full output to build/test.log. Exit status 77 means the program skipped (no GPU, no ../shared); any other
 * non-zero status with no FAILED line counts as one failure (a crash or a die()). Ends with the summary line
 * "N passed, N failed" (plus skipped programs) and exits 1 if anything failed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    FILE *log = fopen("build/test.log", "w");
    for (int i = 1; i < argc; i++) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s 2>&1", argv[i]);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        FILE *p = popen(cmd, "r");
        if (!p) { printf("FAILED %s (cannot start)\n", argv[i]); failed++; continue; }
        int ok = 0, bad = 0;
        char line[8192], skip_line[8192] = "";
        while (fgets(line, sizeof line, p)) {
            if (log) fprintf(log, "%s: %s", argv[i], line);
            if (strncmp(line, "ok ", 3) == 0) ok++;
            else if (strncmp(line, "FAILED ", 7) == 0) { bad++; printf("  %s: %s", argv[i], line); }
            else if (strncmp(line, "SKIP", 4) == 0) snprintf(skip_line, sizeof skip_line, "%s", line);
            else if (strncmp(line, "skip ", 5) == 0) printf("  %s: %s", argv[i], line); /* a part left out */
        }
        int st = pclose(p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (code == 77) {
            skipped++;
            printf("skip %-36s %s", argv[i], skip_line[0] ? skip_line : "(exit 77)\n");
            continue;
        }
        if (code != 0 && bad == 0) {
            bad = 1;
            printf("  %s: FAILED exit status %d with no failed case (crash or error; see build/test.log)\n", argv[i], code);
        }
        passed += ok;
        failed += bad;
        printf("%-4s %-36s %4d ok %3d failed %7.1fs\n", bad ? "FAIL" : "pass", argv[i], ok, bad, secs);
        fflush(stdout);
    }
    if (log) fclose(log);
    printf("%d passed, %d failed (%d program%s skipped)\n", passed, failed, skipped, skipped == 1 ? "" : "s");
    return failed ? 1 : 0;
}
