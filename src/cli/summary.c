/*
 * summary.c -- one run on the screen: three figures and the step they are of.
 */
#include "summary.h"

#include <math.h>
#include <string.h>

#include "clock.h"

const char *pl_summary_unit(const pl_experiment *x, char *buf, size_t n)
{
    const pl_options *o = &x->opt;
    if (o->cost == PL_COST_FLOPS)
        snprintf(buf, n, "costs from FLOPs at %g FLOP/s", o->flops_per_s);
    else if (o->t_f == o->t_i && o->t_i == o->t_w)
        snprintf(buf, n, "1 unit = %g ms = the forward of L/p layers on batch/m rows; "
                 "t_F = t_I = t_W = %g unit", (double)PL_COST_UNIT / 1e6, o->t_f);
    else
        snprintf(buf, n, "1 unit = %g ms = the forward of L/p layers on batch/m rows; "
                 "t_F %g, t_I %g, t_W %g units", (double)PL_COST_UNIT / 1e6, o->t_f, o->t_i,
                 o->t_w);
    return buf;
}

static void header(const pl_experiment *x, FILE *out)
{
    const pl_schedule *s = &x->schedule;
    char unit[160], chunks[48] = "";
    if (s->chunks > 1)
        snprintf(chunks, sizeof chunks, ", v = %d (%s placement)", s->chunks,
                 pl_route_placement_name(s->placement));
    fprintf(out, "%s: p = %d, m = %d%s, %s clock%s, %s\n", x->name, s->devices,
            s->microbatches, chunks, pl_clock_name(x->opt.clock),
            x->opt.clock == PL_CLOCK_SCALED ? " (x scale)" : "",
            x->opt.simulate ? "simulator" : "device threads");
    fprintf(out, "costs: %s\n", pl_summary_unit(x, unit, sizeof unit));
    int first = pl_trace_first_kept(&x->result.trace);
    if (x->result.steps > 1 && first == 0)
        fprintf(out, "step %d of %d (the median makespan; every figure below is of it)\n",
                x->step + 1, x->result.steps);
    else if (x->result.steps > 1)
        fprintf(out, "step %d of %d (the median makespan of the last %d steps, those kept; "
                "every figure below is of it)\n", x->step + 1,
                x->result.steps, x->result.steps - first);
}

static void figures(const pl_experiment *x, FILE *out)
{
    fprintf(out, "%-11s %12s %12s %12s\n", "", "measured", "predicted", "formula");
    fprintf(out, "%-11s %12.3f %12.3f %12s\n", "makespan ms", x->makespan_ns / 1e6,
            x->predicted_makespan_ns / 1e6, "-");
    fprintf(out, "%-11s %12.4f %12.4f ", "bubble", x->bubble, x->predicted_bubble);
    if (x->bubble_theory >= 0)
        fprintf(out, "%12.4f  %s\n", x->bubble_theory, x->entry->bubble_text);
    else
        fprintf(out, "%12s  (none: %s)\n", "-", x->theory_note);
}

static void memory(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fprintf(out, "in-flight   ");
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "d%d:%d ", d, t->lanes[d].peak_inflight);
    fprintf(out, "(peak micro-batches held");
    if (x->entry && x->entry->peak) {
        fprintf(out, "; formula %s:", x->entry->peak_text);
        for (int d = 0; d < t->devices; d++)
            fprintf(out, " %d", x->entry->peak(x->schedule.devices, x->schedule.microbatches,
                                              x->schedule.chunks, d));
    }
    fprintf(out, ")\nactivation  ");
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "d%d:%.1fKiB ", d, (double)t->lanes[d].peak_bytes / 1024.0);
    fprintf(out, "(peak)\nmessages    %ld per step between devices\n",
            pl_trace_messages(t, x->step));
}

void pl_summary_print(const pl_experiment *x, int colour, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    header(x, out);
    pl_timeline_print(t, x->step, 100, colour, out);
    figures(x, out);
    memory(x, out);
    if (x->result.loss) {
        fprintf(out, "loss        ");
        for (int k = 0; k < x->result.steps; k++)
            fprintf(out, "%.6f ", (double)x->result.loss[k]);
        fprintf(out, "(per step)\n");
    }
    if (x->opt.verify && !x->opt.simulate)
        fprintf(out, "verify      %s (max |diff| %.3g)\n",
                x->bitwise_equal ? "bitwise equal to the sequential reference"
                                 : "DIFFERS from the sequential reference",
                x->max_abs_diff);
}

int pl_summary_warnings(const pl_experiment *x, FILE *out)
{
    for (int k = 0; x->result.loss && k < x->result.steps; k++)
        if (!isfinite(x->result.loss[k])) {
            fprintf(out, "pipelab: warning: the loss of step %d is %g, not a finite number "
                    "(JSON writes it as null)\n", k + 1, (double)x->result.loss[k]);
            return 1;
        }
    return 0;
}
