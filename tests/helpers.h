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
#include "registry.h"
#include "runs.h"

/* The registered schedule `name` for p devices, m micro-batches and v chunks
 * (0: its default), in the shape the registry resolves. */
static inline void registry_schedule(const char *name, pl_schedule *s, int p, int m, int v)
{
    char err[256];
    const pl_registry_entry *e = pl_registry_find(name);
    cr_assert(e, "%s is not registered", name);
    pl_shape shape = pl_registry_shape(e, p, m, v);
    cr_assert_eq(pl_registry_generate(e, &shape, s, err, sizeof err), 0, "%s p=%d m=%d v=%d: %s",
                 name, p, m, v, err);
}

/* The values of m (or v) to try for a registry entry: 1..top, or the one it fixes. */
#define FOR_EACH_M(e, m, top) for (int m = 1; m <= ((e)->microbatches ? 1 : (top)); m++)
#define FOR_EACH_V(e, v, top) for (int v = (e)->chunks ? (e)->chunks : 1; \
                                   v <= ((e)->chunks ? (e)->chunks : (top)); v++)

/* Device d's idle time in the run's reported step, in ticks: makespan - busy(d). */
static inline int64_t idle_ticks(const pl_experiment *x, int d)
{
    pl_metrics m;
    cr_assert_eq(pl_metrics_compute(&x->result.trace, x->step, &m), 0);
    int64_t i = m.makespan - m.busy[d];
    pl_metrics_free(&m);
    return i;
}

/* Expect the registered schedule `name` (p devices, m micro-batches, v
 * chunks; 0: its default) to be `rows`, one line of actions per device as
 * `pipelab show` prints them -- how the chapter tests compare an order with
 * a peer's. */
static inline void expect_orders(const char *name, int p, int m, int v, const char *const *rows)
{
    pl_schedule s;
    registry_schedule(name, &s, p, m, v);
    for (int d = 0; d < p; d++) {
        char line[4096] = "", act[16];
        size_t used = 0;
        for (int i = 0; i < s.len[d] && used + sizeof act + 1 < sizeof line; i++) {
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
                                     pl_schedule_format(&s, s.actions[d][i], act, sizeof act));
        }
        cr_expect_str_eq(line, rows[d], "%s p=%d m=%d d%d", name, p, m, d);
    }
    pl_schedule_free(&s);
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

/* What a picture writer (pl_svg_timeline, pl_chrome_trace_write) draws of
 * the traces of n runs, as a string the caller frees. */
typedef int (*drawer)(const pl_trace *const *traces, int n, FILE *out);
static inline char *draw(drawer f, const pl_experiment *runs, int n)
{
    char *buf = NULL;
    size_t len = 0;
    const pl_trace *traces[16];
    cr_assert(n <= 16);
    for (int i = 0; i < n; i++)
        traces[i] = &runs[i].result.trace;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    cr_assert_eq(f(traces, n, out), 0);
    fclose(out);
    return buf;
}

#endif
