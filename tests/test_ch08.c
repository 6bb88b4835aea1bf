/*
 * test_ch08.c -- chapter 08, V shapes: ZB-V and DualPipeV in their peers'
 * orders; their idle time per device exactly as derived, half ZB-H1's;
 * measured equal to predicted; the V evening out memory across devices;
 * bitwise equal weights; what they do below their domains.
 */
#include "child.h"

#include <math.h>

#include "helpers.h"
#include "memory.h"
#include "plan.h"
#include "validate.h"

#define U PL_COST_UNIT

/* Cost settings, in units (t_F, t_I, t_W of a device's share of layers). */
typedef struct {
    double f, i, w;
} costs;

/* A small run with two layers per device: one per chunk in the V. */
static pl_options v_run(const char *schedule, int p, int m, costs c)
{
    pl_options o = small_run(schedule, p, m);
    o.layers = 2 * p;
    o.t_f = c.f;
    o.t_i = c.i;
    o.t_w = c.w;
    return o;
}

/* The chapter's g, in ticks, from a chunk's times (half a device's): the
 * larger of t_F and t_F + t_I - k t_W (ZB-V k = 2, DualPipeV k = 1). */
static int64_t v_gap(costs c, int k)
{
    int64_t f = llround(c.f * U) / 2, i = llround(c.i * U) / 2, w = llround(c.w * U) / 2;
    return f + i - k * w > f ? f + i - k * w : f;
}

/* ---- the peers' orders ---- */

/*
 * ZB-V as the zero-bubble authors hand-crafted it: get_zb_v_schedule in
 * sail-sg/zero-bubble-pipeline-parallelism (megatron/core/pipeline_parallel/
 * handcrafted_zb_v), which PyTorch's ScheduleZBVZeroBubble.
 * _calculate_single_rank_operations repeats (torch/distributed/pipelining/
 * schedules.py). Their chunk 0 is stage d, chunk 1 stage 2p-1-d, as ours;
 * their B (backward input) is our I. Worked through from that function for
 * each (p, m), the padding Nones dropped; with m < 2p-1 both build the
 * schedule for 2p-1 and drop the micro-batches past m (p = 3, m = 3).
 */
