/**
 * @file trace.h
 * @brief What ran where and when, and the numbers it yields.
 *
 * Both executors -- the simulator and the runtime -- produce a pl_trace: one
 * event per action (plus 'R' events for recomputed forwards), with start and
 * end in integer nanoseconds on the run's clock, and per device the peak
 * in-flight micro-batches and peak activation bytes. pl_metrics_compute turns
 * one step of it into the numbers of DESIGN 2.2:
 *
 *   makespan = last end - first start, over all devices, for one step
 *   busy(d)  = sum of action durations on device d
 *   bubble   = 1 - sum_d busy(d) / (p * makespan)
 *
 * Invariant: events of one device are appended in execution order.
 */
#ifndef PL_TRACE_H
#define PL_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** One executed action. */
typedef struct {
    int64_t start;      /**< ns on the run's clock */
    int64_t end;        /**< ns on the run's clock */
    int32_t mb;         /**< micro-batch */
    int16_t device;     /**< where it ran */
    int16_t stage;      /**< the stage it computed */
    int16_t step;       /**< training step, from 0 */
    char kind;          /**< 'F', 'B', 'I', 'W', or 'R' (recomputed forward) */
    char chunk;         /**< model chunk on the device */
} pl_event;

/** What one device did in one step, kept even when events are not. */
typedef struct {
    int64_t first_start;           /**< INT64_MAX if idle */
    int64_t last_end;              /**< INT64_MIN if idle */
    int64_t busy;                  /**< sum of action durations */
} pl_step_total;

/** Events of one device, in execution order. */
typedef struct {
    pl_event *events;              /**< NULL if the trace keeps totals only */
    long len;                      /**< events recorded */
    long cap;                      /**< events allocated */
    pl_step_total *totals;         /**< one per step */
    int peak_inflight;          /**< over the whole run */
    size_t peak_bytes;          /**< activation bytes, over the whole run */
} pl_lane;

/** A run's trace: one lane per device. */
typedef struct {
    int devices;      /**< p */
    int steps;        /**< training steps recorded */
    int keep_events; /**< 0: only per-step totals (for very large runs) */
    pl_lane *lanes;   /**< one per device */
} pl_trace;

/**
 * Allocate an empty trace for p devices and the given number of steps. With
 * keep_events 0 it records only the per-step totals the metrics need, so
 * huge simulations do not store one event per action. Returns 0 or -1.
 */
int pl_trace_init(pl_trace *t, int devices, int steps, int keep_events);

/** Free the trace. Safe on a zeroed one. */
void pl_trace_free(pl_trace *t);

/** Make room for n events in device d's lane. Returns 0 or -1. */
int pl_trace_reserve(pl_trace *t, int d, long n);

/**
 * Append an event to its device's lane. Only that device's thread calls this
 * for its lane, so no lock is needed. Returns 0 or -1 on allocation failure.
 */
int pl_trace_add(pl_trace *t, const pl_event *e);

/** Numbers for one step (DESIGN 2.2). */
typedef struct {
    int devices;       /**< p */
    int64_t makespan;   /**< ns */
    int64_t first_start; /**< ns, the step's first action start */
    int64_t *busy;      /**< per device, ns */
    double bubble;      /**< 1 - sum busy / (p * makespan) */
} pl_metrics;

/**
 * Compute the metrics of step `step` from the trace. Returns 0, or -1 if the
 * step has no events or on allocation failure. Free with pl_metrics_free.
 */
int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out);

/** Free what pl_metrics_compute allocated. */
void pl_metrics_free(pl_metrics *m);

/**
 * Draw step `step` as a terminal timeline: one row per device, time to the
 * right, each action as its letter and micro-batch over its duration, idle as
 * '.'; at most `columns` wide in total (scaled down as needed). ANSI colour
 * only if `colour` is set.
 */
void pl_timeline_print(const pl_trace *t, int step, int columns, int colour, FILE *out);

/**
 * Write s as a JSON string literal (quotes, backslashes and control
 * characters escaped), for the JSON summary and the Chrome trace alike.
 */
void pl_json_string(const char *s, FILE *out);

/** 1 if the two traces hold identical events (same order, same times). */
int pl_trace_equal(const pl_trace *a, const pl_trace *b);

#endif
