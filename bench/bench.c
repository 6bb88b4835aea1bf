/*
 * bench -- what the runtime costs, measured on this machine.
 *
 *   1. mailbox hand-off: median time for one message between two threads
 *   2. virtual-clock throughput: actions per second with many devices
 *   3. real-clock speedup of each schedule over the sequential reference
 *   4. scaled clock: measured bubble beside theory
 *   5. simulator: a very large schedule
 *
 * Wall-clock figures are medians (or ratios from one run); the machine may be
 * shared, so they are reported, never asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "experiment.h"
#include "runtime.h"
#include "simulate.h"

static double seconds_since(int64_t t0)
{
    return (double)(pl_clock_host_ns() - t0) / 1e9;
}

static void handoff(void)
{
    double ns = pl_runtime_handoff_ns(20000);
    printf("mailbox hand-off     median %.1f us over 20000 round trips (target < 20 us)\n",
           ns / 1e3);
}

static void throughput(void)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = "1f1b";
    o.devices = 64;
    o.layers = 64;
    o.microbatches = 1024;
    o.batch = 1024;
    o.width = 4;
    o.steps = 1;
    pl_experiment x;
    char err[512];
    int64_t t0 = pl_clock_host_ns();
    if (pl_experiment_run(&o, &x, err, sizeof err)) {
        printf("throughput: %s\n", err);
    } else {
        double s = seconds_since(t0);
        long actions = pl_schedule_total(&x.schedule);
        printf("virtual clock        p=64 m=1024 1f1b: %ld actions in %.3f s = %.0f actions/s "
               "(target < 2 s)\n", actions, s, (double)actions / s);
    }
    pl_experiment_free(&x);
}

/* Median step time of the sequential reference: the same model and
 * micro-batches on one device thread (the microbatch schedule with p = 1),
 * so both sides pay for exactly the same kernels and nothing else. */
static double reference_step(pl_options o)
{
    o.schedule = "microbatch";
    o.devices = 1;
    pl_experiment x;
    char err[512];
    double s = -1;
    if (pl_experiment_run(&o, &x, err, sizeof err) == 0)
        s = (double)x.makespan / 1e9;
    else
        printf("  reference: %s\n", err);
    pl_experiment_free(&x);
    return s;
}

static void speedup(void)
{
    pl_options o;
    pl_options_defaults(&o);
    o.devices = 2;
    o.microbatches = 16;
    o.layers = 8;
    o.width = 384;
    o.batch = 256;
    o.steps = 9;
    o.clock = PL_CLOCK_REAL;
    o.watchdog_s = 120;
    double seq = reference_step(o);
    double theory = (double)o.devices * o.microbatches / (o.microbatches + o.devices - 1);
    printf("real clock           p=%d m=%d, %d layers of width %d, batch %d; sequential step %.1f ms\n",
           o.devices, o.microbatches, o.layers, o.width, o.batch, seq * 1e3);
    const char *names[] = {"gpipe", "1f1b"};
    for (int i = 0; i < 2; i++) {
        o.schedule = names[i];
        pl_experiment x;
        char err[512];
        if (pl_experiment_run(&o, &x, err, sizeof err)) {
            printf("  %s: %s\n", names[i], err);
        } else {
            double step = (double)x.makespan / 1e9;
            printf("  %-6s step %.1f ms (median of %d)  speedup %.2fx  theory %.2fx  "
                   "= %.0f%% of theory (target >= 1.6x)\n",
                   names[i], step * 1e3, o.steps, seq / step, theory,
                   100.0 * seq / step / theory);
        }
        pl_experiment_free(&x);
    }
}

static void scaled(void)
{
    int ps[] = {4, 8, 4, 8}, ms[] = {1, 1, 8, 16};
    const char *names[] = {"naive", "naive", "gpipe", "1f1b"};
    printf("scaled clock         each modelled ms slept as 5 ms; median step of 3\n");
    for (int i = 0; i < 4; i++) {
        pl_options o;
        pl_options_defaults(&o);
        o.schedule = names[i];
        o.devices = ps[i];
        o.microbatches = ms[i];
        o.layers = 8;
        o.batch = 32;
        o.clock = PL_CLOCK_SCALED;
        o.scale = 5.0;
        o.steps = 3;
        o.watchdog_s = 60;
        pl_experiment x;
        char err[512];
        if (pl_experiment_run(&o, &x, err, sizeof err))
            printf("  %s: %s\n", names[i], err);
        else
            printf("  %-6s p=%d m=%-2d  bubble %.4f  theory %.4f  |diff| %.4f (target < 0.03)\n",
                   names[i], ps[i], ms[i], x.bubble, x.bubble_theory,
                   x.bubble > x.bubble_theory ? x.bubble - x.bubble_theory
                                              : x.bubble_theory - x.bubble);
        pl_experiment_free(&x);
    }
}

static void simulator(void)
{
    int p = 1024, m = 8192;
    char err[512];
    pl_schedule s;
    pl_model model;
    pl_partition part;
    int64_t t0 = pl_clock_host_ns();
    if (pl_schedule_1f1b(&s, p, m, err, sizeof err) || pl_model_init(&model, p, 1, 1) ||
        pl_partition_even(&part, p, p, err, sizeof err)) {
        printf("simulator: %s\n", err);
        return;
    }
    double gen = seconds_since(t0);
    pl_job job;
    pl_job_defaults(&job);
    job.model = &model;
    job.partition = &part;
    job.schedule = &s;
    job.batch = m;
    job.cost = pl_cost_uniform(m, m);
    job.totals_only = 1; /* 16.7M events would be 0.5 GB; the metrics need only totals */
    pl_result r;
    t0 = pl_clock_host_ns();
    int rc = pl_simulate(&job, &r, err, sizeof err);
    double sim = seconds_since(t0);
    pl_metrics mt;
    if (rc || pl_metrics_compute(&r.trace, 0, &mt)) {
        printf("simulator: %s\n", err);
    } else {
        printf("simulator            p=%d m=%d 1f1b: %ld actions; generate %.3f s, validate + "
               "simulate %.3f s (target < 1 s); bubble %.6f theory %.6f\n",
               p, m, pl_schedule_total(&s), gen, sim, mt.bubble,
               pl_bubble_theory("1f1b", p, m, 1));
        pl_metrics_free(&mt);
        pl_result_free(&r);
    }
    pl_partition_free(&part);
    pl_model_free(&model);
    pl_schedule_free(&s);
}

int main(void)
{
    printf("pipelab benchmarks (wall-clock figures: medians, this machine, this run)\n\n");
    handoff();
    throughput();
    simulator();
    speedup();
    scaled();
    return 0;
}
