/*
 * experiment.c -- options in; measured, predicted and formula figures out.
 */
#include "experiment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "profile.h"
#include "reference.h"
#include "runtime.h"
#include "simulate.h"

/* The schedule's shape: a registered schedule's, as the options ask for it,
 * or a schedule file's (loaded here; a file is never generated). */
static int make_shape(pl_experiment *x, pl_shape *shape, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    if (o->schedule_file) {
        x->name = o->schedule_file;
        if (pl_schedule_load(o->schedule_file, &x->schedule, err, errlen))
            return -1;
        *shape = (pl_shape){x->schedule.devices, x->schedule.microbatches, x->schedule.chunks, 0};
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

/* The model the options describe: its layers' widths, then its weights. */
static int make_model(pl_experiment *x, pl_model *m, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    int *widths = malloc((size_t)o->layers * sizeof *widths);
    if (widths)
        pl_options_widths(o, widths);
    int rc = widths ? pl_model_build(m, o->layers, widths, o->seed) : -1;
    free(widths);
    if (rc)
        snprintf(err, errlen, "out of host memory for the model");
    return rc;
}

/* Layers to stages, as --partition asks (chapter 07): even, balanced on
 * what each layer costs (by the model, or measured on this host), or the
 * stages given. */
static int make_partition(pl_experiment *x, int stages, int rows, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    if (o->partition == PL_PARTITION_EVEN)
        return pl_partition_even(&x->partition, o->layers, stages, err, errlen);
    if (o->partition == PL_PARTITION_EXPLICIT)
        return pl_partition_explicit(&x->partition, o->stage_layers, o->stages_given,
                                     o->layers, stages, err, errlen);
    int64_t *cost = malloc((size_t)o->layers * sizeof *cost);
    int rc = -1;
    if (!cost || pl_profile_layers(&x->model, o->partition, rows, cost))
        snprintf(err, errlen, "out of host memory measuring the layers");
    else
        rc = pl_partition_balanced(&x->partition, cost, o->layers, stages, err, errlen);
    if (o->partition == PL_PARTITION_MEASURED)
        x->layer_ns = cost; /* what the host measured, for the curious */
    else
        free(cost);
    return rc;
}

/* Units of the uniform model: one is the forward of L/p layers of width D
 * on batch/m rows, with the m asked for -- so naive, which runs the whole
 * batch as one micro-batch, pays m units for it: micro-batching alone saves
 * no time. (`pipelab plan`, which compares different m, fixes the rows of a
 * unit instead: o->unit_microbatches.) Links cost what --link-latency and --link-bandwidth say. */
static void make_job(pl_experiment *x, const pl_shape *shape)
{
    const pl_options *o = &x->opt;
    pl_job *j = &x->job;
    j->opt = &x->opt;
    j->model = &x->model;
    j->partition = &x->partition;
    j->schedule = &x->schedule;
    int nominal_m = o->unit_microbatches ? o->unit_microbatches
                    : o->schedule_file ? shape->microbatches : o->microbatches;
    j->cost = o->cost == PL_COST_FLOPS
        ? pl_cost_flops(o->flops_per_s)
        : pl_cost_uniform(llround(o->t_f * PL_COST_UNIT), llround(o->t_i * PL_COST_UNIT),
                          llround(o->t_w * PL_COST_UNIT), o->layers, o->width,
                          shape->devices, o->batch, nominal_m);
    pl_cost_set_links(&j->cost, o->link_latency_ms, o->link_bandwidth);
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
    else if ((e->assumes & PL_ASSUME_FREE_LINKS) && pl_cost_has_links(&x->job.cost))
        snprintf(why, n, "links are not free (%g ms latency%s), which the formula does not "
                 "count", x->opt.link_latency_ms, x->opt.link_bandwidth > 0 ? ", finite bandwidth"
                 : "");
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
    if (!x->clips) {
        snprintf(err, errlen, "out of host memory for the clipping reference");
        return -1;
    }
    if (make_model(x, &ref, err, errlen))
        return -1;
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
    if (make_model(x, &ref, err, errlen))
        return -1;
    int rc = pl_reference_train_as(&ref, &o, &x->partition, &x->schedule, NULL, NULL, err,
                                   errlen);
    if (rc == 0)
        x->bitwise_equal = pl_model_equal(&x->model, &ref, &x->max_abs_diff);
    pl_model_free(&ref);
    return rc;
}

// [region warmup-auto]
/* Chapter 07: in 1F1B's steady state a device holds one micro-batch more
 * than the device after it -- enough when a round trip over their link is
 * free. A round trip of r ticks (the activation down, the gradient back)
 * needs ceil(r / period) more, the period being one forward and one backward
 * of the slowest stage. Take the slowest link and the slowest stage. */
int pl_experiment_warmup_extra(const pl_job *job, const pl_shape *shape)
{
    const pl_partition *part = job->partition;
    int m = shape->microbatches, rows = job->opt->batch / m + (job->opt->batch % m > 0);
    int64_t period = 0, trip = 0;
    for (int st = 0; st < part->stages; st++) {
        int first = part->first[st], count = part->count[st], from, to, chunk;
        int64_t t = pl_cost_action(&job->cost, job->model, first, count, rows, PL_F) +
                    pl_cost_action(&job->cost, job->model, first, count, rows, PL_B);
        period = t > period ? t : period;
        if (st + 1 == part->stages)
            continue;
        pl_route_home(job->schedule->placement, shape->devices, st, &from, &chunk);
        pl_route_home(job->schedule->placement, shape->devices, st + 1, &to, &chunk);
        int64_t down = pl_memory_message_bytes(job->model, first, count, rows, PL_ACTIVATION);
        int64_t up = pl_memory_message_bytes(job->model, part->first[st + 1],
                                             part->count[st + 1], rows, PL_GRADIENT);
        int64_t r = pl_cost_link(&job->cost, from, to, down) +
                    pl_cost_link(&job->cost, to, from, up);
        trip = r > trip ? r : trip;
    }
    return period > 0 ? (int)((trip + period - 1) / period) : 0;
}
// [endregion warmup-auto]

/* Chapter 07's costs in a few words, for the pictures' titles: the model if
 * its widths differ, the partition if not even, the links if not free. */
static void describe_setup(const pl_experiment *x, char *buf, size_t n)
{
    const pl_options *o = &x->opt;
    static const char *const how[] = {"even", "balanced", "measured", "given"};
    size_t k = 0;
    buf[0] = '\0';
    if (o->widths || o->model == PL_MODEL_LM_LIKE)
        k += (size_t)snprintf(buf + k, n - k, "%s", o->widths ? "--widths" : "lm-like");
    if (o->partition != PL_PARTITION_EVEN && k < n) {
        k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", how[o->partition]);
        for (int st = 0; st < x->partition.stages && k < n; st++)
            k += (size_t)snprintf(buf + k, n - k, "%s%d", st ? "," : " ", x->partition.count[st]);
    }
    if (pl_cost_has_links(&x->job.cost) && k < n)
        k += (size_t)snprintf(buf + k, n - k, "%slinks %g ms%s%s", k ? ", " : "",
                              o->link_latency_ms, o->link_bandwidth > 0 ? " + bytes/beta" : "",
                              o->blocking_send ? ", blocking" : "");
    if (x->warmup_extra && k < n)
        snprintf(buf + k, n - k, ", warm-up +%d per link", x->warmup_extra);
}

int pl_experiment_prepare(const pl_options *o, pl_experiment *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->opt = *o;
    pl_shape shape;
    if (make_shape(x, &shape, err, errlen))
        return -1;
    if (shape.microbatches > o->batch) {
        snprintf(err, errlen, "%d micro-batches need a batch of at least %d samples (--batch is %d)",
                 shape.microbatches, shape.microbatches, o->batch);
        return -1;
    }
    if (make_model(x, &x->model, err, errlen) ||
        make_partition(x, shape.devices * shape.chunks, o->batch / shape.microbatches, err,
                       errlen))
        return -1;
    make_job(x, &shape);
    if (!o->schedule_file) {
        shape.warmup_extra = o->warmup_extra == PL_WARMUP_AUTO
                                 ? pl_experiment_warmup_extra(&x->job, &shape)
                                 : o->warmup_extra;
        x->warmup_extra = shape.warmup_extra;
        if (pl_registry_generate(x->entry, &shape, &x->schedule, err, errlen))
            return -1;
    }
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
    describe_setup(x, x->result.trace.info.setup, sizeof x->result.trace.info.setup);
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
    free(x->layer_ns);
    x->layer_ns = NULL;
    pl_schedule_free(&x->schedule);
    free(x->clips);
    x->clips = NULL;
}
