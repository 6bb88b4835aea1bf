/*
 * experiment.c -- options in; measured, predicted and formula figures out.
 */
#include "experiment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "reference.h"
#include "runtime.h"
#include "simulate.h"

/* The schedule: a registered one in the shape the options ask for, or a file. */
static int make_schedule(pl_experiment *x, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    if (o->schedule_file) {
        x->name = o->schedule_file;
        return pl_schedule_load(o->schedule_file, &x->schedule, err, errlen);
    }
    x->entry = pl_registry_find(o->schedule);
    if (!x->entry) {
        snprintf(err, errlen, "unknown schedule '%s'", o->schedule ? o->schedule : "(none)");
        return -1;
    }
    x->name = x->entry->name;
    pl_shape shape = pl_registry_shape(x->entry, o->devices, o->microbatches, o->chunks);
    return pl_registry_generate(x->entry, &shape, &x->schedule, err, errlen);
}

/* Units of the uniform model: one is the forward of L/p layers on batch/m
 * rows, with the m asked for -- so naive, which runs the whole batch as one
 * micro-batch, pays m units for it: micro-batching alone saves no time. */
static void make_job(pl_experiment *x)
{
    const pl_options *o = &x->opt;
    pl_job *j = &x->job;
    j->opt = &x->opt;
    j->model = &x->model;
    j->partition = &x->partition;
    j->schedule = &x->schedule;
    int nominal_m = o->schedule_file ? x->schedule.microbatches : o->microbatches;
    j->cost = o->cost == PL_COST_FLOPS
        ? pl_cost_flops(o->flops_per_s)
        : pl_cost_uniform(llround(o->t_f * PL_COST_UNIT), llround(o->t_i * PL_COST_UNIT),
                          llround(o->t_w * PL_COST_UNIT), o->layers, x->schedule.devices,
                          o->batch, nominal_m);
}

typedef struct {
    int64_t span;
    int step;
} step_span;

static int by_span(const void *a, const void *b)
{
    const step_span *x = a, *y = b;
    return x->span != y->span ? (x->span > y->span) - (x->span < y->span)
                              : (x->step > y->step) - (x->step < y->step);
}

/* The step of median makespan: the one the summary and the pictures show.
 * (With an even number of steps, the upper median: a step that ran.) */
static int measure(pl_experiment *x)
{
    const pl_trace *t = &x->result.trace;
    step_span *s = calloc((size_t)t->steps, sizeof *s);
    int rc = s ? 0 : -1;
    pl_metrics m;
    for (int k = 0; rc == 0 && k < t->steps; k++) {
        rc = pl_metrics_compute(t, k, &m);
        s[k] = (step_span){m.makespan, k};
        pl_metrics_free(&m);
    }
    if (rc == 0) {
        qsort(s, (size_t)t->steps, sizeof *s, by_span);
        x->step = s[t->steps / 2].step;
        rc = pl_metrics_compute(t, x->step, &m);
    }
    if (rc == 0) {
        x->makespan_ns = (double)m.makespan * t->info.ns_per_tick;
        x->bubble = m.bubble;
        pl_metrics_free(&m);
    }
    double period;
    if (rc == 0 && pl_trace_period(t, &period, &x->period_bubble) == 0)
        x->period_ns = period * t->info.ns_per_tick;
    free(s);
    return rc;
}

/* The simulator's figures for the same job, in the measured clock's ns. */
static int predict(pl_experiment *x, char *err, size_t errlen)
{
    const pl_result *sim = &x->result;
    if (!x->opt.simulate) {
        pl_options quiet = x->opt;
        quiet.totals_only = 1;
        pl_job job = x->job;
        job.opt = &quiet;
        if (pl_simulate(&job, &x->prediction, err, errlen))
            return -1;
        sim = &x->prediction;
    }
    pl_metrics m;
    if (pl_metrics_compute(&sim->trace, x->step, &m))
        return -1;
    double tick = pl_clock_predict_ns(x->opt.clock, 1, x->job.cost.ns_per_tick, x->opt.scale);
    x->predicted_makespan_ns = (double)m.makespan * tick;
    x->predicted_bubble = m.bubble;
    pl_metrics_free(&m);
    double period;
    if (pl_trace_period(&sim->trace, &period, &x->predicted_period_bubble) == 0)
        x->predicted_period_ns = period * tick;
    return 0;
}

