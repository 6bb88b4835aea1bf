/*
 * helpers.h -- small helpers shared by the test suites.
 */
#ifndef PL_TEST_HELPERS_H
#define PL_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "experiment.h"

/* Options for a small, fast run of `schedule` with p devices and m micro-batches:
 * enough layers for p stages and a batch that m divides. */
static inline pl_options small_run(const char *schedule, int p, int m)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = schedule;
    o.devices = p;
    o.microbatches = m;
    o.layers = p > 4 ? p : 4;
    o.width = 8;
    o.batch = 2 * m;
    o.steps = 1;
    return o;
}

/* Run and fail the test with the run's message if it does not succeed. */
static inline void run_ok(const pl_options *o, pl_experiment *x)
{
    char err[1024] = "";
    int rc = pl_experiment_run(o, x, err, sizeof err);
    cr_assert_eq(rc, 0, "%s p=%d m=%d: %s", o->schedule ? o->schedule : "file",
                 o->devices, o->microbatches, err);
}

/* Run a shell command, capture what it prints (up to n-1 bytes) into out,
 * and return its exit status (-1 if it died by a signal). */
static inline int shell_capture(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
