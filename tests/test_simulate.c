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
