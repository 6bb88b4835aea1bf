/**
 * @file clock.h
 * @brief The three clocks a device keeps time by, behind one small interface.
 *
 *  - virtual (clock_virtual.c): a logical clock per device. An action starts
 *    at max(device clock, arrival time of the message it needs) and ends
 *    `cost` ticks later. Deterministic; equals the simulator to the tick.
 *  - scaled (clock_scaled.c): the same modelled timeline, lived in host
 *    time `scale` times slower. The action computes, then sleeps until its
 *    modelled end, scaled -- an absolute deadline on the modelled timeline
 *    from the run's start, so a late wake-up is absorbed by the next sleep
 *    instead of pushing every later action back.
 *  - real (clock_real.c): no modelling; an action takes what the host takes.
 *
 * One interface, three back ends (the ae_epoll / ae_kqueue pattern): the
 * device calls pl_clock_begin before an action and pl_clock_end after it,
 * stamps outgoing messages with pl_clock_stamp, and never asks which clock
 * it has or reads its fields. Chapter 01 explains the three; docs/design.md
 * says why the results are exact and still real.
 *
 * Invariant: one pl_clock per device thread; it is not shared.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

/** Where a clock gets host time; tests substitute a fake. */
typedef struct {
    int64_t (*now)(void *ctx);                      /**< host monotonic ns */
    void (*sleep_until)(void *ctx, int64_t host_ns); /**< return at host_ns or later */
    void *ctx;                                      /**< passed to both */
} pl_host;

/** The host's own monotonic clock and clock_nanosleep. */
extern const pl_host pl_host_system;

typedef struct pl_clock_ops pl_clock_ops;

/** One device's clock. Its fields belong to the back end: read none of them. */
typedef struct {
    const pl_clock_ops *ops; /**< the back end */
    int64_t model;           /**< modelled time now (virtual, scaled) */
    int64_t model_start;     /**< modelled start of the current action */
    int64_t epoch;           /**< host ns at time zero (scaled, real) */
    double ns_per_tick;      /**< modelled ns per tick */
    double scale;            /**< scaled: host ns per modelled ns */
    const pl_host *host;     /**< host time */
    int (*stopped)(void *ctx); /**< a scaled sleep ends early once this returns 1 */
    void *stop_ctx;          /**< passed to stopped */
} pl_clock;

/** What every back end implements. */
struct pl_clock_ops {
    int64_t (*begin)(pl_clock *c, int64_t ready);  /**< see pl_clock_begin */
    int64_t (*end)(pl_clock *c, int64_t cost);     /**< see pl_clock_end */
    int64_t (*stamp)(const pl_clock *c);           /**< see pl_clock_stamp */
    void (*advance)(pl_clock *c, int64_t t);       /**< see pl_clock_advance */
    double (*ns_per_tick)(const pl_clock *c);      /**< see pl_clock_ns_per_tick */
    int64_t (*span)(const pl_clock *c, int64_t ticks); /**< see pl_clock_span */
};

/** For the back ends that keep a modelled time (virtual, scaled): its stamp. */
int64_t pl_clock_model_stamp(const pl_clock *c);

/** For the back ends that keep a modelled time: move it on to t after a barrier. */
void pl_clock_model_advance(pl_clock *c, int64_t t);

/** The clock's name: "virtual", "scaled" or "real". */
const char *pl_clock_name(pl_clock_kind k);

/** Parse a clock name; returns 0, or -1 if unknown. */
int pl_clock_parse(const char *name, pl_clock_kind *out);

/** Host monotonic time in ns. */
int64_t pl_clock_host_ns(void);

/**
 * Make a device clock. `epoch` is the run's host time zero (pl_clock_host_ns()
 * taken once before the devices start); `ns_per_tick` is the cost model's
 * tick length and `scale` the scaled clock's slow-down.
 */
pl_clock pl_clock_make(pl_clock_kind kind, int64_t epoch, double ns_per_tick, double scale);

/** Let a scaled sleep end early (within PL_CLOCK_SLICE_NS) once stopped(ctx) returns 1. */
void pl_clock_on_stop(pl_clock *c, int (*stopped)(void *ctx), void *ctx);

/** Use another source of host time (tests inject late wake-ups this way). */
void pl_clock_use_host(pl_clock *c, const pl_host *host);

/**
 * A modelled time of `ticks` as a clock of `kind` would record it, in ns:
 * the virtual clock records the model (ticks * ns_per_tick); the scaled one
 * lives it `scale` times slower in host ns; the real clock has no model, so
 * the model's own figure is the only prediction there is.
 */
double pl_clock_predict_ns(pl_clock_kind kind, int64_t ticks, double ns_per_tick, double scale);

/** The longest a scaled sleep goes without asking whether the run stopped. */
#define PL_CLOCK_SLICE_NS 10000000LL

/**
 * Start an action whose input message was stamped `ready` (0 if it needs
 * none) -- a message's stamp is its arrival time. Returns the start time to
 * record.
 */
static inline int64_t pl_clock_begin(pl_clock *c, int64_t ready)
{
    return c->ops->begin(c, ready);
}

/** End the action begun last, modelled to cost `cost` ticks. Returns the end time to record. */
static inline int64_t pl_clock_end(pl_clock *c, int64_t cost)
{
    return c->ops->end(c, cost);
}

/** The time to stamp on a message sent now, or to bring to a barrier. */
static inline int64_t pl_clock_stamp(const pl_clock *c)
{
    return c->ops->stamp(c);
}

/**
 * Move on to time t: one agreed at a barrier (a stamp of the latest
 * device), or the arrival of a message a blocking send waits for.
 */
static inline void pl_clock_advance(pl_clock *c, int64_t t)
{
    c->ops->advance(c, t);
}

/**
 * How long a modelled span of `ticks` lasts in recorded time: `ticks`
 * (virtual), scaled into host ns (scaled), or 0 (real: it models nothing).
 * A link's transfer is drawn this long (chapter 07).
 */
static inline int64_t pl_clock_span(const pl_clock *c, int64_t ticks)
{
    return c->ops->span(c, ticks);
}

/** How many ns one recorded tick lasts: the model's tick (virtual), or 1 (host ns). */
static inline double pl_clock_ns_per_tick(const pl_clock *c)
{
    return c->ops->ns_per_tick(c);
}

/**
 * A duration in milliseconds as the summaries print it: three decimals, or
 * three significant digits below 0.01 ms, where three decimals would show
 * 0.000 for an action of nanoseconds (--cost flops on a fast device).
 * Written into buf (n bytes); returns buf.
 */
const char *pl_clock_ms_text(double ms, char *buf, size_t n);

#endif
