/**
 * @file device.h
 * @brief One simulated accelerator: its stash, its clock, its action loop.
 *
 * A device walks its list of actions step after step (device.c); one action
 * is: wait for its input, check the memory it needs, run the kernels, record
 * the event, account what it now holds, send its output on
 * (device_action.c). Chapter 01 walks through both. A device reaches other
 * devices only through its transport (transport.h) and keeps time only
 * through its clock (clock.h), so the same loop runs as a thread
 * (runtime.c) or as an MPI rank (chapter 09).
 *
 * Invariant: a device touches only its own stash, clock, lane and data; the
 * model's layers it writes are those of its own stages.
 */
#ifndef PL_DEVICE_H
#define PL_DEVICE_H

#include <stdatomic.h>

#include "clock.h"
#include "data.h"
#include "job.h"
#include "memory.h"
#include "stage.h"
#include "transport.h"

/** What a device is doing, for a watchdog's report. */
enum {
    PL_DEV_COMPUTING = 0,
    PL_DEV_RECEIVING = 1,
    PL_DEV_AT_BARRIER = 2,
    PL_DEV_DONE = 3,
    PL_DEV_STALLED = 4 /* an injected stall: it waits for nothing, until the run stops */
};

/** What a watchdog may read while the device runs (another thread reads it). */
typedef struct {
    atomic_int step;       /**< the step it is in */
    atomic_int pos;        /**< its position in the action list */
    atomic_int state;      /**< PL_DEV_* */
    atomic_long progress;  /**< actions completed and messages received */
} pl_device_watch;

/**
 * Set a field of the watch. A watchdog looks every 20 ms and needs no order
 * with anything else the device writes, so the store carries no fence
 * (with one, it would cost about as much as a mutex, several times an
 * action).
 */
static inline void pl_watch_set(atomic_int *field, int value)
{
    atomic_store_explicit(field, value, memory_order_relaxed);
}

/** Count one more action completed or message received (only the device
 *  itself counts, so a load and a store will do, without a locked add). */
static inline void pl_watch_progress(pl_device_watch *w)
{
    long n = atomic_load_explicit(&w->progress, memory_order_relaxed);
    atomic_store_explicit(&w->progress, n + 1, memory_order_relaxed);
}

/** One device. */
typedef struct {
    const pl_job *job;     /**< the run */
    pl_transport *net;     /**< how it reaches the other devices */
    int id;                /**< device index d */
    pl_clock clock;        /**< its own clock */
    pl_stash *stash;       /**< [chunk * m + mb] */
    pl_pool pool;          /**< its stashes' spare buffers, kept step to step */
    int first_stage;       /**< 1 if it holds stage 0: it reads the inputs */
    int last_stage;        /**< 1 if it holds the last stage: it computes the loss */
    pl_batch batch;        /**< this step's batch, if it holds the first or last stage */
    float *share;          /**< [m] this step's loss shares, if it holds the last stage */
    float *loss;           /**< [steps] the loss of every step, if it holds the last stage */
    pl_lane lane;          /**< what it ran */
    size_t held;           /**< activation bytes held now */
    size_t fixed;          /**< bytes held all run: parameters, gradients, optimizer state */
    pl_memory_transit transit; /**< messages it sent that may still be on a link */
    int inflight;          /**< micro-batches held now */
    long actions_done;     /**< over the whole run, for fault injection */
    int step;              /**< the step it is in */
    float *saved;          /**< post-validation: its layers' w, b, dw, db before the last step */
    int unchecked;         /**< post-validation: the step whose update awaits its check, or -1 */
    pl_device_watch watch; /**< for the watchdog */
} pl_device;

/**
 * Prepare device `id` of `job`, talking through `net`, on a clock whose time
 * zero is host time `epoch`. Returns 0, or -1 on allocation failure (free
 * with pl_device_free either way).
 */
int pl_device_init(pl_device *dv, const pl_job *job, pl_transport *net, int id, int64_t epoch);

/** Free what the device holds. Safe after a failed init. */
void pl_device_free(pl_device *dv);

/**
 * Run every step of the device's action list, then hand its report to the
 * transport. Returns 0, or -1 once the run failed (the failure has been
 * reported through the transport, the first one winning).
 */
int pl_device_run(pl_device *dv);

/**
 * Run the device's action list once, for step dv->step. Returns 0, or -1
 * once the run failed.
 */
int pl_device_run_list(pl_device *dv);

/**
 * Run one action (device_action.c): receive its input, check memory,
 * compute, record, account, send. Returns 0, or -1 once the run failed.
 */
int pl_device_run_action(pl_device *dv, const pl_action *a);

/**
 * End step dv->step (device_step.c): the step's loss, the gradient norm if
 * clipping, the optimizer step on the device's own stages, and the barrier
 * unless steps sync locally. Under post-validation it first checks the
 * previous step's update and, if that must be redone, runs this step again.
 * Returns 0, or -1 once the run failed.
 */
int pl_device_end_step(pl_device *dv);

/**
 * After the last step: under post-validation, check the last update (and
 * redo it if it must be). Returns 0, or -1 once the run failed.
 */
int pl_device_end_run(pl_device *dv);

/** Report "dD failed at step S position P (A): why" as the run's failure. */
void pl_device_fail(pl_device *dv, pl_action a, const char *why);

#endif
