/*
 * Chapter 08 -- V shapes.
 *
 * Two chunks per device in a V: device d holds stage d and stage 2p-1-d.
 * We measure each device's idle time under ZB-V and DualPipeV beside
 * ZB-H1's and what the chapter derives; each device's peak memory, side by
 * side with 1F1B's and ZB-H1's; and ask the planner for the fastest plan
 * under two memory budgets.
 */
#include <math.h>

#include "../lesson.h"

#include "plan.h"

static int p = 4, m = 8;
static const char *const names[] = {"1f1b", "zb-h1", "zb-v", "dualpipe-v"};

/* Idle time of device d in the reported step, in ms. */
static double idle_ms(const pl_experiment *x, int d)
{
    pl_metrics mt;
    if (pl_metrics_compute(&x->result.trace, x->step, &mt))
        return -1;
    double ms = (double)(mt.makespan - mt.busy[d]) * x->result.trace.info.ns_per_tick / 1e6;
    pl_metrics_free(&mt);
    return ms;
}

/* A run of `name` with two layers per device, one per chunk of the V. */
static pl_options v_options(const char *name, double t_f, double t_i, double t_w)
{
    pl_options o = lesson_options(name, p, m);
    o.layers = 2 * p;
    o.steps = 1;
    o.t_f = t_f, o.t_i = t_i, o.t_w = t_w;
    o.verify = 1;
    return o;
}

static void idle_table(void)
{
    static const double t[][3] = {{1, 1, 1}, {2, 2, 1}};
    printf("Idle time per device, ms (the same on every device), measured | derived:\n");
    printf("  t_F t_I t_W    1f1b   zb-h1 | (p-1)g    zb-v | (p-1)g    dualpipe-v | (p-1)g"
           "   bitwise\n");
    for (int k = 0; k < 2; k++) {
        double idle[4], f = t[k][0] / 2, i = t[k][1] / 2, w = t[k][2] / 2; /* a chunk's */
        int bitwise = 1;
        for (int s = 0; s < 4; s++) {
            pl_options o = v_options(names[s], t[k][0], t[k][1], t[k][2]);
            pl_experiment x;
            lesson_run(&o, &x);
            idle[s] = idle_ms(&x, 0);
            bitwise &= x.bitwise_equal;
            pl_experiment_free(&x);
        }
        double h1 = fmax(fmax(t[k][0], t[k][1]), t[k][0] + t[k][1] - t[k][2]);
        printf("  %3g %3g %3g  %6.1f  %6.1f | %-6.1f  %6.1f | %-6.1f  %10.1f | %-6.1f   %s\n",
               t[k][0], t[k][1], t[k][2], idle[0], idle[1], (p - 1) * h1, idle[2],
               (p - 1) * fmax(f, f + i - 2 * w), idle[3], (p - 1) * fmax(f, f + i - w),
               bitwise ? "yes" : "NO");
    }
}

/* Each device's peak, side by side: micro-batches in flight, counted in
 * micro-batches of a device's layers (a chunk's forward holds half of one
 * under the V), and the activation bytes they hold. */
static void memory(void)
{
    printf("\nPeak per device: micro-batches in flight (of a device's layers) | activation KiB\n");
    for (int s = 0; s < 4; s++) {
        pl_options o = v_options(names[s], 1, 1, 1);
        pl_experiment x;
        lesson_run(&o, &x);
        printf("  %-10s  v = %d ", names[s], x.schedule.chunks);
        for (int d = 0; d < p; d++)
            printf(" %4g", (double)x.result.trace.lanes[d].peak_inflight / x.schedule.chunks);
        printf("  |");
        for (int d = 0; d < p; d++)
            printf(" %5.1f", (double)x.result.trace.lanes[d].peak_bytes / 1024.0);
        printf("\n");
        pl_experiment_free(&x);
    }
}

/* The planner's first choice for the chapter's model under one budget. */
static void plan(size_t budget)
{
    pl_options o = lesson_options("1f1b", p, m);
    o.layers = 16;
    o.width = 64;
    o.batch = 256;
    o.momentum = 0.9f;
    o.link_latency_ms = 0.01;
    o.device_memory = budget;
    pl_plan_result r;
    char err[1024];
    pl_plan_space space = {64, 4};
    if (pl_plan_search(&o, space, &r, err, sizeof err)) {
        fprintf(stderr, "lesson: %s\n", err);
        exit(1);
    }
    if (r.fitting == 0) {
        fprintf(stderr, "lesson: no plan fits %zu bytes\n", budget);
        exit(1);
    }
    const pl_plan *x = &r.plans[0];
    printf("  %6zu bytes  %-10s m %2d  v %d  recompute %-3s  %7.3f ms  bubble %.4f  %3d of %d"
           " fit\n", budget, x->entry->name, x->m, x->v, x->recompute ? "yes" : "no",
           x->step_ns / 1e6, x->bubble, r.fitting, r.n);
    pl_plan_free(&r);
}

int main(void)
{
    printf("Chapter 08: V shapes, p = %d, m = %d, 2 layers per device, virtual clock\n\n", p, m);
    idle_table();
    memory();
    printf("\nThe planner: p = 4, 16 layers of width 64, batch 256, momentum 0.9, links of "
           "0.01 ms;\nthe fastest plan that fits each budget per device:\n");
    plan(300000);
    plan(250000);
    return 0;
}
