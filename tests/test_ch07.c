/*
 * test_ch07.c -- chapter 07, real costs: uneven layers, balanced partitions,
 * links with latency and bandwidth, and the whole memory bill. Exact figures
 * on the virtual clock; the derivations are the chapter's.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"
#include "holds.h"
#include "jsoncheck.h"
#include "chrome_trace.h"
#include "partition.h"
#include "rng.h"
#include "simulate.h"
#include "svg.h"
#include "xmlcheck.h"

#define U PL_COST_UNIT

/* p devices, m micro-batches, one layer per stage: every stage costs
 * t_F = 1 unit, t_B = 2 (t_I = t_W = 1). */
static pl_options uniform(const char *schedule, int p, int m)
{
    pl_options o = small_run(schedule, p, m);
    o.layers = p;
    return o;
}

/* The chapter's model: lm-like, 8 layers of width 32 over 4 devices, 4 rows
 * per micro-batch. */
static pl_options lm_like(const char *schedule, int m)
{
    pl_options o = small_run(schedule, 4, m);
    o.layers = 8;
    o.width = 32;
    o.batch = 4 * m;
    o.model = PL_MODEL_LM_LIKE;
    return o;
}

/* The makespan of a run, in ticks (1 ns each). */
static int64_t makespan(const pl_options *o)
{
    pl_experiment x;
    run_ok(o, &x);
    int64_t t = (int64_t)x.makespan_ns;
    cr_assert_eq(x.makespan_ns, x.predicted_makespan_ns, "%s: measured differs from predicted",
                 o->schedule);
    pl_experiment_free(&x);
    return t;
}

/* ------------------------------------------------------------ uneven models */

Test(ch07, lm_like_is_wide_at_both_ends)
{
    int w[8];
    pl_model_lm_like(8, 32, w);
    for (int l = 0; l < 7; l++)
        cr_expect_eq(w[l], 32);
    cr_expect_eq(w[7], PL_MODEL_WIDE * 32);
    pl_model m;
    cr_assert_eq(pl_model_build(&m, 8, w, 1), 0);
    cr_expect_eq(m.layers[0].in, 128, "the first layer reads the wide input");
    cr_expect_eq(m.layers[0].out, 32);
    cr_expect_eq(m.layers[7].in, 32);
    cr_expect_eq(m.layers[7].out, 128, "the last layer writes the wide output");
    cr_expect_eq(pl_model_layer_flops(&m.layers[0], 1), 4 * pl_model_layer_flops(&m.layers[3], 1));
    cr_expect_eq(pl_model_layer_flops(&m.layers[7], 1), 4 * pl_model_layer_flops(&m.layers[3], 1));
    cr_expect_eq(pl_model_layer_bytes(&m.layers[0]), (128 * 32 + 32) * sizeof(float));
    pl_model_free(&m);

    /* Every width D: exactly pl_model_init's model. */
    int d[5] = {16, 16, 16, 16, 16};
    pl_model a, b;
    cr_assert_eq(pl_model_build(&a, 5, d, 3), 0);
    cr_assert_eq(pl_model_init(&b, 5, 16, 3), 0);
    cr_expect(pl_model_equal(&a, &b, NULL));
    pl_model_free(&a), pl_model_free(&b);
}

/* A layer weighs in by its FLOPs against a D x D layer: lm-like's ends cost
 * PL_MODEL_WIDE middle layers each, so with 8 layers over 4 devices (a unit
 * is 2 layers of 32 x 32) the even split's end stages cost 2.5 units. */
Test(ch07, uniform_costs_weigh_each_layer_by_its_flops, .timeout = 30)
{
    pl_options o = lm_like("gpipe", 8);
    pl_experiment x;
    run_ok(&o, &x);
    const int64_t forward[4] = {5 * U / 2, U, U, 5 * U / 2};
    for (int st = 0; st < 4; st++) {
        int first = x.partition.first[st], count = x.partition.count[st];
        cr_expect_eq(pl_cost_action(&x.job.cost, &x.model, first, count, 4, PL_F), forward[st],
                     "stage %d", st);
        cr_expect_eq(pl_cost_action(&x.job.cost, &x.model, first, count, 4, PL_B),
                     2 * forward[st], "stage %d", st);
    }
    /* Unequal stages: no formula, and the reason says so. */
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect(strstr(x.theory_note, "stages are unequal") != NULL, "%s", x.theory_note);
    pl_experiment_free(&x);
}

/* Messages carry the boundary's width: d0 sends activations 32 wide, d3
 * sends gradients 32 wide, and the wide ends never cross a link. */
