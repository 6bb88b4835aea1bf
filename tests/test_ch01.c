/*
 * test_ch01.c -- chapter 01, naive staging: with one batch in flight, only
 * one device works at a time, and the bubble is exactly (p-1)/p.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"

#define U PL_COST_UNIT

Test(ch01, bubble_is_p_minus_1_over_p_for_every_p, .timeout = 30)
{
    for (int p = 1; p <= 8; p++) {
        pl_options o = small_run("naive", p, 1);
        pl_experiment x;
        run_ok(&o, &x);
        pl_metrics m;
        cr_assert_eq(pl_metrics_compute(&x.result.trace, 0, &m), 0);
        cr_expect_eq(m.makespan, 3 * p * U, "p=%d: p forwards and p backwards in a row", p);
        for (int d = 0; d < p; d++)
            cr_expect_eq(m.busy[d], 3 * U, "p=%d d%d: one F and one B", p, d);
        cr_expect(fabs(m.bubble - (double)(p - 1) / p) < 1e-12, "p=%d bubble %.17g", p, m.bubble);
        pl_metrics_free(&m);
        pl_experiment_free(&x);
    }
}

Test(ch01, only_one_device_is_busy_at_any_time, .timeout = 30)
{
    pl_options o = small_run("naive", 6, 1);
    pl_experiment x;
    run_ok(&o, &x);
    const pl_trace *t = &x.result.trace;
    for (int a = 0; a < t->devices; a++)
        for (int b = a + 1; b < t->devices; b++)
            for (long i = 0; i < t->lanes[a].len; i++)
                for (long j = 0; j < t->lanes[b].len; j++) {
                    const pl_event *e = &t->lanes[a].events[i], *f = &t->lanes[b].events[j];
                    cr_expect(e->end <= f->start || f->end <= e->start,
                              "d%d %c and d%d %c overlap", a, e->kind, b, f->kind);
                }
    pl_experiment_free(&x);
}

Test(ch01, trains_the_same_weights_as_one_device, .timeout = 30)
{
    for (int p = 1; p <= 8; p++) {
        pl_options o = small_run("naive", p, 1);
        o.layers = 8;
        o.steps = 3;
        o.verify = 1;
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect(x.bitwise_equal, "p=%d max diff %g", p, x.max_abs_diff);
        pl_experiment_free(&x);
    }
}
