/*
 * compare.c -- `pipelab compare` and `pipelab sweep`: every schedule on the
 * same model and devices, measured beside what its chapter predicts.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "output.h"
#include "plot.h"

/* Run one built-in schedule with the shared options. */
static int run_named(const pl_args *a, const pl_schedule_info *info, pl_experiment *x,
                     char *err, size_t errlen)
{
    pl_options o = a->opt;
    o.schedule = info->name;
    o.schedule_file = NULL;
    return pl_experiment_run(&o, x, err, errlen);
}

static void row(const pl_experiment *x)
{
    const pl_trace *t = &x->result.trace;
    char inflight[64] = "";
    int n = 0;
    for (int d = 0; d < t->devices && n < (int)sizeof inflight - 8; d++)
        n += snprintf(inflight + n, sizeof inflight - (size_t)n, "%s%d", d ? " " : "",
                      t->lanes[d].peak_inflight);
    if (t->devices * 3 > (int)sizeof inflight - 8)
        snprintf(inflight + n, sizeof inflight - (size_t)n, " ...");
    printf("%-11s %3d  %7.4f  %7.4f  %10.3f  %-18s %9.3f  %s\n", x->name,
           x->schedule.microbatches, x->bubble, x->bubble_theory, (double)x->makespan / 1e6,
           inflight, (double)pl_experiment_peak_bytes(x) / (1024.0 * 1024.0),
           x->opt.simulate ? "-" : x->bitwise_equal ? "yes" : "NO");
}

int pl_cmd_compare(pl_args *a, int colour)
{
    int n;
    const pl_schedule_info *all = pl_schedules(&n);
    pl_experiment x[16];
    char err[1024];
    int rc = 0, complete = 1;
    pl_outputs files;
    if (pl_outputs_open(&files, a->trace, a->svg, err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        return 2;
    }
    if (!a->opt.simulate)
        a->opt.verify = 1;
    if (!a->json)
        printf("p = %d devices, m = %d micro-batches, %d layers of width %d, batch %d, %s clock%s\n\n"
               "%-11s %3s  %7s  %7s  %10s  %-18s %9s  %s\n",
               a->opt.devices, a->opt.microbatches, a->opt.layers, a->opt.width, a->opt.batch,
               pl_clock_name(a->opt.clock), a->opt.simulate ? " (simulator)" : "",
               "schedule", "m", "bubble", "theory", "makespan ms", "peak in-flight/dev",
               "peak MiB", "bitwise");
    memset(x, 0, sizeof x);
    int ran = 0;
    for (int i = 0; i < n && i < 16; i++) {
        ran = i + 1;
        if (run_named(a, &all[i], &x[i], err, sizeof err)) {
            fprintf(stderr, "pipelab: %s: %s\n", all[i].name, err);
            rc = 1;
            complete = 0;
            break;
        }
        if (a->json)
            pl_experiment_json(&x[i], stdout);
        else
            row(&x[i]);
        if (!a->opt.simulate && !x[i].bitwise_equal)
            rc = 1;
    }
    for (int i = 0; i < ran && !a->json && rc == 0; i++) {
        printf("\n%s (m = %d)\n", x[i].name, x[i].schedule.microbatches);
        pl_timeline_print(&x[i].result.trace, x[i].result.steps - 1, 100, colour, stdout);
    }
    if (pl_outputs_finish(&files, x, ran, complete, err, sizeof err) && complete) {
        fprintf(stderr, "pipelab: %s\n", err);
        rc = 1;
    }
    for (int i = 0; i < ran; i++)
        pl_experiment_free(&x[i]);
    return rc;
}

/* One point of the sweep: schedule `info` with m (or p) = k, on the virtual
 * clock, with micro-batches of equal size so the theory is exact. */
static int sweep_point(const pl_args *a, const pl_schedule_info *info, int over_p, int k,
                       int top, pl_sweep *plot)
{
    char err[1024];
    pl_args b = *a;
    if (over_p)
        b.opt.devices = k;
    else
        b.opt.microbatches = k;
    if (b.opt.layers < b.opt.devices)
        b.opt.layers = b.opt.devices;
    if (b.opt.batch < 2 * top)
        b.opt.batch = 2 * top;
    b.opt.clock = PL_CLOCK_VIRTUAL;
    b.opt.steps = 1;
    pl_experiment x;
    int rc = run_named(&b, info, &x, err, sizeof err);
    if (rc)
        fprintf(stderr, "pipelab: %s: %s\n", info->name, err);
    else {
        printf("%-11s %4d  %9.4f  %9.4f\n", x.name, k, x.bubble, x.bubble_theory);
        pl_sweep_add(plot, info->name, k, x.bubble);
    }
    pl_experiment_free(&x);
    return rc;
}

/* Bubble against m (p fixed) or against p (m fixed) for every schedule;
 * with --svg, the plot of it. */
int pl_cmd_sweep(pl_args *a)
{
    int over_p = a->over && !strcmp(a->over, "p");
    int n;
    const pl_schedule_info *all = pl_schedules(&n);
    int top = over_p ? a->opt.devices : a->opt.microbatches;
    if (!(over_p ? a->given_p : a->given_m))
        top = over_p ? 8 : 32;
    char err[1024];
    FILE *svg = pl_output_open("--svg", a->svg, err, sizeof err);
    if (a->svg && !svg) {
        fprintf(stderr, "pipelab: %s\n", err);
        return 2;
    }
    pl_sweep plot;
    memset(&plot, 0, sizeof plot);
    plot.over_p = over_p;
    plot.fixed = over_p ? a->opt.microbatches : a->opt.devices;
    printf("bubble against %s (%s = %d), %s\n%-11s %4s  %9s  %9s\n", over_p ? "p" : "m",
           over_p ? "m" : "p", plot.fixed,
           a->opt.simulate ? "simulator" : "virtual-clock device threads",
           "schedule", over_p ? "p" : "m", "measured", "theory");
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        for (int k = 1; k <= top && rc == 0; k *= 2) {
            rc = sweep_point(a, &all[i], over_p, k, top, &plot);
            if (all[i].fixed_microbatches && !over_p)
                break;
        }
    int drawn = rc == 0 && svg && pl_plot_sweep(&plot, svg) == 0;
    if (pl_output_close(svg, a->svg, drawn, err, sizeof err) && rc == 0) {
        fprintf(stderr, "pipelab: %s\n", err[0] ? err : "cannot draw the sweep");
        rc = 1;
    }
    return rc;
}
