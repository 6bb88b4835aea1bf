/*
 * experiment.c -- options in; measured, predicted and formula figures out.
 */
#include "experiment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "needs.h"
#include "reference.h"
#include "runtime.h"
#include "simulate.h"
#include "validate.h"

/* The schedule's shape: a registered one's as the options ask for it, or
 * a file's, which is loaded and validated (its peaks in flight go to
 * `peak`). -1 with err if it is not one that can run. */
static int make_shape(pl_experiment *x, pl_shape *shape, int **peak, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    if (o->schedule_file) {
        pl_validation v;
        x->name = o->schedule_file;
        if (pl_schedule_load(o->schedule_file, &x->schedule, err, errlen) ||
            pl_validate(&x->schedule, &v, err, errlen))
            return -1;
        *peak = v.peak_inflight;
        v.peak_inflight = NULL;
        pl_validation_free(&v);
        *shape = (pl_shape){x->schedule.devices, x->schedule.microbatches, x->schedule.chunks};
        return 0;
    }
    x->entry = pl_registry_find(o->schedule);
    if (!x->entry) {
        snprintf(err, errlen, "unknown schedule '%s'", o->schedule ? o->schedule : "(none)");
        return -1;
    }
    x->name = x->entry->name;
    *shape = pl_registry_shape(x->entry, o->devices, o->microbatches, o->chunks);
    return 0;
}

/* Units of the uniform model: one is the forward of L/p layers on batch/m
 * rows, with the m asked for -- so naive, which runs the whole batch as one
 * micro-batch, pays m units for it: micro-batching alone saves no time. */
static void make_job(pl_experiment *x, const pl_shape *shape)
{
    const pl_options *o = &x->opt;
    pl_job *j = &x->job;
    j->opt = &x->opt;
    j->model = &x->model;
    j->partition = &x->partition;
    j->schedule = &x->schedule;
    int nominal_m = o->schedule_file ? shape->microbatches : o->microbatches;
    j->cost = o->cost == PL_COST_FLOPS
        ? pl_cost_flops(o->flops_per_s)
        : pl_cost_uniform(llround(o->t_f * PL_COST_UNIT), llround(o->t_i * PL_COST_UNIT),
                          llround(o->t_w * PL_COST_UNIT), o->layers, shape->devices,
                          o->batch, nominal_m);
}

/* Everything a run needs but cannot fail for lack of: a shape the batch and
 * the layers can fill, a partition, needs within the limits (needs.h), and
 * the schedule itself -- then the weights. Every refusal is one line. */
