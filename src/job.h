/**
 * @file job.h
 * @brief One pipelined run, as the executors see it.
 *
 * A job ties the pieces together: the options it was asked with, the model,
 * its partition into stages, the schedule, and the cost model. Both
 * executors -- pl_simulate (no threads) and pl_runtime_run (one thread per
 * device) -- take a job and produce a pl_result, so they can be compared
 * number for number.
 *
 * Invariant: the job does not own what it points to; the caller keeps the
 * options, model, partition and schedule alive for the whole run.
 */
#ifndef PL_JOB_H
#define PL_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "cost.h"
#include "memory.h"
#include "model.h"
#include "options.h"
#include "partition.h"
#include "schedule.h"
#include "trace.h"

/** A pipelined training run. */
typedef struct {
    const pl_options *opt;         /**< steps, batch, seed, lr, clock, limits, faults */
    pl_model *model;               /**< trained in place by the runtime */
    const pl_partition *partition; /**< p * v stages */
    const pl_schedule *schedule;   /**< validated before it runs */
    pl_cost cost;                  /**< how long each action takes */
    /** Post-validation (chapter 06): per step, 1 if its update will be clipped -- the
     *  simulator needs it to predict the rollbacks; NULL: none. */
    const unsigned char *clips;
} pl_job;

/** What a run produced. */
typedef struct {
    pl_trace trace; /**< what ran where and when */
    float *loss;    /**< per step (runtime only; NULL from the simulator) */
    int steps;      /**< steps run */
} pl_result;

/** Free a result. Safe on a zeroed one. */
void pl_result_free(pl_result *r);

/**
 * Fill what a trace of this job is of: p, m, v, placement, clock,
 * recomputation. (The executor adds itself and its tick length; the
 * experiment the name, the formula and the step it reports.)
 */
void pl_job_describe(const pl_job *job, pl_trace_info *info);

/** Rows of micro-batch mb of the job (micro-batches differ by at most one row). */
int pl_job_rows(const pl_job *job, int mb);

/**
 * What device d holds for the whole run (chapter 07): the parameters,
 * gradients and optimizer state of its stages. The bill's activations and
 * messages are left 0.
 */
pl_memory_bill pl_job_static_memory(const pl_job *job, int d);

/**
 * Check that every device's static memory fits the job's device memory,
 * device 0 first. Returns 0, or -1 with the first failure's message.
 */
int pl_job_check_memory(const pl_job *job, char *err, size_t errlen);

#endif
