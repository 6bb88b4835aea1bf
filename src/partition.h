/**
 * @file partition.h
 * @brief Cutting the layer list into contiguous stages.
 *
 * Stage s holds layers [first[s], first[s] + count[s]). Three ways to choose
 * them:
 *
 *  - even (chapter 01): by layer count; the first (L mod S) stages get one
 *    layer more;
 *  - balanced (chapter 07): given what each layer costs, the contiguous split
 *    whose slowest stage is as fast as any split's -- exact, not a heuristic;
 *  - explicit (chapter 07): the layers of each stage, as the user gives them;
 *  - memory (chapter 07's bill, exercise 07): the contiguous split whose
 *    largest memory -- what a stage holds all run, and its stashes at its
 *    peak in flight -- is as small as any split's.
 *
 * Every method keeps the layers in order, so any partition trains the same
 * weights, bit for bit.
 *
 * Invariant: every stage holds at least one layer, so S <= L.
 */
#ifndef PL_PARTITION_H
#define PL_PARTITION_H

#include <stddef.h>
#include <stdint.h>

/** Layers of each stage. */
typedef struct {
    int stages;  /**< S = p * v */
    int *first;  /**< first layer of each stage */
    int *count;  /**< layers in each stage */
} pl_partition;

/**
 * Split `layers` layers evenly over `stages` stages. Returns 0, or -1 with a
 * message when stages < 1 or stages > layers, or on allocation failure.
 */
int pl_partition_even(pl_partition *p, int layers, int stages, char *err, size_t errlen);

/**
 * Split `layers` layers, layer l costing cost[l] >= 0, over `stages` stages so
 * that the slowest stage (the largest sum of its layers' costs) is as fast
 * as in any contiguous split. Among the splits that achieve it, each cut is
 * placed as near as it can be to an equal share of the total. Returns 0, or
 * -1 with a message as pl_partition_even.
 */
int pl_partition_balanced(pl_partition *p, const int64_t *cost, int layers, int stages,
                          char *err, size_t errlen);

/**
 * Stage s holds count[s] layers, for the n stages given. Returns 0, or -1
 * with a message if n is not `stages`, a stage would hold no layer, or the
 * counts do not add up to `layers`.
 */
int pl_partition_explicit(pl_partition *p, const int *count, int n, int layers, int stages,
                          char *err, size_t errlen);

/**
 * Split `layers` layers over `stages` stages so that the most memory a stage
 * holds is as small as in any contiguous split. Stage s holds fixed[l] bytes
 * for each of its layers all run (parameters, gradients, optimizer state)
 * and, at its peak, inflight[s] micro-batches' stashes: in[first] bytes of
 * its input and out[l] bytes of each layer's output (widths chain:
 * in[l+1] = out[l]). Exact: bisection on the bound, and for each bound
 * which splits fit (not a greedy: a layer costs more in a stage that holds
 * more micro-batches). Returns 0, or -1 with a message as pl_partition_even.
 */
int pl_partition_memory(pl_partition *p, const int64_t *fixed, const int64_t *in,
                        const int64_t *out, const int *inflight, int layers, int stages,
                        char *err, size_t errlen);

/** The cost of the slowest stage of p, layer l costing cost[l]. */
int64_t pl_partition_slowest(const pl_partition *p, const int64_t *cost);

/** Free the partition. Safe on a zeroed one. */
void pl_partition_free(pl_partition *p);

#endif
