/**
 * @file clock.h
 * @brief The three clocks a device keeps time by (DESIGN 2.1).
 *
 *  - virtual: a logical clock per device. An action starts at
 *    max(device clock, arrival time of the message it needs) and ends `cost`
 *    later. Deterministic; equals the simulator to the nanosecond.
 *  - scaled: wall clock, with each simulated device `scale` times slower
 *    than its cost: the action computes, then sleeps until
 *    start + cost * scale (an absolute deadline, so sleeps do not drift).
 *  - real: wall clock, no modelling; an action takes what the host takes.
 *
 * One small interface, three back ends (the ae_epoll / ae_kqueue pattern):
 * the device loop calls pl_clock_begin before an action and pl_clock_end
 * after it, and never asks which clock it has.
 *
 * Invariant: one pl_clock per device thread; it is not shared.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

/** Which clock. */
typedef enum { PL_CLOCK_VIRTUAL = 0, PL_CLOCK_SCALED = 1, PL_CLOCK_REAL = 2 } pl_clock_kind;

/** The clock's name: "virtual", "scaled" or "real". */
const char *pl_clock_name(pl_clock_kind k);

/** Parse a clock name; returns 0, or -1 if unknown. */
int pl_clock_parse(const char *name, pl_clock_kind *out);

/** One device's clock. */
typedef struct {
    pl_clock_kind kind; /**< virtual, scaled or real */
    int64_t now;    /**< virtual: the device's logical time */
    int64_t epoch;  /**< scaled/real: host monotonic ns at time zero */
    double scale;   /**< scaled: host ns slept per modelled ns */
    const atomic_int *stop; /**< scaled: a sleep ends early once *stop is set (NULL: never) */
} pl_clock;

/** The longest a scaled-clock sleep goes without looking at its stop flag. */
#define PL_CLOCK_SLICE_NS 10000000LL

/** Host monotonic time in ns. */
int64_t pl_clock_host_ns(void);

/**
 * Make a device clock. `epoch` is the shared host time zero of the run
 * (pl_clock_host_ns() taken once before the devices start).
 */
pl_clock pl_clock_make(pl_clock_kind kind, int64_t epoch, double scale);

/**
 * The start time of an action whose input arrived at `ready` (0 if it needs
 * none). Virtual: max(now, ready). Scaled and real: the host time now,
 * since the thread really waited for the input.
 */
int64_t pl_clock_begin(pl_clock *c, int64_t ready);

/**
 * The end time of an action that started at `start` and is modelled to cost
 * `cost` ns. Virtual: start + cost. Scaled: sleeps until
 * start + cost * scale, then returns the host time; the sleep is cut short
 * within PL_CLOCK_SLICE_NS once *c->stop is set, so a stopped run never waits
 * out a long modelled action. Real: the host time.
 */
int64_t pl_clock_end(pl_clock *c, int64_t start, int64_t cost);

/** Move a virtual clock forward to t (a barrier between steps). */
void pl_clock_advance(pl_clock *c, int64_t t);

#endif
