/*
 * test_ch05.c -- chapter 05, v chunks per device: interleaved 1F1B and looped
 * BFS cut the bubble to (p-1)/(v*m+p-1), at the price of more messages and
 * (interleaved) a little more memory than 1F1B, or (looped BFS) GPipe's.
 */
#include "child.h"

#include <math.h>

#include "chrome_trace.h"
#include "helpers.h"
#include "stage.h"
#include "svg.h"
#include "validate.h"

#define U PL_COST_UNIT

static const char *const chunked[] = {"interleaved", "looped-bfs"};

/* A small run of `schedule` with v chunks per device and `per` layers per
 * chunk, so every stage is equal; the batch is a multiple of m. */
static pl_options chunk_run(const char *schedule, int p, int m, int v, int per)
{
    pl_options o = small_run(schedule, p, m);
    o.chunks = v;
    o.layers = p * v * per;
    return o;
}

static int min(int a, int b) { return a < b ? a : b; }

/* The chapter's bound for interleaved 1F1B when p divides m. */
static int interleaved_peak(int p, int m, int v, int d)
{
    return min(2 * (p - d - 1) + (v - 1) * p + 1, v * m);
}

/* ---- the bubble ---- */

/* A chunk's forward is 1/v unit (rounded down to whole ticks, the same for
 * every chunk), its backward twice that; the pipeline fills and drains once
 * in chunk-steps: makespan (v*m + p-1) chunk-steps. */
Test(ch05, bubble_is_exact_for_p_2_to_8_v_1_to_4_and_m_multiples_of_p, .timeout = 240)
{
    for (int g = 0; g < 2; g++)
        for (int p = 2; p <= 8; p++)
            for (int v = 1; v <= 4; v++)
                for (int m = p; m <= 32; m += p) {
                    pl_options o = chunk_run(chunked[g], p, m, v, 1);
                    pl_experiment x;
                    run_ok(&o, &x);
                    double formula = (double)(p - 1) / (v * m + p - 1);
                    cr_expect_eq((int64_t)x.makespan_ns, (int64_t)(v * m + p - 1) * 3 * (U / v),
                                 "%s p=%d m=%d v=%d", chunked[g], p, m, v);
                    cr_expect(fabs(x.bubble - formula) < 1e-12, "%s p=%d m=%d v=%d: %.6f",
                              chunked[g], p, m, v, x.bubble);
                    cr_expect(fabs(x.bubble_theory - formula) < 1e-12, "%s p=%d m=%d v=%d: %s",
                              chunked[g], p, m, v, x.theory_note);
                    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns);
                    pl_experiment_free(&x);
                }
}

/* With one chunk there is nothing to interleave and nothing to loop. */
Test(ch05, with_one_chunk_interleaved_is_1f1b_and_looped_bfs_is_gpipe)
{
    const char *pairs[2][2] = {{"interleaved", "1f1b"}, {"looped-bfs", "gpipe"}};
    for (int k = 0; k < 2; k++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= 40; m++) {
                pl_schedule a, b;
                registry_schedule(pairs[k][0], &a, p, m, 1);
                registry_schedule(pairs[k][1], &b, p, m, 1);
                for (int d = 0; d < p; d++) {
                    cr_assert_eq(a.len[d], b.len[d], "%s p=%d m=%d d%d", pairs[k][0], p, m, d);
                    cr_expect_eq(memcmp(a.actions[d], b.actions[d],
                                        (size_t)a.len[d] * sizeof(pl_action)), 0,
                                 "%s p=%d m=%d d%d", pairs[k][0], p, m, d);
                }
                pl_schedule_free(&a);
                pl_schedule_free(&b);
            }
}

/* ---- memory ---- */

