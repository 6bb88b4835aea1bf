/*
 * test_ch03.c -- chapter 03, GPipe: overlapping micro-batches cuts the bubble
 * to (p-1)/(m+p-1), and memory climbs back to m micro-batches per device;
 * recomputation trades that memory for one extra forward.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"
#include "stage.h"

#define U PL_COST_UNIT

Test(ch03, bubble_is_exact_for_p_1_to_8_and_m_1_to_32, .timeout = 120)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 32; m++) {
            pl_options o = small_run("gpipe", p, m);
            pl_experiment x;
            run_ok(&o, &x);
            cr_expect_eq((int64_t)x.makespan_ns, (int64_t)(m + p - 1) * 3 * U, "p=%d m=%d", p, m);
            cr_expect(fabs(x.bubble - (double)(p - 1) / (m + p - 1)) < 1e-12, "p=%d m=%d", p, m);
            for (int d = 0; d < p; d++)
                cr_expect_eq(x.result.trace.lanes[d].peak_inflight, m, "p=%d m=%d d%d", p, m, d);
            pl_experiment_free(&x);
        }
}

Test(ch03, cuts_the_bubble_of_ch02_but_memory_returns_to_m_microbatches, .timeout = 30)
{
    int p = 4, m = 8;
    pl_options o = small_run("microbatch", p, m);
    pl_experiment mb, gp;
    run_ok(&o, &mb);
    o.schedule = "gpipe";
    run_ok(&o, &gp);
    cr_expect(gp.bubble < mb.bubble / 2, "gpipe %.4f vs microbatch %.4f", gp.bubble, mb.bubble);
    for (int d = 0; d < p; d++)
        cr_expect_eq(gp.result.trace.lanes[d].peak_bytes,
                     (size_t)m * mb.result.trace.lanes[d].peak_bytes, "d%d", d);
    pl_experiment_free(&mb);
    pl_experiment_free(&gp);
}

Test(ch03, recomputation_keeps_stage_inputs_and_costs_a_forward, .timeout = 30)
{
    int p = 4, m = 8;
    pl_options o = small_run("gpipe", p, m);
    o.layers = 8; /* two layers a stage, so the saving is visible */
    pl_experiment plain, re;
    run_ok(&o, &plain);
    o.recompute = 1;
    run_ok(&o, &re);
    int rows = o.batch / m;
    for (int d = 0; d < p; d++) {
        int first = re.partition.first[d], count = re.partition.count[d];
        size_t input = pl_stage_stash_bytes(&re.model, first, count, rows, PL_F, 1);
        size_t full = pl_stage_stash_bytes(&re.model, first, count, rows, PL_F, 0);
        cr_expect_eq(input, (size_t)rows * (size_t)o.width * sizeof(float));
        /* At the first recomputation the device holds every micro-batch's
         * input and one micro-batch's rebuilt activations. */
        cr_expect_eq(re.result.trace.lanes[d].peak_bytes, (size_t)(m - 1) * input + full,
                     "d%d holds m-1 stage inputs and one full stash", d);
        cr_expect_lt(re.result.trace.lanes[d].peak_bytes, plain.result.trace.lanes[d].peak_bytes);
    }
    /* Every backward is preceded by a recomputed forward of one unit. */
    long r = 0;
    for (int d = 0; d < p; d++)
        for (long i = 0; i < re.result.trace.lanes[d].len; i++)
            r += re.result.trace.lanes[d].events[i].kind == PL_R;
    cr_expect_eq(r, (long)p * m * o.steps);
    cr_expect_gt((int64_t)re.makespan_ns, (int64_t)plain.makespan_ns);
    cr_expect_eq((int64_t)re.makespan_ns, (int64_t)(m + p - 1) * 3 * U + (int64_t)m * U,
                 "the drain is longer by one forward per micro-batch");
    pl_experiment_free(&plain);
    pl_experiment_free(&re);
}

Test(ch03, trains_bitwise_like_the_reference_with_and_without_recompute, .timeout = 60)
{
    for (int recompute = 0; recompute <= 1; recompute++)
        for (int p = 1; p <= 4; p++)
            for (uint64_t seed = 1; seed <= 2; seed++) {
                pl_options o = small_run("gpipe", p, 2 * p + 1);
                o.batch = 3 * o.microbatches - 1;
                o.seed = seed;
                o.steps = 3;
                o.recompute = recompute;
                o.verify = 1;
                pl_experiment x;
                run_ok(&o, &x);
                cr_expect(x.bitwise_equal, "p=%d recompute=%d seed=%d", p, recompute, (int)seed);
                pl_experiment_free(&x);
            }
}