Test(ch08, zb_v_is_the_authors_order)
{
    static const char *const p4m8[] = {
        "F0.0 F1.0 F2.0 F3.0 F4.0 F5.0 F6.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 F2.1 I2.1 W2.1 F3.1 "
        "I3.1 W3.1 F7.0 I0.0 W0.0 F4.1 I4.1 W4.1 I1.0 W1.0 F5.1 I5.1 W5.1 I2.0 W2.0 F6.1 I6.1 "
        "W6.1 I3.0 W3.0 F7.1 I7.1 W7.1 I4.0 W4.0 I5.0 W5.0 I6.0 W6.0 I7.0 W7.0",
        "F0.0 F1.0 F2.0 F3.0 F4.0 F0.1 F5.0 F1.1 I0.1 W0.1 F2.1 I1.1 W1.1 F3.1 I2.1 W2.1 F6.0 "
        "I0.0 W0.0 F4.1 I3.1 W3.1 F7.0 I1.0 W1.0 F5.1 I4.1 W4.1 I2.0 W2.0 F6.1 I5.1 W5.1 I3.0 "
        "W3.0 F7.1 I6.1 W6.1 I4.0 I7.1 I5.0 W4.0 I6.0 W5.0 I7.0 W6.0 W7.1 W7.0",
        "F0.0 F1.0 F2.0 F0.1 F3.0 F1.1 F4.0 F2.1 I0.1 W0.1 F3.1 I1.1 W1.1 F5.0 I0.0 W0.0 F4.1 "
        "I2.1 W2.1 F6.0 I1.0 W1.0 F5.1 I3.1 W3.1 F7.0 I2.0 W2.0 F6.1 I4.1 W4.1 I3.0 W3.0 F7.1 "
        "I5.1 W5.1 I4.0 I6.1 I5.0 I7.1 I6.0 W4.0 I7.0 W5.0 W6.1 W7.1 W6.0 W7.0",
        "F0.0 F0.1 F1.0 F1.1 F2.0 F2.1 F3.0 F3.1 I0.1 W0.1 F4.0 I0.0 W0.0 F4.1 I1.1 W1.1 F5.0 "
        "I1.0 W1.0 F5.1 I2.1 W2.1 F6.0 I2.0 W2.0 F6.1 I3.1 W3.1 F7.0 I3.0 W3.0 F7.1 I4.1 W4.1 "
        "I4.0 I5.1 I5.0 I6.1 I6.0 I7.1 I7.0 W4.0 W5.1 W6.1 W7.1 W5.0 W6.0 W7.0"};
    static const char *const p2m4[] = {
        "F0.0 F1.0 F2.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 F3.0 I0.0 W0.0 F2.1 I2.1 W2.1 I1.0 W1.0 "
        "F3.1 I3.1 W3.1 I2.0 W2.0 I3.0 W3.0",
        "F0.0 F0.1 F1.0 F1.1 I0.1 W0.1 F2.0 I0.0 W0.0 F2.1 I1.1 W1.1 F3.0 I1.0 W1.0 F3.1 I2.1 "
        "W2.1 I2.0 I3.1 I3.0 W2.0 W3.1 W3.0"};
    static const char *const p3m3[] = {
        "F0.0 F1.0 F2.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 F2.1 I2.1 W2.1 I0.0 W0.0 I1.0 W1.0 I2.0 "
        "W2.0",
        "F0.0 F1.0 F2.0 F0.1 F1.1 I0.1 W0.1 F2.1 I1.1 W1.1 I0.0 W0.0 I2.1 W2.1 I1.0 W1.0 I2.0 "
        "W2.0",
        "F0.0 F0.1 F1.0 F1.1 F2.0 F2.1 I0.1 W0.1 I0.0 W0.0 I1.1 W1.1 I1.0 W1.0 I2.1 W2.1 I2.0 "
        "W2.0"};
    expect_orders("zb-v", 4, 8, 0, p4m8);
    expect_orders("zb-v", 2, 4, 0, p2m4);
    expect_orders("zb-v", 3, 3, 0, p3m3);
}

/*
 * DualPipeV as PyTorch's ScheduleDualPipeV._calculate_single_rank_operations
 * writes it (torch/distributed/pipelining/schedules.py), the same eight
 * phases as DeepSeek's DualPipeV.step (deepseek-ai/DualPipe, dualpipev.py):
 * each OVERLAP_F_B written as its two sub-actions, forward first; their
 * FULL_BACKWARD is our B, BACKWARD_INPUT our I; a W takes the oldest I still
 * owed one (their weight queue). Worked through from that function for each
 * (p, m); both need m >= 2p (p = 3, m = 6 is the smallest).
 */
