/*
 * options.c -- the defaults of a run, and the layer widths it asks for.
 */
#include "options.h"

#include <string.h>

#include "model.h"

void pl_options_defaults(pl_options *o)
{
    memset(o, 0, sizeof *o);
    o->schedule = "1f1b";
    o->devices = 4;
    o->microbatches = 8;
    o->layers = 8;
    o->width = 32;
    o->batch = 32;
    o->steps = 2;
    o->seed = 1;
    o->lr = 0.05f;
    o->cost = PL_COST_UNIFORM;
    o->t_f = o->t_i = o->t_w = 1.0;
    o->flops_per_s = 1e9;
    o->clock = PL_CLOCK_VIRTUAL;
    o->scale = 1.0;
    o->fault_device = -1;
    o->fault_action = -1;
    o->watchdog_s = 10.0;
}

void pl_options_widths(const pl_options *o, int *widths)
{
    for (int l = 0; l < o->layers; l++)
        widths[l] = o->widths ? o->widths[l] : o->width;
    if (!o->widths && o->model == PL_MODEL_LM_LIKE)
        pl_model_lm_like(o->layers, o->width, widths);
}
