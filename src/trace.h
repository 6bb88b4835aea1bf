/**
 * @file trace.h
 * @brief What ran where and when, and the numbers it yields.
 *
 * Both executors -- the simulator and the runtime -- produce a pl_trace: per
 * device a lane of events, one per executed action (plus R events for
 * recomputed forwards), each with its start and end in ticks of the run's
 * clock and what the device held right after it. The renderers (timeline.c,
 * chrome_trace.c, svg.c) draw a trace and nothing else. pl_metrics_compute
 * turns one step of it into the numbers every chapter reports
 * (docs/design.md, "Definitions"):
 *
 *   makespan = last end - first start, over all devices, for one step
 *   busy(d)  = sum of action durations on device d
 *   bubble   = 1 - sum_d busy(d) / (p * makespan)
 *
 * A long run does not keep every event: a lane keeps the events and totals
 * of its last PL_TRACE_KEPT_STEPS steps (every step of a shorter run), so a
 * trace's size does not grow with --steps. The step a run reports is chosen
 * among the kept ones (docs/design.md, "Definitions").
 *
 * Invariant: events of one lane are appended in execution order, by the one
 * thread that owns the lane; steps never go back.
 */
#ifndef PL_TRACE_H
#define PL_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "action.h"
#include "route.h"

/** The steps a trace keeps, at most: the last ones of the run. */
#define PL_TRACE_KEPT_STEPS 16

/** One executed action. */
typedef struct {
    int64_t start;      /**< ticks on the run's clock */
    int64_t end;        /**< ticks on the run's clock */
    int64_t held;       /**< activation bytes the device held right after it */
    int64_t in_transit; /**< bytes it had sent that were still on a link right after it */
    int32_t mb;         /**< micro-batch */
    int32_t inflight;   /**< micro-batches the device held right after it (up to m * v) */
    int16_t device;     /**< where it ran */
    int16_t stage;      /**< the stage it computed (stages <= layers <= 4096) */
    int16_t step;       /**< training step, from 0 (steps <= 10000) */
    int8_t kind;        /**< pl_kind: F, B, I, W, or R (a recomputed forward) */
    int8_t chunk;       /**< model chunk on the device */
} pl_event;

/** One message on a link (chapter 07), recorded by its sender. */
typedef struct {
    int64_t start;      /**< sent: the sending action's end, ticks on the run's clock */
    int64_t end;        /**< arrived: start + the link's delay */
    int64_t bytes;      /**< the tensor's size */
    int32_t mb;         /**< micro-batch */
    int16_t from;       /**< sending device */
    int16_t to;         /**< receiving device */
    int16_t stage;      /**< the stage that receives it */
    int16_t step;       /**< training step */
    int8_t flow;        /**< pl_flow: activation or gradient */
    int8_t chunk;       /**< the receiving stage's chunk */
} pl_transfer;

/** What one device did in one step, kept even when events are not. */
typedef struct {
    int step;                      /**< the step these are of */
    int64_t first_start;           /**< INT64_MAX if idle */
    int64_t last_end;              /**< INT64_MIN if idle */
    int64_t busy;                  /**< sum of action durations */
    int64_t bytes_sent;            /**< bytes of the messages it sent to other devices */
} pl_step_total;

/** Events of one device, in execution order: those of its kept steps. */
typedef struct {
    pl_event *events;              /**< NULL if the lane keeps totals only */
    long len;                      /**< events held (0 if it keeps totals only) */
    long cap;                      /**< events allocated */
    int steps;                     /**< steps of the run */
    int kept;                      /**< steps it keeps: min(steps, PL_TRACE_KEPT_STEPS) */
    int first_kept;                /**< the oldest step it still keeps */
    int keep_events;               /**< 0: only the per-step totals */
    pl_step_total *totals;         /**< [kept]: step k's at k % kept */
    pl_step_total first;           /**< step 0's, saved when the window slides past it */
    int64_t busy;                  /**< action time over every step of the run */
    int peak_inflight;             /**< over the whole run */
    size_t peak_bytes;             /**< activation bytes, over the whole run */
    size_t peak_held;              /**< activations + bytes in transit, its peak over the run ... */
    size_t peak_held_activations;  /**< ... of which activations ... */
    size_t peak_held_in_transit;   /**< ... and messages in transit, at that moment */
    pl_transfer *sends;            /**< messages it sent to other devices; NULL with totals only */
    long nsends;                   /**< messages recorded */
    long sends_cap;                /**< messages allocated */
} pl_lane;

