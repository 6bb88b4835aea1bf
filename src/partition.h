/**
 * @file partition.h
 * @brief Cutting the layer list into contiguous stages.
 *
 * Stage s holds layers [first[s], first[s] + count[s]). The even split gives
 * the first (L mod S) stages one layer more (chapter 01).
 *
 * Invariant: every stage holds at least one layer, so S <= L.
 */
#ifndef PL_PARTITION_H
#define PL_PARTITION_H

#include <stddef.h>

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

/** Free the partition. Safe on a zeroed one. */
void pl_partition_free(pl_partition *p);

#endif