Test(ch05, peak_in_flight_is_the_warmup_plus_one_on_every_device, .timeout = 120)
{
    for (int p = 2; p <= 8; p++)
        for (int v = 2; v <= 4; v++)
            for (int m = p; m <= 4 * p; m += p) {
                pl_options o = chunk_run("interleaved", p, m, v, 1);
                pl_experiment x;
                run_ok(&o, &x);
                for (int d = 0; d < p; d++) {
                    cr_expect_eq(x.result.trace.lanes[d].peak_inflight,
                                 interleaved_peak(p, m, v, d), "p=%d m=%d v=%d d%d", p, m, v, d);
                    cr_expect_eq(x.entry->peak(p, m, v, d), interleaved_peak(p, m, v, d));
                }
                pl_experiment_free(&x);
                o.schedule = "looped-bfs";
                run_ok(&o, &x);
                for (int d = 0; d < p; d++)
                    cr_expect_eq(x.result.trace.lanes[d].peak_inflight, v * m,
                                 "looped-bfs p=%d m=%d v=%d d%d", p, m, v, d);
                pl_experiment_free(&x);
            }
}

/* Device 0 holds v*p + p-1 chunk-activations, each 1/v of what a micro-batch
 * leaves on all the device's chunks: p + (p-1)/v micro-batches' worth. 1F1B
 * holds p micro-batches of its one stage, looped BFS all m on every chunk. */
Test(ch05, device_0_holds_p_plus_p_minus_1_over_v_microbatches, .timeout = 60)
{
    for (int p = 2; p <= 6; p++)
        for (int v = 2; v <= 4; v++) {
            int m = 2 * p, rows = 2; /* small_run: batch 2m */
            pl_options o = chunk_run("interleaved", p, m, v, 2);
            pl_experiment il, bfs, fb;
            run_ok(&o, &il);
            o.schedule = "looped-bfs";
            run_ok(&o, &bfs);
            o.schedule = "1f1b";
            o.chunks = 0;
            run_ok(&o, &fb);
            /* one micro-batch on one chunk: its input and its two layers' outputs */
            size_t chunk = pl_stage_stash_bytes(&il.model, il.partition.first[0],
                                                il.partition.count[0], rows, PL_F, 0);
            size_t stage = pl_stage_stash_bytes(&fb.model, fb.partition.first[0],
                                                fb.partition.count[0], rows, PL_F, 0);
            cr_expect_eq(il.result.trace.lanes[0].peak_bytes, (size_t)(v * p + p - 1) * chunk,
                         "p=%d v=%d", p, v);
            cr_expect_eq(bfs.result.trace.lanes[0].peak_bytes, (size_t)(v * m) * chunk);
            cr_expect_eq(fb.result.trace.lanes[0].peak_bytes, (size_t)p * stage);
            pl_experiment_free(&il);
            pl_experiment_free(&bfs);
            pl_experiment_free(&fb);
        }
}

/* ---- messages ---- */

/* A micro-batch crosses p-1 links each way in 1F1B, p*v-1 with v chunks: v
 * times as many, plus the v-1 hops from the last device back to the first. */
Test(ch05, messages_per_step_are_v_times_1f1b_s_plus_the_wraparounds, .timeout = 60)
{
    for (int p = 2; p <= 6; p++)
        for (int v = 1; v <= 4; v++) {
            int m = 2 * p;
            pl_options o = chunk_run("1f1b", p, m, v, 1);
            o.chunks = 0;
            pl_experiment fb;
            run_ok(&o, &fb);
            long base = pl_trace_messages(&fb.result.trace, fb.step);
            cr_expect_eq(base, 2L * m * (p - 1));
            for (int g = 0; g < 2; g++) {
                o.schedule = chunked[g];
                o.chunks = v;
                pl_experiment x;
                run_ok(&o, &x);
                long n = pl_trace_messages(&x.result.trace, x.step);
                cr_expect_eq(n, 2L * m * (p * v - 1), "%s p=%d v=%d", chunked[g], p, v);
                cr_expect_eq(n, v * base + 2L * m * (v - 1), "%s p=%d v=%d", chunked[g], p, v);
                pl_experiment_free(&x);
            }
            pl_experiment_free(&fb);
        }
}