Test(ch08, dualpipe_v_is_deepseeks_order)
{
    static const char *const p4m8[] = {
        "F0.0 F1.0 F2.0 F3.0 F4.0 F5.0 F6.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 F2.1 I2.1 W2.1 F3.1 "
        "F7.0 B3.1 F4.1 B0.0 B4.1 F5.1 B1.0 B5.1 F6.1 B2.0 B6.1 F7.1 B3.0 B7.1 I4.0 W4.0 I5.0 "
        "W5.0 I6.0 W6.0 I7.0 W7.0",
        "F0.0 F1.0 F2.0 F3.0 F4.0 F0.1 F5.0 F1.1 I0.1 W0.1 F2.1 I1.1 W1.1 F3.1 F6.0 B2.1 F4.1 "
        "B0.0 F7.0 B3.1 F5.1 B1.0 B4.1 F6.1 B2.0 B5.1 F7.1 B3.0 B6.1 B4.0 I7.1 I5.0 W7.1 I6.0 "
        "W5.0 I7.0 W6.0 W7.0",
        "F0.0 F1.0 F2.0 F0.1 F3.0 F1.1 F4.0 F2.1 I0.1 W0.1 F3.1 F5.0 B1.1 F4.1 B0.0 F6.0 B2.1 "
        "F5.1 B1.0 F7.0 B3.1 F6.1 B2.0 B4.1 F7.1 B3.0 B5.1 B4.0 B6.1 I5.0 I7.1 I6.0 W5.0 I7.0 "
        "W7.1 W6.0 W7.0",
        "F0.0 F0.1 F1.0 F1.1 F2.0 F2.1 F3.0 F3.1 F4.0 B0.1 F4.1 B0.0 F5.0 B1.1 F5.1 B1.0 F6.0 "
        "B2.1 F6.1 B2.0 F7.0 B3.1 F7.1 B3.0 B4.1 B4.0 B5.1 B5.0 I6.1 I6.0 I7.1 I7.0 W6.1 W6.0 "
        "W7.1 W7.0"};
    static const char *const p3m6[] = {
        "F0.0 F1.0 F2.0 F3.0 F4.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 F2.1 F5.0 B2.1 F3.1 B0.0 B3.1 "
        "F4.1 B1.0 B4.1 F5.1 B2.0 B5.1 I3.0 W3.0 I4.0 W4.0 I5.0 W5.0",
        "F0.0 F1.0 F2.0 F0.1 F3.0 F1.1 I0.1 W0.1 F2.1 F4.0 B1.1 F3.1 B0.0 F5.0 B2.1 F4.1 B1.0 "
        "B3.1 F5.1 B2.0 B4.1 B3.0 I5.1 I4.0 W5.1 I5.0 W4.0 W5.0",
        "F0.0 F0.1 F1.0 F1.1 F2.0 F2.1 F3.0 B0.1 F3.1 B0.0 F4.0 B1.1 F4.1 B1.0 F5.0 B2.1 F5.1 "
        "B2.0 B3.1 B3.0 B4.1 I4.0 I5.1 I5.0 W4.0 W5.1 W5.0"};
    static const char *const p2m5[] = {
        "F0.0 F1.0 F2.0 F0.1 I0.1 W0.1 F1.1 F3.0 B1.1 F2.1 B0.0 F4.0 B2.1 F3.1 B1.0 B3.1 F4.1 "
        "B2.0 B4.1 I3.0 W3.0 I4.0 W4.0",
        "F0.0 F0.1 F1.0 F1.1 F2.0 B0.1 F2.1 B0.0 F3.0 B1.1 F3.1 B1.0 F4.0 B2.1 F4.1 B2.0 B3.1 "
        "B3.0 I4.1 I4.0 W4.1 W4.0"};
    expect_orders("dualpipe-v", 4, 8, 0, p4m8);
    expect_orders("dualpipe-v", 3, 6, 0, p3m6);
    expect_orders("dualpipe-v", 2, 5, 0, p2m5);
}

/* Below its peers' domain DualPipeV is the schedule for 2p micro-batches
 * with the missing ones left out -- valid, and cannot deadlock. */
Test(ch08, dualpipe_v_below_2p_is_2p_with_micro_batches_left_out, .timeout = 30)
{
    char err[1024];
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m < 2 * p; m++) {
            pl_schedule s, full;
            registry_schedule("dualpipe-v", &s, p, m, 0);
            registry_schedule("dualpipe-v", &full, p, 2 * p, 0);
            cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "p=%d m=%d: %s", p, m, err);
            for (int d = 0; d < p; d++) {
                int k = 0;
                for (int i = 0; i < full.len[d]; i++) {
                    pl_action a = full.actions[d][i];
                    if (a.mb >= m)
                        continue;
                    cr_assert_lt(k, s.len[d], "p=%d m=%d d%d", p, m, d);
                    pl_action b = s.actions[d][k++];
                    cr_expect(a.kind == b.kind && a.mb == b.mb && a.chunk == b.chunk,
                              "p=%d m=%d d%d action %d", p, m, d, k - 1);
                }
                cr_expect_eq(k, s.len[d], "p=%d m=%d d%d", p, m, d);
            }
            pl_schedule_free(&s);
            pl_schedule_free(&full);
        }
}

/* ---- idle time ---- */

/* The headline: with t_F = t_I = t_W every device idles (p-1) chunk-
 * forwards under ZB-V -- half of ZB-H1's (p-1) t_F, since a chunk is half a
 * device -- and the bubble is the registry's formula. */
