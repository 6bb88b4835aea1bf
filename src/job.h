/**
 * @file job.h
 * @brief Everything one pipelined run needs, gathered in one struct.
 *
 * A job ties the pieces of DESIGN 2 together: the model, its partition into
 * stages, the schedule, the cost model, and the run's options. Both executors
 * -- pl_simulate (no threads) and pl_runtime_run (one thread per device) --
 * take a job and produce a pl_result, so they can be compared number for
 * number.
 *
 * Invariant: the job does not own what it points to; the caller keeps the
 * model, partition and schedule alive for the whole run.
 */
#ifndef PL_JOB_H
#define PL_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "cost.h"
#include "model.h"
#include "partition.h"
#include "schedule.h"
#include "trace.h"

/** A pipelined training run. */
typedef struct {
    pl_model *model;              /**< trained in place by the runtime */
    const pl_partition *partition;/**< p * v stages */
    const pl_schedule *schedule;  /**< validated before it runs */
    pl_cost cost;                 /**< how long each action takes */
    pl_clock_kind clock;          /**< how devices keep time */
    double scale;                 /**< scaled clock: host ns per modelled ns */
    uint64_t seed;                /**< data seed */
    int steps;                    /**< training steps */
    int batch;                    /**< samples per step */
    float lr;                     /**< SGD learning rate */
    int recompute;                /**< keep only stage inputs; re-run the forward before the backward */
    size_t device_memory;         /**< activation bytes a device may hold; 0 = unlimited */
    int fault_device;             /**< inject a failure on this device ... (-1: none) */
    long fault_action;            /**< ... at its K-th action of the run, from 0 */
    double watchdog_s;            /**< stop if no device progresses this long; 0 = off */
    int totals_only;              /**< simulator: keep per-step totals, not every event */
    /** Called by device 0 after each finished step (e.g. to print progress); may be NULL. */
    void (*on_step)(void *ctx, int done, int steps);
    void *on_step_ctx;            /**< passed to on_step */
} pl_job;

/**
 * The one accounting rule for activation memory: how a device's held stash
 * bytes change when an action of `kind` -- 'F', 'R' (a recomputed forward),
 * 'B', 'I' or 'W' -- runs on a micro-batch of `rows` rows of the stage holding
 * layers [first, first+count). F stashes (only the stage input under
 * recomputation); R rebuilds the rest, held until the backward; I adds the
 * gradients W needs; B and W free the whole stash. The runtime checks it
 * against device_memory, and the simulator and the Chrome trace's memory
 * track follow it; the runtime's measured bytes must agree (a test checks).
 */
int64_t pl_stash_delta(const pl_job *job, int first, int count, int rows, char kind);

/**
 * Check that device d, holding `held` activation bytes, may grow its stash by
 * `need` bytes for action a. Returns 0, or -1 with "d1 out of memory at F5:
 * needs N bytes of activations, M available of C" in err.
 */
int pl_job_check_memory(const pl_job *job, int d, pl_action a, size_t held,
                        size_t need, char *err, size_t errlen);

/** Fill a job with the defaults: 1 step, lr 0.05, virtual clock, no limits. */
void pl_job_defaults(pl_job *j);

/** What a run produced. */
typedef struct {
    pl_trace trace; /**< what ran where and when */
    float *loss;    /**< per step (runtime only; NULL from the simulator) */
    int steps;      /**< steps run */
} pl_result;

/** Free a result. Safe on a zeroed one. */
void pl_result_free(pl_result *r);

#endif
