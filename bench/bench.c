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
#include "reference.h"
#include "runtime.h"

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

/* Median seconds per step of the sequential reference on the same model. */
static double reference_step(const pl_options *o, int steps)
{
    double best[16];
    pl_model m;
    char err[256];
    for (int k = 0; k < steps && k < 16; k++) {
        pl_model_init(&m, o->layers, o->width, o->seed);
        pl_train_config cfg = {o->seed, 1, o->batch, o->microbatches, 0.05f};
        int64_t t0 = pl_clock_host_ns();
        pl_reference_train(&m, &cfg, NULL, err, sizeof err);
        best[k] = seconds_since(t0);
        pl_model_free(&m);
    }
    for (int i = 1; i < steps; i++) /* insertion sort, then the median */
        for (int j = i; j > 0 && best[j - 1] > best[j]; j--) {
            double t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
        }
    return best[steps / 2];
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
    o.steps = 5;
    o.clock = PL_CLOCK_REAL;
    o.watchdog_s = 120;
    double seq = reference_step(&o, 5);
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
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = "1f1b";
    o.devices = 1024;
    o.layers = 1024;
    o.microbatches = 8192;
    o.batch = 8192;
    o.width = 1;
    o.simulate = 1;
    pl_experiment x;
    char err[512];
    int64_t t0 = pl_clock_host_ns();
    int rc = pl_experiment_run(&o, &x, err, sizeof err);
    double s = seconds_since(t0);
    if (rc)
        printf("simulator: %s\n", err);
    else
        printf("simulator            p=1024 m=8192 1f1b: %ld actions in %.3f s, bubble %.6f "
               "theory %.6f (target < 1 s)\n",
               pl_schedule_total(&x.schedule), s, x.bubble, x.bubble_theory);
    pl_experiment_free(&x);
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
