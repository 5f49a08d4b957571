/* san_control -- the negative control of `make test SANITIZE=1`: this program casts 1e30 to int (undefined
 * behaviour that gcc's sanitizer does not check, clang's float-cast-overflow does) and reads past a heap
 * buffer; built with the sanitizer flags it must die with a report, else the sanitized suite proves nothing.
 * Usage: build/san/bin/san_control cast|heap   (exit 0 means the sanitizer missed it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    volatile double big = 1e30;
    if (argc > 1 && !strcmp(argv[1], "cast")) {
        int i = (int)big;
        printf("%d\n", i);
    } else {
        char *p = malloc(8);
        volatile int k = 8;
        p[k] = 1;
        printf("%d\n", p[k]);
        free(p);
    }
    return 0;
}