Test(ch07, messages_carry_the_boundary_width, .timeout = 30)
{
    pl_options o = lm_like("1f1b", 8);
    o.model = PL_MODEL_MLP;
    o.widths = (const int[]){32, 48, 48, 16, 16, 16, 16, 64};
    pl_experiment x;
    run_ok(&o, &x);
    /* stage boundaries after layers 1, 3, 5: widths 48, 16, 16; 4 rows each */
    const int64_t sent[4] = {8 * 4 * 48 * 4, 8 * 4 * (16 + 48) * 4, 8 * 4 * (16 + 16) * 4,
                             8 * 4 * 16 * 4};
    for (int d = 0; d < 4; d++)
        cr_expect_eq(pl_trace_bytes_sent(&x.result.trace, d, 0), sent[d], "d%d sent %lld", d,
                     (long long)pl_trace_bytes_sent(&x.result.trace, d, 0));
    pl_experiment_free(&x);
}

/* Uneven widths, every partition method, links and blocking sends, momentum,
 * and chapter 06's ends of a step (no barrier, clipping, post-validation's
 * rollbacks): the threads on the virtual clock equal the simulator event for
 * event and message for message over every step, and the weights equal the
 * sequential reference's bit for bit. */
Test(ch07, every_method_and_link_predicted_exactly_and_bitwise, .timeout = 120)
{
    pl_rng r;
    pl_rng_seed(&r, 707);
    int rollbacks = 0, links = 0;
    for (int k = 0; k < 60; k++) {
        const char *names[] = {"gpipe", "1f1b", "microbatch", "zb-h1"};
        int p = 1 + (int)(pl_rng_next(&r) % 4), m = 1 + (int)(pl_rng_next(&r) % 6);
        pl_options o = small_run(names[k % 4], p, m);
        int widths[12], counts[12];
        o.layers = p + (int)(pl_rng_next(&r) % 5);
        for (int l = 0; l < o.layers; l++)
            widths[l] = 2 + (int)(pl_rng_next(&r) % 12);
        o.widths = k % 4 == 0 ? NULL : widths;
        o.model = k % 4 == 0 ? PL_MODEL_LM_LIKE : PL_MODEL_MLP;
        o.partition = (pl_partition_kind)(pl_rng_next(&r) % 4);
        if (o.partition == PL_PARTITION_MEASURED)
            o.partition = PL_PARTITION_BALANCED; /* measured times are not repeatable */
        if (o.partition == PL_PARTITION_EXPLICIT) {
            for (int s = 0; s < p; s++)
                counts[s] = 1;
            for (int l = p; l < o.layers; l++)
                counts[pl_rng_next(&r) % (uint64_t)p]++;
            o.stage_layers = counts;
            o.stages_given = p;
        }
        o.batch = m + (int)(pl_rng_next(&r) % 7);
        o.link_latency_ms = 0.125 * (double)(pl_rng_next(&r) % 5);
        o.link_bandwidth = pl_rng_next(&r) % 2 ? 1e5 * (double)(1 + pl_rng_next(&r) % 9) : 0;
        o.blocking_send = pl_rng_next(&r) % 3 == 0;
        o.momentum = pl_rng_next(&r) % 2 ? 0.9f : 0.0f;
        o.recompute = pl_rng_next(&r) % 4 == 0;
        o.cost = pl_rng_next(&r) % 4 == 0 ? PL_COST_FLOPS : PL_COST_UNIFORM;
        o.step_sync = pl_rng_next(&r) % 3 == 0 ? PL_SYNC_LOCAL : PL_SYNC_GLOBAL;
        if (pl_rng_next(&r) % 3 == 0) {
            o.clip_norm = 0.05 * (double)(1 + pl_rng_next(&r) % 8);
            o.post_validation = pl_rng_next(&r) % 2;
        }
        o.steps = 3;
        o.verify = 1;
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect(x.bitwise_equal, "config %d (%s p=%d m=%d L=%d)", k, x.name, p, m, o.layers);
        pl_result sim;
        pl_job job = x.job;
        char err[512];
        cr_assert_eq(pl_simulate(&job, &sim, err, sizeof err), 0, "%s", err);
        cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "config %d", k);
        cr_expect(pl_trace_equal(&x.result.trace, &sim.trace),
                  "config %d (%s p=%d m=%d): the threads' trace differs from the simulator's", k,
                  x.name, p, m);
        for (int d = 0; d < p; d++)
            for (int step = 0; step < o.steps; step++)
                cr_expect_eq(pl_trace_bytes_sent(&x.result.trace, d, step),
                             pl_trace_bytes_sent(&sim.trace, d, step), "config %d", k);
        for (int step = 0; o.post_validation && step < o.steps - 1; step++)
            rollbacks += x.clips[step];
        links += pl_cost_has_links(&x.job.cost);
        pl_result_free(&sim);
        pl_experiment_free(&x);
    }
    cr_expect_geq(rollbacks, 3, "the draw rolled back %d steps", rollbacks);
    cr_expect_geq(links, 30, "the draw had links %d times", links);
}

