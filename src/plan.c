/*
 * plan.c -- chapter 08: the fastest plan that fits a memory budget, by
 * search with the simulator.
 *
 * A plan is one run of pl_experiment_run on the simulator: the same model,
 * partition, costs and links as `pipelab run` would use, one step, no
 * memory limit (the budget is applied afterwards, so a plan over it still
 * says by how much). Nothing is estimated: the step time is the simulator's
 * makespan, each device's memory its whole bill at its peak.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "memory.h"

/* The run of one plan: the options asked for, with the plan's schedule and
 * parameters, on the simulator. Time is compared across m, so a uniform
 * unit is a forward on a fixed share of the batch -- the whole batch unless
 * o->unit_microbatches says otherwise -- rather than on batch/m rows. */
static pl_options plan_options(const pl_options *o, const pl_plan *plan)
{
    pl_options q = *o;
    q.schedule = plan->entry->name;
    q.schedule_file = NULL;
    q.microbatches = plan->m;
    q.chunks = plan->v;
    q.recompute = plan->recompute;
    q.warmup_extra = plan->warmup_extra;
    q.unit_microbatches = o->unit_microbatches ? o->unit_microbatches : 1;
    q.device_memory = 0;
    q.simulate = 1;
    q.totals_only = 1;
    q.steps = 1;
    q.verify = 0;
    q.on_step = NULL;
    return q;
}

int pl_plan_evaluate(const pl_options *o, size_t budget, pl_plan *plan)
{
    char err[1024];
    pl_options q = plan_options(o, plan);
    pl_experiment x;
    plan->verdict = PL_PLAN_CANNOT;
    if (pl_experiment_run(&q, &x, err, sizeof err)) {
        snprintf(plan->why, sizeof plan->why, "%.*s", (int)sizeof plan->why - 1, err);
        pl_experiment_free(&x);
        return 0;
    }
    int p = x.schedule.devices;
    plan->memory = malloc((size_t)p * sizeof *plan->memory);
    if (!plan->memory) {
        pl_experiment_free(&x);
        return -1;
    }
    plan->warmup_extra = x.warmup_extra; /* auto: the K it came to */
    plan->step_ns = x.makespan_ns;
    plan->bubble = x.bubble;
    plan->peak = 0;
    for (int d = 0; d < p; d++) {
        pl_memory_bill b = pl_experiment_memory(&x, d);
        plan->memory[d] = pl_memory_total(&b);
        if (d == 0 || plan->memory[d] > plan->peak) {
            plan->peak = plan->memory[d];
            plan->worst = d;
        }
    }
    plan->verdict = budget && plan->peak > budget ? PL_PLAN_OVER : PL_PLAN_FITS;
    pl_experiment_free(&x);
    return 0;
}

static int cmp(double a, double b)
{
    return (a > b) - (a < b);
}

int pl_plan_compare(const void *a, const void *b)
{
    const pl_plan *x = a, *y = b;
    int c = cmp(x->verdict, y->verdict);
    if (!c && x->verdict != PL_PLAN_CANNOT)
        c = cmp(x->step_ns, y->step_ns);
    if (!c && x->verdict != PL_PLAN_CANNOT)
        c = cmp((double)x->peak, (double)y->peak);
    if (!c)
        c = (x->entry > y->entry) - (x->entry < y->entry); /* registry order */
    if (!c)
        c = cmp(x->m, y->m);
    if (!c)
        c = cmp(x->v, y->v);
    if (!c)
        c = cmp(x->recompute, y->recompute);
    return c ? c : cmp(x->warmup_extra, y->warmup_extra);
}

// [region plan-space]
/* The plans of entry e, into out (if not NULL); returns how many. Every m
 * up to max_m (or the one it fixes), every v up to max_v (or the one it
 * fixes), without and with recomputation; 1F1B over slow links also with
 * the deeper warm-up of chapter 07. */
static int plans_of(const pl_registry_entry *e, const pl_options *o, pl_plan_space space,
                    pl_plan *out)
{
    int n = 0, links = o->link_latency_ms > 0 || o->link_bandwidth > 0;
    int warmups = links && !strcmp(e->name, "1f1b") ? 2 : 1;
    for (int m = 1; m <= (e->microbatches ? 1 : space.max_m); m++)
        for (int v = 1; v <= (e->chunks ? 1 : space.max_v); v++)
            for (int r = 0; r < 2; r++)
                for (int w = 0; w < warmups; w++, n++)
                    if (out)
                        out[n] = (pl_plan){e, e->microbatches ? e->microbatches : m,
                                           e->chunks ? e->chunks : v, r,
                                           w ? PL_WARMUP_AUTO : 0, PL_PLAN_CANNOT,
                                           0, 0, NULL, 0, 0, ""};
    return n;
}
// [endregion plan-space]

int pl_plan_search(const pl_options *o, pl_plan_space space, pl_plan_result *out, char *err,
                   size_t errlen)
{
    int count, total = 0;
    const pl_registry_entry *all = pl_registry_list(&count);
    memset(out, 0, sizeof *out);
    out->devices = o->devices;
    out->budget = o->device_memory;
    if (space.max_m < 1 || space.max_v < 1) {
        snprintf(err, errlen, "plan: nothing to search (m up to %d, v up to %d)", space.max_m,
                 space.max_v);
        return -1;
    }
    for (int i = 0; i < count; i++)
        total += plans_of(&all[i], o, space, NULL);
    out->plans = calloc((size_t)total, sizeof *out->plans);
    if (!out->plans) {
        snprintf(err, errlen, "plan: out of host memory for %d plans", total);
        return -1;
    }
    for (int i = 0; i < count; i++)
        out->n += plans_of(&all[i], o, space, out->plans + out->n);
    // [region plan-search]
    for (int k = 0; k < out->n; k++)
        if (pl_plan_evaluate(o, out->budget, &out->plans[k])) {
            snprintf(err, errlen, "plan: out of host memory");
            return -1;
        }
    qsort(out->plans, (size_t)out->n, sizeof *out->plans, pl_plan_compare);
    while (out->fitting < out->n && out->plans[out->fitting].verdict == PL_PLAN_FITS)
        out->fitting++;
    // [endregion plan-search]
    return 0;
}

void pl_plan_free(pl_plan_result *r)
{
    for (int k = 0; r->plans && k < r->n; k++)
        free(r->plans[k].memory);
    free(r->plans);
    memset(r, 0, sizeof *r);
}
