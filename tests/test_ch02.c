/*
 * test_ch02.c -- chapter 02, micro-batching: the same gradients and 1/m of
 * the activation memory, but -- with one micro-batch in flight -- no less
 * bubble. The chapter's point is the number that does not move.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"

#define U PL_COST_UNIT

Test(ch02, micro_batching_alone_removes_no_bubble, .timeout = 60)
{
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 8; m++) {
            pl_options o = small_run("microbatch", p, m);
            pl_experiment x;
            run_ok(&o, &x);
            cr_expect_eq((int64_t)x.makespan_ns, (int64_t)m * 3 * p * U, "p=%d m=%d", p, m);
            cr_expect(fabs(x.bubble - (double)(p - 1) / p) < 1e-12,
                      "p=%d m=%d: bubble %.6f, naive's is %.6f", p, m, x.bubble,
                      (double)(p - 1) / p);
            pl_experiment_free(&x);
        }
}

Test(ch02, activation_memory_falls_by_m_and_one_microbatch_is_in_flight, .timeout = 60)
{
    int p = 4;
    int batch = 24;
    pl_options o = small_run("naive", p, 1);
    o.batch = batch;
    pl_experiment naive;
    run_ok(&o, &naive);
    for (int m = 1; m <= batch; m++) {
        o = small_run("microbatch", p, m);
        o.batch = batch;
        pl_experiment x;
        run_ok(&o, &x);
        for (int d = 0; d < p; d++) {
            size_t full = naive.result.trace.lanes[d].peak_bytes;
            size_t row = full / (size_t)batch;              /* one sample's share */
            size_t largest = row * (size_t)((batch + m - 1) / m); /* the biggest micro-batch */
            cr_expect_eq(x.result.trace.lanes[d].peak_bytes, largest,
                         "m=%d d%d: %zu bytes, naive %zu", m, d,
                         x.result.trace.lanes[d].peak_bytes, full);
            cr_expect(x.result.trace.lanes[d].peak_bytes * (size_t)m <= full + row * (size_t)m,
                      "m=%d d%d: within one row per micro-batch of naive / m", m, d);
            cr_expect_eq(x.result.trace.lanes[d].peak_inflight, 1);
        }
        pl_experiment_free(&x);
    }
    pl_experiment_free(&naive);
}

Test(ch02, gradients_accumulate_to_the_reference_bit_for_bit, .timeout = 60)
{
    for (int p = 1; p <= 4; p++)
        for (int m = 1; m <= 5; m += 2)
            for (uint64_t seed = 3; seed <= 4; seed++) {
                pl_options o = small_run("microbatch", p, m);
                o.batch = 11;
                o.seed = seed;
                o.steps = 3;
                o.verify = 1;
                pl_experiment x;
                run_ok(&o, &x);
                cr_expect(x.bitwise_equal, "p=%d m=%d seed=%d", p, m, (int)seed);
                pl_experiment_free(&x);
            }
}
