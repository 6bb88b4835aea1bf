/*
 * experiment.c -- options in, measured numbers out.
 */
#include "experiment.h"

#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "runtime.h"
#include "simulate.h"

void pl_options_defaults(pl_options *o)
{
    memset(o, 0, sizeof *o);
    o->schedule = "1f1b";
    o->devices = 4;
    o->microbatches = 8;
    o->layers = 8;
    o->width = 32;
    o->batch = 32;
    o->steps = 2;
    o->seed = 1;
    o->cost = PL_COST_UNIFORM;
    o->flops_per_s = 1e9;
    o->clock = PL_CLOCK_VIRTUAL;
    o->scale = 1.0;
    o->fault_device = -1;
    o->fault_action = -1;
    o->watchdog_s = 10.0;
}

static int make_schedule(pl_experiment *x, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    if (o->schedule_file) {
        x->name = o->schedule_file;
        return pl_schedule_load(o->schedule_file, &x->schedule, err, errlen);
    }
    const pl_schedule_info *info = pl_schedule_find(o->schedule);
    if (!info) {
        snprintf(err, errlen, "unknown schedule '%s'", o->schedule);
        return -1;
    }
    x->name = info->name;
    int m = info->fixed_microbatches ? 1 : o->microbatches;
    return info->generate(&x->schedule, o->devices, m, err, errlen);
}

static int64_t median_i64(int64_t *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is the number of steps */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* Makespan and bubble of every step; report the step with the median makespan. */
static int measure(pl_experiment *x)
{
    int steps = x->result.steps;
    int64_t *span = calloc((size_t)steps, sizeof *span);
    if (!span)
        return -1;
    for (int k = 0; k < steps; k++) {
        pl_metrics m;
        if (pl_metrics_compute(&x->result.trace, k, &m)) {
            free(span);
            return -1;
        }
        span[k] = m.makespan;
        pl_metrics_free(&m);
    }
    int64_t median = median_i64(span, steps);
    free(span);
    for (int k = 0; k < steps; k++) {
        pl_metrics m;
        pl_metrics_compute(&x->result.trace, k, &m);
        int hit = m.makespan == median;
        if (hit) {
            x->makespan = m.makespan;
            x->bubble = m.bubble;
        }
        pl_metrics_free(&m);
        if (hit)
            break;
    }
    return 0;
}

/* Train a fresh copy of the initial model sequentially and compare bits. */
static int verify(pl_experiment *x, char *err, size_t errlen)
{
    const pl_options *o = &x->opt;
    pl_model ref;
    if (pl_model_init(&ref, o->layers, o->width, o->seed)) {
        snprintf(err, errlen, "verify: out of host memory");
        return -1;
    }
    pl_train_config cfg = {o->seed, o->steps, o->batch, x->schedule.microbatches, x->job.lr};
    int rc = pl_reference_train(&ref, &cfg, NULL, err, errlen);
    if (rc == 0)
        x->bitwise_equal = pl_model_equal(&x->model, &ref, &x->max_abs_diff);
    pl_model_free(&ref);
    return rc;
}

static void build_job(pl_experiment *x)
{
    const pl_options *o = &x->opt;
    pl_job *j = &x->job;
    pl_job_defaults(j);
    j->model = &x->model;
    j->partition = &x->partition;
    j->schedule = &x->schedule;
    /* One uniform unit is the forward of a micro-batch of batch/m rows, with
     * the m asked for: naive, which runs the whole batch as one, then pays m
     * units for it -- micro-batching alone saves no time. */
    int nominal_m = o->schedule_file ? x->schedule.microbatches : o->microbatches;
    j->cost = o->cost == PL_COST_FLOPS ? pl_cost_flops(o->flops_per_s)
                                       : pl_cost_uniform(o->batch, nominal_m);
    j->clock = o->clock;
    j->scale = o->scale;
    j->seed = o->seed;
    j->steps = o->steps;
    j->batch = o->batch;
    j->recompute = o->recompute;
    j->device_memory = o->device_memory;
    j->fault_device = o->fault_device;
    j->fault_action = o->fault_action;
    j->watchdog_s = o->watchdog_s;
    j->totals_only = o->totals_only;
    j->on_step = o->on_step;
    j->on_step_ctx = o->on_step_ctx;
}

int pl_experiment_run(const pl_options *o, pl_experiment *x, char *err, size_t errlen)
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
    build_job(x);
    int rc = o->simulate ? pl_simulate(&x->job, &x->result, err, errlen)
                         : pl_runtime_run(&x->job, &x->result, err, errlen);
    if (rc)
        return -1;
    if (measure(x)) {
        snprintf(err, errlen, "no actions were executed");
        return -1;
    }
    /* The formulas assume no recomputation: with it the recomputed forwards
     * are extra busy time, and no closed form is claimed. */
    x->bubble_theory = o->schedule_file || o->recompute ? -1.0
        : pl_bubble_theory(x->name, x->schedule.devices, x->schedule.microbatches,
                           x->schedule.chunks);
    if (o->verify && !o->simulate)
        return verify(x, err, errlen);
    return 0;
}

void pl_experiment_free(pl_experiment *x)
{
    pl_result_free(&x->result);
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

void pl_experiment_json(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fputs("{\"schedule\":", out);
    pl_json_string(x->name, out);
    fprintf(out, ",\"devices\":%d,\"microbatches\":%d,\"chunks\":%d,\"clock\":\"%s\","
            "\"executor\":\"%s\",\"steps\":%d,\"makespan_ns\":%lld,\"bubble\":%.9g,",
            x->schedule.devices, x->schedule.microbatches, x->schedule.chunks,
            pl_clock_name(x->opt.clock), x->opt.simulate ? "simulator" : "threads",
            x->opt.steps, (long long)x->makespan, x->bubble);
    if (x->bubble_theory >= 0)
        fprintf(out, "\"bubble_theory\":%.9g,", x->bubble_theory);
    else
        fputs("\"bubble_theory\":null,", out);
    fputs("\"peak_inflight\":[", out);
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%d", d ? "," : "", t->lanes[d].peak_inflight);
    fputs("],\"peak_activation_bytes\":[", out);
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%zu", d ? "," : "", t->lanes[d].peak_bytes);
    fputs("],\"loss\":[", out);
    for (int k = 0; x->result.loss && k < x->result.steps; k++)
        fprintf(out, "%s%.9g", k ? "," : "", (double)x->result.loss[k]);
    fputc(']', out);
    if (x->opt.verify && !x->opt.simulate)
        fprintf(out, ",\"bitwise_equal\":%s,\"max_abs_diff\":%.9g",
                x->bitwise_equal ? "true" : "false", x->max_abs_diff);
    fputs("}\n", out);
}
