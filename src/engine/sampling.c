/* sampling -- greedy and seeded top-k / top-p sampling; see sampling.h. */
#include "engine/sampling.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

struct sampling_params sampling_defaults(void) {
    struct sampling_params p = {.temperature = 0.0f, .top_p = 1.0f, .top_k = 0, .presence_penalty = 0.0f, .seed = 0};
    return p;
}

struct cand {
    int32_t id;
    double p;
};

/* Descending probability, ties to the lower id: a total order, so qsort's instability cannot matter. */
static int cmp_cand(const void *a, const void *b) {
    const struct cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* See sampling.h for the order of operations. The candidate list is sorted once per call (O(V log V), about
 * 15 ms at V = 151936 on one core): generation speed on the CPU is bounded by the forward pass anyway. */
int32_t sampling_sample(const struct sampling_params *p, float *logits, int64_t V, const uint8_t *seen,
                        struct rng *r) {
    CHECK(V > 0, "V=%lld", (long long)V);
    if (seen && p->presence_penalty != 0.0f)
        for (int64_t v = 0; v < V; v++)
            if (seen[v]) logits[v] -= p->presence_penalty;
    // Greedy arg-max over the penalised logits; NaN is mapped to -inf so it can never be chosen.
    int64_t best = 0;
    for (int64_t v = 0; v < V; v++) {
        if (isnan(logits[v])) logits[v] = -INFINITY;
        if (logits[v] > logits[best]) best = v;
    }
    if (p->temperature <= 0.0f || !isfinite(logits[best])) return (int32_t)best;

    // Softmax at temperature in double, over the finite logits only.
    struct cand *c = xmalloc((size_t)V * sizeof *c);
    const double mx = logits[best], inv_t = 1.0 / p->temperature;
    int64_t n = 0;
    for (int64_t v = 0; v < V; v++) {
        if (logits[v] == -INFINITY) continue;
        c[n].id = (int32_t)v;
        c[n].p = exp(((double)logits[v] - mx) * inv_t);
        n++;
    }
    // Descending order makes top-k a prefix and top-p a shorter prefix.
    qsort(c, (size_t)n, sizeof *c, cmp_cand);
    int64_t keep = n;
    if (p->top_k > 0 && p->top_k < keep) keep = p->top_k;
    if (p->top_p < 1.0f) {
        // Keep the prefix whose mass first reaches top_p of the whole distribution (before the top-k cut
        // renormalises: the mass is measured on what top-k kept, as in HF's TopPLogitsWarper after TopK).
        double kept = 0.0;
        for (int64_t i = 0; i < keep; i++) kept += c[i].p;
        double acc = 0.0;
        int64_t i = 0;
        while (i < keep) {
            acc += c[i].p;
            i++;
            if (acc >= p->top_p * kept) break;
        }
        keep = i;
    }
    // Inverse CDF over the kept prefix: u in [0, mass) selects the first candidate whose cumulative mass
    // exceeds it; the last kept candidate catches rounding at the top end.
    double mass = 0.0;
    for (int64_t i = 0; i < keep; i++) mass += c[i].p;
    double u = rng_uniform(r) * mass, acc = 0.0;
    int32_t id = c[keep - 1].id;
    for (int64_t i = 0; i < keep; i++) {
        acc += c[i].p;
        if (u < acc) {
            id = c[i].id;
            break;
        }
    }
    free(c);
    return id;
}