static int prepare(pl_experiment *x, int dry, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    pl_shape shape;
    int *peak = NULL, rc = make_shape(x, &shape, &peak, err, errlen);
    if (rc == 0 && shape.microbatches > o->batch) {
        snprintf(err, errlen, "%d micro-batches need a batch of at least %d samples (--batch is %d)",
                 shape.microbatches, shape.microbatches, o->batch);
        rc = -1;
    }
    if (rc == 0)
        rc = pl_partition_even(&x->partition, o->layers, shape.devices * shape.chunks, err,
                               errlen);
    if (rc == 0 && pl_needs_model_shape(&x->model, o)) {
        snprintf(err, errlen, "out of host memory for the model's shape");
        rc = -1;
    }
    if (rc == 0) {
        pl_needs needs;
        make_job(x, &shape);
        x->job.schedule = o->schedule_file ? &x->schedule : NULL;
        pl_needs_estimate(&x->job, &shape, x->entry, peak, &needs);
        x->job.schedule = &x->schedule;
        rc = pl_needs_check(&x->job, &needs, err, errlen);
    }
    free(peak);
    pl_model_free(&x->model);
    if (rc == 0 && x->entry && !dry)
        rc = pl_registry_generate(x->entry, &shape, &x->schedule, err, errlen);
    if (rc == 0 && !dry && !o->simulate && (o->fault_device >= 0 || o->schedule_file))
        rc = pl_runtime_check(&x->job, err, errlen);
    return rc ? PL_EXPERIMENT_REFUSED : 0;
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

/* The step of median makespan among the steps the trace kept (every step,
 * unless the run was longer than PL_TRACE_KEPT_STEPS): the one the summary
 * and the pictures show. (With an even number, the upper median: a step
 * that ran.) */
static int measure(pl_experiment *x)
{
    const pl_trace *t = &x->result.trace;
    int first = pl_trace_first_kept(t), n = t->steps - first;
    step_span *s = n > 0 ? calloc((size_t)n, sizeof *s) : NULL;
    int rc = s ? 0 : -1;
    pl_metrics m;
    for (int k = 0; rc == 0 && k < n; k++) {
        rc = pl_metrics_compute(t, first + k, &m);
        s[k] = (step_span){m.makespan, first + k};
        pl_metrics_free(&m);
    }
    if (rc == 0) {
        qsort(s, (size_t)n, sizeof *s, by_span);
        x->step = s[n / 2].step;
        rc = pl_metrics_compute(t, x->step, &m);
    }
    if (rc == 0) {
        x->makespan_ns = (double)m.makespan * t->info.ns_per_tick;
        x->bubble = m.bubble;
        pl_metrics_free(&m);
    }
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
    if (pl_metrics_compute(&sim->trace, 0, &m))
        return -1;
    x->predicted_makespan_ns = pl_clock_predict_ns(x->opt.clock, m.makespan,
                                                   x->job.cost.ns_per_tick, x->opt.scale);
    x->predicted_bubble = m.bubble;
    pl_metrics_free(&m);
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
    int rc = pl_reference_train(&ref, &o, NULL, err, errlen);
    if (rc == 0)
        x->bitwise_equal = pl_model_equal(&x->model, &ref, &x->max_abs_diff);
    pl_model_free(&ref);
    return rc;
}

int pl_experiment_run(const pl_options *o, pl_experiment *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->opt = *o;
    if (prepare(x, 0, err, errlen))
        return PL_EXPERIMENT_REFUSED;
    if (pl_model_init(&x->model, o->layers, o->width, o->seed)) {
        snprintf(err, errlen, "out of host memory for the model");
        return -1;
    }
    int rc = o->simulate ? pl_simulate(&x->job, &x->result, err, errlen)
                         : pl_runtime_run(&x->job, &x->result, err, errlen);
    if (rc)
        return -1;
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

int pl_experiment_check(const pl_options *o, char *err, size_t errlen)
{
    pl_experiment x;
    memset(&x, 0, sizeof x);
    x.opt = *o;
    int rc = prepare(&x, 1, err, errlen);
    pl_experiment_free(&x);
    return rc;
}

void pl_experiment_free(pl_experiment *x)
{
    pl_result_free(&x->result);
    pl_result_free(&x->prediction);
    pl_model_free(&x->model);
    pl_partition_free(&x->partition);
    pl_schedule_free(&x->schedule);
}

size_t pl_experiment_peak_bytes(const pl_experiment *x)
{
    size_t peak = 0;
    for (int d = 0; d < x->result.trace.devices; d++)
        if (x->result.trace.lanes[d].peak_bytes > peak)
            peak = x->result.trace.lanes[d].peak_bytes;
    return peak;
}

// [region json]
void pl_experiment_json(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fputs("{\"schedule\":", out);
    pl_json_string(x->name, out);
    fprintf(out, ",\"devices\":%d,\"microbatches\":%d,\"chunks\":%d,\"placement\":\"%s\","
            "\"clock\":\"%s\",\"executor\":\"%s\",\"steps\":%d,\"step\":%d,"
            "\"cost_unit_ns\":", x->schedule.devices,
            x->schedule.microbatches, x->schedule.chunks,
            pl_route_placement_name(x->schedule.placement), pl_clock_name(x->opt.clock),
            t->info.executor, x->opt.steps, x->step);
    pl_json_number(x->opt.cost == PL_COST_UNIFORM ? (double)PL_COST_UNIT : NAN, out);
    fputs(",\"makespan_ns\":", out);
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
    fputs("}\n", out);
}
// [endregion json]
