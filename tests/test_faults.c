/*
 * test_faults.c -- a failing device stops the whole run promptly, names
 * itself and its action, and the watchdog stops a run in which no device
 * progresses (chapter 01: error propagation).
 *
 * Every built-in schedule, every device, its first, middle and last action
 * of a two-step run: the run must fail within a second with a message that
 * names the device. A few of the same through the pipelab command check the
 * exit status and the one-line report.
 */
#include "child.h"

#include <math.h>
#include <stdio.h>

#include "helpers.h"

enum { P = 4, M = 4, STEPS = 2 };

/* Run `o` expecting failure; returns the seconds it took and fills err. */
static double run_failing(const pl_options *o, char *err, size_t n)
{
    pl_experiment x;
    int64_t t0 = pl_clock_host_ns();
    int rc = pl_experiment_run(o, &x, err, n);
    double s = (double)(pl_clock_host_ns() - t0) / 1e9;
    pl_experiment_free(&x);
    cr_assert_eq(rc, -1, "the run did not fail (device %d action %ld)", o->fault_device,
                 o->fault_action);
    return s;
}

Test(faults, every_schedule_every_device_first_middle_last_action, .timeout = 60)
{
    int n, cases = 0;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int g = 0; g < n; g++) {
        int m = all[g].microbatches ? all[g].microbatches : M;
        pl_schedule s;
        registry_schedule(all[g].name, &s, P, m, 0);
        for (int d = 0; d < P; d++) {
            long per_step = s.len[d];
            long total = STEPS * per_step;
            long where[3] = {0, total / 2, total - 1};
            for (int k = 0; k < 3; k++) {
                pl_options o = small_run(all[g].name, P, m);
                o.layers = P * s.chunks;
                o.steps = STEPS;
                o.fault_device = d;
                o.fault_action = where[k];
                char err[1024], name[16];
                double secs = run_failing(&o, err, sizeof err);
                snprintf(name, sizeof name, "d%d failed", d);
                cr_expect(strstr(err, name) && strstr(err, "injected fault"),
                          "%s d%d action %ld: %s", all[g].name, d, where[k], err);
                char at[48];
                snprintf(at, sizeof at, "step %ld position %ld", where[k] / per_step,
                         where[k] % per_step);
                cr_expect(strstr(err, at) != NULL, "%s: expected '%s' in: %s", all[g].name, at,
                          err);
                cr_expect_lt(secs, 1.0, "%s d%d action %ld took %.3f s", all[g].name, d,
                             where[k], secs);
                cases++;
            }
        }
        pl_schedule_free(&s);
    }
    cr_expect_eq(cases, n * P * 3);
}

Test(faults, a_fault_that_cannot_fire_is_refused, .timeout = 10)
{
    pl_options o = small_run("gpipe", P, M);
    o.steps = STEPS;
    o.fault_device = 1;
    o.fault_action = STEPS * 2 * M; /* one past the last */
    char err[1024];
    pl_experiment x;
    int rc = pl_experiment_run(&o, &x, err, sizeof err);
    pl_experiment_free(&x);
    cr_expect_eq(rc, PL_EXPERIMENT_REFUSED, "refused before it runs: bad input, not a failure");
    cr_expect(strstr(err, "cannot inject a fault at action 16 of d1") != NULL, "%s", err);
}

/* On the scaled clock one action sleeps 2 s; a fault elsewhere must cut
 * that sleep short instead of waiting it out. */
Test(faults, a_fault_stops_a_device_in_the_middle_of_a_long_action, .timeout = 20)
{
    pl_options o = small_run("gpipe", 2, 2);
    o.clock = PL_CLOCK_SCALED;
    o.scale = 2000.0; /* 1 ms modelled = 2 s on the host */
    o.fault_device = 1;
    o.fault_action = 0; /* at once, while d0 sleeps through F0 */
    char err[1024];
    double s = run_failing(&o, err, sizeof err);
    cr_expect(strstr(err, "d1 failed") != NULL, "%s", err);
    cr_expect_lt(s, 0.5, "took %.3f s: d0 slept out its action", s);
}

