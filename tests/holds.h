/*
 * holds.h -- what a stage holds, by the memory partition's rule, and the
 * least any split can hold, by brute force: the truth test_ch07 and
 * exercise 07's grader hold pl_partition_memory to. No test framework here.
 */
#ifndef PL_TEST_HOLDS_H
#define PL_TEST_HOLDS_H

#include <stdint.h>

/* What a stage holding k micro-batches holds on layers [a, b): fixed[l] per
 * layer all run, and k stashes of its input (in[a]) and outputs (out[l]). */
static inline int64_t stage_holds(const int64_t *fixed, const int64_t *in, const int64_t *out,
                                  int k, int a, int b)
{
    int64_t bytes = k * in[a];
    for (int l = a; l < b; l++)
        bytes += fixed[l] + k * out[l];
    return bytes;
}

/* The least, over every contiguous split of layers [a, L) into stages s..S-1,
 * of the most any stage holds (stage t holding k[t] micro-batches). */
static inline int64_t least_most(const int64_t *fixed, const int64_t *in, const int64_t *out,
                                 const int *k, int a, int L, int s, int S)
{
    if (s == S - 1)
        return stage_holds(fixed, in, out, k[s], a, L);
    int64_t best = INT64_MAX;
    for (int b = a + 1; b <= L - (S - s - 1); b++) {
        int64_t here = stage_holds(fixed, in, out, k[s], a, b);
        int64_t rest = least_most(fixed, in, out, k, b, L, s + 1, S);
        int64_t most = here > rest ? here : rest;
        best = most < best ? most : best;
    }
    return best;
}

#endif
