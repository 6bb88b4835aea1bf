/*
 * test_ch06.c -- chapter 06, zero bubble: the backward split into I and W;
 * ZB-H1 and ZB-H2 in the zero-bubble authors' order; idle time per device
 * exactly as derived, for several cost settings; memory; steps without a
 * barrier, their period and the simulator's prediction of it; gradient
 * clipping the barrier way and by post-validation, rollback included, bitwise
 * equal to the reference that clips.
 */
#include "child.h"

#include <math.h>

#include "helpers.h"
#include "mailbox.h"
#include "rng.h"
#include "simulate.h"
#include "transport.h"
#include "validate.h"

#define U PL_COST_UNIT

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
    return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

/* Cost settings, in units: equal; t_W <= t_F, t_I; t_W > t_F; t_W > t_I
 * only; t_I > t_F > t_W. */
typedef struct {
    double f, i, w;
} costs;
static const costs settings[] = {{1, 1, 1}, {2, 2, 1}, {1, 1, 2}, {3, 1, 2}, {1, 3, 0.5}};
enum { N_SETTINGS = sizeof settings / sizeof settings[0] };

static pl_options costed(const char *schedule, int p, int m, costs c)
{
    pl_options o = small_run(schedule, p, m);
    o.t_f = c.f;
    o.t_i = c.i;
    o.t_w = c.w;
    return o;
}

/* ZB-H1's idle per device, in ticks: (p-1) max(t_F, t_I, t_F + t_I - t_W);
 * (p-1)(t_F + t_I - t_W) when t_W <= t_F and t_W <= t_I. */
static int64_t zb_h1_idle(int p, costs c)
{
    int64_t f = llround(c.f * U), i = llround(c.i * U), w = llround(c.w * U);
    return (p - 1) * max3(f, i, f + i - w);
}

Test(ch06, idle_per_device_1f1b_and_zb_h1_for_p_2_to_8_m_2p_to_32, .timeout = 240)
{
    for (int k = 0; k < N_SETTINGS; k++)
        for (int p = 2; p <= 8; p++)
            for (int m = 2 * p; m <= 32; m++) {
                costs c = settings[k];
                pl_options o = costed("1f1b", p, m, c);
                pl_experiment fb, zb;
                run_ok(&o, &fb);
                o.schedule = "zb-h1";
                run_ok(&o, &zb);
                int64_t t = llround((c.f + c.i + c.w) * U);
                for (int d = 0; d < p; d++) {
                    cr_expect_eq(idle_ticks(&fb, d), (p - 1) * t, "1f1b costs %g,%g,%g p=%d "
                                 "m=%d d%d", c.f, c.i, c.w, p, m, d);
                    cr_expect_eq(idle_ticks(&zb, d), zb_h1_idle(p, c), "zb-h1 costs %g,%g,%g p=%d "
                                 "m=%d d%d", c.f, c.i, c.w, p, m, d);
                }
                cr_expect(fabs(zb.bubble - zb.bubble_theory) < 1e-12, "p=%d m=%d", p, m);
                pl_experiment_free(&fb);
                pl_experiment_free(&zb);
            }
}

/* The cases the chapter spells out. */
Test(ch06, zb_h1_idles_a_third_of_1f1b_and_the_t_w_above_t_f_case, .timeout = 30)
{
    int p = 4, m = 8;
    costs equal = {1, 1, 1}, light_w = {2, 2, 1}, heavy_w = {1, 1, 2}, w_above_i = {3, 1, 2};
    pl_options o = costed("zb-h1", p, m, equal);
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect_eq(idle_ticks(&x, 0) * 3, (p - 1) * 3 * U, "a third of 1F1B's 3(p-1) units");
    pl_experiment_free(&x);
    /* t_W <= t_F and t_W <= t_I: (p-1)(t_F + t_I - t_W) */
    cr_expect_eq(zb_h1_idle(p, light_w), (p - 1) * 3 * U);
    /* t_W > t_F: the Ws no longer fit where 1F1B idled; (p-1) max(t_F, t_I) */
    cr_expect_eq(zb_h1_idle(p, heavy_w), (p - 1) * 1 * U);
    /* t_W <= t_F but t_W > t_I: (p-1) t_F, not (p-1)(t_F + t_I - t_W) */
    cr_expect_eq(zb_h1_idle(p, w_above_i), (p - 1) * 3 * U);
    o = costed("zb-h1", p, m, w_above_i);
    run_ok(&o, &x);
    for (int d = 0; d < p; d++)
        cr_expect_eq(idle_ticks(&x, d), (p - 1) * 3 * U, "d%d", d);
    pl_experiment_free(&x);
}