Test(ch08, zb_v_idles_half_of_zb_h1_for_p_2_to_8_m_2p_to_32, .timeout = 240)
{
    costs equal = {1, 1, 1};
    for (int p = 2; p <= 8; p++)
        for (int m = 2 * p; m <= 32; m++) {
            pl_options o = v_run("zb-v", p, m, equal);
            pl_experiment v, h1;
            run_ok(&o, &v);
            o.schedule = "zb-h1";
            run_ok(&o, &h1);
            for (int d = 0; d < p; d++) {
                cr_expect_eq(idle_ticks(&v, d), (p - 1) * U / 2, "p=%d m=%d d%d", p, m, d);
                cr_expect_leq(2 * idle_ticks(&v, d), idle_ticks(&h1, d), "p=%d m=%d d%d", p, m, d);
            }
            cr_expect(fabs(v.bubble - v.bubble_theory) < 1e-12, "p=%d m=%d", p, m);
            cr_expect_eq(v.makespan_ns, v.predicted_makespan_ns, "p=%d m=%d", p, m);
            pl_experiment_free(&v);
            pl_experiment_free(&h1);
        }
}

/* Both schedules idle (p-1) g per device, g = max(t_F, t_F + t_I - k t_W)
 * of a chunk, on every cost setting in their formulas' domain (t_F = t_I;
 * ZB-V also t_W <= t_F), from the first m of the domain on. */
Test(ch08, idle_per_device_on_several_cost_settings, .timeout = 240)
{
    static const costs both[] = {{1, 1, 1}, {2, 2, 1}, {3, 3, 1}, {1, 1, 0.5}};
    static const costs dualpipe_only[] = {{1, 1, 2}, {2, 2, 3}};
    for (int k = 0; k < 6; k++)
        for (int z = 0; z < 2; z++) {
            int zb = z == 0;
            costs c = k < 4 ? both[k] : dualpipe_only[k - 4];
            if (zb && k >= 4)
                continue;
            for (int p = 2; p <= 8; p++)
                for (int m = 2 * p - zb; m <= 32; m += 3) {
                    pl_options o = v_run(zb ? "zb-v" : "dualpipe-v", p, m, c);
                    pl_experiment x;
                    run_ok(&o, &x);
                    for (int d = 0; d < p; d++)
                        cr_expect_eq(idle_ticks(&x, d), (p - 1) * v_gap(c, zb ? 2 : 1),
                                     "%s costs %g,%g,%g p=%d m=%d d%d", o.schedule, c.f, c.i,
                                     c.w, p, m, d);
                    cr_expect(fabs(x.bubble - x.bubble_theory) < 1e-12, "%s costs %g,%g,%g "
                              "p=%d m=%d: %s", o.schedule, c.f, c.i, c.w, p, m, x.theory_note);
                    pl_experiment_free(&x);
                }
        }
}

/* DualPipeV: measured equals predicted, tick for tick, and the chapter's
 * bubble (p-1)/(6m + p-1) under uniform costs, for every p and m. */
Test(ch08, dualpipe_v_measured_equals_predicted_and_the_formula, .timeout = 240)
{
    costs equal = {1, 1, 1};
    for (int p = 2; p <= 8; p++)
        for (int m = 2 * p; m <= 32; m++) {
            pl_options o = v_run("dualpipe-v", p, m, equal);
            pl_experiment x;
            run_ok(&o, &x);
            cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "p=%d m=%d", p, m);
            cr_expect_eq(x.bubble, x.predicted_bubble, "p=%d m=%d", p, m);
            cr_expect_eq((int64_t)x.makespan_ns, 3 * m * U + (p - 1) * U / 2, "p=%d m=%d", p, m);
            cr_expect(fabs(x.bubble_theory - (double)(p - 1) / (6 * m + p - 1)) < 1e-12,
                      "p=%d m=%d", p, m);
            cr_expect(fabs(x.bubble - x.bubble_theory) < 1e-12, "p=%d m=%d", p, m);
            pl_experiment_free(&x);
        }
}