/* ---- every m ---- */

/* Every m, whole groups or not: valid and deadlock-free, the peak the
 * registry promises, the threads exactly as the simulator predicts, and the
 * formula only where it holds -- with its reason where it does not. */
Test(ch05, every_m_is_valid_and_runs_as_predicted, .timeout = 240)
{
    char err[1024];
    for (int g = 0; g < 2; g++)
        for (int p = 1; p <= 8; p++)
            for (int v = 1; v <= 4; v++)
                for (int m = 1; m <= 40; m++) {
                    pl_schedule s;
                    pl_validation val;
                    registry_schedule(chunked[g], &s, p, m, v);
                    cr_assert_eq(pl_validate(&s, &val, err, sizeof err), 0,
                                 "%s p=%d m=%d v=%d: %s", chunked[g], p, m, v, err);
                    for (int d = 0; d < p; d++)
                        cr_expect_eq(val.peak_inflight[d], pl_registry_find(chunked[g])->peak(
                                     p, m, v, d), "%s p=%d m=%d v=%d d%d", chunked[g], p, m, v, d);
                    pl_validation_free(&val);
                    pl_schedule_free(&s);

                    pl_options o = chunk_run(chunked[g], p, m, v, 1);
                    pl_experiment x;
                    run_ok(&o, &x);
                    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "%s p=%d m=%d v=%d",
                                 chunked[g], p, m, v);
                    cr_expect_eq(x.bubble, x.predicted_bubble);
                    /* looped BFS has a formula for every m (m < p: exercise 05) */
                    int holds = v == 1 || g == 1 || m % p == 0;
                    cr_expect_eq(x.bubble_theory >= 0, holds, "%s p=%d m=%d v=%d",
                                 chunked[g], p, m, v);
                    if (holds)
                        cr_expect(fabs(x.bubble_theory - x.bubble) < 1e-12,
                                  "%s p=%d m=%d v=%d: formula %.6f, measured %.6f", chunked[g],
                                  p, m, v, x.bubble_theory, x.bubble);
                    else
                        cr_expect(strstr(x.theory_note, "multiple of p"),
                                  "%s p=%d m=%d v=%d: %s", chunked[g], p, m, v, x.theory_note);
                    pl_experiment_free(&x);
                }
}

/* A short last group is the schedule for whole groups with the missing
 * micro-batches' actions left out. Leaving actions out delays nothing, so
 * it takes no longer than the whole groups would; and it does cost: the
 * bubble is above the formula's for its m. */
Test(ch05, a_short_last_group_costs_at_most_the_missing_microbatches, .timeout = 120)
{
    for (int p = 2; p <= 8; p++)
        for (int v = 2; v <= 4; v++)
            for (int m = 1; m <= 3 * p; m++) {
                if (m % p == 0)
                    continue;
                int whole = (m + p - 1) / p * p;
                pl_options o = chunk_run("interleaved", p, m, v, 1); /* 2 rows each */
                pl_experiment x, full;
                run_ok(&o, &x);
                o.microbatches = whole;
                o.batch = 2 * whole;
                run_ok(&o, &full);
                cr_expect_leq(x.makespan_ns, full.makespan_ns, "p=%d m=%d v=%d", p, m, v);
                cr_expect_gt(x.bubble, (double)(p - 1) / (v * m + p - 1), "p=%d m=%d v=%d",
                             p, m, v);
                pl_experiment_free(&x);
                pl_experiment_free(&full);
            }
}

Test(ch05, verify_is_bitwise_with_uneven_microbatches, .timeout = 120)
{
    static const int ms[] = {1, 3, 5, 8, 11};
    for (int g = 0; g < 2; g++)
        for (int p = 1; p <= 5; p++)
            for (int v = 1; v <= 4; v++)
                for (int k = 0; k < 5; k++) {
                    pl_options o = chunk_run(chunked[g], p, ms[k], v, 1);
                    o.batch = 2 * ms[k] + 1; /* micro-batches of unequal rows */
                    o.steps = 2;
                    o.verify = 1;
                    pl_experiment x;
                    run_ok(&o, &x);
                    cr_expect(x.bitwise_equal, "%s p=%d m=%d v=%d: max diff %g", chunked[g], p,
                              ms[k], v, x.max_abs_diff);
                    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns);
                    pl_experiment_free(&x);
                }
}

