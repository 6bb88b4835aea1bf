/*
 * bench -- what the runtime costs, measured on this machine.
 *
 *   1. mailbox hand-off: one message between two threads
 *   2. virtual-clock throughput: actions per second with many devices, and
 *      the context switches they cost -- as fibers and as kernel threads
 *   3. the simulator on a very large schedule
 *   4. the scaled clock: measured makespan beside the modelled one
 *   5. the scaled clock: measured bubble beside theory
 *   6. real-clock speedup of 2 devices over 1, paired runs, against the
 *      bound the host's measured stage costs allow
 *   7. constant memory: a long run's peak beside a short one's (memory.c)
 *   8. real-clock speedup with MPI processes (chapter 09; `bench --mpi`,
 *      make bench-mpi)
 *
 *   build/bench/bench [N ...]   every part, or only parts N (make bench: 1-7)
 *
 * Wall-clock figures are reported as min / median / max over repeated runs,
 * and comparisons as A/B pairs alternated in one run, because the machine
 * may be shared: an unpaired figure swings with the neighbours' load. Each
 * line says PASS or MISS beside its target; nothing here is asserted by the
 * tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "experiment.h"
#include "registry.h"
#include "simulate.h"

double pl_bench_handoff_ns(int rounds); /* handoff.c */
void pl_bench_memory(void);             /* memory.c */

enum { MAX_RUNS = 64 };

/* min, median, max of n values (n <= MAX_RUNS). */
typedef struct {
    double min, median, max;
} spread;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static spread spread_of(const double *v, int n)
{
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, by_value);
    spread r = {s[0], n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[n - 1]};
    return r;
}

static const char *verdict(int ok)
{
    return ok ? "PASS" : "MISS";
}

static double seconds_since(int64_t t0)
{
    return (double)(pl_clock_host_ns() - t0) / 1e9;
}

/* The 1-minute load average and how many cores there are, to read the
 * figures by. */
static void load(const char *when)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    printf("machine load %s: %.2f (1-minute average)\n", when, l);
}

static int run(pl_options *o, pl_experiment *x, const char *what)
{
    char err[512];
    if (pl_experiment_run(o, x, err, sizeof err) == 0)
        return 0;
    printf("  %s: %s\n", what, err);
    pl_experiment_free(x);
    return -1;
}

/* What this process has used so far, every thread's: context switches,
 * voluntary or not, and CPU seconds in user code and in the kernel. */
typedef struct {
    long switches;
    double user, system;
} usage;

static usage used(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return (usage){-1, -1, -1};
    return (usage){u.ru_nvcsw + u.ru_nivcsw, u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6,
                   u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6};
}

static void handoff(void)
{
    double v[5];
    for (int i = 0; i < 5; i++)
        v[i] = pl_bench_handoff_ns(4000) / 1e3;
    spread s = spread_of(v, 5);
    printf("1. mailbox hand-off     %.2f / %.2f / %.2f us (min/median/max of 5 medians of 4000)"
           "   target < 20 us  %s\n", s.min, s.median, s.max, verdict(s.median < 20));
}

/* One virtual-clock run of p = 64, m = 1024 (width 4: the kernels cost
 * little, so what is measured is the runtime): actions per second, and per
 * action the context switches and CPU time it cost. */
typedef struct {
    double rate, switches, user, system;
} vc_run;

static int vc_once(int kernel_threads, vc_run *out, long *actions)
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
    o.kernel_threads = kernel_threads;
    pl_experiment x;
    usage u0 = used();
    int64_t t0 = pl_clock_host_ns();
    if (run(&o, &x, "virtual clock"))
        return -1;
    double s = seconds_since(t0);
    usage u1 = used();
    *actions = pl_schedule_total(&x.schedule);
    *out = (vc_run){(double)*actions / s / 1e6, (double)(u1.switches - u0.switches) / 1e3,
                    (u1.user - u0.user) * 1e6 / (double)*actions,
                    (u1.system - u0.system) * 1e6 / (double)*actions};
    pl_experiment_free(&x);
    return 0;
}

/* Fibers (the runtime's way on the virtual clock) and a kernel thread per
 * device, alternated run by run. */
static void throughput(void)
{
    enum { RUNS = 7 };
    const char *name[2] = {"fibers", "kernel threads"};
    double rate[2][RUNS], cs[2][RUNS], user[2][RUNS], system[2][RUNS];
    long actions = 0;
    for (int i = 0; i < RUNS; i++)
        for (int k = 0; k < 2; k++) {
            vc_run r;
            if (vc_once(k, &r, &actions))
                return;
            rate[k][i] = r.rate, cs[k][i] = r.switches, user[k][i] = r.user,
            system[k][i] = r.system;
        }
    printf("2. virtual clock        p=64 m=1024 1f1b, %ld actions; %d runs of each, alternated\n",
           actions, RUNS);
    for (int k = 0; k < 2; k++) {
        spread s = spread_of(rate[k], RUNS), c = spread_of(cs[k], RUNS);
        printf("   %-15s %.2f / %.2f / %.2f M actions/s", name[k], s.min, s.median, s.max);
        if (k == 0)
            printf("   target >= 2 M/s  %s", verdict(s.median >= 2));
        printf("\n   %-15s context switches %.1f / %.1f / %.1f K per run; CPU per action "
               "%.2f us in user space, %.2f us in the kernel (medians)\n", "", c.min,
               c.median, c.max, spread_of(user[k], RUNS).median,
               spread_of(system[k], RUNS).median);
    }
}