/* Splitting alone -- 1F1B with each B written I then W -- sends the gradient
 * t_W sooner per stage: idle (p-1)(t_F + t_I). Deferring W (ZB-H1) takes the
 * other t_W away. */
Test(ch06, splitting_alone_saves_one_t_w_per_stage, .timeout = 30)
{
    costs c = {2, 2, 1};
    int p = 4, m = 8;
    pl_schedule s, split;
    registry_schedule("1f1b", &s, p, m, 1);
    cr_assert_eq(pl_schedule_init(&split, p, m, 1), 0);
    for (int d = 0; d < p; d++)
        for (int i = 0; i < s.len[d]; i++) {
            pl_action a = s.actions[d][i];
            if (a.kind == PL_B) {
                cr_assert_eq(pl_schedule_push(&split, d, PL_I, a.mb, 0), 0);
                cr_assert_eq(pl_schedule_push(&split, d, PL_W, a.mb, 0), 0);
            } else {
                cr_assert_eq(pl_schedule_push(&split, d, a.kind, a.mb, 0), 0);
            }
        }
    char path[] = "/tmp/pipelab-ch06-split-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_eq(pl_schedule_write(&split, f), 0);
    fclose(f);
    pl_options o = costed(NULL, p, m, c);
    o.schedule_file = path;
    pl_experiment x;
    run_ok(&o, &x);
    for (int d = 0; d < p; d++)
        cr_expect_eq(idle_ticks(&x, d), (p - 1) * 4 * U, "d%d", d);
    pl_experiment_free(&x);
    unlink(path);
    pl_schedule_free(&s);
    pl_schedule_free(&split);
}

/* ZB-H2's idle per device: (p-1) max(t_F, t_I - t_F, t_F + t_I - 2 t_W), for
 * m >= 2p - 1; with equal costs ZB-H1's. */
Test(ch06, zb_h2_idle_per_device_and_its_formula, .timeout = 120)
{
    for (int k = 0; k < N_SETTINGS; k++)
        for (int p = 2; p <= 8; p++)
            for (int m = 2 * p - 1; m <= 32; m += 3) {
                costs c = settings[k];
                int64_t f = llround(c.f * U), i = llround(c.i * U), w = llround(c.w * U);
                pl_options o = costed("zb-h2", p, m, c);
                pl_experiment x;
                run_ok(&o, &x);
                for (int d = 0; d < p; d++)
                    cr_expect_eq(idle_ticks(&x, d), (p - 1) * max3(f, i - f, f + i - 2 * w),
                                 "costs %g,%g,%g p=%d m=%d d%d", c.f, c.i, c.w, p, m, d);
                cr_expect(fabs(x.bubble - x.bubble_theory) < 1e-12, "p=%d m=%d", p, m);
                pl_experiment_free(&x);
            }
}

Test(ch06, the_formulas_refuse_too_few_micro_batches, .timeout = 30)
{
    pl_experiment x;
    pl_options o = small_run("zb-h1", 4, 3);
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect(strstr(x.theory_note, "needs m >= p") != NULL, "%s", x.theory_note);
    pl_experiment_free(&x);
    o = small_run("zb-h2", 4, 6);
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect(strstr(x.theory_note, "needs m >= 2p-1") != NULL, "%s", x.theory_note);
    pl_experiment_free(&x);
    o = small_run("zb-h2", 4, 7);
    run_ok(&o, &x);
    cr_expect_float_eq(x.bubble_theory, 3.0 / 24, 1e-12);
    pl_experiment_free(&x);
}

/* Peak in flight per device, measured: ZB-H1 holds min(p, m) on every device
 * -- what 1F1B holds on its first -- and ZB-H2 min(2p - 1, m). */
