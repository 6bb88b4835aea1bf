/*
 * compare.c -- `pipelab compare` and `pipelab sweep`: every registered
 * schedule on the same model and devices, measured beside what its chapter
 * predicts.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "clock.h"
#include "experiment.h"
#include "output.h"
#include "plot.h"
#include "summary.h"

enum { MAX_RUNS = 32 };

/* The options of entry e's run: the shared ones; --chunks reaches only the
 * schedules that take chunks, and every stage gets a layer unless the
 * layers were given (--layers, or --widths, which lists them): then they
 * are kept, and checked. */
static pl_options entry_options(const pl_args *a, const pl_registry_entry *e)
{
    pl_options o = a->opt;
    o.schedule = e->name;
    o.schedule_file = NULL;
    if (e->chunks)
        o.chunks = 0;
    int stages = o.devices * pl_registry_shape(e, o.devices, o.microbatches, o.chunks).chunks;
    if (stages > o.layers && !o.widths && !pl_args_given(a, "--layers"))
        o.layers = stages;
    return o;
}

/* 0 if a run with options o would not be refused; else says why, and 2. */
static int refused(const pl_options *o)
{
    char err[1024];
    if (pl_experiment_check(o, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "pipelab: %s: %s\n", o->schedule, err);
    return 2;
}

/* Run with options o; on failure say why, and return 2 (refused) or 1. */
static int run(const pl_options *o, pl_experiment *x)
{
    char err[1024];
    int rc = pl_experiment_run(o, x, err, sizeof err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "pipelab: %s: %s\n", o->schedule, err);
    pl_experiment_free(x);
    return rc == PL_EXPERIMENT_REFUSED ? 2 : 1;
}

/* 1 if the comparison ends its steps other than at a barrier (chapter 06):
 * then each row shows its period per step too. */
static int periods(const pl_args *a)
{
    return a->opt.steps > 1 && (a->opt.step_sync == PL_SYNC_LOCAL || a->opt.clip_norm > 0);
}

/* Each device's peak, side by side: micro-batches in flight, or activation
 * KiB (chapter 08 compares how evenly schedules spread them); " ..." where
 * they do not fit in `width` columns. */
static void per_device(const pl_trace *t, int kib, size_t width, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int d = 0; d < t->devices; d++) {
        char one[24];
        if (kib)
            snprintf(one, sizeof one, "%s%.1f", d ? " " : "",
                     (double)t->lanes[d].peak_bytes / 1024.0);
        else
            snprintf(one, sizeof one, "%s%d", d ? " " : "", t->lanes[d].peak_inflight);
        if (k + strlen(one) > width || (d + 1 < t->devices && k + strlen(one) + 4 > width)) {
            snprintf(buf + k, n - k, " ...");
            return;
        }
        k += (size_t)snprintf(buf + k, n - k, "%s", one);
    }
}

static void row(const pl_experiment *x, int period, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    char inflight[32], kib[32], theory[16] = "-";
    per_device(t, 0, 18, inflight, sizeof inflight);
    per_device(t, 1, 19, kib, sizeof kib);
    if (x->bubble_theory >= 0)
        snprintf(theory, sizeof theory, "%.4f", x->bubble_theory);
    fprintf(out, "%-12s %3d %2d  %7.4f  %9.4f  %7s  %10.3f  %-18s  %-19s  %-*s", x->name,
            x->schedule.microbatches, x->schedule.chunks, x->bubble, x->predicted_bubble,
            theory, x->makespan_ns / 1e6, inflight, kib, period ? 7 : 0,
            x->opt.simulate ? "-" : x->bitwise_equal ? "yes" : "NO");
    if (period)
        fprintf(out, "  %9.3f  %7.4f", x->period_ns / 1e6, x->period_bubble);
    fputc('\n', out);
}