/* Empty if every stage's F, I and W cost the same; else what differs. */
static void equal_stages(const pl_experiment *x, int rows, char *why, size_t n)
{
    const pl_job *j = &x->job;
    int64_t base[3];
    for (int st = 0; st < x->partition.stages; st++)
        for (int k = 0; k < 3; k++) {
            static const pl_kind kinds[3] = {PL_F, PL_I, PL_W};
            int64_t t = pl_cost_action(&j->cost, j->model, x->partition.first[st],
                                       x->partition.count[st], rows, kinds[k]);
            if (st == 0)
                base[k] = t;
            else if (t != base[k]) {
                snprintf(why, n, "stages are unequal: stage %d's %s takes %g ns, stage 0's "
                         "%g ns (%d layers over %d stages)", st, pl_action_name(kinds[k]),
                         pl_cost_ns(&j->cost, t), pl_cost_ns(&j->cost, base[k]),
                         x->opt.layers, x->partition.stages);
                return;
            }
        }
}

/* Empty if every step ran alone and once, as the formulas assume; else why
 * not (chapter 06). */
static void overlapping_steps(const pl_experiment *x, char *why, size_t n)
{
    const pl_options *o = &x->opt;
    int reruns = 0;
    for (int k = 0; o->post_validation && x->clips && k < o->steps - 1; k++)
        reruns += x->clips[k];
    if (o->step_sync == PL_SYNC_LOCAL && o->steps > 1)
        snprintf(why, n, "steps overlap without a barrier (--step-sync local): the formula is "
                 "of a step alone; see the period");
    else if (reruns)
        snprintf(why, n, "post-validation ran %d step%s again after a rollback: the formula "
                 "counts each step once", reruns, reruns == 1 ? "" : "s");
}

/* The chapter's closed form, where each assumption it needs holds. */
static void formula(pl_experiment *x)
{
    const pl_registry_entry *e = x->entry;
    const pl_schedule *s = &x->schedule;
    char *why = x->theory_note;
    size_t n = sizeof x->theory_note;
    int rows = x->opt.batch / s->microbatches;
    x->bubble_theory = -1;
    why[0] = '\0';
    if (!e)
        snprintf(why, n, "a schedule file has no formula");
    else if (!e->bubble)
        snprintf(why, n, "%s has no closed form", e->name);
    else if ((e->assumes & PL_ASSUME_NO_RECOMPUTE) && x->opt.recompute)
        snprintf(why, n, "recomputed forwards are extra work the formula does not count");
    else if ((e->assumes & PL_ASSUME_EQUAL_MICROBATCHES) && x->opt.batch % s->microbatches)
        snprintf(why, n, "micro-batches are unequal: batch %d is not a multiple of m = %d",
                 x->opt.batch, s->microbatches);
    else if (e->assumes & PL_ASSUME_EQUAL_STAGES)
        equal_stages(x, rows, why, n);
    if (!why[0])
        overlapping_steps(x, why, n);
    if (why[0])
        return;
    const pl_job *j = &x->job;
    int first = x->partition.first[0], count = x->partition.count[0];
    pl_formula_case c = {s->devices, s->microbatches, s->chunks,
                         pl_cost_action(&j->cost, j->model, first, count, rows, PL_F),
                         pl_cost_action(&j->cost, j->model, first, count, rows, PL_I),
                         pl_cost_action(&j->cost, j->model, first, count, rows, PL_W)};
    const char *outside = NULL;
    double b = e->bubble(&c, &outside);
    if (b >= 0)
        x->bubble_theory = b;
    else
        snprintf(why, n, "%s", outside ? outside : "outside the formula's domain");
}

/* With clipping, which steps clip: the sequential reference knows, bit for
 * bit, and the simulator needs it to predict post-validation's rollbacks. */
