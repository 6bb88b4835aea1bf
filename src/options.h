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
typedef enum {
    PL_COST_UNIFORM = 0,  /**< units of the forward of L/p layers (chapter 00) */
    PL_COST_FLOPS = 1,    /**< each action its FLOPs, at a device speed */
    PL_COST_MEASURED = 2  /**< each layer's forward, input-grad, weight-grad timed on this host */
} pl_cost_kind;

/** The model's shape (model.h): every layer D wide, or lm-like (chapter 07). */
typedef enum { PL_MODEL_MLP = 0, PL_MODEL_LM_LIKE = 1 } pl_model_kind;

/** How layers are split into stages (partition.h, chapter 07). */
typedef enum {
    PL_PARTITION_EVEN = 0,     /**< by layer count */
    PL_PARTITION_BALANCED = 1, /**< the slowest stage as fast as can be, under the cost model */
    PL_PARTITION_MEASURED = 2, /**< balanced on each layer's time measured on this host */
    PL_PARTITION_EXPLICIT = 3, /**< the layers of each stage, as given */
    PL_PARTITION_MEMORY = 4    /**< the largest device's whole memory bill as small as can be
                                    (chapter 07's bill; exercise 07) */
} pl_partition_kind;

/** --warmup-extra auto: the forwards that cover the links' round trip (chapter 07). */
#define PL_WARMUP_AUTO (-1)

/** How devices end a step (chapter 06): all together at a barrier, or each on its own. */
typedef enum { PL_SYNC_GLOBAL = 0, PL_SYNC_LOCAL = 1 } pl_step_sync;

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
    pl_model_kind model;       /**< every layer D wide, or lm-like */
    const int *widths;         /**< L output widths, one per layer; NULL: from `model` */
    pl_partition_kind partition; /**< how layers are split into stages */
    const int *stage_layers;   /**< explicit: layers of each stage ... */
    int stages_given;          /**< ... for this many stages */
    int batch;                 /**< samples per step */
    int steps;                 /**< training steps */
    uint64_t seed;             /**< data and weight seed */
    float lr;                  /**< SGD learning rate */
    float momentum;            /**< SGD momentum; 0: plain SGD, no optimizer state */
    int recompute;             /**< keep stage inputs only; recompute before backward */
    /* the end of a step (chapter 06) */
    pl_step_sync step_sync;    /**< a barrier after every step, or none */
    double clip_norm;          /**< clip gradients to this global norm; 0 = no clipping */
    int post_validation;       /**< clipping: update first, check the norm later, roll back */
    /* time */
    pl_cost_kind cost;         /**< the cost model */
    double t_f;                /**< uniform: a unit's forward, in units (1) */
    double t_i;                /**< uniform: a unit's input-grad, in units (1) */
    double t_w;                /**< uniform: a unit's weight-grad, in units (1) */
    int unit_microbatches;     /**< uniform: a unit is the forward on batch/this many rows;
                                    0: batch/m, the m asked for (plan: 1, the whole batch) */
    double flops_per_s;        /**< flops: device speed */
    pl_clock_kind clock;       /**< how devices keep time */
    double scale;              /**< scaled clock: host time per modelled time */
    /* links (chapter 07) */
    double link_latency_ms;    /**< alpha: every message's latency, ms; 0: none */
    double link_bandwidth;     /**< beta: bytes per second; 0: unlimited */
    int blocking_send;         /**< the sender waits until its message arrives */
    int warmup_extra;          /**< 1f1b: extra warm-up forwards, or PL_WARMUP_AUTO */
    int max_inflight;          /**< 1f1b: at most this many micro-batches in flight per
                                    device (chapter 04); 0: no cap */
    /* limits and faults */
    size_t device_memory;      /**< bytes a device may hold, everything counted; 0 = unlimited */
    int fault_device;          /**< inject a failure on this device ... (-1: none) */
    long fault_action;         /**< ... at its K-th action of the run, from 0 ... */
    int fault_stall;           /**< ... by stalling there (waiting forever) instead of failing */
    double watchdog_s;         /**< stop if no device progresses this long; 0 off, < 0 automatic */
    int ignore_limits;         /**< run even what needs.h estimates exceeds the host */
    /* how to run and what to report */
    int simulate;              /**< the simulator instead of device threads */
    int kernel_threads;        /**< virtual clock: a kernel thread per device, not fibers */
    int totals_only;           /**< simulator: keep per-step totals, not every event */
    int verify;                /**< compare the trained weights with the sequential reference */
    /** Called by device 0 after each finished step (e.g. to print progress); may be NULL. */
    void (*on_step)(void *ctx, int done, int steps);
    void *on_step_ctx;         /**< passed to on_step */
} pl_options;

/**
 * The defaults: 1f1b on 4 devices, 8 micro-batches, 8 layers of width 32,
 * batch 32, 2 steps, seed 1, lr 0.05 without momentum, uniform costs 1/1/1,
 * virtual clock, a barrier after every step, no gradient clipping, an even
 * partition, free links.
 */
void pl_options_defaults(pl_options *o);

/**
 * The output width of every layer, into widths[0 .. o->layers): o->widths
 * if given, else lm-like's or every layer o->width wide.
 */
void pl_options_widths(const pl_options *o, int *widths);

#endif