Test(ch06, peak_in_flight_per_device, .timeout = 60)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 24; m++) {
            pl_options o = small_run("zb-h1", p, m);
            pl_experiment h1, h2, fb;
            run_ok(&o, &h1);
            o.schedule = "zb-h2";
            run_ok(&o, &h2);
            o.schedule = "1f1b";
            run_ok(&o, &fb);
            for (int d = 0; d < p; d++) {
                cr_expect_eq(h1.result.trace.lanes[d].peak_inflight, p < m ? p : m,
                             "zb-h1 p=%d m=%d d%d", p, m, d);
                cr_expect_eq(h2.result.trace.lanes[d].peak_inflight,
                             2 * p - 1 < m ? 2 * p - 1 : m, "zb-h2 p=%d m=%d d%d", p, m, d);
            }
            cr_expect_eq(h1.result.trace.lanes[0].peak_inflight,
                         fb.result.trace.lanes[0].peak_inflight, "p=%d m=%d", p, m);
            pl_experiment_free(&h1);
            pl_experiment_free(&h2);
            pl_experiment_free(&fb);
        }
}

/*
 * The zero-bubble authors' ZB-H1, as their ZeroBubbleH1Pipeline.steps()
 * (microsoft/Megatron-DeepSpeed, megatron/core/pipeline_parallel/
 * deepspeed_zbh1_schedule.py, with --enable-zbh1-exact-semantics) emits it,
 * one row per stage: ForwardPass is F, BackwardOnlyPass I, WeightPass W (of
 * the oldest micro-batch waiting for one), BackwardPass B -- the first stage
 * never splits. Worked through by hand from that function for each (p, m).
 * (Their Megatron-LM patch in sail-sg/zero-bubble-pipeline-parallelism,
 * schedules.py, splits only where it must, which reorders W: 4 5 6 7 1 2 3 8
 * on a device, not bitwise equal to the reference, so not this order.)
 */
Test(ch06, zb_h1_is_the_authors_order)
{
    static const char *const p4m8[] = {
        "F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7",
        "F0 F1 F2 I0 F3 I1 W0 F4 I2 W1 F5 I3 W2 F6 I4 W3 F7 I5 W4 I6 W5 I7 W6 W7",
        "F0 F1 I0 F2 I1 F3 I2 W0 F4 I3 W1 F5 I4 W2 F6 I5 W3 F7 I6 W4 I7 W5 W6 W7",
        "F0 I0 F1 I1 F2 I2 F3 I3 W0 F4 I4 W1 F5 I5 W2 F6 I6 W3 F7 I7 W4 W5 W6 W7"};
    static const char *const p3m7[] = {
        "F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 B5 B6",
        "F0 F1 I0 F2 I1 W0 F3 I2 W1 F4 I3 W2 F5 I4 W3 F6 I5 W4 I6 W5 W6",
        "F0 I0 F1 I1 F2 I2 W0 F3 I3 W1 F4 I4 W2 F5 I5 W3 F6 I6 W4 W5 W6"};
    static const char *const p4m2[] = {
        "F0 F1 B0 B1", "F0 F1 I0 W0 I1 W1", "F0 F1 I0 I1 W0 W1", "F0 I0 F1 I1 W0 W1"};
    static const char *const p5m5[] = {
        "F0 F1 F2 F3 F4 B0 B1 B2 B3 B4",
        "F0 F1 F2 F3 I0 F4 I1 W0 I2 W1 I3 W2 I4 W3 W4",
        "F0 F1 F2 I0 F3 I1 F4 I2 W0 I3 W1 I4 W2 W3 W4",
        "F0 F1 I0 F2 I1 F3 I2 F4 I3 W0 I4 W1 W2 W3 W4",
        "F0 I0 F1 I1 F2 I2 F3 I3 F4 I4 W0 W1 W2 W3 W4"};
    expect_orders("zb-h1", 4, 8, 1, p4m8);
    expect_orders("zb-h1", 3, 7, 1, p3m7);
    expect_orders("zb-h1", 4, 2, 1, p4m2);
    expect_orders("zb-h1", 5, 5, 1, p5m5);
}

/*
 * ZB-H2 as the zero-bubble paper draws it (Qi et al., figure 3): stage d runs
 * F_x, I_(x-2(p-1-d)), W_(x-2(p-1)) -- 2(p-1-d) warm-up forwards, 2d pairs of
 * F and I, then F, I, W -- written out for p = 4, m = 8.
 */
