/*
 * test_simulate.c -- the simulator predicts what the virtual-clock runtime
 * measures, to the nanosecond and to the byte.
 */
#include <criterion/criterion.h>

#include "helpers.h"
#include "simulate.h"

static void same_run(const char *name, int p, int m, int recompute, pl_cost_kind cost)
{
    pl_options o = small_run(name, p, m);
    o.recompute = recompute;
    o.cost = cost;
    o.batch = 2 * m + 1; /* uneven micro-batches: costs and bytes differ by one row */
    pl_experiment sim, thr;
    o.simulate = 1;
    run_ok(&o, &sim);
    o.simulate = 0;
    run_ok(&o, &thr);
    cr_expect(pl_trace_equal(&sim.result.trace, &thr.result.trace),
              "%s p=%d m=%d recompute=%d: traces differ", name, p, m, recompute);
    for (int d = 0; d < p; d++) {
        cr_expect_eq(sim.result.trace.lanes[d].peak_bytes, thr.result.trace.lanes[d].peak_bytes,
                     "%s d%d peak bytes", name, d);
        cr_expect_eq(sim.result.trace.lanes[d].peak_inflight,
                     thr.result.trace.lanes[d].peak_inflight, "%s d%d in-flight", name, d);
    }
    pl_experiment_free(&sim);
    pl_experiment_free(&thr);
}

Test(simulate, equals_the_virtual_clock_runtime_for_every_schedule, .timeout = 60)
{
    const char *names[] = {"naive", "microbatch", "gpipe", "1f1b"};
    for (int i = 0; i < 4; i++)
        for (int p = 1; p <= 5; p += 2)
            for (int m = 1; m <= 9; m += 4)
                same_run(names[i], p, i == 0 ? 1 : m, 0, PL_COST_UNIFORM);
}

Test(simulate, equals_the_runtime_with_recomputation_and_flops_costs, .timeout = 60)
{
    same_run("gpipe", 4, 8, 1, PL_COST_UNIFORM);
    same_run("1f1b", 4, 8, 1, PL_COST_UNIFORM);
    same_run("gpipe", 3, 5, 0, PL_COST_FLOPS);
    same_run("1f1b", 3, 5, 1, PL_COST_FLOPS);
}

Test(simulate, refuses_to_run_out_of_device_memory)
{
    pl_options o = small_run("gpipe", 2, 4);
    o.simulate = 1;
    pl_experiment x;
    run_ok(&o, &x);
    pl_memory_bill fixed = pl_job_static_memory(&x.job, 0);
    pl_experiment_free(&x);
    o.device_memory = pl_memory_total(&fixed) + 64; /* 64 bytes left for activations */
    char err[512];
    cr_assert_eq(pl_experiment_run(&o, &x, err, sizeof err), -1);
    cr_expect(strstr(err, "d0 out of memory at F") != NULL, "%s", err);
    pl_experiment_free(&x);
}

/* The lanes of two traces hold the same totals and peaks, step by step. */
static void same_totals(const pl_trace *a, const pl_trace *b, const char *what)
{
    for (int d = 0; d < a->devices; d++) {
        const pl_lane *x = &a->lanes[d], *y = &b->lanes[d];
        cr_expect_eq(x->busy, y->busy, "%s d%d busy", what, d);
        cr_expect_eq(x->peak_inflight, y->peak_inflight, "%s d%d in flight", what, d);
        cr_expect_eq(x->peak_bytes, y->peak_bytes, "%s d%d peak bytes", what, d);
        cr_expect_eq(x->peak_held, y->peak_held, "%s d%d peak held", what, d);
        cr_expect_eq(x->peak_held_activations, y->peak_held_activations, "%s d%d", what, d);
        cr_expect_eq(x->first_kept, y->first_kept, "%s d%d window", what, d);
        for (int k = x->first_kept; k < a->steps; k++)
            cr_expect_eq(pl_trace_bytes_sent(a, d, k), pl_trace_bytes_sent(b, d, k),
                         "%s d%d step %d bytes sent", what, d, k);
    }
    for (int k = pl_trace_first_kept(a); k < a->steps; k++) {
        pl_metrics ma, mb;
        cr_assert_eq(pl_metrics_compute(a, k, &ma), 0, "%s step %d", what, k);
        cr_assert_eq(pl_metrics_compute(b, k, &mb), 0, "%s step %d", what, k);
        cr_expect_eq(ma.makespan, mb.makespan, "%s step %d makespan", what, k);
        cr_expect_eq(ma.first_start, mb.first_start, "%s step %d start", what, k);
        for (int d = 0; d < a->devices; d++)
            cr_expect_eq(ma.busy[d], mb.busy[d], "%s step %d d%d busy", what, k, d);
        pl_metrics_free(&ma);
        pl_metrics_free(&mb);
    }
    double pa, ba, pb, bb;
    if (a->steps > 1) {
        cr_assert_eq(pl_trace_period(a, &pa, &ba), 0);
        cr_assert_eq(pl_trace_period(b, &pb, &bb), 0);
        cr_expect(pa == pb && ba == bb, "%s period %g %g, bubble %g %g", what, pa, pb, ba, bb);
    }
}

/* With totals only -- what `pipelab plan` and `make bench` simulate -- the
 * simulator runs its lean loop (simulate.c, run_list), and keeps each step's
 * totals only: every number must be the one the whole loop, keeping every
 * event, gives. 18 steps slide the trace's window of 16. */
Test(simulate, keeping_totals_only_gives_the_same_numbers, .timeout = 60)
{
    int count, runs = 0;
    const pl_registry_entry *e = pl_registry_list(&count);
    for (int i = 0; i < count; i++)
        for (int p = 1; p <= 4; p += 3)
            for (int m = 1; m <= 9; m += 4)
                for (int steps = 1; steps <= 18; steps += 17)
                    for (int sync = PL_SYNC_GLOBAL; sync <= PL_SYNC_LOCAL; sync++) {
                        int v = e[i].chunks ? e[i].chunks : e[i].chunks_default;
                        pl_options o = small_run(e[i].name, p, e[i].microbatches ? 1 : m);
                        o.chunks = v;
                        o.layers = 2 * p * v;
                        o.batch = 2 * o.microbatches + 1;
                        o.steps = steps;
                        o.step_sync = (pl_step_sync)sync;
                        o.simulate = 1;
                        pl_experiment full, lean;
                        char err[512], what[128];
                        if (pl_experiment_run(&o, &full, err, sizeof err)) {
                            pl_experiment_free(&full);
                            continue; /* a shape the schedule does not take */
                        }
                        o.totals_only = 1;
                        run_ok(&o, &lean);
                        snprintf(what, sizeof what, "%s p=%d m=%d steps=%d sync=%d", e[i].name,
                                 p, o.microbatches, steps, sync);
                        same_totals(&full.result.trace, &lean.result.trace, what);
                        pl_experiment_free(&full);
                        pl_experiment_free(&lean);
                        runs++;
                    }
    cr_expect_gt(runs, 100, "only %d runs compared", runs);
}