/** What a trace is of: enough for a picture to label itself. */
typedef struct {
    char name[256];          /**< the schedule's name, or its file's */
    int devices;             /**< p */
    int microbatches;        /**< m */
    int chunks;              /**< v */
    pl_placement placement;  /**< where the chunks' stages sit */
    const char *clock;       /**< "virtual", "scaled" or "real" */
    const char *executor;    /**< "threads", "simulator" or "mpi" (chapter 09) */
    int recompute;           /**< 1 with recomputed forwards */
    double ns_per_tick;      /**< how long one tick is */
    double formula;          /**< the chapter's closed-form bubble, or < 0 if none applies */
    int shown_step;          /**< the step the run's summary reports */
    int shown_steps;         /**< the pictures draw steps [shown_step, shown_step + this) */
    char setup[128];         /**< chapter 07's costs in words ("lm-like, balanced 1,3,3,1"), or "" */
} pl_trace_info;

/** A run's trace: one lane per device. */
typedef struct {
    pl_trace_info info; /**< what it is of */
    int devices;        /**< p */
    int steps;          /**< training steps recorded */
    pl_lane *lanes;     /**< one per device */
} pl_trace;

/** Start an empty lane for a run of `steps` steps. Returns 0 or -1. */
int pl_lane_init(pl_lane *l, int steps, int keep_events);

/** Free a lane. Safe on a zeroed one. */
void pl_lane_free(pl_lane *l);

/**
 * Make room for `events` events and `sends` messages, so that a run that
 * knows how many it will record neither copies them as they grow nor
 * touches twice the memory. Nothing if the lane keeps no events. 0 or -1.
 */
int pl_lane_reserve(pl_lane *l, long events, long sends);

/**
 * Append an event and update its step's totals and the peaks. An event of a
 * step past the kept window first drops the oldest steps' events and totals.
 * Returns 0 or -1.
 */
int pl_lane_add(pl_lane *l, const pl_event *e);

/**
 * What events of one step add up to, before they reach a lane: the step's
 * totals and the peaks among them. pl_lane_add adds one event at a time;
 * the simulator tallies a whole step of a device first, next to the device's
 * clock, and adds it once (pl_lane_add_tally) -- the same sums.
 */
typedef struct {
    pl_step_total step;           /**< its totals (step.step: which step) */
    int peak_inflight;            /**< the most micro-batches held after one of its events */
    size_t peak_bytes;            /**< the most activation bytes held after one */
    size_t peak_held;             /**< the most activations + bytes in transit ... */
    size_t peak_held_activations; /**< ... of which activations ... */
    size_t peak_held_in_transit;  /**< ... and messages in transit, at that moment */
} pl_tally;

/** An empty tally of step `step`. */
static inline pl_tally pl_tally_empty(int step)
{
    return (pl_tally){{step, INT64_MAX, INT64_MIN, 0, 0}, 0, 0, 0, 0, 0};
}

/** Add event e (of the tally's step) to t: the one rule for what an event counts. */
static inline void pl_tally_add(pl_tally *t, const pl_event *e)
{
    if (e->start < t->step.first_start)
        t->step.first_start = e->start;
    if (e->end > t->step.last_end)
        t->step.last_end = e->end;
    t->step.busy += e->end - e->start;
    if (e->inflight > t->peak_inflight)
        t->peak_inflight = e->inflight;
    if ((size_t)e->held > t->peak_bytes)
        t->peak_bytes = (size_t)e->held;
    if ((size_t)(e->held + e->in_transit) > t->peak_held) {
        t->peak_held = (size_t)(e->held + e->in_transit);
        t->peak_held_activations = (size_t)e->held;
        t->peak_held_in_transit = (size_t)e->in_transit;
    }
}

/**
 * Add a tally to the lane: to its step's totals (the window slides to the
 * step first if need be), to the run's busy time and to the peaks. Returns
 * 0, or -1 for a step the lane no longer keeps or beyond the run.
 */
int pl_lane_add_tally(pl_lane *l, const pl_tally *t);