/* -------------------------------------------------------------- partitions */

/* The slowest stage of the best contiguous split, by trying every one:
 * `cuts` is a bit set of the layers a stage starts at. */
static int64_t brute_force(const int64_t *cost, int L, int S)
{
    int64_t best = INT64_MAX;
    for (unsigned cuts = 0; cuts < 1u << (L - 1); cuts++) {
        if (__builtin_popcount(cuts) != S - 1)
            continue;
        int64_t slowest = 0, stage = cost[0];
        for (int l = 1; l < L; l++) {
            if (cuts & (1u << (l - 1))) {
                slowest = stage > slowest ? stage : slowest;
                stage = 0;
            }
            stage += cost[l];
        }
        slowest = stage > slowest ? stage : slowest;
        best = slowest < best ? slowest : best;
    }
    return best;
}

Test(ch07, the_balanced_partition_is_optimal_against_brute_force)
{
    pl_rng r;
    pl_rng_seed(&r, 17);
    char err[256];
    for (int L = 1; L <= 10; L++)
        for (int S = 1; S <= L; S++)
            for (int trial = 0; trial < 12; trial++) {
                int64_t cost[10];
                for (int l = 0; l < L; l++) /* often ties, sometimes zeros and giants */
                    cost[l] = trial % 3 == 0 ? (int64_t)(pl_rng_next(&r) % 4)
                            : (int64_t)(1 + pl_rng_next(&r) % (trial % 2 ? 1000 : 9));
                pl_partition p;
                cr_assert_eq(pl_partition_balanced(&p, cost, L, S, err, sizeof err), 0, "%s", err);
                cr_assert_eq(p.stages, S);
                int next = 0;
                for (int s = 0; s < S; s++) {
                    cr_assert_eq(p.first[s], next, "L=%d S=%d", L, S);
                    cr_assert_geq(p.count[s], 1, "L=%d S=%d stage %d", L, S, s);
                    next += p.count[s];
                }
                cr_assert_eq(next, L);
                cr_expect_eq(pl_partition_slowest(&p, cost), brute_force(cost, L, S),
                             "L=%d S=%d trial %d", L, S, trial);
                pl_partition_free(&p);
            }
}

Test(ch07, balanced_splits_lm_like_into_its_heavy_ends)
{
    const int64_t cost[8] = {4, 1, 1, 1, 1, 1, 1, 4};
    const int want[4] = {1, 3, 3, 1};
    pl_partition p;
    char err[256];
    cr_assert_eq(pl_partition_balanced(&p, cost, 8, 4, err, sizeof err), 0);
    for (int s = 0; s < 4; s++)
        cr_expect_eq(p.count[s], want[s], "stage %d", s);
    cr_expect_eq(pl_partition_slowest(&p, cost), 4);
    pl_partition_free(&p);
}

Test(ch07, explicit_partitions_are_checked)
{
    pl_partition p;
    char err[256];
    cr_assert_eq(pl_partition_explicit(&p, (const int[]){3, 3, 2}, 3, 8, 3, err, sizeof err), 0);
    cr_expect_eq(p.first[2], 6);
    cr_expect_eq(p.count[2], 2);
    pl_partition_free(&p);
    cr_expect_eq(pl_partition_explicit(&p, (const int[]){3, 3, 2}, 3, 8, 4, err, sizeof err), -1);
    cr_expect_str_eq(err, "the partition lists 3 stages, but the schedule has 4");
    cr_expect_eq(pl_partition_explicit(&p, (const int[]){3, 3, 3}, 3, 8, 3, err, sizeof err), -1);
    cr_expect_str_eq(err, "the partition's stages hold 9 layers, but the model has 8");
    cr_expect_eq(pl_partition_explicit(&p, (const int[]){4, 4, 0}, 3, 8, 3, err, sizeof err), -1);
    cr_expect_str_eq(err, "stage 2 of the partition holds no layer");
    cr_expect_null(p.first);
}

/* The chapter's prediction: with the slowest stage last, both schedules take
 * sum (t_F + t_B) + (m - 1) max (t_F + t_B). lm-like over 4 devices: even
 * stages cost 2.5, 1, 1, 2.5 units forward, balanced ones 2, 1.5, 1.5, 2;
 * the sums are equal (7 units), so balancing saves (m - 1)(2.5 - 2) * 3 =
 * 10.5 ms at m = 8: 73.5 ms down to 63 ms. */