Test(ch08, the_formulas_say_where_they_do_not_apply, .timeout = 30)
{
    static const struct {
        const char *name;
        int m;
        costs c;
        const char *why;
    } cases[] = {
        {"zb-v", 6, {1, 1, 1}, "needs m >= 2p-1"},
        {"zb-v", 8, {1, 1, 2}, "t_F = t_I >= t_W"},
        {"zb-v", 8, {2, 1, 1}, "t_F = t_I >= t_W"},
        {"dualpipe-v", 7, {1, 1, 1}, "needs m >= 2p"},
        {"dualpipe-v", 8, {1, 2, 1}, "t_F = t_I"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pl_options o = v_run(cases[k].name, 4, cases[k].m, cases[k].c);
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect_lt(x.bubble_theory, 0, "%s m=%d", cases[k].name, cases[k].m);
        cr_expect(strstr(x.theory_note, cases[k].why) != NULL, "%s", x.theory_note);
        pl_experiment_free(&x);
    }
    /* the first m of each domain has one */
    pl_options o = v_run("zb-v", 4, 7, (costs){1, 1, 1});
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect(fabs(x.bubble_theory - 3.0 / (6 * 7 + 3)) < 1e-12);
    pl_experiment_free(&x);
}

/* ---- memory ---- */

/* Peak in flight (chunk-micro-batches) and held bytes per device. With m in
 * their domains every device of either V schedule holds the same number of
 * chunk-micro-batches -- ZB-V 2p, p micro-batches of a device's layers, what
 * 1F1B holds on its first device only; DualPipeV one more -- where 1F1B's
 * devices hold p down to 1. In bytes, DualPipeV's devices are equal too:
 * (2p+1) forward stashes; ZB-V's cool-down has the devices at the bottom
 * of the V hold 2d+1 input-gradients' stashes at once, so its bytes are
 * max(2p a + g, (p+d) a + (2d+1) g), a forward stash a and what an I adds g. */
Test(ch08, the_v_evens_out_memory_across_devices, .timeout = 120)
{
    costs equal = {1, 1, 1};
    for (int p = 2; p <= 8; p++)
        for (int m = 2 * p; m <= 32; m += 5)
            for (int layers = 2 * p; layers <= 4 * p; layers += 2 * p) {
                pl_options o = v_run("zb-v", p, m, equal);
                o.layers = layers;
                pl_experiment v, dv, fb;
                run_ok(&o, &v);
                o.schedule = "dualpipe-v";
                run_ok(&o, &dv);
                o.schedule = "1f1b";
                run_ok(&o, &fb);
                int k = layers / (2 * p); /* layers per chunk */
                int64_t a = pl_memory_stash_delta(&v.model, 0, k, o.batch / m, PL_F, 0);
                int64_t g = pl_memory_stash_delta(&v.model, 0, k, o.batch / m, PL_I, 0);
                for (int d = 0; d < p; d++) {
                    const pl_lane *lv = &v.result.trace.lanes[d], *ld = &dv.result.trace.lanes[d];
                    cr_expect_eq(lv->peak_inflight, 2 * p, "zb-v p=%d m=%d d%d", p, m, d);
                    cr_expect_eq(lv->peak_inflight, 2 * fb.result.trace.lanes[0].peak_inflight);
                    cr_expect_eq(ld->peak_inflight, 2 * p + 1, "dualpipe-v p=%d m=%d d%d", p, m,
                                 d);
                    cr_expect_eq(fb.result.trace.lanes[d].peak_inflight, p - d);
                    int64_t down = (p + d) * a + (2 * d + 1) * g, flat = 2 * p * a + g;
                    cr_expect_eq((int64_t)lv->peak_bytes, down > flat ? down : flat,
                                 "zb-v p=%d m=%d L=%d d%d", p, m, layers, d);
                    cr_expect_eq((int64_t)ld->peak_bytes, (2 * p + 1) * a,
                                 "dualpipe-v p=%d m=%d L=%d d%d", p, m, layers, d);
                }
                pl_experiment_free(&v);
                pl_experiment_free(&dv);
                pl_experiment_free(&fb);
            }
}

/* ---- correctness ---- */

Test(ch08, verify_is_bitwise_for_both_schedules, .timeout = 180)
{
    static const char *const names[] = {"zb-v", "dualpipe-v"};
    for (int k = 0; k < 2; k++)
        for (int p = 1; p <= 5; p++) {
            int ms[] = {1, p, 2 * p - 1, 2 * p, 2 * p + 3};
            for (int j = 0; j < 5; j++)
                for (int sync = 0; sync < 2; sync++) {
                    int m = ms[j];
                    pl_options o = v_run(names[k], p, m, (costs){1, 1, 1});
                    o.batch = 2 * m + 1; /* unequal micro-batches too */
                    o.layers = 2 * p + j % 3;
                    o.steps = 3;
                    o.step_sync = (pl_step_sync)sync;
                    o.recompute = j == 4;
                    o.verify = 1;
                    pl_experiment x;
                    run_ok(&o, &x);
                    cr_expect(x.bitwise_equal, "%s p=%d m=%d sync %d", names[k], p, m, sync);
                    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "%s p=%d m=%d",
                                 names[k], p, m);
                    pl_experiment_free(&x);
                }
        }
}

