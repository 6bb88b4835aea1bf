/*
 * cost.c -- how long an action takes on a modelled device (chapter 00).
 */
#include "cost.h"

pl_cost pl_cost_uniform(int64_t t_f, int64_t t_i, int64_t t_w, int layers, int devices,
                        int batch, int m)
{
    pl_cost c = {0};
    c.kind = PL_COST_UNIFORM;
    c.ns_per_tick = 1.0;
    c.t_f = t_f;
    c.t_i = t_i;
    c.t_w = t_w;
    c.layers = layers;
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
/* t ticks per unit, times the stage's share (count layers of a unit's L/p)
 * and the micro-batch's share (rows of a unit's batch/m):
 *
 *     t * (count * p / L) * (rows * m / batch)
 *
 * in integers, rounded down, so every executor computes the same ticks.
 * num/den is at most about 2p, so splitting it into a whole part and a
 * remainder keeps every product far below 2^63. */
static int64_t uniform(const pl_cost *c, int64_t t, int count, int rows)
{
    int64_t num = (int64_t)count * c->devices * rows * c->nominal_m;
    int64_t den = (int64_t)c->layers * c->batch;
    return t * (num / den) + t * (num % den) / den;
}
// [endregion cost-uniform]

int64_t pl_cost_action(const pl_cost *c, const pl_model *model, int first, int count,
                       int rows, pl_kind kind)
{
    if (c->kind == PL_COST_UNIFORM) {
        switch (kind) {
        case PL_F:
        case PL_R: return uniform(c, c->t_f, count, rows);
        case PL_I: return uniform(c, c->t_i, count, rows);
        case PL_W: return uniform(c, c->t_w, count, rows);
        case PL_B: return uniform(c, c->t_i, count, rows) + uniform(c, c->t_w, count, rows);
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