Test(faults, the_watchdog_stops_a_run_that_makes_no_progress, .timeout = 20)
{
    pl_options o = small_run("1f1b", 3, 3);
    o.fault_device = 1;
    o.fault_action = 0;
    o.fault_stall = 1; /* d1 waits for nothing: d0 and d2 wait for d1 */
    o.watchdog_s = 0.3;
    char err[2048];
    double s = run_failing(&o, err, sizeof err);
    cr_expect(strstr(err, "watchdog: no device progressed for 0.3 s") != NULL, "%s", err);
    for (int d = 0; d < 3; d++) {
        char dev[8];
        snprintf(dev, sizeof dev, "d%d ", d);
        cr_expect(strstr(err, dev) != NULL, "the report leaves out d%d: %s", d, err);
    }
    cr_expect(strstr(err, "d1 step 0 position 0 (F0) stalled (injected)") != NULL, "%s", err);
    cr_expect(strstr(err, "d2 step 0 position 0 (F0) waiting for its input") != NULL, "%s", err);
    cr_expect_lt(s, 1.5, "took %.3f s", s);
}

/* Computing is progress on every clock: a healthy run whose every action
 * sleeps far longer than the watchdog's limit is not stopped. */
Test(faults, a_long_action_is_not_a_stall, .timeout = 20)
{
    pl_options o = small_run("gpipe", 2, 2);
    o.clock = PL_CLOCK_SCALED;
    o.scale = 200.0; /* 1 ms modelled = 0.2 s on the host */
    o.watchdog_s = 0.05;
    pl_experiment x;
    char err[1024];
    cr_expect_eq(pl_experiment_run(&o, &x, err, sizeof err), 0, "%s", err);
    pl_experiment_free(&x);
}

/* A watchdog far shorter than the run's bookkeeping never fires once every
 * device has finished. (While they run, 1 ms without any thread scheduled
 * may legitimately look like a stall on a loaded machine; then the report
 * must still show a device that has not finished.) */
Test(faults, the_watchdog_never_fires_after_the_run, .timeout = 60)
{
    int passed = 0;
    for (int i = 0; i < 100; i++) {
        pl_options o = small_run("1f1b", 4, 4);
        o.watchdog_s = 0.001;
        pl_experiment x;
        char err[1024];
        if (pl_experiment_run(&o, &x, err, sizeof err) == 0) {
            passed++;
        } else {
            cr_assert(strstr(err, "watchdog") != NULL, "run %d: %s", i, err);
            int finished = 0;
            for (const char *q = err; (q = strstr(q, "finished;")) != NULL; q++)
                finished++;
            cr_expect_lt(finished, 4, "run %d: fired after every device had finished: %s", i,
                         err);
        }
        pl_experiment_free(&x);
    }
    cr_expect_gt(passed, 0, "every run stopped by the watchdog");
}

Test(faults, the_command_reports_the_failing_device_and_exits_1, .timeout = 60)
{
    static const char *names[] = {"naive", "microbatch", "gpipe", "1f1b"};
    for (int g = 0; g < 4; g++) /* the chapters 01-04 ones through the command */
        for (int d = 0; d < 3; d += 2) {
            char fault[48], m[8];
            snprintf(fault, sizeof fault, "device=%d,action=%d", d, g == 0 ? 1 : 5);
            snprintf(m, sizeof m, "%d", g == 0 ? 1 : 4);
            const char *args[] = {"run", "--schedule", names[g], "--devices", "3",
                                  "--microbatches", m, "--inject-fault", fault, NULL};
            pl_child c = pipelab_run(args, 10.0);
            char want[16];
            snprintf(want, sizeof want, "d%d failed", d);
            cr_expect(!c.hung && c.signal == 0, "%s %s: hung or crashed", names[g], fault);
            cr_expect_eq(c.status, 1, "%s %s: %s", names[g], fault, c.err);
            cr_expect_eq(line_count(c.err), 1, "%s", c.err);
            cr_expect(strstr(c.err, want) && strstr(c.err, "injected fault"), "%s", c.err);
            cr_expect_lt(c.seconds, 1.0);
        }
}

Test(faults, the_command_watchdog_prints_what_every_device_waits_for, .timeout = 20)
{
    const char *args[] = {"run", "--schedule", "gpipe", "--devices", "2", "--microbatches", "2",
                          "--inject-fault", "device=0,action=1,stall", "--watchdog", "0.2", NULL};
    pl_child c = pipelab_run(args, 10.0);
    cr_expect_eq(c.status, 1, "%s", c.err);
    cr_expect(strstr(c.err, "watchdog") && strstr(c.err, "d0 step 0") &&
              strstr(c.err, "d1 step 0"), "%s", c.err);
    cr_expect_lt(c.seconds, 1.5);
}
