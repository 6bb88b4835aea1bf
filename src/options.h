/**
 * @file options.h
 * @brief What to run: every option of a run, in one struct.
 *
 * The `pipelab` command fills it from the command line (src/cli/args.c), the
 * lessons and the tests fill it in code, and every layer below reads it: the
 * experiment builds the model, partition and schedule from it, the executors
 * take their limits and clock from it, the reference trains with its
 * seed, batch, micro-batches and learning rate. There is no second copy of
 * any of these values.
 *
 * Invariant: the options a run was started with are not changed during it.
 */
#ifndef PL_OPTIONS_H
#define PL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/** How the devices keep time (clock.h). */
typedef enum { PL_CLOCK_VIRTUAL = 0, PL_CLOCK_SCALED = 1, PL_CLOCK_REAL = 2 } pl_clock_kind;

/** Which cost model (cost.h). */
typedef enum { PL_COST_UNIFORM = 0, PL_COST_FLOPS = 1 } pl_cost_kind;

/** Everything a run is asked to do. */
typedef struct {
    /* what to run */
    const char *schedule;      /**< registered name, or NULL with schedule_file */
    const char *schedule_file; /**< a schedule in the text format */
    int devices;               /**< p */
    int microbatches;          /**< m (the schedule may fix it: naive runs 1) */
    int chunks;                /**< v; 0 = the schedule's own default */
    /* the model and its data */
    int layers;                /**< L, layers of the MLP */
    int width;                 /**< D, features per layer */
    int batch;                 /**< samples per step */
    int steps;                 /**< training steps */
    uint64_t seed;             /**< data and weight seed */
    float lr;                  /**< SGD learning rate */
    int recompute;             /**< keep stage inputs only; recompute before backward */
    /* time */
    pl_cost_kind cost;         /**< the cost model */
    double t_f;                /**< uniform: a unit's forward, in units (1) */
    double t_i;                /**< uniform: a unit's input-grad, in units (1) */
    double t_w;                /**< uniform: a unit's weight-grad, in units (1) */
    double flops_per_s;        /**< flops: device speed */
    pl_clock_kind clock;       /**< how devices keep time */
    double scale;              /**< scaled clock: host time per modelled time */
    /* limits and faults */
    size_t device_memory;      /**< activation bytes a device may hold; 0 = unlimited */
    int fault_device;          /**< inject a failure on this device ... (-1: none) */
    long fault_action;         /**< ... at its K-th action of the run, from 0 ... */
    int fault_stall;           /**< ... by stalling there (waiting forever) instead of failing */
    double watchdog_s;         /**< stop if no device progresses this long; 0 off, < 0 automatic */
    int ignore_limits;         /**< run even what needs.h estimates exceeds the host */
    /* how to run and what to report */
    int simulate;              /**< the simulator instead of device threads */
    int totals_only;           /**< simulator: keep per-step totals, not every event */
    int verify;                /**< compare the trained weights with the sequential reference */
    /** Called by device 0 after each finished step (e.g. to print progress); may be NULL. */
    void (*on_step)(void *ctx, int done, int steps);
    void *on_step_ctx;         /**< passed to on_step */
} pl_options;

/**
 * The defaults: 1f1b on 4 devices, 8 micro-batches, 8 layers of width 32,
 * batch 32, 2 steps, seed 1, lr 0.05, uniform costs 1/1/1, virtual clock.
 */
void pl_options_defaults(pl_options *o);

#endif
