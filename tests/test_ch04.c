/*
 * test_ch04.c -- chapter 04, 1F1B: GPipe's bubble, with the activations held
 * on device s bounded by min(p - s, m) instead of m.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"
#include "validate.h"

#define U PL_COST_UNIT

Test(ch04, bubble_equals_gpipe_for_p_1_to_8_and_m_1_to_32, .timeout = 120)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 32; m++) {
            pl_options o = small_run("1f1b", p, m);
            pl_experiment x;
            run_ok(&o, &x);
            cr_expect_eq((int64_t)x.makespan_ns, (int64_t)(m + p - 1) * 3 * U, "p=%d m=%d", p, m);
            cr_expect(fabs(x.bubble - (double)(p - 1) / (m + p - 1)) < 1e-12, "p=%d m=%d", p, m);
            for (int s = 0; s < p; s++) {
                int bound = p - s < m ? p - s : m;
                cr_expect_eq(x.result.trace.lanes[s].peak_inflight, bound,
                             "p=%d m=%d device %d", p, m, s);
            }
            pl_experiment_free(&x);
        }
}

Test(ch04, memory_is_bounded_by_p_not_m, .timeout = 30)
{
    int p = 4, m = 32;
    pl_options o = small_run("gpipe", p, m);
    pl_experiment gp, fb;
    run_ok(&o, &gp);
    o.schedule = "1f1b";
    run_ok(&o, &fb);
    cr_expect_eq(fb.bubble, gp.bubble);
    cr_expect_eq(pl_experiment_peak_bytes(&fb) * (size_t)m,
                 pl_experiment_peak_bytes(&gp) * (size_t)p, "1F1B holds p/m of GPipe's peak");
    pl_experiment_free(&gp);
    pl_experiment_free(&fb);
}

Test(ch04, gpipe_runs_out_of_memory_where_1f1b_fits, .timeout = 30)
{
    int p = 4, m = 16;
    pl_options o = small_run("1f1b", p, m);
    pl_experiment x;
    run_ok(&o, &x);
    o.device_memory = pl_experiment_peak_memory(&x);
    pl_experiment_free(&x);

    run_ok(&o, &x); /* 1F1B fits in exactly its own peak, everything counted */
    pl_experiment_free(&x);

    o.schedule = "gpipe";
    char err[1024];
    cr_assert_eq(pl_experiment_run(&o, &x, err, sizeof err), -1);
    cr_expect(strstr(err, "d0 out of memory at F4") != NULL, "%s", err);
    pl_experiment_free(&x);
}

Test(ch04, trains_bitwise_like_the_reference, .timeout = 60)
{
    for (int p = 1; p <= 5; p++)
        for (int m = 1; m <= 9; m += 4)
            for (uint64_t seed = 1; seed <= 2; seed++) {
                pl_options o = small_run("1f1b", p, m);
                o.batch = 2 * m + 1;
                o.seed = seed;
                o.steps = 3;
                o.verify = 1;
                pl_experiment x;
                run_ok(&o, &x);
                cr_expect(x.bitwise_equal, "p=%d m=%d seed=%d", p, m, (int)seed);
                pl_experiment_free(&x);
            }
}

Test(ch04, a_deadlocking_schedule_is_rejected_before_it_runs, .timeout = 10)
{
    const char *text = "# pipelab schedule\ndevices 2\nmicrobatches 2\nchunks 1\n"
                       "d0: F0 B0 F1 B1\n"
                       "d1: F1 B1 F0 B0\n";
    pl_schedule s;
    char err[1024];
    cr_assert_eq(pl_schedule_parse(text, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "d0") && strstr(err, "d1"), "%s", err);
    pl_schedule_free(&s);
}

/* A memory cap, --max-inflight K < p: no device holds more than K, and the
 * step takes what the registry's formula says (exercise 04 derives it):
 * (K + p-1) + (m - K)(p-K+1) steps of t_F + t_B once m > K. */
Test(ch04, a_memory_cap_holds_k_and_the_step_is_its_formulas, .timeout = 120)
{
    static const double costs[][3] = {{1, 1, 1}, {2, 2, 1}, {1, 2, 2}};
    for (int c = 0; c < 3; c++)
        for (int p = 2; p <= 6; p++)
            for (int k = 1; k < p; k++)
                for (int m = 1; m <= 12; m++) {
                    pl_options o = small_run("1f1b", p, m);
                    o.max_inflight = k;
                    o.t_f = costs[c][0], o.t_i = costs[c][1], o.t_w = costs[c][2];
                    pl_experiment x;
                    run_ok(&o, &x);
                    int64_t t = (int64_t)((costs[c][0] + costs[c][1] + costs[c][2]) * U);
                    int64_t steps = (m < k ? m : k) + p - 1 + (m > k ? (int64_t)(m - k) * (p - k + 1) : 0);
                    cr_expect_eq((int64_t)x.makespan_ns, steps * t, "p=%d k=%d m=%d costs %d", p, k,
                                 m, c);
                    cr_expect(fabs(x.bubble_theory - x.bubble) < 1e-12, "p=%d k=%d m=%d: formula %.6f, "
                              "measured %.6f", p, k, m, x.bubble_theory, x.bubble);
                    for (int d = 0; d < p; d++) {
                        int bound = p - d < m ? p - d : m;
                        bound = bound < k ? bound : k;
                        cr_expect_eq(x.result.trace.lanes[d].peak_inflight, bound,
                                     "p=%d k=%d m=%d d%d", p, k, m, d);
                    }
                    pl_experiment_free(&x);
                }
}

Test(ch04, a_memory_cap_of_p_or_more_changes_nothing_and_trains_bitwise, .timeout = 60)
{
    for (int p = 1; p <= 5; p++)
        for (int k = 1; k <= p + 1; k++) {
            pl_options o = small_run("1f1b", p, 2 * p + 1);
            o.batch = 3 * o.microbatches - 2; /* uneven micro-batches */
            o.max_inflight = k;
            o.steps = 2;
            o.verify = 1;
            pl_experiment x;
            run_ok(&o, &x);
            cr_expect(x.bitwise_equal, "p=%d k=%d", p, k);
            if (k >= p) {
                pl_options plain = o;
                plain.max_inflight = 0;
                pl_experiment y;
                run_ok(&plain, &y);
                cr_expect_eq(x.makespan_ns, y.makespan_ns, "p=%d k=%d", p, k);
                pl_experiment_free(&y);
            }
            pl_experiment_free(&x);
        }
}