static int find_clips(pl_experiment *x, char *err, size_t errlen)
{
    pl_options o = x->opt;
    pl_model ref;
    if (o.clip_norm <= 0)
        return 0;
    o.microbatches = x->schedule.microbatches;
    x->clips = calloc((size_t)o.steps, 1);
    if (!x->clips || pl_model_init(&ref, o.layers, o.width, o.seed)) {
        snprintf(err, errlen, "out of host memory for the clipping reference");
        return -1;
    }
    int rc = pl_reference_train_as(&ref, &o, &x->partition, &x->schedule, NULL, x->clips, err,
                                   errlen);
    pl_model_free(&ref);
    x->job.clips = x->clips;
    return rc;
}

/* Train a fresh copy of the initial model sequentially and compare bits. */
static int verify(pl_experiment *x, char *err, size_t errlen)
{
    pl_options o = x->opt;
    o.microbatches = x->schedule.microbatches; /* naive runs 1 */
    pl_model ref;
    if (pl_model_init(&ref, o.layers, o.width, o.seed)) {
        snprintf(err, errlen, "verify: out of host memory");
        return -1;
    }
    int rc = pl_reference_train_as(&ref, &o, &x->partition, &x->schedule, NULL, NULL, err,
                                   errlen);
    if (rc == 0)
        x->bitwise_equal = pl_model_equal(&x->model, &ref, &x->max_abs_diff);
    pl_model_free(&ref);
    return rc;
}

int pl_experiment_prepare(const pl_options *o, pl_experiment *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->opt = *o;
    if (make_schedule(x, err, errlen))
        return -1;
    if (x->schedule.microbatches > o->batch) {
        snprintf(err, errlen, "%d micro-batches need a batch of at least %d samples (--batch is %d)",
                 x->schedule.microbatches, x->schedule.microbatches, o->batch);
        return -1;
    }
    if (pl_partition_even(&x->partition, o->layers, pl_schedule_stages(&x->schedule),
                          err, errlen))
        return -1;
    if (pl_model_init(&x->model, o->layers, o->width, o->seed)) {
        snprintf(err, errlen, "out of host memory for the model");
        return -1;
    }
    make_job(x);
    x->period_ns = x->predicted_period_ns = -1;
    return find_clips(x, err, errlen);
}

int pl_experiment_finish(pl_experiment *x, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    snprintf(x->result.trace.info.name, sizeof x->result.trace.info.name, "%s", x->name);
    if (measure(x)) {
        snprintf(err, errlen, "no actions were executed");
        return -1;
    }
    if (predict(x, err, errlen))
        return -1;
    formula(x);
    x->result.trace.info.formula = x->bubble_theory;
    x->result.trace.info.shown_step = x->step;
    if (o->verify && !o->simulate)
        return verify(x, err, errlen);
    return 0;
}

int pl_experiment_run(const pl_options *o, pl_experiment *x, char *err, size_t errlen)
{
    if (pl_experiment_prepare(o, x, err, errlen))
        return -1;
    int rc = o->simulate ? pl_simulate(&x->job, &x->result, err, errlen)
                         : pl_runtime_run(&x->job, &x->result, err, errlen);
    return rc ? -1 : pl_experiment_finish(x, err, errlen);
}

void pl_experiment_free(pl_experiment *x)
{
    pl_result_free(&x->result);
    pl_result_free(&x->prediction);
    pl_model_free(&x->model);
    pl_partition_free(&x->partition);
    pl_schedule_free(&x->schedule);
    free(x->clips);
    x->clips = NULL;
}

size_t pl_experiment_peak_bytes(const pl_experiment *x)
{
    size_t peak = 0;
    for (int d = 0; d < x->result.trace.devices; d++)
        if (x->result.trace.lanes[d].peak_bytes > peak)
            peak = x->result.trace.lanes[d].peak_bytes;
    return peak;
}