Test(ch06, zb_h2_is_the_papers_order)
{
    static const char *const p4m8[] = {
        "F0 F1 F2 F3 F4 F5 F6 B0 F7 B1 B2 B3 B4 B5 B6 B7",
        "F0 F1 F2 F3 F4 I0 F5 I1 F6 I2 W0 F7 I3 W1 I4 W2 I5 W3 I6 W4 I7 W5 W6 W7",
        "F0 F1 F2 I0 F3 I1 F4 I2 F5 I3 F6 I4 W0 F7 I5 W1 I6 W2 I7 W3 W4 W5 W6 W7",
        "F0 I0 F1 I1 F2 I2 F3 I3 F4 I4 F5 I5 F6 I6 W0 F7 I7 W1 W2 W3 W4 W5 W6 W7"};
    expect_orders("zb-h2", 4, 8, 1, p4m8);
}

/* Every m is accepted, and the schedule is valid and cannot deadlock. */
Test(ch06, every_m_is_valid_and_deadlock_free, .timeout = 60)
{
    static const char *const names[] = {"zb-h1", "zb-h2"};
    char err[1024];
    for (int k = 0; k < 2; k++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= 48; m++) {
                pl_schedule s;
                registry_schedule(names[k], &s, p, m, 1);
                cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s p=%d m=%d: %s",
                             names[k], p, m, err);
                pl_schedule_free(&s);
            }
}

/* With equal costs every ZB-H2 device is busy from its first action to its
 * last: a parallelogram. */
Test(ch06, zb_h2_devices_never_wait_once_started, .timeout = 60)
{
    for (int p = 2; p <= 8; p++)
        for (int m = 2 * p - 1; m <= 32; m++) {
            pl_options o = small_run("zb-h2", p, m);
            pl_experiment x;
            run_ok(&o, &x);
            for (int d = 0; d < p; d++) {
                const pl_step_total *t = &x.result.trace.lanes[d].totals[0];
                cr_expect_eq(t->last_end - t->first_start, t->busy, "p=%d m=%d d%d", p, m, d);
                cr_expect_eq(t->first_start, d * U, "p=%d m=%d d%d", p, m, d);
            }
            pl_experiment_free(&x);
        }
}

/* The headline of the chapter: ZB-H2 with a barrier after every step is no
 * better than ZB-H1; without one, each step costs exactly the busy time. */
Test(ch06, zb_h2_zero_bubble_needs_local_step_sync, .timeout = 60)
{
    for (int p = 2; p <= 6; p++)
        for (int m = 2 * p - 1; m <= 24; m += 5)
            for (int steps = 4; steps <= 6; steps += 2) {
                pl_options o = small_run("zb-h1", p, m);
                o.steps = steps;
                pl_experiment h1, global, local;
                run_ok(&o, &h1);
                o.schedule = "zb-h2";
                run_ok(&o, &global);
                o.step_sync = PL_SYNC_LOCAL;
                o.verify = 1;
                run_ok(&o, &local);
                int64_t busy = (int64_t)m * 3 * U;
                cr_expect_geq(global.makespan_ns, h1.makespan_ns, "p=%d m=%d", p, m);
                cr_expect_eq(global.period_ns, global.makespan_ns, "p=%d m=%d", p, m);
                cr_expect_eq((int64_t)local.period_ns, busy, "p=%d m=%d steps %d", p, m, steps);
                cr_expect_eq(local.period_bubble, 0.0, "p=%d m=%d", p, m);
                cr_expect_eq(local.predicted_period_ns, local.period_ns);
                cr_expect_eq(local.predicted_period_bubble, local.period_bubble);
                cr_expect(local.bitwise_equal, "p=%d m=%d", p, m);
                /* 1F1B and ZB-H1 idle inside their steps: local sync gains them nothing */
                o.schedule = "zb-h1";
                pl_experiment h1_local;
                run_ok(&o, &h1_local);
                cr_expect_eq(h1_local.period_ns, h1.makespan_ns, "p=%d m=%d", p, m);
                pl_experiment_free(&h1);
                pl_experiment_free(&global);
                pl_experiment_free(&local);
                pl_experiment_free(&h1_local);
            }
}

