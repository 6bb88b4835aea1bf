/**
 * @file experiment.h
 * @brief One run, end to end, from options to measured numbers.
 *
 * The `pipelab` command, every chapter's lesson and the chapter tests all
 * need the same sequence: build the model, partition it, generate (or load)
 * the schedule, run it (threads or simulator), measure it, and optionally
 * compare the trained weights with the sequential reference. This module is
 * that sequence, so the three cannot drift apart.
 *
 * Invariant: an experiment owns everything it built; pl_experiment_free
 * releases all of it, after a failure too.
 */
#ifndef PL_EXPERIMENT_H
#define PL_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "job.h"
#include "model.h"
#include "partition.h"
#include "schedule.h"

/** What to run: the command line's options, as values. */
typedef struct {
    const char *schedule;      /**< built-in name, or NULL with schedule_file */
    const char *schedule_file; /**< a schedule in the text format */
    int devices;               /**< p */
    int microbatches;          /**< m (forced to 1 for naive) */
    int layers;                /**< L, layers of the MLP */
    int width;                 /**< D, features per layer */
    int batch;                 /**< samples per step */
    int steps;                 /**< training steps */
    uint64_t seed;             /**< data and weight seed */
    pl_cost_kind cost;         /**< the cost model */
    double flops_per_s;        /**< device speed for the flops cost model */
    pl_clock_kind clock;       /**< how devices keep time */
    double scale;              /**< scaled clock: host ns per modelled ns */
    int recompute;             /**< keep stage inputs only; recompute before backward */
    size_t device_memory;      /**< 0: unlimited */
    int fault_device;          /**< -1: none */
    long fault_action;         /**< ... at its K-th action */
    double watchdog_s;         /**< 0: off */
    int simulate;              /**< the simulator instead of threads */
    int totals_only;           /**< simulator: keep per-step totals, not events */
    void (*on_step)(void *ctx, int done, int steps); /**< progress after each step, or NULL */
    void *on_step_ctx;         /**< passed to on_step */
    int verify;                /**< compare with the sequential reference */
} pl_options;

/** The defaults: 4 devices, 8 micro-batches, 8 layers of width 32, batch 32. */
void pl_options_defaults(pl_options *o);

/** Everything a run built and measured. */
typedef struct {
    pl_options opt;          /**< what was asked for */
    pl_model model;          /**< the trained model */
    pl_partition partition; /**< layers of each stage */
    pl_schedule schedule;    /**< what ran */
    pl_job job;              /**< the run, as the executors saw it */
    pl_result result;        /**< the trace and the losses */
    const char *name;        /**< the schedule's name, or the file's */
    int64_t makespan;        /**< ns, median over steps */
    double bubble;           /**< median over steps */
    double bubble_theory;    /**< < 0 if there is no formula: a file, or recomputation */
    int bitwise_equal;       /**< with verify */
    double max_abs_diff;     /**< with verify */
} pl_experiment;

/**
 * Build and run what `o` describes. Returns 0, or -1 with a one-line
 * message in err (a bad option combination, an invalid schedule, a failed
 * device). Free `x` with pl_experiment_free either way.
 */
int pl_experiment_run(const pl_options *o, pl_experiment *x, char *err, size_t errlen);

/** Free everything the experiment built. Safe on a zeroed one. */
void pl_experiment_free(pl_experiment *x);

/** Peak activation bytes over every device. */
size_t pl_experiment_peak_bytes(const pl_experiment *x);

/** Print the DESIGN 3.1 JSON summary as one line. */
void pl_experiment_json(const pl_experiment *x, FILE *out);

#endif
