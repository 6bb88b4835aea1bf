/**
 * @file experiment.h
 * @brief One run, end to end, from options to three figures.
 *
 * The `pipelab` command, every chapter's lesson and the chapter tests all
 * need the same sequence: build the model, partition it, generate (or load)
 * the schedule, run it (threads or simulator), measure it, predict it,
 * compare it with its chapter's formula, and optionally compare the trained
 * weights with the sequential reference. This module is that sequence, so
 * the three cannot drift apart.
 *
 * Every run reports three figures side by side:
 *  - measured:  what the executor recorded (the median step);
 *  - predicted: the simulator's result for the same schedule, costs and
 *               micro-batch sizes -- equal to measured on the virtual clock;
 *  - formula:   the chapter's closed form, only where its assumptions hold;
 *               otherwise none, with the reason in `theory_note`.
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
#include "options.h"
#include "partition.h"
#include "registry.h"
#include "schedule.h"

/** Everything a run built and measured. */
typedef struct {
    pl_options opt;                 /**< what was asked for */
    const pl_registry_entry *entry; /**< the schedule's registry entry; NULL for a file */
    const char *name;               /**< the schedule's name, or the file's */
    pl_model model;                 /**< the trained model */
    pl_partition partition;         /**< layers of each stage */
    pl_schedule schedule;           /**< what ran */
    int warmup_extra;               /**< 1f1b's extra warm-up forwards per link (chapter 07) */
    int64_t *layer_ns;              /**< --partition-by measured: each layer's host ns; else NULL */
    pl_job job;                     /**< the run, as the executors saw it */
    pl_result result;               /**< measured: the trace and the losses */
    pl_result prediction;           /**< the simulator's trace (totals only) */
    int step;                       /**< the step reported: the one of median makespan */
    double makespan_ns;             /**< measured, that step */
    double bubble;                  /**< measured, that step */
    double predicted_makespan_ns;   /**< the simulator's, in the measured clock's ns */
    double predicted_bubble;        /**< the simulator's */
    double bubble_theory;           /**< the formula's, or < 0 when it does not apply */
    double period_ns;               /**< measured time per step over steps 1..N-1, or < 0 (N = 1) */
    double period_bubble;           /**< measured bubble of that steady state */
    double predicted_period_ns;     /**< the simulator's, or < 0 */
    double predicted_period_bubble; /**< the simulator's */
    unsigned char *clips;           /**< with clipping: per step, 1 if its update was clipped */
    char theory_note[256];          /**< why there is no formula (empty if there is) */
    int bitwise_equal;              /**< with verify */
    double max_abs_diff;            /**< with verify */
    int threads_checked;            /**< an MPI run compared with device threads (chapter 09) */
    int threads_equal;              /**< then: the same weights, and on the virtual clock the
                                         same trace, bit for bit */
} pl_experiment;

/**
 * Build and run what `o` describes. Returns 0, or -1 with a one-line
 * message in err (a bad option combination, an invalid schedule, a failed
 * device). Free `x` with pl_experiment_free either way.
 */
int pl_experiment_run(const pl_options *o, pl_experiment *x, char *err, size_t errlen);

/**
 * The forwards 1f1b's warm-up needs beyond p - s - 1 to cover the round
 * trip of its links (--warmup-extra auto; chapter 07 derives it).
 */
int pl_experiment_warmup_extra(const pl_job *job, const pl_shape *shape);

/**
 * The first half of pl_experiment_run, for an executor of its own (the MPI
 * ranks of chapter 09): build the schedule, partition, model and job that
 * `o` describes, and run nothing. Returns 0, or -1 with a one-line message.
 * Free `x` with pl_experiment_free either way.
 */
int pl_experiment_prepare(const pl_options *o, pl_experiment *x, char *err, size_t errlen);

/**
 * The second half: once an executor has filled x->result (trace and
 * losses) and trained x->model, measure, predict, compare with the formula
 * and, with verify, with the sequential reference. Returns 0, or -1 with a
 * one-line message.
 */
int pl_experiment_finish(pl_experiment *x, char *err, size_t errlen);

/** Free everything the experiment built. Safe on a zeroed one. */
void pl_experiment_free(pl_experiment *x);

/** Peak activation bytes over every device (measured). */
size_t pl_experiment_peak_bytes(const pl_experiment *x);

/**
 * Device d's whole memory bill at its peak (chapter 07): its parameters,
 * gradients and optimizer state, and the activations and in-flight messages
 * it held at the moment their sum peaked (measured). Its total is the
 * device's peak memory.
 */
pl_memory_bill pl_experiment_memory(const pl_experiment *x, int d);

/** The largest peak memory of any device, everything counted (measured). */
size_t pl_experiment_peak_memory(const pl_experiment *x);

/** Print the JSON summary of the run as one line (docs/design.md lists the fields). */
void pl_experiment_json(const pl_experiment *x, FILE *out);

#endif