/**
 * Slide the window to step `step`, so that the lane keeps its events:
 * pl_lane_add does it for each event, an executor that keeps its own tally
 * (pl_lane_add_tally) when the step begins. Returns 0, or -1 for a step the
 * lane no longer keeps or beyond the run.
 */
int pl_lane_begin_step(pl_lane *l, int step);

/**
 * Keep event e, of the newest step the lane has begun, among the lane's
 * events if it keeps events (nothing otherwise). Counts nothing. Returns 0,
 * or -1 out of memory.
 */
int pl_lane_append(pl_lane *l, const pl_event *e);

/**
 * Record a message the lane's device sent to another device (and add its
 * bytes to its step's total). Returns 0 or -1.
 */
int pl_lane_send(pl_lane *l, const pl_transfer *t);

/**
 * Allocate an empty trace for p devices and the given number of steps. With
 * keep_events 0 it records only the per-step totals the metrics need, so
 * huge simulations do not store one event per action. Returns 0 or -1.
 */
int pl_trace_init(pl_trace *t, int devices, int steps, int keep_events);

/** Free the trace. Safe on a zeroed one. */
void pl_trace_free(pl_trace *t);

/** 1 if the trace kept the events of `step`. */
int pl_trace_has_events(const pl_trace *t, int step);

/** The oldest step every lane still keeps: 0 unless the run was longer than the window. */
int pl_trace_first_kept(const pl_trace *t);

/** Numbers for one step (docs/design.md). */
typedef struct {
    int devices;         /**< p */
    int64_t makespan;    /**< ticks */
    int64_t first_start; /**< ticks, the step's first action start */
    int64_t *busy;       /**< per device, ticks */
    double bubble;       /**< 1 - sum busy / (p * makespan) */
} pl_metrics;

/**
 * Compute the metrics of step `step` from the trace. Returns 0, or -1 if the
 * step has no events, is no longer kept, or on allocation failure. Free with
 * pl_metrics_free.
 */
int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out);

/**
 * The metrics of steps [first, first + count) taken as one stretch of time:
 * from the first start to the last end, busy summed over the steps
 * (chapter 06 draws steps that overlap). As pl_metrics_compute otherwise.
 */
int pl_metrics_steps(const pl_trace *t, int first, int count, pl_metrics *out);

/** Free what pl_metrics_compute allocated. */
void pl_metrics_free(pl_metrics *m);

/**
 * The steady state of a multi-step run (chapter 06). With E_k the end of
 * step k -- its last action's end over every device -- *period gets
 * (E_(N-1) - E_0) / (N - 1) ticks, the time per step once the pipeline runs,
 * and *bubble the idle fraction of that window: 1 - (busy time of steps
 * 1..N-1 on every device) / (p (E_(N-1) - E_0)). Returns 0, or -1 with fewer
 * than two steps.
 */
int pl_trace_period(const pl_trace *t, double *period, double *bubble);

/** Messages sent between devices in step `step` (each activation and gradient once). */
long pl_trace_messages(const pl_trace *t, int step);

/**
 * Draw step `step` as a terminal timeline: one row per device, time to the
 * right, each action as its letter and micro-batch over its duration, idle as
 * '.'; at most `columns` wide in total (scaled down as needed, and an action
 * never drawn in a column where it did not run). ANSI colour only if
 * `colour` is set.
 */
void pl_timeline_print(const pl_trace *t, int step, int columns, int colour, FILE *out);

/** As pl_timeline_print, for steps [first, first + count) on one time axis. */
void pl_timeline_print_steps(const pl_trace *t, int first, int count, int columns, int colour,
                             FILE *out);

/** The ticks one column of pl_timeline_print stands for (at least 1). */
int64_t pl_timeline_ticks_per_column(const pl_trace *t, int step, int columns);

/** Bytes device d sent to other devices in step `step`. */
int64_t pl_trace_bytes_sent(const pl_trace *t, int d, int step);

/** 1 if some message of step `step` spent time on a link. */
int pl_trace_has_transfers(const pl_trace *t, int step);

/**
 * 1 if the two traces hold identical events and messages (same order, same
 * times, same bytes).
 */
int pl_trace_equal(const pl_trace *a, const pl_trace *b);

#endif