/* ---- the peers ---- */

/* Device d's list of schedule `name`, formatted as the text format does. */
static void device_line(const char *name, int p, int m, int v, int d, char *buf, size_t n)
{
    pl_schedule s;
    registry_schedule(name, &s, p, m, v);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s.len[d] && used < n; i++) {
        char a[32];
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "",
                                 pl_schedule_format(&s, s.actions[d][i], a, sizeof a));
    }
    pl_schedule_free(&s);
}

/*
 * Interleaved 1F1B as the peers order it, where both are defined (p divides
 * m). Written out by running, by hand, the order of
 *  - Megatron-LM, megatron/core/pipeline_parallel/schedules.py:
 *    get_schedule_table (microbatch_group_size_per_vp_stage = p) and
 *    get_pp_rank_microbatches give the k-th forward and the warm-up;
 *    forward_backward_pipelining_with_interleaving runs the warm-up, then
 *    forward k+warmup and backward k, then the cool-down, the backward's
 *    chunk mirrored (get_model_chunk_id with forward=False);
 *  - PyTorch, torch/distributed/pipelining/schedules.py:
 *    ScheduleInterleaved1F1B._calculate_single_rank_operations with
 *    _get_warmup_ops (multiply_factor 2) and _get_1f1b_rank_ops, leaving out
 *    its None padding.
 * Both give these lists, action for action.
 */
static const struct {
    int p, m, v;
    const char *d[4];
} peers[] = {
    {2, 4, 2, {"F0.0 F1.0 F0.1 F1.1 F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 B2.1 B3.1 B2.0 B3.0",
               "F0.0 F1.0 F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 B2.0 B3.0"}},
    {4, 8, 2, {"F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 F4.0 F5.0 F6.0 B0.1 F7.0 B1.1 F4.1 B2.1 "
               "F5.1 B3.1 F6.1 B0.0 F7.1 B1.0 B2.0 B3.0 B4.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0",
               "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 F4.0 B0.1 F5.0 B1.1 F6.0 B2.1 F7.0 B3.1 "
               "F4.1 B0.0 F5.1 B1.0 F6.1 B2.0 F7.1 B3.0 B4.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0",
               "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 B0.1 F3.1 B1.1 F4.0 B2.1 F5.0 B3.1 F6.0 B0.0 "
               "F7.0 B1.0 F4.1 B2.0 F5.1 B3.0 F6.1 B4.1 F7.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0",
               "F0.0 F1.0 F2.0 F3.0 F0.1 B0.1 F1.1 B1.1 F2.1 B2.1 F3.1 B3.1 F4.0 B0.0 F5.0 B1.0 "
               "F6.0 B2.0 F7.0 B3.0 F4.1 B4.1 F5.1 B5.1 F6.1 B6.1 F7.1 B7.1 B4.0 B5.0 B6.0 B7.0"}},
    {3, 6, 3, {"F0.0 F1.0 F2.0 F0.1 F1.1 F2.1 F0.2 F1.2 F2.2 F3.0 F4.0 B0.2 F5.0 B1.2 F3.1 B2.2 "
               "F4.1 B0.1 F5.1 B1.1 F3.2 B2.1 F4.2 B0.0 F5.2 B1.0 B2.0 B3.2 B4.2 B5.2 B3.1 B4.1 "
               "B5.1 B3.0 B4.0 B5.0",
               "F0.0 F1.0 F2.0 F0.1 F1.1 F2.1 F0.2 F1.2 F2.2 B0.2 F3.0 B1.2 F4.0 B2.2 F5.0 B0.1 "
               "F3.1 B1.1 F4.1 B2.1 F5.1 B0.0 F3.2 B1.0 F4.2 B2.0 F5.2 B3.2 B4.2 B5.2 B3.1 B4.1 "
               "B5.1 B3.0 B4.0 B5.0",
               "F0.0 F1.0 F2.0 F0.1 F1.1 F2.1 F0.2 B0.2 F1.2 B1.2 F2.2 B2.2 F3.0 B0.1 F4.0 B1.1 "
               "F5.0 B2.1 F3.1 B0.0 F4.1 B1.0 F5.1 B2.0 F3.2 B3.2 F4.2 B4.2 F5.2 B5.2 B3.1 B4.1 "
               "B5.1 B3.0 B4.0 B5.0"}},
};

