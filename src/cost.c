/*
 * cost.c -- how long an action takes on a modelled device (chapter 00).
 */
#include "cost.h"

#include <math.h>

pl_cost pl_cost_uniform(int64_t t_f, int64_t t_i, int64_t t_w, int layers, int width,
                        int devices, int batch, int m)
{
    pl_cost c = {0};
    c.kind = PL_COST_UNIFORM;
    c.ns_per_tick = 1.0;
    c.t_f = t_f;
    c.t_i = t_i;
    c.t_w = t_w;
    c.layers = layers;
    c.width = width;
    c.devices = devices;
    c.batch = batch;
    c.nominal_m = m;
    return c;
}

pl_cost pl_cost_flops(double flops_per_s)
{
    pl_cost c = {0};
    c.kind = PL_COST_FLOPS;
    c.ns_per_tick = 1e9 / flops_per_s;
    return c;
}

// [region cost-uniform]
/* t ticks per unit, times the stage's share (its layers' FLOPs per row,
 * against a unit's L/p layers of 2 D D each) and the micro-batch's share
 * (rows of a unit's batch/m):
 *
 *     t * (weight * p / (L * 2 D D)) * (rows * m / batch)
 *
 * in integers, rounded down, so every executor computes the same ticks.
 * With every layer D wide, weight = count * 2 D D and this is count * p / L:
 * a stage costs in proportion to its layers. */
static int64_t uniform(const pl_cost *c, int64_t t, int64_t weight, int rows)
{
    __extension__ typedef unsigned __int128 u128; /* the products below exceed 2^64 */
    u128 num = (u128)weight * (u128)c->devices * (u128)rows * (u128)c->nominal_m;
    u128 den = (u128)c->layers * 2u * (u128)c->width * (u128)c->width * (u128)c->batch;
    return (int64_t)((u128)t * num / den);
}
// [endregion cost-uniform]

/* A stage's weight: the FLOPs of its layers' forward on one row (with no
 * model, count layers of D x D). */
static int64_t weight(const pl_cost *c, const pl_model *model, int first, int count)
{
    if (!model)
        return (int64_t)count * 2 * c->width * c->width;
    int64_t w = 0;
    for (int l = first; l < first + count; l++)
        w += pl_model_layer_flops(&model->layers[l], 1);
    return w;
}

int64_t pl_cost_action(const pl_cost *c, const pl_model *model, int first, int count,
                       int rows, pl_kind kind)
{
    if (c->kind == PL_COST_UNIFORM) {
        int64_t w = weight(c, model, first, count);
        switch (kind) {
        case PL_F:
        case PL_R: return uniform(c, c->t_f, w, rows);
        case PL_I: return uniform(c, c->t_i, w, rows);
        case PL_W: return uniform(c, c->t_w, w, rows);
        case PL_B: return uniform(c, c->t_i, w, rows) + uniform(c, c->t_w, w, rows);
        }
        return 0;
    }
    /* The input-grad and the weight-grad are each one matmul the size of the
     * forward's, so each costs one forward's FLOPs; B costs both. */
    int64_t f = 0;
    for (int l = first; l < first + count; l++)
        f += pl_model_layer_flops(&model->layers[l], rows);
    return kind == PL_B ? 2 * f : f;
}

void pl_cost_set_links(pl_cost *c, double latency_ms, double bytes_per_s)
{
    c->alpha = llround(latency_ms * 1e6 / c->ns_per_tick);
    c->bandwidth = bytes_per_s > 0 ? bytes_per_s : 0.0;
}

// [region cost-link]
int64_t pl_cost_link(const pl_cost *c, int from, int to, int64_t bytes)
{
    if (from == to)
        return 0;
    double ns = c->bandwidth > 0 ? (double)bytes * 1e9 / c->bandwidth : 0.0;
    return c->alpha + llround(ns / c->ns_per_tick);
}
// [endregion cost-link]