/* Every m is accepted, and the schedule is valid and cannot deadlock. */
Test(ch08, every_m_is_valid_and_deadlock_free, .timeout = 60)
{
    static const char *const names[] = {"zb-v", "dualpipe-v"};
    char err[1024];
    for (int k = 0; k < 2; k++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= 48; m++) {
                pl_schedule s;
                registry_schedule(names[k], &s, p, m, 0);
                cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s p=%d m=%d: %s",
                             names[k], p, m, err);
                pl_schedule_free(&s);
            }
}

Test(ch08, show_prints_the_v_placement, .timeout = 30)
{
    char out[8192];
    int rc = pipelab_sh("show --schedule zb-v --devices 2 --microbatches 4", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "chunks 2\nplacement v\n") != NULL, "%s", out);
    rc = pipelab_sh("run --schedule dualpipe-v --chunks 3 2>&1", out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--schedule dualpipe-v runs 2 chunks per device") != NULL, "%s", out);
}

/* ---- the planner ---- */

/* A configuration to plan for, and the bounds of its search. */
typedef struct {
    pl_options o;
    pl_plan_space space;
} plan_case;

static plan_case plan_case_of(int p, int layers, int width, int batch, int max_m, int max_v)
{
    plan_case c = {small_run("1f1b", p, 1), {max_m, max_v}};
    c.o.layers = layers;
    c.o.width = width;
    c.o.batch = batch;
    c.o.momentum = 0.9f;
    return c;
}

/* What brute force finds for one configuration: every plan's step and
 * peak memory, by running each on the simulator directly -- not through the
 * planner -- as `pipelab run --simulate` would with a unit of the whole
 * batch. */
typedef struct {
    int n, ran;
    double step[4096];
    size_t peak[4096];
} brute;

static void brute_force(const plan_case *c, brute *b)
{
    int count, links = c->o.link_latency_ms > 0 || c->o.link_bandwidth > 0;
    const pl_registry_entry *all = pl_registry_list(&count);
    b->n = b->ran = 0;
    for (int i = 0; i < count; i++) {
        const pl_registry_entry *e = &all[i];
        for (int m = 1; m <= (e->microbatches ? 1 : c->space.max_m); m++)
            for (int v = 1; v <= (e->chunks ? 1 : c->space.max_v); v++)
                for (int r = 0; r < 2; r++)
                    for (int w = 0; w < (links && !strcmp(e->name, "1f1b") ? 2 : 1); w++) {
                        pl_options o = c->o;
                        char err[1024];
                        o.schedule = e->name;
                        o.microbatches = e->microbatches ? e->microbatches : m;
                        o.chunks = e->chunks ? e->chunks : v;
                        o.recompute = r;
                        o.warmup_extra = w ? PL_WARMUP_AUTO : 0;
                        o.unit_microbatches = 1;
                        o.simulate = 1;
                        o.device_memory = 0;
                        pl_experiment x;
                        cr_assert_lt(b->n, 4096);
                        b->step[b->n] = -1;
                        if (pl_experiment_run(&o, &x, err, sizeof err) == 0) {
                            b->step[b->n] = x.makespan_ns;
                            b->peak[b->n] = pl_experiment_peak_memory(&x);
                            b->ran++;
                        }
                        b->n++;
                        pl_experiment_free(&x);
                    }
    }
}

/* The planner's answer for `budget` is brute force's: as many plans, as many
 * that fit, and its first is the fastest that fits (the least memory among
 * equally fast ones). */