/* How the run ends its steps and what its costs were (chapter 06). */
static void json_step_end(const pl_experiment *x, FILE *out)
{
    const pl_options *o = &x->opt;
    int clipped = 0;
    for (int k = 0; x->clips && k < o->steps; k++)
        clipped += x->clips[k];
    fprintf(out, ",\"step_sync\":\"%s\",\"clip_grad_norm\":",
            o->step_sync == PL_SYNC_LOCAL ? "local" : "global");
    pl_json_number(o->clip_norm > 0 ? o->clip_norm : NAN, out);
    fprintf(out, ",\"post_validation\":%s,\"clipped_steps\":",
            o->post_validation ? "true" : "false");
    if (o->clip_norm > 0)
        fprintf(out, "%d", clipped);
    else
        fputs("null", out);
    if (o->cost == PL_COST_UNIFORM)
        fprintf(out, ",\"costs\":[%.9g,%.9g,%.9g]", o->t_f, o->t_i, o->t_w);
    else
        fputs(",\"costs\":null", out);
}

// [region json]
void pl_experiment_json(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fputs("{\"schedule\":", out);
    pl_json_string(x->name, out);
    fprintf(out, ",\"devices\":%d,\"microbatches\":%d,\"chunks\":%d,\"placement\":\"%s\","
            "\"clock\":\"%s\",\"executor\":\"%s\",\"steps\":%d,\"step\":%d,"
            "\"cost_unit_ns\":%.9g,\"makespan_ns\":", x->schedule.devices,
            x->schedule.microbatches, x->schedule.chunks,
            pl_route_placement_name(x->schedule.placement), pl_clock_name(x->opt.clock),
            t->info.executor, x->opt.steps, x->step,
            x->opt.cost == PL_COST_UNIFORM ? (double)PL_COST_UNIT : NAN);
    pl_json_number(x->makespan_ns, out);
    fputs(",\"bubble\":", out);
    pl_json_number(x->bubble, out);
    fputs(",\"makespan_predicted_ns\":", out);
    pl_json_number(x->predicted_makespan_ns, out);
    fputs(",\"bubble_predicted\":", out);
    pl_json_number(x->predicted_bubble, out);
    fputs(",\"bubble_theory\":", out);
    pl_json_number(x->bubble_theory >= 0 ? x->bubble_theory : NAN, out);
    fputs(",\"theory_note\":", out);
    if (x->theory_note[0])
        pl_json_string(x->theory_note, out);
    else
        fputs("null", out);
    fputs(",\"period_ns\":", out);
    pl_json_number(x->period_ns >= 0 ? x->period_ns : NAN, out);
    fputs(",\"period_bubble\":", out);
    pl_json_number(x->period_ns >= 0 ? x->period_bubble : NAN, out);
    fputs(",\"period_predicted_ns\":", out);
    pl_json_number(x->predicted_period_ns >= 0 ? x->predicted_period_ns : NAN, out);
    fputs(",\"period_bubble_predicted\":", out);
    pl_json_number(x->predicted_period_ns >= 0 ? x->predicted_period_bubble : NAN, out);
    json_step_end(x, out);
    fprintf(out, ",\"messages\":%ld,\"peak_inflight\":[", pl_trace_messages(t, x->step));
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%d", d ? "," : "", t->lanes[d].peak_inflight);
    fputs("],\"peak_activation_bytes\":[", out);
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%zu", d ? "," : "", t->lanes[d].peak_bytes);
    fputs("],\"loss\":", out);
    if (x->result.loss) {
        for (int k = 0; k < x->result.steps; k++) {
            fputs(k ? "," : "[", out);
            pl_json_number((double)x->result.loss[k], out);
        }
        fputc(']', out);
    } else {
        fputs("null", out);
    }
    if (x->opt.verify && !x->opt.simulate) {
        fprintf(out, ",\"bitwise_equal\":%s,\"max_abs_diff\":",
                x->bitwise_equal ? "true" : "false");
        pl_json_number(x->max_abs_diff, out);
    }
    if (x->threads_checked)
        fprintf(out, ",\"threads_equal\":%s", x->threads_equal ? "true" : "false");
    fputs("}\n", out);
}
// [endregion json]