Test(ch07, balancing_lm_like_saves_what_the_chapter_predicts, .timeout = 30)
{
    const char *names[] = {"gpipe", "1f1b"};
    for (int i = 0; i < 2; i++)
        for (int m = 4; m <= 16; m *= 2) {
            pl_options o = lm_like(names[i], m);
            int64_t even = makespan(&o);
            o.partition = PL_PARTITION_BALANCED;
            int64_t balanced = makespan(&o);
            cr_expect_eq(even, 3 * (7 * U + (int64_t)(m - 1) * 5 * U / 2), "%s m=%d", names[i], m);
            cr_expect_eq(balanced, 3 * (7 * U + (int64_t)(m - 1) * 2 * U), "%s m=%d", names[i], m);
            cr_expect_eq(even - balanced, (int64_t)(m - 1) * 3 * U / 2, "%s m=%d", names[i], m);
        }
}

/* The slowest stage in the middle: GPipe still takes sum + (m - 1) max, but
 * 1F1B hides some of the downstream work (measured: 107 units, not 111). */
Test(ch07, one_f_one_b_beats_the_pace_when_the_slowest_stage_is_inside, .timeout = 30)
{
    pl_options o = small_run("gpipe", 4, 8);
    o.layers = 4;
    o.width = 8;
    o.widths = (const int[]){8, 16, 16, 8}; /* forwards of 1, 2, 4 and 2 units */
    cr_expect_eq(makespan(&o), 3 * ((1 + 2 + 4 + 2) + 7 * 4) * U);
    o.schedule = "1f1b";
    cr_expect_eq(makespan(&o), 107 * U);
}

/* --partition-by measured times the layers on this host: layers costing
 * 8, 8 and 1 (in FLOPs) split 1 | 2 over two devices -- the other split's
 * slowest stage is almost twice as slow, far beyond any timing noise. */
Test(ch07, the_measured_partition_follows_the_host, .timeout = 60)
{
    pl_options o = small_run("1f1b", 2, 2);
    o.layers = 3;
    o.width = 16;
    o.widths = (const int[]){128, 16, 16};
    o.partition = PL_PARTITION_MEASURED;
    o.verify = 1;
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect_eq(x.partition.count[0], 1);
    cr_expect_eq(x.partition.count[1], 2);
    cr_expect(x.bitwise_equal);
    pl_experiment_free(&x);
}

/* --cost measured charges an action what its layers' kernels took on this
 * host, in proportion to its rows: F its forwards, I and W theirs, B both, a
 * recomputed forward its forward again. */
Test(ch07, measured_costs_add_the_layers_times)
{
    const int64_t ns[] = {100, 250, 300, 40, 90, 120}; /* two layers: F, I, W each, on 4 rows */
    pl_cost c = pl_cost_measured(ns, 4);
    cr_expect_eq(c.ns_per_tick, 1.0);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_F), 140);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_R), 140);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_I), 340);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_W), 420);
    cr_expect_eq(pl_cost_action(&c, NULL, 1, 1, 4, PL_B), 210);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 2, PL_B), 275); /* half the rows */
    cr_expect_eq(pl_cost_action(&c, NULL, 1, 1, 5, PL_F), 50);  /* a row more */
}

/* The measured model is a model like the others: on the virtual clock the
 * threads run exactly what the simulator predicts, every action costs
 * something, and the weights are the reference's. */
Test(ch07, measured_costs_are_predicted_exactly, .timeout = 60)
{
    pl_options o = lm_like("1f1b", 4);
    o.cost = PL_COST_MEASURED;
    o.verify = 1;
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns);
    cr_expect(x.bitwise_equal);
    cr_assert_not_null(x.cost_ns);
    for (int k = 0; k < 3 * o.layers; k++)
        cr_expect_gt(x.cost_ns[k], 0, "layer %d kind %d", k / 3, k % 3);
    const pl_lane *l = &x.result.trace.lanes[0];
    for (long i = 0; i < l->len; i++)
        cr_expect_gt(l->events[i].end, l->events[i].start);
    pl_experiment_free(&x);
}

/* ------------------------------------------------------------------- links */

/* GPipe pays a link only while it fills and drains: + 2 (p - 1) d, exactly,
 * for every p and m. */
Test(ch07, gpipe_pays_each_link_twice, .timeout = 60)
{
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 10; m += 3)
            for (int k = 1; k <= 8; k *= 2) {
                pl_options o = uniform("gpipe", p, m);
                o.simulate = k > 1; /* threads for d = 0.25; the simulator equals them */
                int64_t free_ = makespan(&o);
                o.link_latency_ms = 0.25 * k;
                cr_expect_eq(makespan(&o) - free_, 2 * (p - 1) * (int64_t)(k * U / 4),
                             "p=%d m=%d d=%g", p, m, 0.25 * k);
            }
}