static void expect_brute_force(const plan_case *c, const brute *b, size_t budget)
{
    char err[1024];
    pl_options o = c->o;
    o.device_memory = budget;
    pl_plan_result r;
    cr_assert_eq(pl_plan_search(&o, c->space, &r, err, sizeof err), 0, "%s", err);
    int fits = 0, best = -1;
    for (int k = 0; k < b->n; k++)
        if (b->step[k] >= 0 && (!budget || b->peak[k] <= budget)) {
            fits++;
            if (best < 0 || b->step[k] < b->step[best] ||
                (b->step[k] == b->step[best] && b->peak[k] < b->peak[best]))
                best = k;
        }
    cr_expect_eq(r.n, b->n, "budget %zu", budget);
    cr_expect_eq(r.fitting, fits, "budget %zu", budget);
    int cannot = 0;
    for (int k = 0; k < r.n; k++)
        cannot += r.plans[k].verdict == PL_PLAN_CANNOT;
    cr_expect_eq(cannot, b->n - b->ran, "budget %zu", budget);
    if (best >= 0 && r.fitting > 0) {
        cr_expect_eq(r.plans[0].verdict, PL_PLAN_FITS);
        cr_expect_eq(r.plans[0].step_ns, b->step[best], "budget %zu: %s m=%d v=%d", budget,
                     r.plans[0].entry->name, r.plans[0].m, r.plans[0].v);
        cr_expect_eq(r.plans[0].peak, b->peak[best], "budget %zu", budget);
        cr_expect(!budget || r.plans[0].peak <= budget);
    }
    pl_plan_free(&r);
}

/* Budgets that bind: between the least and the most any plan needs. */
static void budgets(const brute *b, size_t *out)
{
    size_t lo = 0, hi = 0;
    for (int k = 0; k < b->n; k++)
        if (b->step[k] >= 0) {
            lo = !lo || b->peak[k] < lo ? b->peak[k] : lo;
            hi = b->peak[k] > hi ? b->peak[k] : hi;
        }
    out[0] = 0;                     /* none */
    out[1] = lo - 1;                /* nothing fits */
    out[2] = lo;                    /* exactly the least */
    out[3] = lo + (hi - lo) / 50;   /* tight */
    out[4] = lo + (hi - lo) / 5;
    out[5] = lo + (hi - lo) / 2;
    out[6] = hi;                    /* everything */
}

Test(ch08, plan_is_the_fastest_that_fits_by_brute_force, .timeout = 240)
{
    static brute b;
    plan_case cases[4] = {
        plan_case_of(3, 12, 16, 12, 12, 4),
        plan_case_of(4, 8, 16, 16, 16, 2),
        plan_case_of(2, 8, 8, 10, 10, 4),
        plan_case_of(4, 16, 16, 32, 12, 4),
    };
    cases[1].o.model = PL_MODEL_LM_LIKE;
    cases[1].o.partition = PL_PARTITION_BALANCED;
    cases[1].o.link_latency_ms = 0.05;
    cases[2].o.cost = PL_COST_FLOPS;
    cases[2].o.link_latency_ms = 0.001;
    cases[2].o.link_bandwidth = 1e9;
    cases[3].o.t_w = 0.5;
    for (int k = 0; k < 4; k++) {
        size_t each[7];
        brute_force(&cases[k], &b);
        cr_assert_gt(b.ran, 0);
        budgets(&b, each);
        for (int j = 0; j < 7; j++)
            expect_brute_force(&cases[k], &b, each[j]);
    }
}

/* The plan runs: on device threads, within its budget, in exactly the time
 * predicted, bitwise equal to the reference; and the nearest plan over the
 * budget does run out of memory. */
