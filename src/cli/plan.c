/*
 * plan.c -- `pipelab plan` (chapter 08): which schedule, how many micro-
 * batches, for this model, these devices and this memory budget?
 *
 *   the fastest plans that fit, fastest first:
 *      #  schedule       m   v  recompute   step ms   bubble  memory per device, KiB
 *      1  zb-v          32   2  no            3.047   0.0154  30.1 30.1 30.1 31.2
 *   ...
 *   why not the others, schedule by schedule:
 *     gpipe        best 3.531 ms (+15.9%): m 32; 31 slower; 32 over the budget
 *
 * Every figure is the simulator's (src/plan.c), as `pipelab run` would
 * measure it on the virtual clock.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "experiment.h"
#include "plan.h"

enum { SHOWN = 5 }; /* fitting plans listed */

static int links(const pl_options *o)
{
    return o->link_latency_ms > 0 || o->link_bandwidth > 0;
}

/* "m 32, v 2, recompute, warm-up +1": the parameters a schedule takes. */
static void params(const pl_plan *x, char *buf, size_t n)
{
    int k = snprintf(buf, n, "m %d", x->m);
    if (!x->entry->chunks && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, ", v %d", x->v);
    if (x->recompute && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, ", recompute");
    if (x->warmup_extra && k >= 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, ", warm-up +%d", x->warmup_extra);
}

static void header(const pl_args *a, const pl_plan_result *r, pl_plan_space space)
{
    const pl_options *o = &a->opt;
    int count;
    pl_registry_list(&count);
    printf("plan: p = %d devices, %d layers%s, batch %d; ", o->devices, o->layers,
           o->widths ? " (--widths)" : o->model == PL_MODEL_LM_LIKE ? " (lm-like)" : "",
           o->batch);
    if (r->budget)
        printf("budget %zu bytes per device, everything counted\n", r->budget);
    else
        printf("no memory budget\n");
    char rows[48] = "the whole batch";
    if (o->unit_microbatches > 1)
        snprintf(rows, sizeof rows, "batch/%d rows", o->unit_microbatches);
    if (o->cost == PL_COST_FLOPS)
        printf("costs: from FLOPs at %g FLOP/s", o->flops_per_s);
    else if (o->t_f == o->t_i && o->t_i == o->t_w)
        printf("costs: 1 unit = %g ms = the forward of L/p layers on %s; "
               "t_F = t_I = t_W = %g unit", (double)PL_COST_UNIT / 1e6, rows, o->t_f);
    else
        printf("costs: 1 unit = %g ms = the forward of L/p layers on %s; "
               "t_F %g, t_I %g, t_W %g units", (double)PL_COST_UNIT / 1e6, rows, o->t_f,
               o->t_i, o->t_w);
    if (links(o)) {
        printf("\nlinks: %g ms latency", o->link_latency_ms);
        if (o->link_bandwidth > 0)
            printf(" + bytes / %g B/s", o->link_bandwidth);
        printf(", %s sends", o->blocking_send ? "blocking" : "non-blocking");
    }
    printf("\nsearched %d plans, one step each, with the simulator: %d schedules, m 1..%d,\n"
           "v 1..%d, recomputation off and on%s\n\n", r->n, count, space.max_m, space.max_v,
           links(o) ? ", 1f1b's warm-up as is and deepened" : "");
}

/* The table of the fastest plans; a warm-up column when 1F1B may deepen
 * its warm-up (slow links). */
static void fastest(const pl_plan_result *r, int warmups)
{
    if (r->fitting == 0) {
        printf("no plan fits the budget.\n");
        return;
    }
    printf("the fastest plans that fit, fastest first:\n");
    printf("   #  %-12s %3s %3s  %-9s %-*s%9s  %7s  %s\n", "schedule", "m", "v", "recompute",
           warmups ? 9 : 0, warmups ? "warm-up" : "", "step ms", "bubble",
           "memory per device, KiB");
    for (int k = 0; k < r->fitting && k < SHOWN; k++) {
        const pl_plan *x = &r->plans[k];
        char warm[16] = "";
        if (warmups)
            snprintf(warm, sizeof warm, x->warmup_extra ? "+%d" : "-", x->warmup_extra);
        printf("  %2d  %-12s %3d %3d  %-9s %-*s%9.3f  %7.4f ", k + 1, x->entry->name, x->m,
               x->v, x->recompute ? "yes" : "no", warmups ? 9 : 0, warm, x->step_ns / 1e6,
               x->bubble);
        for (int d = 0; d < r->devices; d++)
            printf(" %.1f", (double)x->memory[d] / 1024.0);
        printf("\n");
    }
    if (r->fitting > SHOWN)
        printf("  ... and %d more that fit\n", r->fitting - SHOWN);
}

/* One schedule's line: its best plan that fits, and what became of the
 * rest -- slower, over the budget (the least memory of them), or unable to
 * run (the first reason). Plans are in order, so the first of each is the
 * best of its kind. */
static void schedule_line(const pl_plan_result *r, const pl_registry_entry *e)
{
    const pl_plan *best = NULL, *least = NULL, *cannot = NULL;
    int fits = 0, over = 0, cannots = 0;
    char p[64];
    for (int k = 0; k < r->n; k++) {
        const pl_plan *x = &r->plans[k];
        if (x->entry != e)
            continue;
        if (x->verdict == PL_PLAN_FITS && fits++ == 0)
            best = x;
        if (x->verdict == PL_PLAN_OVER && (over++ == 0 || x->peak < least->peak))
            least = x;
        if (x->verdict == PL_PLAN_CANNOT && cannots++ == 0)
            cannot = x;
    }
    printf("  %-12s ", e->name);
    if (best) {
        params(best, p, sizeof p);
        if (best == &r->plans[0])
            printf("the plan: %.3f ms, %s", best->step_ns / 1e6, p);
        else
            printf("best %.3f ms (+%.1f%%), %s", best->step_ns / 1e6,
                   100.0 * (best->step_ns / r->plans[0].step_ns - 1.0), p);
        if (fits > 1)
            printf("; %d slower", fits - 1);
    } else {
        printf("none fits");
    }
    if (least) {
        params(least, p, sizeof p);
        printf("\n%15s%d over the budget; the nearest: %s, d%d needs %zu bytes", "", over, p,
               least->worst, least->peak);
    }
    if (cannot)
        printf("\n%15s%d cannot run: %s", "", cannots, cannot->why);
    printf("\n");
}

int pl_cmd_plan(pl_args *a)
{
    char err[1024];
    pl_plan_space space = {a->opt.microbatches, pl_args_given(a, "--chunks") ? a->opt.chunks : 4};
    pl_plan_result r;
    if (pl_plan_search(&a->opt, space, &r, err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        pl_plan_free(&r);
        return 1;
    }
    header(a, &r, space);
    fastest(&r, links(&a->opt));
    int count;
    const pl_registry_entry *all = pl_registry_list(&count);
    printf("\nwhy not the others, schedule by schedule:\n");
    for (int i = 0; i < count; i++)
        schedule_line(&r, &all[i]);
    pl_plan_free(&r);
    return 0;
}