static void simulator(void)
{
    int p = 1024, m = 8192;
    char err[512];
    pl_schedule s;
    pl_model model;
    pl_partition part;
    pl_options o;
    pl_options_defaults(&o);
    o.batch = m;
    o.layers = p;
    o.totals_only = 1; /* 16.7M events would be 0.5 GB; the metrics need only totals */
    o.steps = 1;       /* the simulator runs every step it is asked for */
    pl_shape shape = {p, m, 1, 0, 0};
    if (pl_registry_generate(pl_registry_find("1f1b"), &shape, &s, err, sizeof err) ||
        pl_model_init(&model, p, 1, 1) || pl_partition_even(&part, p, p, err, sizeof err)) {
        printf("3. simulator: %s\n", err);
        return;
    }
    pl_job job = {&o, &model, &part, &s,
                  pl_cost_uniform(PL_COST_UNIT, PL_COST_UNIT, PL_COST_UNIT, p, 1, p, m, m), NULL};
    double v[5], bubble = 0;
    for (int i = 0; i < 5; i++) {
        pl_result r;
        int64_t t0 = pl_clock_host_ns();
        int rc = pl_simulate(&job, &r, err, sizeof err);
        v[i] = seconds_since(t0);
        pl_metrics mt;
        if (rc || pl_metrics_compute(&r.trace, 0, &mt)) {
            printf("3. simulator: %s\n", err);
            break;
        }
        bubble = mt.bubble;
        pl_metrics_free(&mt);
        pl_result_free(&r);
    }
    spread t = spread_of(v, 5);
    printf("3. simulator            p=%d m=%d 1f1b, %ld actions: %.3f / %.3f / %.3f s "
           "(%.0f ns/action)   target <= 0.5 s  %s\n   bubble %.6f, formula %.6f\n", p, m,
           pl_schedule_total(&s), t.min, t.median, t.max,
           t.median * 1e9 / (double)pl_schedule_total(&s), verdict(t.median <= 0.5), bubble,
           pl_registry_bubble(pl_registry_find("1f1b"), p, m, 1));
    pl_partition_free(&part);
    pl_model_free(&model);
    pl_schedule_free(&s);
}

/* The scaled clock's drift: one device, 32 micro-batches back to back, so
 * any lateness that accumulated would show in the makespan. */
static void drift(void)
{
    double scales[] = {1.0, 0.1}, targets[] = {0.02, 0.05};
    for (int k = 0; k < 2; k++) {
        double v[5], modelled = 0;
        for (int i = 0; i < 5; i++) {
            pl_options o;
            pl_options_defaults(&o);
            o.schedule = "microbatch";
            o.devices = 1;
            o.microbatches = 32;
            o.clock = PL_CLOCK_SCALED;
            o.scale = scales[k];
            o.steps = 1;
            pl_experiment x;
            if (run(&o, &x, "scaled clock"))
                return;
            v[i] = (x.makespan_ns - x.predicted_makespan_ns) / x.predicted_makespan_ns * 100;
            modelled = x.predicted_makespan_ns;
            pl_experiment_free(&x);
        }
        spread s = spread_of(v, 5);
        printf("4. scaled clock drift   p=1 m=32 at scale %.1f (modelled %.1f ms): measured off by "
               "%+.2f / %+.2f / %+.2f %%   target within %.0f %%  %s\n", scales[k], modelled / 1e6,
               s.min, s.median, s.max, targets[k] * 100,
               verdict(fabs(s.median) <= targets[k] * 100));
    }
}

static void scaled_bubble(void)
{
    int ps[] = {4, 8, 4, 8}, ms[] = {1, 1, 8, 16};
    const char *names[] = {"naive", "naive", "gpipe", "1f1b"};
    printf("5. scaled clock bubble  each modelled ms slept as 5 ms; median step of 3\n");
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
        pl_experiment x;
        if (run(&o, &x, names[i]))
            continue;
        double diff = fabs(x.bubble - x.bubble_theory);
        printf("   %-6s p=%d m=%-2d  measured %.4f  formula %.4f  |diff| %.4f   target < 0.03  %s\n",
               names[i], ps[i], ms[i], x.bubble, x.bubble_theory, diff, verdict(diff < 0.03));
        pl_experiment_free(&x);
    }
}

/* The speedup runs' layer width: wide enough that an action (milliseconds
 * with the fast kernels) dwarfs a hand-off between devices, threads or
 * processes, as on real accelerators. */
enum { SPEEDUP_WIDTH = 1024 };

