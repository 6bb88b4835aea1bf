/**
 * @file profile.h
 * @brief What each layer costs, for a balanced partition (chapter 07).
 *
 * A balanced partition (partition.h) needs a cost per layer. Two sources:
 *
 *  - the cost model: a layer's forward FLOPs on one row. Both cost models
 *    charge a stage in proportion to the sum of these (cost.h), so a split
 *    that balances them balances the modelled stage times exactly;
 *  - this host (`--partition-by measured`): each layer's forward,
 *    input-grad and weight-grad timed on the real clock, the best of several
 *    trials -- as torchgpipe's balance_by_time profiles a model before
 *    splitting it.
 *
 * Invariant: profiling never changes the model it is given.
 */
#ifndef PL_PROFILE_H
#define PL_PROFILE_H

#include <stdint.h>

#include "model.h"
#include "options.h"

/**
 * Fill cost[0 .. m->n_layers): for PL_PARTITION_MEASURED each layer's time
 * in host ns (F + I + W on `rows` rows, the best of several trials),
 * otherwise its forward FLOPs on one row. Returns 0, or -1 on allocation
 * failure.
 */
int pl_profile_layers(const pl_model *m, pl_partition_kind kind, int rows, int64_t *cost);

#endif
