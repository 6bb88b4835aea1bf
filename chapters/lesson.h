/*
 * lesson.h -- the little every chapter's lesson.c shares: run an experiment
 * or stop with its message, and print a measured figure beside theory.
 */
#ifndef PL_LESSON_H
#define PL_LESSON_H

#include <stdio.h>
#include <stdlib.h>

#include "experiment.h"

/* Run the experiment described by o; on failure print why and exit. */
static inline void lesson_run(const pl_options *o, pl_experiment *x)
{
    char err[1024];
    if (pl_experiment_run(o, x, err, sizeof err) != 0) {
        fprintf(stderr, "lesson: %s\n", err);
        pl_experiment_free(x);
        exit(1);
    }
}

/* Options for a lesson: the defaults, with this schedule, p and m. */
static inline pl_options lesson_options(const char *schedule, int p, int m)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = schedule;
    o.devices = p;
    o.microbatches = m;
    if (o.layers < p)
        o.layers = p;
    if (o.batch < 2 * m)
        o.batch = 2 * m;
    return o;
}

/* The scaled clock for a lesson: each modelled millisecond becomes `ms`
 * milliseconds of host time, so the host's own noise is small beside it. */
static inline void lesson_scaled(pl_options *o, double ms, int steps)
{
    o->clock = PL_CLOCK_SCALED;
    o->scale = ms;
    o->steps = steps;
    o->watchdog_s = 60;
}

#endif
