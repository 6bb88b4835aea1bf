/**
 * @file cost.h
 * @brief The cost model: how long each action takes on a modelled device.
 *
 * Time on the modelled timeline is counted in integer *ticks*, so every
 * executor that asks the same model gets exactly the same numbers; the cost
 * model says how long a tick is (docs/design.md, "Time"). Two models
 * (chapter 00):
 *
 *  - uniform: one *unit* is the forward of one device's share of the layers
 *    (L/p layers of width D) on one nominal micro-batch (batch/m rows), 1 ms
 *    by default, and a tick is 1 ns. An action costs its kind's time (t_F,
 *    t_I, t_W; t_B = t_I + t_W; a recomputed forward t_F) in proportion to
 *    the layers its stage holds -- each weighed by its in x out against D x D,
 *    so a layer twice as wide costs twice as much (chapter 07) -- and the rows
 *    of its micro-batch: with v chunks per device and an even split, a
 *    chunk's forward is 1/v unit.
 *  - flops: a tick is the time of one FLOP on a device of the given speed,
 *    so an action costs exactly its FLOPs: the forward's matmuls, the
 *    input-grad and the weight-grad as much again each, B both.
 *
 * Links (chapter 07) follow the alpha-beta model: a message of `bytes` bytes
 * between two devices arrives alpha + bytes/beta after it is sent;
 * pl_cost_link is the one place that says so, and every executor asks it.
 *
 * Invariant: a tick count never depends on which executor asks.
 */
#ifndef PL_COST_H
#define PL_COST_H

#include <stdint.h>

#include "action.h"
#include "model.h"
#include "options.h"

/** One uniform unit, in ticks of 1 ns: 1 ms. */
#define PL_COST_UNIT 1000000LL

/** Parameters of the cost model. */
typedef struct {
    pl_cost_kind kind;  /**< uniform or flops */
    double ns_per_tick; /**< how long one tick is */
    int64_t t_f;        /**< uniform: ticks of a forward of one unit */
    int64_t t_i;        /**< uniform: ticks of an input-grad of one unit */
    int64_t t_w;        /**< uniform: ticks of a weight-grad of one unit */
    int layers;         /**< uniform: L, the model's layers ... */
    int width;          /**< ... of width D ... */
    int devices;        /**< ... over p devices: a unit is L/p layers of D x D */
    int batch;          /**< uniform: samples per step ... */
    int nominal_m;      /**< ... over this many micro-batches: a unit is batch/m rows */
    int64_t alpha;      /**< link latency, ticks */
    double bandwidth;   /**< link: beta, bytes per second; 0 = unlimited */
} pl_cost;

/**
 * A uniform cost model: t_F, t_I, t_W ticks for a unit, the forward of L/p
 * layers of width D on batch/m rows (PL_COST_UNIT each by default).
 */
pl_cost pl_cost_uniform(int64_t t_f, int64_t t_i, int64_t t_w, int layers, int width,
                        int devices, int batch, int m);

/**
 * Give the model links of latency `latency_ms` and bandwidth `bytes_per_s`
 * (0: unlimited); free links have both 0.
 */
void pl_cost_set_links(pl_cost *c, double latency_ms, double bytes_per_s);

/** 1 if some message takes time: the links are not free. */
static inline int pl_cost_has_links(const pl_cost *c)
{
    return c->alpha > 0 || c->bandwidth > 0;
}

/** A FLOP-based cost model for devices of the given speed (FLOP/s). */
pl_cost pl_cost_flops(double flops_per_s);

/**
 * Ticks of one action of `kind` (F, B, I, W or R) on the stage holding layers
 * [first, first+count) of `model`, for a micro-batch of `rows` rows. Under
 * uniform costs `model` may be NULL: every layer then counts as D x D.
 */
int64_t pl_cost_action(const pl_cost *c, const pl_model *model, int first, int count,
                       int rows, pl_kind kind);

/**
 * Ticks a message of `bytes` bytes from device `from` to device `to` spends
 * on the link: alpha + bytes/beta, rounded to the nearest tick; 0 when `from`
 * is `to` (a hand-off between two chunks of one device crosses no link).
 */
int64_t pl_cost_link(const pl_cost *c, int from, int to, int64_t bytes);

/** A tick count in nanoseconds. */
static inline double pl_cost_ns(const pl_cost *c, int64_t ticks)
{
    return (double)ticks * c->ns_per_tick;
}

#endif