/* 1F1B pays far more: its steady pairs wait for every round trip. The
 * chapter's count of link crossings on the critical path:
 * 2 ceil((p - 1)(m + p - 2) / p). At p = 4, m = 8 that is 16: +4 ms at
 * d = 0.25 ms, +16 ms at d = 1 ms. */
Test(ch07, one_f_one_b_pays_every_round_trip, .timeout = 30)
{
    pl_options o = uniform("1f1b", 4, 8);
    int64_t free_ = makespan(&o);
    cr_expect_eq(free_, 33 * U);
    o.link_latency_ms = 0.25;
    cr_expect_eq(makespan(&o) - free_, 4 * U, "+4 at d = 0.25");
    o.link_latency_ms = 1;
    cr_expect_eq(makespan(&o) - free_, 16 * U, "+16 at d = 1");
    o = uniform("gpipe", 4, 8);
    o.link_latency_ms = 1;
    cr_expect_eq(makespan(&o) - free_, 6 * U, "GPipe: +6 at d = 1");
}

Test(ch07, one_f_one_b_link_cost_for_every_p_and_m, .timeout = 60)
{
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 3 * p; m++)
            for (int k = 1; k <= 4; k++) {
                double t[3][3] = {{1, 1, 1}, {2, 0.5, 0.5}, {1, 2, 1}};
                pl_options o = uniform("1f1b", p, m);
                o.simulate = 1;
                o.t_f = t[k % 3][0], o.t_i = t[k % 3][1], o.t_w = t[k % 3][2];
                int64_t free_ = makespan(&o);
                o.link_latency_ms = 0.5 * k;
                int64_t crossings = 2 * (((int64_t)(p - 1) * (m + p - 2) + p - 1) / p);
                cr_expect_eq(makespan(&o) - free_, crossings * k * U / 2, "p=%d m=%d d=%g", p,
                             m, 0.5 * k);
            }
}

/* The fix: K = ceil(2 d / (t_F + t_B)) more warm-up forwards per link
 * downstream recover GPipe's makespan exactly, for every p, m and d, at the
 * measured memory cost: device s holds min((p - s - 1)(1 + K) + 1, m). */
Test(ch07, a_deeper_warm_up_recovers_gpipe, .timeout = 120)
{
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 3 * p + 1; m += 2)
            for (int k = 1; k <= 12; k *= 3) {
                double d = 0.25 * k;
                pl_options o = uniform("gpipe", p, m);
                o.simulate = k > 1;
                o.link_latency_ms = d;
                int64_t gpipe = makespan(&o);
                o.schedule = "1f1b";
                o.warmup_extra = PL_WARMUP_AUTO;
                pl_experiment x;
                run_ok(&o, &x);
                int K = p > 1 ? (int)ceil(2 * d / 3) : 0; /* one device: no link */
                cr_expect_eq(x.warmup_extra, K, "p=%d m=%d d=%g", p, m, d);
                cr_expect_eq((int64_t)x.makespan_ns, gpipe, "p=%d m=%d d=%g", p, m, d);
                for (int s = 0; s < p; s++) {
                    int held = (p - s - 1) * (1 + K) + 1;
                    cr_expect_eq(x.result.trace.lanes[s].peak_inflight, held < m ? held : m,
                                 "p=%d m=%d d=%g device %d", p, m, d, s);
                }
                pl_experiment_free(&x);
            }
}

/* Blocking sends lose the overlap: every forward but the fill's first and
 * every backward but the drain's first waits d for its message, (m - 1) of
 * each, so GPipe takes 2 (m - 1) d longer than with non-blocking sends. */
Test(ch07, blocking_sends_lose_the_overlap, .timeout = 60)
{
    for (int p = 2; p <= 5; p++)
        for (int m = 1; m <= 9; m += 4) {
            pl_options o = uniform("gpipe", p, m);
            o.link_latency_ms = 0.5;
            int64_t overlapped = makespan(&o);
            o.blocking_send = 1;
            cr_expect_eq(makespan(&o) - overlapped, 2 * (int64_t)(m - 1) * U / 2, "p=%d m=%d",
                         p, m);
        }
}

/* d = alpha + bytes / beta: 4 rows of width 8 are 128 bytes; at 512000 B/s
 * they take 0.25 ms, plus 0.25 ms of latency. */