Test(ch06, verify_is_bitwise_for_both_schedules_and_step_syncs, .timeout = 120)
{
    static const char *const names[] = {"zb-h1", "zb-h2"};
    for (int k = 0; k < 2; k++)
        for (int sync = 0; sync < 2; sync++)
            for (int p = 1; p <= 5; p++)
                for (int m = 1; m <= 11; m += 5)
                    for (uint64_t seed = 1; seed <= 2; seed++) {
                        pl_options o = small_run(names[k], p, m);
                        o.batch = 2 * m + 1;
                        o.seed = seed;
                        o.steps = 3;
                        o.step_sync = (pl_step_sync)sync;
                        o.verify = 1;
                        pl_experiment x;
                        run_ok(&o, &x);
                        cr_expect(x.bitwise_equal, "%s sync %d p=%d m=%d seed %d", names[k],
                                  sync, p, m, (int)seed);
                        pl_experiment_free(&x);
                    }
}

/* ---- gradient clipping ---- */

/* A clipping run of ZB-H2, local step sync, p = 4, m = 8, 5 steps. */
static pl_options clipping(double norm, int post)
{
    pl_options o = small_run("zb-h2", 4, 8);
    o.steps = 5;
    o.step_sync = PL_SYNC_LOCAL;
    o.clip_norm = norm;
    o.post_validation = post;
    o.verify = 1;
    return o;
}

static int clipped_steps(const pl_experiment *x)
{
    int n = 0;
    for (int k = 0; k < x->opt.steps; k++)
        n += x->clips[k];
    return n;
}

/* No step clips: the barrier way waits for the all-reduce every step;
 * post-validation does not, and keeps ZB-H2's zero bubble. */
Test(ch06, post_validation_keeps_the_period_the_barrier_way_loses, .timeout = 30)
{
    pl_options o = clipping(1e6, 0);
    pl_experiment barrier, post, none;
    run_ok(&o, &barrier);
    o.post_validation = 1;
    run_ok(&o, &post);
    o.clip_norm = 0;
    o.post_validation = 0;
    run_ok(&o, &none);
    cr_expect_eq(clipped_steps(&barrier), 0);
    cr_expect_eq((int64_t)barrier.period_ns, (8 * 3 + 3) * U, "the barrier's: a step's makespan");
    cr_expect_eq((int64_t)post.period_ns, 8 * 3 * U, "post-validation: the busy time");
    cr_expect_eq(post.period_ns, none.period_ns);
    cr_expect(barrier.bitwise_equal && post.bitwise_equal);
    cr_expect_eq(barrier.predicted_period_ns, barrier.period_ns);
    cr_expect_eq(post.predicted_period_ns, post.period_ns);
    pl_experiment_free(&barrier);
    pl_experiment_free(&post);
    pl_experiment_free(&none);
}

/* Some steps clip: the barrier way clips them in place; post-validation
 * rolls back, redoes the update clipped, and runs the next step again. Both
 * train bitwise like the reference that clips, and the simulator predicts
 * the rollbacks' cost exactly. */
