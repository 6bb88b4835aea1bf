/**
 * @file cost.h
 * @brief The cost model: how long each action takes on a simulated device.
 *
 * Two models (chapter 00):
 *  - uniform: t_F, t_I, t_W are fixed times for a micro-batch of the nominal
 *    size batch/m, scaled linearly with its rows, independent of how many
 *    layers a stage holds. t_B = t_I + t_W. With equal micro-batches every
 *    action of a kind costs the same, which is the setting the bubble
 *    formulas assume.
 *  - flops: the time the stage's layers need on a device of a given speed:
 *    FLOPs of the forward (the input-grad and the weight-grad each cost as
 *    much again) divided by FLOP/s.
 *
 * Invariant: costs are integer nanoseconds, so every executor that asks the
 * same model gets the same numbers (DESIGN 2.1).
 */
#ifndef PL_COST_H
#define PL_COST_H

#include <stdint.h>

#include "model.h"
#include "partition.h"
#include "schedule.h"

/** Which cost model. */
typedef enum { PL_COST_UNIFORM = 0, PL_COST_FLOPS = 1 } pl_cost_kind;

/** Parameters of the cost model. */
typedef struct {
    pl_cost_kind kind;       /**< uniform or flops */
    int64_t t_f;             /**< uniform: ns per forward of a nominal micro-batch */
    int64_t t_i;             /**< uniform: ns per input-grad */
    int64_t t_w;             /**< uniform: ns per weight-grad */
    double flops_per_s;      /**< flops: device speed */
    int nominal_rows_num;    /**< uniform: nominal rows = batch / m ... */
    int nominal_rows_den;    /**< ... kept as a fraction batch/m */
} pl_cost;

/** Default uniform unit: one forward of a nominal micro-batch, 1 ms. */
#define PL_COST_UNIT_NS 1000000LL

/**
 * A uniform cost model with t_F = t_I = t_W = PL_COST_UNIT_NS for a
 * micro-batch of batch/m rows.
 */
pl_cost pl_cost_uniform(int batch, int m);

/** A FLOP-based cost model for devices of the given speed (FLOP/s). */
pl_cost pl_cost_flops(double flops_per_s);

/**
 * Duration of one action. `kind` is 'F', 'R' (a recomputed forward), 'B',
 * 'I' or 'W'; the stage holds layers [first, first+count); rows is the
 * micro-batch's size.
 */
int64_t pl_cost_action(const pl_cost *c, const pl_model *m, int first, int count,
                       int rows, char kind);

#endif