Test(ch07, bandwidth_adds_bytes_over_beta, .timeout = 30)
{
    pl_options o = uniform("gpipe", 4, 8);
    o.batch = 32;
    int64_t free_ = makespan(&o);
    o.link_latency_ms = 0.25;
    o.link_bandwidth = 512000;
    cr_expect_eq(makespan(&o) - free_, 2 * 3 * U / 2);
    pl_cost c = pl_cost_uniform(U, U, U, 4, 8, 4, 16, 8);
    pl_cost_set_links(&c, 0.25, 512000);
    cr_expect_eq(pl_cost_link(&c, 0, 1, 128), U / 2);
    cr_expect_eq(pl_cost_link(&c, 2, 2, 128), 0, "a hand-off on one device crosses no link");
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0, "links are not free: no formula");
    cr_expect(strstr(x.theory_note, "links are not free") != NULL, "%s", x.theory_note);
    pl_experiment_free(&x);
}

/* The scaled clock lives the links too: what it measures follows the
 * prediction (host time on a loaded machine: within a third). */
Test(ch07, the_scaled_clock_waits_for_links, .timeout = 60)
{
    pl_options o = uniform("1f1b", 4, 8);
    o.clock = PL_CLOCK_SCALED;
    o.scale = 2.0;
    o.link_latency_ms = 1;
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect_eq(x.predicted_makespan_ns, 2.0 * 49 * U);
    cr_expect(fabs(x.makespan_ns - x.predicted_makespan_ns) < x.predicted_makespan_ns / 3,
              "measured %.0f ns, predicted %.0f ns", x.makespan_ns, x.predicted_makespan_ns);
    pl_experiment_free(&x);
}

/* ------------------------------------------------------ the memory bill */

Test(ch07, the_bill_sums_to_the_measured_peak, .timeout = 60)
{
    const char *names[] = {"gpipe", "1f1b"};
    for (int i = 0; i < 2; i++) {
        pl_options o = lm_like(names[i], 8);
        o.momentum = 0.9f;
        o.link_latency_ms = 0.5;
        pl_experiment x;
        run_ok(&o, &x);
        for (int d = 0; d < 4; d++) {
            const pl_lane *l = &x.result.trace.lanes[d];
            pl_memory_bill b = pl_experiment_memory(&x, d);
            cr_expect_eq(b.grads, b.params);
            cr_expect_eq(b.optimizer, b.params, "momentum keeps one velocity per parameter");
            cr_expect_eq(b.activations + b.messages, l->peak_held);
            /* the peak, event by event: static + stash + in transit */
            size_t peak = 0;
            for (long k = 0; k < l->len; k++)
                if ((size_t)(l->events[k].held + l->events[k].in_transit) > peak)
                    peak = (size_t)(l->events[k].held + l->events[k].in_transit);
            cr_expect_eq(pl_memory_total(&b), b.params + b.grads + b.optimizer + peak);
        }
        /* lm-like over 4 devices: layers 0-1 on d0 hold 128x32 + 32x32 weights */
        pl_memory_bill b0 = pl_experiment_memory(&x, 0);
        cr_expect_eq(b0.params, (128 * 32 + 32 + 32 * 32 + 32) * sizeof(float));
        cr_expect_gt(b0.messages, 0, "d0's activation is on the link at its peak");
        pl_experiment_free(&x);
    }
}

/* Under 1F1B the first device holds the most: p micro-batches of
 * activations, against one on the last device. */
Test(ch07, the_first_device_holds_the_most_under_1f1b, .timeout = 30)
{
    pl_options o = uniform("1f1b", 4, 8);
    o.momentum = 0.9f;
    pl_experiment x;
    run_ok(&o, &x);
    size_t prev = SIZE_MAX;
    for (int d = 0; d < 4; d++) {
        pl_memory_bill b = pl_experiment_memory(&x, d);
        cr_expect_lt(pl_memory_total(&b), prev, "d%d", d);
        prev = pl_memory_total(&b);
    }
    pl_memory_bill first = pl_experiment_memory(&x, 0), last = pl_experiment_memory(&x, 3);
    cr_expect_eq(first.activations, 4 * last.activations);
    pl_experiment_free(&x);
}

/* --device-memory caps the total; a failure names what does not fit. */
Test(ch07, device_memory_names_the_component_that_does_not_fit, .timeout = 60)
{
    pl_options o = uniform("1f1b", 2, 4);
    o.momentum = 0.9f;
    o.link_latency_ms = 2; /* messages stay on the link a while */
    pl_experiment x;
    run_ok(&o, &x);
    size_t peak = pl_experiment_peak_memory(&x);
    pl_memory_bill b = pl_experiment_memory(&x, 0);
    pl_experiment_free(&x);
    struct {
        size_t cap;
        const char *what;
    } cases[] = {
        {b.params - 1, "needs 288 bytes of parameters, 287 available of 287"},
        {b.params + b.grads - 1, "bytes of gradients"},
        {b.params + b.grads + b.optimizer - 1, "bytes of optimizer state"},
        {b.params + b.grads + b.optimizer + 1, "bytes of activations"},
        {peak - 1, "bytes of in-flight messages"},
    };
    for (int sim = 0; sim <= 1; sim++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            char err[512];
            o.simulate = sim;
            o.device_memory = cases[k].cap;
            cr_expect_eq(pl_experiment_run(&o, &x, err, sizeof err), -1);
            cr_expect(strstr(err, "d0 out of memory") && strstr(err, cases[k].what),
                      "%s: %s", sim ? "simulator" : "threads", err);
            pl_experiment_free(&x);
        }
    o.simulate = 0;
    o.device_memory = peak;
    run_ok(&o, &x); /* exactly its own peak fits */
    pl_experiment_free(&x);
}