int pl_cmd_compare(pl_args *a, int colour)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    static pl_experiment x[MAX_RUNS];
    const pl_trace *traces[MAX_RUNS];
    char err[1024], unit[160];
    int rc = 0, ran = 0;
    a->opt.verify = !a->opt.simulate;
    for (int i = 0; i < n && i < MAX_RUNS; i++) { /* refuse before anything runs */
        pl_options o = entry_options(a, &all[i]);
        if (refused(&o))
            return 2;
    }
    pl_outputs files;
    if (pl_outputs_open(&files, a->trace, a->svg, NULL, err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        return 2;
    }
    if (!a->json)
        printf("p = %d devices, m = %d micro-batches, %d layers of width %d, batch %d, %s clock%s\n",
               a->opt.devices, a->opt.microbatches, a->opt.layers, a->opt.width, a->opt.batch,
               pl_clock_name(a->opt.clock), a->opt.simulate ? " (simulator)" : "");
    memset(x, 0, sizeof x);
    for (int i = 0; i < n && i < MAX_RUNS; i++) {
        pl_options o = entry_options(a, &all[i]);
        if ((rc = run(&o, &x[i])) != 0)
            break;
        pl_summary_show_steps(&x[i], a->show_all);
        traces[i] = &x[i].result.trace;
        ran = i + 1;
        if (!a->json && i == 0)
            printf("costs: %s\n\n%-12s %3s %2s  %7s  %9s  %7s  %10s  %-18s  %-19s  %-*s%s\n",
                   pl_summary_unit(&x[0], unit, sizeof unit), "schedule", "m", "v", "bubble",
                   "predicted", "formula", "makespan ms", "peak in-flight/dev", "peak KiB/dev",
                   periods(a) ? 7 : 0, "bitwise", periods(a) ? "  period ms   bubble" : "");
        if (a->json)
            pl_experiment_json(&x[i], stdout);
        else
            row(&x[i], periods(a), stdout);
        if (!a->opt.simulate && !x[i].bitwise_equal) {
            fprintf(stderr, "pipelab: %s: the trained weights differ from the sequential "
                    "reference's (max |diff| %.3g)\n", x[i].name, x[i].max_abs_diff);
            rc = 1;
        }
    }
    for (int i = 0; i < ran && !a->json; i++)
        if (x[i].theory_note[0])
            printf("%s%s: no formula: %s\n", i == 0 ? "\n" : "", x[i].name, x[i].theory_note);
    for (int i = 0; i < ran && !a->json && rc == 0; i++) {
        const pl_trace_info *info = &x[i].result.trace.info;
        if (info->shown_steps > 1)
            printf("\n%s (m = %d, v = %d), steps %d to %d\n", x[i].name,
                   x[i].schedule.microbatches, x[i].schedule.chunks, info->shown_step + 1,
                   info->shown_step + info->shown_steps);
        else
            printf("\n%s (m = %d, v = %d), step %d of %d\n", x[i].name,
                   x[i].schedule.microbatches, x[i].schedule.chunks, x[i].step + 1,
                   x[i].result.steps);
        pl_timeline_print_steps(&x[i].result.trace, info->shown_step, info->shown_steps, 100,
                                colour, stdout);
    }
    if (pl_output_stdout(err, sizeof err) && rc == 0) { /* before the files move into place */
        fprintf(stderr, "pipelab: %s\n", err);
        rc = 1;
    }
    if (pl_outputs_finish(&files, traces, ran, rc == 0 && ran > 0, err, sizeof err) && rc == 0) {
        fprintf(stderr, "pipelab: %s\n", err);
        rc = 1;
    }
    for (int i = 0; i < ran; i++)
        pl_experiment_free(&x[i]);
    return rc;
}

/* The options of one point of the sweep: entry e with m, p or v = k, on
 * the virtual clock, with equal stages and equal micro-batches, so the
 * formula is exact -- unless the layers or the batch were given: then they
 * are what they were given. */
static pl_options point_options(const pl_args *a, const pl_registry_entry *e, char over, int k,
                                int top)
{
    pl_args b = *a;
    if (over == 'p')
        b.opt.devices = k;
    else if (over == 'm')
        b.opt.microbatches = k;
    else
        b.opt.chunks = k;
    pl_shape s = pl_registry_shape(e, b.opt.devices, b.opt.microbatches, b.opt.chunks);
    int stages = s.devices * s.chunks;
    if (!pl_args_given(a, "--layers") && !b.opt.widths)
        b.opt.layers = stages * ((b.opt.layers + stages - 1) / stages);
    int most_m = over == 'm' ? top : b.opt.microbatches;
    if (!pl_args_given(a, "--batch") && (b.opt.batch < most_m || b.opt.batch % most_m))
        b.opt.batch = 2 * most_m;
    b.opt.clock = PL_CLOCK_VIRTUAL;
    b.opt.steps = 1;
    return entry_options(&b, e);
}