Test(ch06, a_failed_check_rolls_back_and_stays_bitwise_equal, .timeout = 60)
{
    for (int post = 0; post <= 1; post++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            for (double norm = 0.05; norm < 2; norm *= 1.6) {
                pl_options o = clipping(norm, post);
                o.seed = seed;
                pl_experiment x;
                run_ok(&o, &x);
                cr_expect(x.bitwise_equal, "post %d seed %d norm %g", post, (int)seed, norm);
                cr_expect_eq(x.predicted_period_ns, x.period_ns, "post %d seed %d norm %g",
                             post, (int)seed, norm);
                int reruns = 0;
                for (int k = 0; post && k < o.steps - 1; k++)
                    reruns += x.clips[k];
                /* each rerun repeats one step's busy time, 24 units */
                if (post)
                    cr_expect_eq((int64_t)x.period_ns * (o.steps - 1),
                                 ((o.steps - 1) * 24 + reruns * 24) * U, "seed %d norm %g",
                                 (int)seed, norm);
                pl_experiment_free(&x);
            }
    /* the sweep above saw every case: none, some and all steps clipped */
    pl_options o = clipping(0.05, 1);
    pl_experiment all;
    run_ok(&o, &all);
    cr_expect_eq(clipped_steps(&all), 5);
    pl_experiment_free(&all);
    o = clipping(0.6, 1);
    pl_experiment some;
    run_ok(&o, &some);
    cr_expect(clipped_steps(&some) > 0 && clipped_steps(&some) < 5, "%d", clipped_steps(&some));
    cr_expect(some.bitwise_equal);
    pl_experiment_free(&some);
}

/* Clipping changes the weights: the check is not vacuous. */
Test(ch06, clipping_changes_the_weights, .timeout = 30)
{
    pl_options o = clipping(0.05, 1);
    pl_experiment clipped, plain;
    run_ok(&o, &clipped);
    o.clip_norm = 0;
    o.post_validation = 0;
    run_ok(&o, &plain);
    cr_expect_not(pl_model_equal(&clipped.model, &plain.model, NULL));
    pl_experiment_free(&clipped);
    pl_experiment_free(&plain);
}

/* ---- steps without a barrier: the simulator predicts every step ---- */

Test(ch06, multi_step_runs_equal_the_simulator_event_for_event, .timeout = 120)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    pl_rng r;
    pl_rng_seed(&r, 606);
    int chunked = 0, local = 0, reruns = 0;
    for (int k = 0; k < 100; k++) {
        const pl_registry_entry *e = &all[pl_rng_next(&r) % (uint64_t)n];
        int p = 1 + (int)(pl_rng_next(&r) % 5), m = 1 + (int)(pl_rng_next(&r) % 9);
        pl_shape shape = pl_registry_shape(e, p, m, e->chunks ? 0 : 1 + (int)(pl_rng_next(&r) % 3));
        pl_options o = small_run(e->name, p, m);
        o.chunks = e->chunks ? 0 : shape.chunks;
        o.steps = 1 + (int)(pl_rng_next(&r) % 4);
        o.batch = shape.microbatches + (int)(pl_rng_next(&r) % 7);
        int stages = p * shape.chunks;
        o.layers = stages + (int)(pl_rng_next(&r) % (uint64_t)(stages + 1));
        o.step_sync = (pl_step_sync)(pl_rng_next(&r) % 2);
        o.recompute = pl_rng_next(&r) % 4 == 0;
        o.t_w = 0.5 * (double)(1 + pl_rng_next(&r) % 4);
        if (pl_rng_next(&r) % 2) {
            o.clip_norm = 0.1 * (double)(1 + pl_rng_next(&r) % 20);
            o.post_validation = (int)(pl_rng_next(&r) % 2);
        }
        o.verify = 1;
        pl_experiment x;
        run_ok(&o, &x);
        pl_result sim;
        char err[1024];
        cr_assert_eq(pl_simulate(&x.job, &sim, err, sizeof err), 0, "config %d: %s", k, err);
        cr_expect(pl_trace_equal(&x.result.trace, &sim.trace), "config %d (%s p=%d m=%d v=%d "
                  "steps %d sync %d clip %g post %d): threads and simulator differ", k, x.name,
                  p, m, shape.chunks, o.steps, o.step_sync, o.clip_norm, o.post_validation);
        cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "config %d", k);
        cr_expect_eq(x.period_ns, x.predicted_period_ns, "config %d", k);
        cr_expect(x.bitwise_equal, "config %d", k);
        chunked += shape.chunks > 1;
        local += o.step_sync == PL_SYNC_LOCAL && o.steps > 1;
        for (int j = 0; o.post_validation && j < o.steps - 1; j++)
            reruns += x.clips[j];
        pl_result_free(&sim);
        pl_experiment_free(&x);
    }
    /* the draw covered what it should */
    cr_expect_geq(chunked, 10);
    cr_expect_geq(local, 20);
    cr_expect_geq(reruns, 5);
}

/* ---- the transport ---- */

