/*
 * test_runtime.c -- the device threads: exact on the virtual clock,
 * deterministic, bitwise equal to the reference, and stopping cleanly.
 */
#include <criterion/criterion.h>

#include "helpers.h"
#include "runtime.h"

Test(runtime, naive_bubble_is_exact_for_p_1_to_8, .timeout = 30)
{
    for (int p = 1; p <= 8; p++) {
        pl_options o = small_run("naive", p, 1);
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect_eq((int64_t)x.makespan_ns, (int64_t)p * 3 * PL_COST_UNIT, "p=%d", p);
        cr_expect_float_eq(x.bubble, (double)(p - 1) / p, 1e-12, "p=%d", p);
        pl_experiment_free(&x);
    }
}

Test(runtime, virtual_clock_is_deterministic, .timeout = 30)
{
    const char *names[] = {"naive", "microbatch", "gpipe", "1f1b"};
    for (int i = 0; i < 4; i++) {
        pl_options o = small_run(names[i], 4, 6);
        o.microbatches = i == 0 ? 1 : 6;
        o.steps = 3;
        pl_experiment a, b;
        run_ok(&o, &a);
        run_ok(&o, &b);
        cr_expect(pl_trace_equal(&a.result.trace, &b.result.trace), "%s", names[i]);
        cr_expect_eq(memcmp(a.result.loss, b.result.loss, 3 * sizeof(float)), 0);
        pl_experiment_free(&a);
        pl_experiment_free(&b);
    }
}

/* On the virtual clock the devices are fibers, more of them than cores
 * (fiber.h); one kernel thread each must give the very same run: every
 * event and message to the nanosecond, and the same losses, for every
 * schedule -- through the barrier, the reduction of clipping, and local
 * step sync. */
Test(runtime, fibers_and_kernel_threads_run_the_same_to_the_nanosecond, .timeout = 120)
{
    int count, runs = 0;
    const pl_registry_entry *e = pl_registry_list(&count);
    for (int i = 0; i < count; i++)
        for (int variant = 0; variant < 3; variant++) {
            int v = e[i].chunks ? e[i].chunks : e[i].chunks_default;
            pl_options o = small_run(e[i].name, 6, e[i].microbatches ? 1 : 9);
            o.chunks = v;
            o.layers = 6 * v;
            o.batch = 2 * o.microbatches + 1; /* uneven micro-batches */
            o.steps = 3;
            o.step_sync = variant == 1 ? PL_SYNC_LOCAL : PL_SYNC_GLOBAL;
            o.clip_norm = variant == 2 ? 0.01 : 0;
            pl_experiment fibers, threads;
            char err[512];
            if (pl_experiment_run(&o, &fibers, err, sizeof err)) {
                pl_experiment_free(&fibers);
                continue; /* a shape the schedule does not take */
            }
            o.kernel_threads = 1;
            run_ok(&o, &threads);
            cr_expect(pl_trace_equal(&fibers.result.trace, &threads.result.trace),
                      "%s variant %d: the traces differ", e[i].name, variant);
            cr_expect_eq(memcmp(fibers.result.loss, threads.result.loss,
                                (size_t)o.steps * sizeof(float)), 0,
                         "%s variant %d: the losses differ", e[i].name, variant);
            pl_experiment_free(&fibers);
            pl_experiment_free(&threads);
            runs++;
        }
    cr_expect_gt(runs, 20, "only %d runs compared", runs);
}

Test(runtime, every_step_of_a_virtual_run_has_the_same_shape, .timeout = 30)
{
    pl_options o = small_run("1f1b", 3, 5);
    o.steps = 4;
    pl_experiment x;
    run_ok(&o, &x);
    pl_metrics first;
    cr_assert_eq(pl_metrics_compute(&x.result.trace, 0, &first), 0);
    for (int k = 1; k < 4; k++) {
        pl_metrics m;
        cr_assert_eq(pl_metrics_compute(&x.result.trace, k, &m), 0);
        cr_expect_eq(m.makespan, first.makespan);
        cr_expect_eq(m.first_start, first.first_start + k * first.makespan,
                     "steps follow each other without a gap");
        pl_metrics_free(&m);
    }
    pl_metrics_free(&first);
    pl_experiment_free(&x);
}

Test(runtime, verify_is_bitwise_for_every_schedule, .timeout = 60)
{
    const char *names[] = {"naive", "microbatch", "gpipe", "1f1b"};
    int ps[] = {1, 2, 3, 4};
    int ms[] = {1, 3, 4, 7};
    for (int i = 0; i < 4; i++)
        for (int a = 0; a < 4; a++)
            for (uint64_t seed = 1; seed <= 2; seed++) {
                pl_options o = small_run(names[i], ps[a], i == 0 ? 1 : ms[a]);
                o.steps = 3;
                o.seed = seed;
                o.batch = 9; /* uneven micro-batches on purpose */
                o.verify = 1;
                pl_experiment x;
                run_ok(&o, &x);
                cr_expect(x.bitwise_equal, "%s p=%d m=%d seed=%d: max diff %g", names[i],
                          o.devices, o.microbatches, (int)seed, x.max_abs_diff);
                pl_experiment_free(&x);
            }
}

Test(runtime, an_injected_fault_stops_every_device, .timeout = 30)
{
    pl_options o = small_run("1f1b", 4, 8);
    o.fault_device = 2;
    o.fault_action = 5;
    pl_experiment x;
    char err[1024];
    cr_assert_eq(pl_experiment_run(&o, &x, err, sizeof err), -1);
    cr_expect(strstr(err, "d2") != NULL, "%s", err);
    cr_expect(strstr(err, "injected fault") != NULL, "%s", err);
    pl_experiment_free(&x);
}

Test(runtime, device_memory_is_enforced_with_a_clear_message, .timeout = 30)
{
    pl_options o = small_run("gpipe", 2, 4);
    pl_experiment x;
    run_ok(&o, &x);
    size_t peak = pl_experiment_peak_memory(&x);
    pl_experiment_free(&x);

    o.device_memory = peak - 1;
    char err[1024];
    cr_assert_eq(pl_experiment_run(&o, &x, err, sizeof err), -1);
    cr_expect(strstr(err, "out of memory") != NULL, "%s", err);
    cr_expect(strstr(err, "needs") != NULL && strstr(err, "available") != NULL, "%s", err);
    pl_experiment_free(&x);

    o.device_memory = peak;
    run_ok(&o, &x);
    pl_experiment_free(&x);
}