/* Run one point and print its row. */
static int sweep_point(const pl_args *a, const pl_registry_entry *e, char over, int k,
                       int top, pl_sweep *plot)
{
    char theory[16] = "-";
    pl_options o = point_options(a, e, over, k, top);
    pl_experiment x;
    int rc = run(&o, &x);
    if (rc)
        return rc;
    if (a->json) {
        pl_experiment_json(&x, stdout);
    } else {
        if (x.bubble_theory >= 0)
            snprintf(theory, sizeof theory, "%.4f", x.bubble_theory);
        printf("%-12s %4d  %9.4f  %9.4f  %9s\n", x.name, k, x.bubble, x.predicted_bubble,
               theory);
    }
    pl_sweep_add(plot, e->name, x.schedule.chunks, k, x.bubble);
    pl_experiment_free(&x);
    return 0;
}

/* 1 if sweeping `over` means anything for entry e (one that fixes m shows
 * its single point in a sweep over m). */
static int sweeps(const pl_registry_entry *e, char over)
{
    return over == 'v' ? e->chunks == 0 : 1;
}

/* Bubble against m (p fixed), p (m fixed) or v (p and m fixed) for every
 * schedule it applies to; with --svg, the plot of it. */
int pl_cmd_sweep(pl_args *a)
{
    char over = a->over ? a->over[0] : 'm', err[1024];
    int n, given = over == 'p' ? pl_args_given(a, "--devices")
                 : over == 'm' ? pl_args_given(a, "--microbatches") : pl_args_given(a, "--chunks");
    const pl_registry_entry *all = pl_registry_list(&n);
    int top = over == 'p' ? a->opt.devices : over == 'm' ? a->opt.microbatches : a->opt.chunks;
    if (!given)
        top = over == 'p' ? 8 : over == 'm' ? 32 : 4;
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= sweeps(&all[i], over);
    if (!any) {
        fprintf(stderr, "pipelab: --over %c: no registered schedule takes --%s\n", over,
                over == 'v' ? "chunks" : "microbatches");
        return 2;
    }
    for (int i = 0; i < n; i++) /* refuse before anything runs */
        for (int k = 1; sweeps(&all[i], over) && k <= top; k = over == 'v' ? k + 1 : 2 * k) {
            pl_options o = point_options(a, &all[i], over, k, top);
            if (refused(&o))
                return 2;
            if (over == 'm' && all[i].microbatches)
                break;
        }
    pl_output svg;
    if (pl_output_open(&svg, "--svg", a->svg, NULL, 0, err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        return 2;
    }
    static pl_sweep plot;
    memset(&plot, 0, sizeof plot);
    plot.over_p = over == 'p';
    plot.over_v = over == 'v';
    plot.fixed = over == 'p' ? a->opt.microbatches : a->opt.devices;
    plot.fixed2 = a->opt.microbatches;
    char fixed[48];
    if (over == 'v')
        snprintf(fixed, sizeof fixed, "p = %d, m = %d", a->opt.devices, a->opt.microbatches);
    else
        snprintf(fixed, sizeof fixed, "%c = %d", over == 'p' ? 'm' : 'p', plot.fixed);
    if (!a->json)
        printf("bubble against %c (%s), %s\n%-12s %4c  %9s  %9s  %9s\n", over, fixed,
               a->opt.simulate ? "simulator" : "virtual-clock device threads", "schedule",
               over, "measured", "predicted", "formula");
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (!sweeps(&all[i], over))
            continue;
        for (int k = 1; k <= top && rc == 0; k = over == 'v' ? k + 1 : 2 * k) {
            rc = sweep_point(a, &all[i], over, k, top, &plot);
            if (over == 'm' && all[i].microbatches)
                break;
        }
    }
    if (pl_output_stdout(err, sizeof err) && rc == 0) { /* before the plot moves into place */
        fprintf(stderr, "pipelab: %s\n", err);
        rc = 1;
    }
    int drawn = rc == 0 && svg.f && pl_plot_sweep(&plot, svg.f) == 0;
    if (pl_output_close(&svg, drawn, "the sweep plot", err, sizeof err) && svg.path && rc == 0) {
        fprintf(stderr, "pipelab: %s\n", err[0] ? err : "cannot draw the sweep");
        rc = 1;
    }
    return rc;
}