/* A step's message may arrive before the receiver took the last step's. */
Test(ch06, a_mailbox_slot_queues_messages_in_order)
{
    pl_mailbox b;
    atomic_int stop = 0;
    pl_message msg;
    cr_assert_eq(pl_mailbox_init(&b, 1), 0);
    cr_assert_eq(pl_mailbox_put(&b, 0, 3, 30, pl_tensor_new(1, 1)), 0);
    cr_assert_eq(pl_mailbox_put(&b, 0, 4, 40, pl_tensor_new(1, 2)), 0);
    cr_assert_eq(pl_mailbox_take(&b, 0, &stop, &msg), 0);
    cr_expect_eq(msg.step, 3);
    cr_expect_eq(msg.time, 30);
    pl_tensor_free(&msg.t);
    cr_assert_eq(pl_mailbox_put(&b, 0, 5, 50, pl_tensor_new(1, 3)), 0);
    cr_assert_eq(pl_mailbox_take(&b, 0, &stop, &msg), 0);
    cr_expect_eq(msg.step, 4);
    cr_expect_eq(msg.t.cols, 2);
    pl_tensor_free(&msg.t);
    pl_mailbox_destroy(&b); /* frees step 5's, never taken */
}

/* The reduction adds in device order, whatever order the devices come in,
 * and agrees on the latest time. */
Test(ch06, the_reduction_sums_in_device_order)
{
    pl_trace t;
    float loss[2];
    cr_assert_eq(pl_trace_init(&t, 3, 2, 0), 0);
    pl_transport *net = pl_transport_threads_new(3, 1, 1, 2, &t, loss);
    cr_assert_not_null(net);
    double v[3] = {1e16, 1.0, -1e16}, sum;
    int64_t agreed;
    cr_assert_eq(pl_transport_reduce(net, 2, 1, v[2], 7), 0);
    cr_assert_eq(pl_transport_reduce(net, 0, 1, v[0], 9), 0);
    cr_assert_eq(pl_transport_reduce(net, 1, 1, v[1], 5), 0);
    cr_assert_eq(pl_transport_reduced(net, 1, 1, &sum, &agreed), 0);
    cr_expect_eq(sum, (0.0 + v[0] + v[1]) + v[2]); /* 0: the 1 is lost, in this order */
    cr_expect_eq(agreed, 9);
    pl_transport_free(net);
    pl_trace_free(&t);
}

/* ---- the command line ---- */

Test(ch06, json_reports_the_period_and_how_steps_end, .timeout = 30)
{
    char out[8192];
    int rc = pipelab_sh("run --schedule zb-h2 --devices 4 --microbatches 8 --steps 4"
                     " --step-sync local --costs 1,1,1 --clip-grad-norm 1000"
                     " --post-validation --json", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "\"period_ns\":24000000,\"period_bubble\":0,"
                          "\"period_predicted_ns\":24000000,\"period_bubble_predicted\":0,"
                          "\"step_sync\":\"local\",\"clip_grad_norm\":1000,"
                          "\"post_validation\":true,\"clipped_steps\":0,\"costs\":[1,1,1]"),
              "%s", out);
    rc = pipelab_sh("run --schedule zb-h1 --devices 4 --microbatches 8 --steps 1 --costs 2,2,1"
                 " 2>&1", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "t_F 2, t_I 2, t_W 1 units") != NULL, "%s", out);
    cr_expect(strstr(out, "period") == NULL, "one step has no period: %s", out);
}

/* --show-steps all: the pictures draw every step on one time axis -- the
 * way to see what a barrier between steps costs. */
Test(ch06, the_pictures_can_show_every_step, .timeout = 30)
{
    static char out[1 << 17];
    char path[] = "/tmp/pipelab-ch06-svg-XXXXXX", args[256];
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    snprintf(args, sizeof args, "run --schedule zb-h2 --devices 4 --microbatches 8 --steps 3"
             " --step-sync local --show-steps all --svg %s 2>/dev/null", path);
    cr_assert_eq(pipelab_sh(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "the timeline shows steps 1 to 3") != NULL, "%s", out);
    /* d0 runs 16 actions a step, back to back: three steps in 72 columns */
    cr_expect(strstr(out, "d0  |FFFFFFFB0FB1B2B3B4B5B6B7FFFFFFFB0FB1B2B3B4B5B6B7"
                          "FFFFFFFB0FB1B2B3B4B5B6B7...\n") != NULL, "%s", out);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int rects = 0;
    for (char *c = out; (c = strstr(c, "<rect class=\"act ")) != NULL; c++)
        rects++;
    fclose(f);
    unlink(path);
    cr_expect(n < sizeof out - 1, "the SVG is larger than the buffer");
    cr_expect_eq(rects, 3 * (16 + 3 * 24), "every action of the three steps");
    cr_expect(strstr(out, "steps 1 to 3 of 3") != NULL);
}