Test(ch05, interleaved_orders_are_megatron_s_and_pytorch_s)
{
    char line[4096];
    for (size_t k = 0; k < sizeof peers / sizeof peers[0]; k++)
        for (int d = 0; d < peers[k].p; d++) {
            device_line("interleaved", peers[k].p, peers[k].m, peers[k].v, d, line, sizeof line);
            cr_expect_str_eq(line, peers[k].d[d], "p=%d m=%d v=%d d%d", peers[k].p, peers[k].m,
                             peers[k].v, d);
        }
}

/* PyTorch's ScheduleLoopedBFS._calculate_single_rank_operations (same file)
 * for p = 3, m = 4, v = 2 gives every device this list, without its None
 * padding -- each chunk's backwards from the last micro-batch down. */
static const char pytorch_bfs[] =
    "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 B3.1 B2.1 B1.1 B0.1 B3.0 B2.0 B1.0 B0.0";

/* Ours is PyTorch's with each chunk's backwards in increasing order, the
 * order bitwise equality needs; with equal micro-batches it takes exactly as
 * long. */
Test(ch05, looped_bfs_is_pytorch_s_with_backwards_in_micro_batch_order, .timeout = 30)
{
    char line[4096];
    for (int d = 0; d < 3; d++) {
        device_line("looped-bfs", 3, 4, 2, d, line, sizeof line);
        cr_expect_str_eq(line, "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 "
                               "B0.1 B1.1 B2.1 B3.1 B0.0 B1.0 B2.0 B3.0", "d%d", d);
    }
    char path[] = "/tmp/pipelab-test-ch05-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "devices 3\nmicrobatches 4\nchunks 2\n");
    for (int d = 0; d < 3; d++)
        fprintf(f, "d%d: %s\n", d, pytorch_bfs);
    fclose(f);
    pl_options o = chunk_run("looped-bfs", 3, 4, 2, 1);
    pl_experiment ours, theirs;
    run_ok(&o, &ours);
    o.schedule = NULL;
    o.schedule_file = path;
    run_ok(&o, &theirs);
    unlink(path);
    cr_expect_eq(theirs.makespan_ns, ours.makespan_ns);
    pl_experiment_free(&ours);
    pl_experiment_free(&theirs);
}

/* ---- what the command shows ---- */

/* Run the pipelab command under test with the shell; stdout into out. */
static int pipelab(const char *args, char *out, size_t n)
{
    char quiet[1024];
    snprintf(quiet, sizeof quiet, "%s 2>/dev/null", args);
    return pipelab_sh(quiet, out, n);
}