Test(ch08, the_chosen_plan_runs_within_its_budget, .timeout = 60)
{
    plan_case c = plan_case_of(4, 16, 16, 32, 16, 2);
    c.o.device_memory = 16000;
    pl_plan_result r;
    char err[1024];
    cr_assert_eq(pl_plan_search(&c.o, c.space, &r, err, sizeof err), 0, "%s", err);
    cr_assert_gt(r.fitting, 0);
    cr_assert_lt(r.fitting, r.n, "the budget binds");
    const pl_plan *best = &r.plans[0], *over = NULL;
    for (int k = r.fitting; k < r.n; k++)
        if (r.plans[k].verdict == PL_PLAN_OVER && (!over || r.plans[k].peak < over->peak))
            over = &r.plans[k];
    cr_assert_not_null(over);
    const pl_plan *runs[2] = {best, over};
    for (int k = 0; k < 2; k++) {
        pl_options o = c.o;
        o.schedule = runs[k]->entry->name;
        o.microbatches = runs[k]->m;
        o.chunks = runs[k]->v;
        o.recompute = runs[k]->recompute;
        o.unit_microbatches = 1;
        o.verify = 1;
        pl_experiment x;
        int rc = pl_experiment_run(&o, &x, err, sizeof err);
        if (k == 0) {
            cr_expect_eq(rc, 0, "%s", err);
            cr_expect_eq(x.makespan_ns, best->step_ns);
            cr_expect_eq(pl_experiment_peak_memory(&x), best->peak);
            cr_expect(x.bitwise_equal);
        } else {
            cr_expect_neq(rc, 0, "%s m=%d fits after all", over->entry->name, over->m);
            cr_expect(strstr(err, "out of memory") != NULL, "%s", err);
        }
        pl_experiment_free(&x);
    }
    pl_plan_free(&r);
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PL_SANITIZED 1
#endif
#endif

/* p = 8, m up to 64, v up to 4: some two thousand plans, each a simulated
 * step, in under a second of CPU time (the process's, so that other work on
 * a shared machine does not count; sanitized builds are exempt, being many
 * times slower by design). */
Test(ch08, plan_answers_for_p_8_m_64_in_under_a_second, .timeout = 60)
{
    plan_case c = plan_case_of(8, 32, 32, 64, 64, 4);
    c.o.device_memory = 60000;
    c.o.link_latency_ms = 0.01;
    pl_plan_result r;
    char err[1024];
    double t0 = cpu_seconds();
    cr_assert_eq(pl_plan_search(&c.o, c.space, &r, err, sizeof err), 0, "%s", err);
    double spent = cpu_seconds() - t0;
    cr_expect_gt(r.n, 2000);
    cr_expect_gt(r.fitting, 0);
#ifndef PL_SANITIZED
    cr_expect_lt(spent, 1.0, "%d plans took %.2f s of CPU", r.n, spent);
#else
    (void)spent;
#endif
    pl_plan_free(&r);
}

Test(ch08, plan_on_the_command_line, .timeout = 60)
{
    static char out[1 << 15];
    int rc = pipelab_sh("plan --devices 2 --layers 4 --batch 6 --microbatches 3 --chunks 2",
                        out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "searched 68 plans, one step each, with the simulator") != NULL,
              "%s", out);
    cr_expect(strstr(out, "   1  zb-v           3   2  no            3.167   0.0526") != NULL,
              "%s", out);
    cr_expect(strstr(out, "  zb-v         the plan: 3.167 ms, m 3; 5 slower\n") != NULL,
              "%s", out);
    /* the plan, run with the planner's unit: the same step, to the tick */
    rc = pipelab_sh("run --schedule zb-v --devices 2 --layers 4 --batch 6 --microbatches 3"
                    " --unit-m 1 --steps 1 --json", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "\"makespan_ns\":3166654,\"bubble\":0.0526315789,") != NULL, "%s",
              out);
    rc = pipelab_sh("run --cost flops --unit-m 2 2>&1", out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--unit-m sets the rows of a --cost uniform unit") != NULL, "%s", out);
    rc = pipelab_sh("plan --devices 2 --layers 4 --batch 6 --device-memory 1000", out,
                    sizeof out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "no plan fits the budget.") != NULL, "%s", out);
    cr_expect(strstr(out, "over the budget; the nearest: ") != NULL, "%s", out);
    rc = pipelab_sh("plan --schedule 1f1b 2>&1", out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--schedule does not apply to plan") != NULL, "%s", out);
    rc = pipelab_sh("plan --partition-by measured 2>&1", out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    rc = pipelab_sh("plan --microbatches 40 2>&1", out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--microbatches 40 exceeds --batch 32") != NULL, "%s", out);
}
