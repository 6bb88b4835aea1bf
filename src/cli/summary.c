/*
 * summary.c -- one run on the screen: three figures and the step they are of.
 */
#include "summary.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

/* 1 if every layer of the model is D x D. */
static int uniform_widths(const pl_experiment *x)
{
    for (int l = 0; l < x->model.n_layers; l++)
        if (x->model.layers[l].in != x->opt.width || x->model.layers[l].out != x->opt.width)
            return 0;
    return 1;
}

const char *pl_summary_unit(const pl_experiment *x, char *buf, size_t n)
{
    const pl_options *o = &x->opt;
    char layers[64] = "L/p layers";
    char rows[48] = "batch/m rows";
    if (o->unit_microbatches == 1)
        snprintf(rows, sizeof rows, "the whole batch");
    else if (o->unit_microbatches > 1)
        snprintf(rows, sizeof rows, "batch/%d rows", o->unit_microbatches);
    if (!uniform_widths(x))
        snprintf(layers, sizeof layers, "L/p layers of width D = %d", o->width);
    if (o->cost == PL_COST_FLOPS)
        snprintf(buf, n, "costs from FLOPs at %g FLOP/s", o->flops_per_s);
    else if (o->cost == PL_COST_MEASURED)
        snprintf(buf, n, "measured on this host: each layer's F, I and W on %s", rows);
    else if (o->t_f == o->t_i && o->t_i == o->t_w)
        snprintf(buf, n, "1 unit = %g ms = the forward of %s on %s; "
                 "t_F = t_I = t_W = %g unit", (double)PL_COST_UNIT / 1e6, layers, rows, o->t_f);
    else
        snprintf(buf, n, "1 unit = %g ms = the forward of %s on %s; "
                 "t_F %g, t_I %g, t_W %g units", (double)PL_COST_UNIT / 1e6, layers, rows,
                 o->t_f, o->t_i, o->t_w);
    return buf;
}

/* The model, its partition and its links, when chapter 07's options set them. */
static void setup(const pl_experiment *x, FILE *out)
{
    const pl_options *o = &x->opt;
    static const char *const how[] = {"even", "balanced", "balanced on measured times",
                                      "given", "by memory"};
    if (!uniform_widths(x)) {
        fprintf(out, "model:      %s, layer widths", o->widths ? "--widths" : "lm-like");
        for (int l = 0; l < x->model.n_layers; l++)
            fprintf(out, "%s%d", l ? "," : " ", x->model.layers[l].out);
        fprintf(out, " (input %d)\n", x->model.layers[0].in);
    }
    if (o->partition != PL_PARTITION_EVEN || !uniform_widths(x)) {
        fprintf(out, "partition:  %s, layers per stage", how[o->partition]);
        for (int st = 0; st < x->partition.stages; st++)
            fprintf(out, "%s%d", st ? "," : " ", x->partition.count[st]);
        fprintf(out, "\n");
    }
    if (pl_cost_has_links(&x->job.cost)) {
        fprintf(out, "links:      %g ms latency", o->link_latency_ms);
        if (o->link_bandwidth > 0)
            fprintf(out, " + bytes / %g B/s", o->link_bandwidth);
        fprintf(out, ", %s sends", o->blocking_send ? "blocking" : "non-blocking");
        if (x->warmup_extra)
            fprintf(out, "; 1f1b warm-up + %d forward%s per link downstream", x->warmup_extra,
                    x->warmup_extra == 1 ? "" : "s");
        fprintf(out, "\n");
    }
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
            x->opt.simulate ? "simulator"
            : !strcmp(x->result.trace.info.executor, "mpi") ? "MPI processes" : "device threads");
    fprintf(out, "costs: %s\n", pl_summary_unit(x, unit, sizeof unit));
    setup(x, out);
    if (x->opt.step_sync == PL_SYNC_LOCAL || x->opt.clip_norm > 0) {
        char clip[96] = "";
        if (x->opt.clip_norm > 0)
            snprintf(clip, sizeof clip, "; gradients clipped to norm %g, %s", x->opt.clip_norm,
                     x->opt.post_validation ? "checked after the update (post-validation)"
                                            : "all-reduced before the update");
        fprintf(out, "steps: %s%s\n", x->opt.step_sync == PL_SYNC_LOCAL
                ? "no barrier between them (--step-sync local)" : "a barrier after each", clip);
    }
    int first = pl_trace_first_kept(&x->result.trace);
    if (x->result.steps > 1 && first == 0)
        fprintf(out, "step %d of %d (the median makespan; every figure below is of it)\n",
                x->step + 1, x->result.steps);
    else if (x->result.steps > 1)
        fprintf(out, "step %d of %d (the median makespan of the last %d steps, those kept; "
                "every figure below is of it)\n", x->step + 1,
                x->result.steps, x->result.steps - first);
    if (x->result.trace.info.shown_steps > 1)
        fprintf(out, "the timeline shows steps %d to %d\n", x->result.trace.info.shown_step + 1,
                x->result.trace.info.shown_step + x->result.trace.info.shown_steps);
}

