/**
 * @file needs.h
 * @brief What a run will need, estimated before anything is allocated.
 *
 * A run's size grows with the product of its options -- devices times
 * micro-batches times chunks actions per step, batch times width times
 * layers bytes of activations, steps times the busiest device's work ticks
 * of modelled time -- so a few keystrokes can ask for terabytes or for
 * centuries. Before it builds anything, every run asks this module for an
 * estimate from its options and shape alone, and is refused with one line
 * that names the figure and the options driving it when:
 *
 *  - its host memory (bookkeeping, model, data, activations, messages,
 *    trace) exceeds what this machine has;
 *  - on the scaled clock, its host time exceeds PL_NEEDS_HOST_SECONDS;
 *  - its modelled time would not fit the 64-bit tick counters
 *    (PL_NEEDS_MAX_TICKS), or the scaled clock's host deadline would not
 *    fit 64-bit nanoseconds.
 *
 * The first two are estimates, and --ignore-limits (options.h) skips them
 * for the brave; the last is arithmetic, and nothing skips it. Every figure
 * is computed in double precision, so the estimate itself cannot overflow.
 *
 * Invariant: an estimate reads the options, the partition and the layers'
 * shapes only; it allocates nothing, and takes microseconds.
 */
#ifndef PL_NEEDS_H
#define PL_NEEDS_H

#include <stddef.h>

#include "job.h"
#include "registry.h"

/** The most ticks a run may model: far below 2^63, so no sum can overflow. */
#define PL_NEEDS_MAX_TICKS 4.0e18

/** The most host time a scaled-clock run may take without --ignore-limits: 1 hour. */
#define PL_NEEDS_HOST_SECONDS 3600.0

/**
 * FLOP/s no host core reaches (single-core sgemm peaks near 2e11 with
 * AVX-512): the speed --cost measured is estimated at before its layers are
 * timed, so that its time is never overestimated.
 */
#define PL_NEEDS_FASTEST_CORE 1.0e12

/** What needs host memory, in the order they are reported. */
typedef enum {
    PL_NEED_ACTIVATIONS, /**< stashes of the micro-batches in flight */
    PL_NEED_MESSAGES,    /**< activations and gradients between stages */
    PL_NEED_DATA,        /**< a step's batch, on the devices that read it */
    PL_NEED_MODEL,       /**< weights and gradients (and the reference's) */
    PL_NEED_SCHEDULE,    /**< action lists, validation, stash and mailbox slots */
    PL_NEED_TRACE,       /**< the events of the steps a trace keeps */
    PL_NEEDS
} pl_need;

/** A run's needs. */
typedef struct {
    pl_shape shape;         /**< p, m and v of the run estimated */
    double bytes[PL_NEEDS]; /**< host memory, by what needs it */
    double total_bytes;     /**< their sum */
    double busiest_ticks;   /**< a step lasts at least this: the busiest device's work, or
                                 one micro-batch's messages there and back if longer */
    double ticks;           /**< the modelled clock's last tick, at most */
    double link_ticks;      /**< of which the messages on links */
    double host_seconds;    /**< scaled clock: the least host time it takes; else 0 */
} pl_needs;

/**
 * Estimate what `job` needs. If job->schedule is NULL, the run is known by
 * the registered entry `e` and its `shape` only (the generator has not run):
 * each device's list is taken to hold three actions per chunk and
 * micro-batch (F, I, W), its stages are where e's placement puts them, and
 * its peak in flight is e's formula where the chapter derives one (else
 * every micro-batch of every chunk). With a schedule, e may be NULL, and its
 * lists and placement are used. job->model is read for its layers' shapes
 * only (pl_needs_model_shape builds one without weights); `peak_inflight`,
 * if not NULL, gives each device's peak (from the validator).
 */
void pl_needs_estimate(const pl_job *job, const pl_shape *shape, const pl_registry_entry *e,
                        const int *peak_inflight, pl_needs *out);

/**
 * Refuse a run whose needs exceed the limits above (the memory and host
 * time ones are skipped under --ignore-limits). Returns 0, or -1 with one
 * line in err naming the figure, its estimate and the options driving it.
 */
int pl_needs_check(const pl_job *job, const pl_needs *needs, char *err, size_t errlen);

/**
 * The layers' shapes of the model `o` asks for, without weights: enough for
 * costs, stash sizes and estimates. Returns 0, or -1 on allocation failure;
 * free with pl_model_free.
 */
int pl_needs_model_shape(pl_model *m, const pl_options *o);

/**
 * Bytes of host memory this process may use: the least of the machine's
 * physical memory, the address-space and data limits (setrlimit) and the
 * control group's memory limit, where each is known.
 */
double pl_needs_host_memory(void);

#endif
