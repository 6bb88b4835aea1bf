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
    int32_t mb;         /**< micro-batch */
    int32_t inflight;   /**< micro-batches the device held right after it (up to m * v) */
    int16_t device;     /**< where it ran */
    int16_t stage;      /**< the stage it computed (stages <= layers <= 4096) */
    int16_t step;       /**< training step, from 0 (steps <= 10000) */
    int8_t kind;        /**< pl_kind: F, B, I, W, or R (a recomputed forward) */
    int8_t chunk;       /**< model chunk on the device */
} pl_event;

/** What one device did in one step, kept even when events are not. */
typedef struct {
    int step;                      /**< the step these are of */
    int64_t first_start;           /**< INT64_MAX if idle */
    int64_t last_end;              /**< INT64_MIN if idle */
    int64_t busy;                  /**< sum of action durations */
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
    int peak_inflight;             /**< over the whole run */
    size_t peak_bytes;             /**< activation bytes, over the whole run */
} pl_lane;

/** What a trace is of: enough for a picture to label itself. */
typedef struct {
    char name[256];          /**< the schedule's name, or its file's */
    int devices;             /**< p */
    int microbatches;        /**< m */
    int chunks;              /**< v */
    pl_placement placement;  /**< where the chunks' stages sit */
    const char *clock;       /**< "virtual", "scaled" or "real" */
    const char *executor;    /**< "threads" or "simulator" */
    int recompute;           /**< 1 with recomputed forwards */
    double ns_per_tick;      /**< how long one tick is */
    double formula;          /**< the chapter's closed-form bubble, or < 0 if none applies */
    int shown_step;          /**< the step the run's summary reports */
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

/** Make room for n events. Returns 0 or -1. */
int pl_lane_reserve(pl_lane *l, long n);

/**
 * Append an event and update its step's totals and the peaks. An event of a
 * step past the kept window first drops the oldest steps' events and totals.
 * Returns 0 or -1.
 */
int pl_lane_add(pl_lane *l, const pl_event *e);

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

/** Free what pl_metrics_compute allocated. */
void pl_metrics_free(pl_metrics *m);

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

/** The ticks one column of pl_timeline_print stands for (at least 1). */
int64_t pl_timeline_ticks_per_column(const pl_trace *t, int step, int columns);

/** 1 if the two traces hold identical events (same order, same times, same bytes). */
int pl_trace_equal(const pl_trace *a, const pl_trace *b);

#endif