Test(ch07, momentum_trains_bitwise_like_the_reference, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int i = 0; i < n; i++) {
        pl_options o = small_run(all[i].name, 3, all[i].microbatches ? all[i].microbatches : 4);
        o.layers = 3 * pl_registry_shape(&all[i], 3, 4, 0).chunks;
        o.momentum = 0.9f;
        o.steps = 3;
        o.verify = 1;
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect(x.bitwise_equal, "%s", all[i].name);
        pl_experiment_free(&x);
    }
}

/* ---------------------------------------------------------------- pictures */

static long count(const char *text, const char *needle)
{
    long n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A stream whose text lands in *buf when it is closed. */
static FILE *text(char **buf)
{
    static size_t len;
    *buf = NULL;
    FILE *out = open_memstream(buf, &len);
    cr_assert_not_null(out);
    return out;
}


Test(ch07, pictures_show_every_transfer, .timeout = 30)
{
    pl_options o = uniform("1f1b", 4, 8);
    o.link_latency_ms = 0.5;
    pl_experiment x;
    run_ok(&o, &x);
    const pl_trace *t = &x.result.trace;
    long messages = pl_trace_messages(t, 0);
    cr_expect_eq(messages, 48);
    char *json = draw(pl_chrome_trace_write, &x, 1);
    cr_expect_eq(json_check(json), 0, "invalid JSON at %ld", json_check(json));
    cr_expect_eq(count(json, "\"ph\":\"s\""), messages, "an arrow from every send");
    cr_expect_eq(count(json, "\"ph\":\"f\""), messages, "to its receive");
    cr_expect_eq(count(json, "\"cat\":\"link\""), messages, "a slice on its link");
    for (int d = 0; d < 3; d++) {
        char name[64];
        snprintf(name, sizeof name, "\"name\":\"link d%d->d%d\"", d, d + 1);
        cr_expect_eq(count(json, name), 1, "%s", name);
        snprintf(name, sizeof name, "\"name\":\"link d%d->d%d\"", d + 1, d);
        cr_expect_eq(count(json, name), 1, "%s", name);
    }
    free(json);
    char *svg = draw(pl_svg_timeline, &x, 1);
    cr_expect_eq(xml_check(svg), 0);
    cr_expect_eq(count(svg, "<rect class=\"link\""), messages);
    free(svg);
    char *rows;
    FILE *out = text(&rows);
    pl_timeline_print(t, 0, 100, 0, out);
    fclose(out);
    cr_expect(strstr(rows, "\n0-1 |") && strstr(rows, "\n1-2 |") && strstr(rows, "\n2-3 |"),
              "%s", rows);
    cr_expect(strchr(rows, '>') && strchr(rows, '<'), "%s", rows);
    free(rows);
    pl_experiment_free(&x);

    /* Free links: arrows, but no link tracks, no link lanes. */
    o.link_latency_ms = 0;
    run_ok(&o, &x);
    json = draw(pl_chrome_trace_write, &x, 1);
    cr_expect_eq(count(json, "\"ph\":\"s\""), messages);
    cr_expect_eq(count(json, "\"cat\":\"link\""), 0);
    free(json);
    svg = draw(pl_svg_timeline, &x, 1);
    cr_expect_eq(count(svg, "class=\"link\""), 0);
    free(svg);
    pl_experiment_free(&x);
}

/* The JSON summary: bytes sent per device in the step, the bill per device. */
Test(ch07, json_reports_bytes_and_the_bill, .timeout = 30)
{
    pl_options o = uniform("1f1b", 2, 2);
    o.link_latency_ms = 0.5;
    pl_experiment x;
    run_ok(&o, &x);
    char *buf;
    FILE *out = text(&buf);
    pl_experiment_json(&x, out);
    fclose(out);
    cr_expect_eq(json_check(buf), 0, "%s", buf);
    /* 2 activations down, 2 gradients up, 2 rows of width 8 each */
    cr_expect(strstr(buf, "\"bytes_sent\":[128,128]") != NULL, "%s", buf);
    cr_expect(strstr(buf, "\"partition\":[1,1]") != NULL, "%s", buf);
    cr_expect(strstr(buf, "\"link_latency_ms\":0.5") != NULL, "%s", buf);
    cr_expect(strstr(buf, "\"memory\":[{\"parameters\":288,\"gradients\":288,\"optimizer\":0,")
              != NULL, "%s", buf);
    free(buf);
    pl_experiment_free(&x);
}

/* ------------------------------------------------------------ by memory */

Test(ch07, the_memory_partition_is_optimal_against_brute_force)
{
    pl_rng r;
    pl_rng_seed(&r, 23);
    char err[256];
    for (int L = 1; L <= 9; L++)
        for (int S = 1; S <= L; S++)
            for (int trial = 0; trial < 10; trial++) {
                int64_t fixed[9], in[9], out[9];
                int k[9];
                int64_t width = 1 + (int64_t)(pl_rng_next(&r) % 64);
                for (int l = 0; l < L; l++) {
                    in[l] = width;
                    width = trial % 4 == 0 ? width : 1 + (int64_t)(pl_rng_next(&r) % 64);
                    out[l] = width;
                    fixed[l] = (trial % 3 ? in[l] * out[l] : 0) + (int64_t)(pl_rng_next(&r) % 50);
                }
                for (int s = 0; s < S; s++) /* 1F1B's, GPipe's, or anything */
                    k[s] = trial % 3 == 0 ? S - s : trial % 3 == 1 ? 1 + trial % 5
                                                  : 1 + (int)(pl_rng_next(&r) % 6);
                pl_partition p;
                cr_assert_eq(pl_partition_memory(&p, fixed, in, out, k, L, S, err, sizeof err), 0,
                             "%s", err);
                int64_t most = 0;
                for (int s = 0, next = 0; s < S; next += p.count[s++]) {
                    cr_assert_eq(p.first[s], next, "L=%d S=%d", L, S);
                    cr_assert_geq(p.count[s], 1, "L=%d S=%d stage %d", L, S, s);
                    int64_t h = stage_holds(fixed, in, out, k[s], p.first[s], p.first[s] + p.count[s]);
                    most = h > most ? h : most;
                }
                cr_expect_eq(most, least_most(fixed, in, out, k, 0, L, 0, S), "L=%d S=%d trial %d",
                             L, S, trial);
                pl_partition_free(&p);
            }
}

/* The fullest device of a run, everything counted (measured). */
static size_t fullest(const pl_options *o)
{
    pl_experiment x;
    run_ok(o, &x);
    size_t most = pl_experiment_peak_memory(&x);
    pl_experiment_free(&x);
    return most;
}

/* End to end: the split --partition memory picks holds, on its fullest
 * device, exactly the least that any split of the model can -- measured, by
 * running them all. */
Test(ch07, partition_memory_is_the_least_any_split_holds, .timeout = 120)
{
    static const int widths[][8] = {{32, 32, 32, 32, 32, 32, 32, 32},
                                    {48, 16, 64, 8, 40, 24, 96, 32},
                                    {8, 8, 8, 8, 8, 8, 8, 128}};
    static const struct {
        const char *schedule;
        int cap;
    } runs[] = {{"1f1b", 0}, {"gpipe", 0}, {"microbatch", 0}, {"1f1b", 2}};
    for (int w = 0; w < 3; w++)
        for (int r = 0; r < 4; r++)
            for (int mom = 0; mom < 2; mom++) {
                pl_options o = small_run(runs[r].schedule, 4, 8);
                o.layers = 8;
                o.widths = widths[w];
                o.batch = 16;
                o.max_inflight = runs[r].cap;
                o.momentum = mom ? 0.9f : 0.0f;
                o.simulate = 1;
                o.partition = PL_PARTITION_MEMORY;
                size_t chosen = fullest(&o), least = SIZE_MAX;
                o.partition = PL_PARTITION_EXPLICIT;
                int counts[4];
                o.stage_layers = counts;
                o.stages_given = 4;
                for (int a = 1; a <= 5; a++)
                    for (int b = a + 1; b <= 6; b++)
                        for (int c = b + 1; c <= 7; c++) {
                            counts[0] = a, counts[1] = b - a, counts[2] = c - b, counts[3] = 8 - c;
                            size_t f = fullest(&o);
                            least = f < least ? f : least;
                        }
                cr_expect_eq(chosen, least, "widths %d, %s cap %d, momentum %d: %zu bytes, "
                             "the least is %zu", w, runs[r].schedule, runs[r].cap, mom, chosen,
                             least);
            }
}
