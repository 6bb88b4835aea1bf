/**
 * @file simulate.h
 * @brief Predicting a schedule's timeline with arithmetic alone.
 *
 * A discrete-event execution with no threads and no tensors: each device
 * walks its action list; an action starts when its device is free and its
 * input has arrived, and lasts what the cost model says. In-flight
 * micro-batches and activation bytes follow memory.h's rule. Every run
 * reports the simulator's figures as its *prediction* beside what it
 * measured; on the virtual clock the two are equal to the tick (tests check
 * this over hundreds of configurations).
 *
 * Invariant: the simulator's trace of one step equals the virtual-clock
 * runtime's first step event for event.
 */
#ifndef PL_SIMULATE_H
#define PL_SIMULATE_H

#include <stddef.h>

#include "job.h"

/**
 * Simulate one step of job->schedule. Fills out->trace (one step; totals
 * only under job->opt->totals_only); the model is only read (for costs and
 * activation sizes). Returns 0, or -1 with a message if the schedule is
 * invalid, deadlocks, or a device would exceed the device memory.
 */
int pl_simulate(const pl_job *job, pl_result *out, char *err, size_t errlen);

#endif
