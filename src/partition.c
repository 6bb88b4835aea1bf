/*
 * partition.c -- cutting the layer list into contiguous stages.
 */
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>

// [region partition-even]
/* Every stage gets layers/stages layers; the first layers%stages get one
 * more, so no two stages differ by more than one layer. */
int pl_partition_even(pl_partition *p, int layers, int stages, char *err, size_t errlen)
{
    p->stages = 0;
    p->first = p->count = NULL;
    if (stages < 1) {
        snprintf(err, errlen, "cannot split %d layers over %d stages: need at least one stage",
                 layers, stages);
        return -1;
    }
    if (stages > layers) {
        snprintf(err, errlen,
                 "cannot split %d layers over %d stages: each stage needs at least one layer",
                 layers, stages);
        return -1;
    }
    p->first = calloc((size_t)stages, sizeof *p->first);
    p->count = calloc((size_t)stages, sizeof *p->count);
    if (!p->first || !p->count) {
        pl_partition_free(p);
        snprintf(err, errlen, "out of memory partitioning %d layers", layers);
        return -1;
    }
    p->stages = stages;
    int next = 0;
    for (int s = 0; s < stages; s++) {
        p->first[s] = next;
        p->count[s] = layers / stages + (s < layers % stages ? 1 : 0);
        next += p->count[s];
    }
    return 0;
}
// [endregion partition-even]

void pl_partition_free(pl_partition *p)
{
    free(p->first);
    free(p->count);
    p->first = p->count = NULL;
    p->stages = 0;
}