static void figures(const pl_experiment *x, FILE *out)
{
    fprintf(out, "%-11s %12s %12s %12s\n", "", "measured", "predicted", "formula");
    char a[32], b[32];
    fprintf(out, "%-11s %12s %12s %12s\n", "makespan ms",
            pl_clock_ms_text(x->makespan_ns / 1e6, a, sizeof a),
            pl_clock_ms_text(x->predicted_makespan_ns / 1e6, b, sizeof b), "-");
    fprintf(out, "%-11s %12.4f %12.4f ", "bubble", x->bubble, x->predicted_bubble);
    int capped = x->opt.max_inflight && x->opt.max_inflight < x->schedule.devices &&
                 x->opt.max_inflight < x->schedule.microbatches;
    if (x->bubble_theory >= 0)
        fprintf(out, "%12.4f  %s\n", x->bubble_theory,
                capped ? "1f1b under a memory cap (exercise 04 derives it)"
                       : x->entry->bubble_text);
    else
        fprintf(out, "%12s  (none: %s)\n", "-", x->theory_note);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (x->opt.clock == PL_CLOCK_REAL && !x->opt.simulate && cores > 0 &&
        x->schedule.devices > cores)
        fprintf(out, "note        %d devices on %ld cores: on the real clock they wait for a core "
                "as well as for messages, so this bubble is the host's, not the schedule's "
                "(--clock scaled models it)\n", x->schedule.devices, cores);
    if (x->period_ns < 0 || (x->opt.step_sync == PL_SYNC_GLOBAL && x->opt.clip_norm <= 0))
        return; /* steps that end at a barrier: the period is the makespan */
    fprintf(out, "%-11s %12s %12s %12s  (per step, steps 2..%d)\n", "period ms",
            pl_clock_ms_text(x->period_ns / 1e6, a, sizeof a),
            pl_clock_ms_text(x->predicted_period_ns / 1e6, b, sizeof b), "-", x->result.steps);
    fprintf(out, "%-11s %12.4f %12.4f %12s\n", "  bubble", x->period_bubble,
            x->predicted_period_bubble, "-");
}

/* Every device's whole memory at its peak: the five components, summed. */
static void bill(const pl_experiment *x, FILE *out)
{
    static const char *const short_name[5] = {"params", "grads", "optimizer", "activations",
                                              "messages"};
    fprintf(out, "memory      KiB at each device's peak:");
    for (int k = 0; k < 5; k++)
        fprintf(out, " %s%s", short_name[k], k < 4 ? " +" : " = total\n");
    for (int d = 0; d < x->result.trace.devices; d++) {
        pl_memory_bill b = pl_experiment_memory(x, d);
        size_t part[5] = {b.params, b.grads, b.optimizer, b.activations, b.messages};
        fprintf(out, "            d%-3d", d);
        for (int k = 0; k < 5; k++)
            fprintf(out, "%s%.1f", k ? " + " : "", (double)part[k] / 1024.0);
        fprintf(out, " = %.1f\n", (double)pl_memory_total(&b) / 1024.0);
    }
}

static void memory(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fprintf(out, "in-flight   ");
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "d%d:%d ", d, t->lanes[d].peak_inflight);
    fprintf(out, "(peak micro-batches held");
    if (x->entry && x->entry->peak && !x->warmup_extra) {
        pl_shape shape = {x->schedule.devices, x->schedule.microbatches, x->schedule.chunks, 0,
                          x->opt.max_inflight};
        fprintf(out, "; formula %s", x->entry->peak_text);
        if (shape.max_inflight)
            fprintf(out, ", at most %d", shape.max_inflight);
        fprintf(out, ":");
        for (int d = 0; d < t->devices; d++)
            fprintf(out, " %d", pl_registry_peak(x->entry, &shape, d));
    }
    fprintf(out, ")\nactivation  ");
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "d%d:%.1fKiB ", d, (double)t->lanes[d].peak_bytes / 1024.0);
    fprintf(out, "(peak)\nmessages    %ld per step between devices; KiB sent",
            pl_trace_messages(t, x->step));
    for (int d = 0; d < t->devices; d++)
        fprintf(out, " d%d:%.1f", d, (double)pl_trace_bytes_sent(t, d, x->step) / 1024.0);
    fprintf(out, "\n");
    bill(x, out);
}

void pl_summary_show_steps(pl_experiment *x, int all)
{
    if (!all)
        return;
    int first = pl_trace_first_kept(&x->result.trace); /* every step the trace kept */
    x->result.trace.info.shown_step = first;
    x->result.trace.info.shown_steps = x->result.steps - first;
}

void pl_summary_print(const pl_experiment *x, int colour, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    header(x, out);
    pl_timeline_print_steps(t, t->info.shown_step, t->info.shown_steps, 100, colour, out);
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
    if (x->threads_checked)
        fprintf(out, "threads     %s\n", x->threads_equal
                ? (x->opt.clock == PL_CLOCK_VIRTUAL ? "the same weights and trace as device threads"
                                                    : "the same weights as device threads")
                : "DIFFERS from device threads");
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