Test(ch05, compare_shows_interleaved_with_two_chunks_beside_the_earlier_schedules, .timeout = 60)
{
    static char out[1 << 16];
    cr_assert_eq(pipelab("compare --json --devices 4 --microbatches 8", out, sizeof out), 0);
    const char *names[] = {"naive", "microbatch", "gpipe", "1f1b", "interleaved", "looped-bfs"};
    for (int i = 0; i < 6; i++) {
        char key[64];
        snprintf(key, sizeof key, "{\"schedule\":\"%s\"", names[i]);
        cr_expect(strstr(out, key), "compare lacks %s", names[i]);
    }
    cr_expect(strstr(out, "{\"schedule\":\"interleaved\",\"devices\":4,\"microbatches\":8,"
                          "\"chunks\":2,\"placement\":\"loop\""), "%s", out);
    cr_assert_eq(pipelab("compare --json --devices 4 --microbatches 8 --chunks 4", out,
                         sizeof out), 0);
    cr_expect(strstr(out, "{\"schedule\":\"interleaved\",\"devices\":4,\"microbatches\":8,"
                          "\"chunks\":4,"), "%s", out);
    cr_expect(strstr(out, "{\"schedule\":\"1f1b\",\"devices\":4,\"microbatches\":8,"
                          "\"chunks\":1,"), "--chunks reaches only the schedules that take it");
}

Test(ch05, sweep_over_v_measures_the_formula, .timeout = 60)
{
    static char out[1 << 16];
    cr_assert_eq(pipelab("sweep --over v --devices 4 --microbatches 8", out, sizeof out), 0);
    for (int g = 0; g < 2; g++)
        for (int v = 1; v <= 4; v++) {
            char row[128], theory[16];
            snprintf(theory, sizeof theory, "%.4f", 3.0 / (8 * v + 3));
            snprintf(row, sizeof row, "%-12s %4d  %9s  %9s  %9s\n", chunked[g], v, theory,
                     theory, theory);
            cr_expect(strstr(out, row), "no row '%s' in:\n%s", row, out);
        }
}

/* The pictures tell the chunks apart: F3.1 in the Chrome trace, a class per
 * chunk in the SVG with a lighter shade for chunk 1 and a legend for it. */
Test(ch05, pictures_name_and_colour_the_chunk, .timeout = 30)
{
    pl_options o = chunk_run("interleaved", 4, 8, 2, 1);
    o.steps = 1;
    pl_experiment x;
    run_ok(&o, &x);
    char *buf = draw(pl_chrome_trace_write, &x, 1);
    cr_expect(strstr(buf, "\"name\":\"F3.1\""), "the trace names chunked actions F3.1");
    cr_expect(strstr(buf, "\"chunk\":1"));
    free(buf);
    buf = draw(pl_svg_timeline, &x, 1);
    cr_expect(strstr(buf, "<rect class=\"act F c1\""), "chunk 1's boxes carry c1");
    cr_expect(strstr(buf, "<rect class=\"act B c0\""));
    cr_expect(strstr(buf, ".c1 { fill-opacity: 0.5; }"), "chunk 1 is lighter");
    cr_expect(strstr(buf, ">chunk 1</text>"), "the legend names the chunks");
    free(buf);
    pl_experiment_free(&x);
}

/* Looped BFS with fewer micro-batches than devices: every chunk after the
 * first waits for micro-batch 0 to come round, and the registry's formula
 * (exercise 05 derives it) is what the threads measure, whatever the costs. */
Test(ch05, looped_bfs_below_p_micro_batches_meets_its_formula, .timeout = 120)
{
    static const double costs[][3] = {{1, 1, 1}, {2, 2, 1}, {1, 2, 2}};
    for (int c = 0; c < 3; c++)
        for (int p = 2; p <= 6; p++)
            for (int v = 1; v <= 3; v++)
                for (int m = 1; m <= p; m++) {
                    pl_options o = chunk_run("looped-bfs", p, m, v, 1);
                    o.t_f = costs[c][0], o.t_i = costs[c][1], o.t_w = costs[c][2];
                    pl_experiment x;
                    run_ok(&o, &x);
                    double steps = (double)v * p + m - 1; /* chunk steps of t_f + t_b */
                    cr_expect(fabs(x.bubble - (1.0 - (double)v * m / steps)) < 1e-12,
                              "p=%d m=%d v=%d costs %d: measured %.6f", p, m, v, c, x.bubble);
                    cr_expect(fabs(x.bubble_theory - x.bubble) < 1e-12, "p=%d m=%d v=%d", p, m, v);
                    pl_experiment_free(&x);
                }
}