/* The speedup runs: `schedule` on p devices, on the real clock. */
static pl_options speedup_run(const char *schedule, int p)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = schedule;
    o.devices = p;
    o.microbatches = 16;
    o.layers = 8;
    o.width = SPEEDUP_WIDTH;
    o.batch = 256;
    o.steps = 3;
    o.clock = PL_CLOCK_REAL;
    o.watchdog_s = 120;
    return o;
}

/* One real-clock step of `schedule` on p devices: its median step time. */
static double real_step(const char *schedule, int p)
{
    pl_options o = speedup_run(schedule, p);
    pl_experiment x;
    if (run(&o, &x, schedule))
        return -1;
    double s = x.makespan_ns / 1e9;
    pl_experiment_free(&x);
    return s;
}

/* The best a step of `schedule` on p devices can take here: what the
 * simulator predicts from every layer's forward, input-grad and weight-grad
 * timed on this host now (--cost measured). It counts the bubble, the
 * stages' actual imbalance and the loss's own cost; not the host's
 * scheduling or the hand-offs. */
static double best_step(const char *schedule, int p)
{
    pl_options o = speedup_run(schedule, p);
    o.cost = PL_COST_MEASURED;
    o.simulate = 1;
    pl_experiment x;
    if (run(&o, &x, schedule))
        return -1;
    double s = x.predicted_makespan_ns / 1e9;
    pl_experiment_free(&x);
    return s;
}

/* One real-clock step of `schedule` on p MPI processes (chapter 09): the
 * median step of `mpirun ... pipelab-mpi run --json`, or -1. */
static double mpi_step(const char *schedule, int p)
{
    char cmd[1024], line[8192];
    snprintf(cmd, sizeof cmd, "%s -np %d %s run --schedule %s --microbatches 16 --layers 8 "
             "--width %d --batch 256 --steps 3 --clock real --json", PL_MPIRUN, p, PL_MPI_CLI,
             schedule, SPEEDUP_WIDTH);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t got = fread(line, 1, sizeof line - 1, f);
    line[got] = '\0';
    int rc = pclose(f);
    const char *at = strstr(line, "\"makespan_ns\":");
    if (rc != 0 || !at) {
        printf("  %s: failed (status %d)\n", cmd, rc);
        return -1;
    }
    return atof(at + strlen("\"makespan_ns\":")) / 1e9;
}

/* A/B pairs: one device (the microbatch schedule, p = 1: the same kernels
 * and micro-batches, nothing else) against two, in alternating order; the
 * devices are threads (step = real_step) or MPI processes (mpi_step). Each
 * pair's bound is best_step's speedup, measured beside it. */
static void speedup(const char *title, const char *what, double (*step)(const char *, int))
{
    enum { PAIRS = 7 };
    const char *names[] = {"gpipe", "1f1b"};
    int p = 2, m = 16;
    double uniform = (double)p * m / (m + p - 1);
    printf("%s p=%d m=%d, 8 layers of width %d, batch 256; %d pairs alternated with one %s\n",
           title, p, m, SPEEDUP_WIDTH, PAIRS, what);
    for (int n = 0; n < 2; n++) {
        double ratio[PAIRS], bound[PAIRS];
        for (int i = 0; i < PAIRS; i++) {
            double one, two;
            if (i % 2 == 0)
                one = step("microbatch", 1), two = step(names[n], p);
            else
                two = step(names[n], p), one = step("microbatch", 1);
            double best_one = best_step("microbatch", 1), best_two = best_step(names[n], p);
            if (one < 0 || two < 0 || best_one < 0 || best_two < 0)
                return;
            ratio[i] = one / two;
            bound[i] = best_one / best_two;
        }
        spread s = spread_of(ratio, PAIRS), b = spread_of(bound, PAIRS);
        printf("   %-6s speedup %.2f / %.2f / %.2f x; bound from measured stage costs "
               "%.2f / %.2f / %.2f x: median at %.0f %%   target >= 95 %%  %s\n"
               "          (the uniform formula's bound: %.2f x)\n", names[n], s.min, s.median,
               s.max, b.min, b.median, b.max, 100 * s.median / b.median,
               verdict(s.median >= 0.95 * b.median), uniform);
    }
}

static void speedup_threads(void)
{
    speedup("6. real clock speedup  ", "device", real_step);
}

/* build/bench/bench [N ...]: parts 1-7, or only parts N; --mpi: part 8. */
int main(int argc, char **argv)
{
    void (*parts[])(void) = {handoff, throughput, simulator, drift, scaled_bubble,
                             speedup_threads, pl_bench_memory};
    int n = (int)(sizeof parts / sizeof *parts);
    if (argc > 1 && !strcmp(argv[1], "--mpi")) { /* make bench-mpi */
        speedup("8. MPI real clock      ", "process", mpi_step);
        load("after");
        return 0;
    }
    printf("pipelab benchmarks: min / median / max over repeated runs on this machine\n");
    load("before");
    printf("\n");
    for (int k = 1; k <= n; k++) {
        int wanted = argc == 1;
        for (int i = 1; i < argc; i++)
            wanted |= atoi(argv[i]) == k;
        if (wanted)
            parts[k - 1]();
    }
    printf("\n");
    load("after");
    return 0;
}
