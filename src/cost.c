/*
 * cost.c -- how long an action takes on a modelled device (chapter 00).
 */
#include "cost.h"

pl_cost pl_cost_uniform(int batch, int m)
{
    pl_cost c = {0};
    c.kind = PL_COST_UNIFORM;
    c.t_f = c.t_i = c.t_w = PL_COST_UNIT_NS;
    c.nominal_rows_num = batch;
    c.nominal_rows_den = m;
    return c;
}

pl_cost pl_cost_flops(double flops_per_s)
{
    pl_cost c = {0};
    c.kind = PL_COST_FLOPS;
    c.flops_per_s = flops_per_s;
    return c;
}

/* A unit time for a nominal micro-batch, scaled to `rows`:
 * unit * rows / (batch/m) = unit * rows * m / batch, in integer arithmetic
 * so that every executor computes the same nanoseconds. */
static int64_t scaled_unit(const pl_cost *c, int64_t unit, int rows)
{
    return unit * rows * c->nominal_rows_den / c->nominal_rows_num;
}

static int64_t uniform(const pl_cost *c, int rows, char kind)
{
    switch (kind) {
    case 'F':
    case 'R':
        return scaled_unit(c, c->t_f, rows);
    case 'I':
        return scaled_unit(c, c->t_i, rows);
    case 'W':
        return scaled_unit(c, c->t_w, rows);
    default: /* 'B' = I + W */
        return scaled_unit(c, c->t_i, rows) + scaled_unit(c, c->t_w, rows);
    }
}

/* The input-grad and the weight-grad are each one matmul the size of the
 * forward's, so each costs one forward's FLOPs; B costs two. */
static int64_t flops(const pl_cost *c, const pl_model *m, int first, int count,
                     int rows, char kind)
{
    int64_t f = 0;
    for (int l = first; l < first + count; l++)
        f += pl_layer_flops(&m->layers[l], rows);
    if (kind == 'B')
        f *= 2;
    return (int64_t)((double)f / c->flops_per_s * 1e9);
}

int64_t pl_cost_action(const pl_cost *c, const pl_model *m, int first, int count,
                       int rows, char kind)
{
    if (c->kind == PL_COST_UNIFORM)
        return uniform(c, rows, kind);
    return flops(c, m, first, count, rows, kind);
}
