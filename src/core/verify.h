/* verify -- compares freshly recomputed results with the committed ones (`make verify`, issue 9; Maneage's
 * verify step, on metrics rather than on file bytes). For each results file of the fresh tree
 * (<fresh>/<model>/<experiment>/<recipe>.json) the committed file at the same place under <committed> is read;
 * the two must have the same identity (parameters, input names) to be comparable. Metrics (flat and per case)
 * are then compared: bit-equal when both were computed on the same backend (the manifests' "device" strings
 * are equal: same OpenBLAS kernel family and thread count, the same GPU) from the same input hashes, else
 * within the per-experiment,
 * per-metric tolerance of the table in verify.c, whose comments derive each bound. Strings must be equal,
 * except content hashes of device-dependent intermediates (names ending in "sha256") on another backend. */
#ifndef SRC_CORE_VERIFY_H
#define SRC_CORE_VERIFY_H

#include <cjson/cJSON.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum verify_status {
    VERIFY_BIT_EQUAL,   /* every metric bit-equal */
    VERIFY_WITHIN_TOL,  /* another backend, every metric within its tolerance */
    VERIFY_NEW,         /* no committed result at that place: nothing to compare (not a failure) */
    VERIFY_SKIP,        /* this machine lacks an input the committed result used (data files): not comparable */
    VERIFY_DIFF,        /* a metric differs beyond its tolerance (or bit-wise on the same backend) */
    VERIFY_IDENTITY     /* different parameters or inputs: the comparison would be meaningless */
};

/* The tolerance of one metric of one recipe of one experiment on another backend:
 * |fresh - committed| <= abs + rel * |committed|. Looked up in the table in verify.c (first match of the
 * experiment, the recipe class: weight-only or activation-quantized, and the metric-name pattern). */
struct verify_tol {
    double rel, abs;
};
struct verify_tol verify_tolerance(const char *experiment, const char *recipe, const char *metric);

/* Compares one pair of parsed results files. Writes a one-line explanation into note (n bytes): the worst
 * metric and its relative difference, or why the pair is not comparable. *same_backend and *same_code
 * (optional) tell whether the device strings and the binary hashes agree. */
enum verify_status verify_pair(const cJSON *committed, const cJSON *fresh, int *same_backend, int *same_code,
                               char *note, size_t n);

/* Walks <fresh_root>/<model>/<experiment>/<recipe>.json (not runs/), compares each with <committed_root>,
 * prints one table row per file to out, and a summary. Returns the number of failures (DIFF, IDENTITY). */
int verify_trees(const char *committed_root, const char *fresh_root, FILE *out);

const char *verify_status_str(enum verify_status st);

#ifdef __cplusplus
}
#endif
#endif
