/*
 * runs.h -- the options of the small runs the tests measure. No test
 * framework here: the Criterion suites and the exercise graders share it.
 */
#ifndef PL_TEST_RUNS_H
#define PL_TEST_RUNS_H

#include "options.h"

/* Options for a small, fast run of `schedule` with p devices and m micro-batches:
 * a multiple of p layers (at least 4), so stages are equal, and a batch that m
 * divides. */
static inline pl_options small_run(const char *schedule, int p, int m)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = schedule;
    o.devices = p;
    o.microbatches = m;
    o.layers = p * ((4 + p - 1) / p);
    o.width = 8;
    o.batch = 2 * m;
    o.steps = 1;
    return o;
}

/* What the sequential reference trains on: seed, steps, batch, micro-batches, lr. */
static inline pl_options train_config(uint64_t seed, int steps, int batch, int m, float lr)
{
    pl_options o;
    pl_options_defaults(&o);
    o.seed = seed;
    o.steps = steps;
    o.batch = batch;
    o.microbatches = m;
    o.lr = lr;
    return o;
}

#endif
