/*
 * device.c -- a device's life (chapter 01): walk the action list step after
 * step, end every step -- the optimizer step on its own layers, and the
 * barrier where it meets the other devices (device_step.c) -- and hand in
 * what it measured. What one action does is in device_action.c.
 */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fiber.h"

static int stopped(void *net)
{
    return pl_transport_stopped(net);
}

int pl_device_init(pl_device *dv, const pl_job *job, pl_transport *net, int id, int64_t epoch)
{
    const pl_schedule *s = job->schedule;
    const pl_options *o = job->opt;
    memset(dv, 0, sizeof *dv);
    dv->job = job;
    dv->net = net;
    dv->id = id;
    dv->unchecked = -1;
    dv->clock = pl_clock_make(o->clock, epoch, job->cost.ns_per_tick, o->scale);
    pl_clock_on_stop(&dv->clock, stopped, net); /* a stopped run cuts sleeps short */
    for (int c = 0; c < s->chunks; c++) {
        int stage = pl_schedule_stage(s, id, c);
        dv->first_stage |= stage == 0;
        dv->last_stage |= stage == pl_schedule_stages(s) - 1;
    }
    pl_memory_bill fixed = pl_job_static_memory(job, id);
    dv->fixed = pl_memory_total(&fixed);
    dv->stash = calloc((size_t)s->chunks * s->microbatches, sizeof *dv->stash);
    for (int k = 0; dv->stash && k < s->chunks * s->microbatches; k++)
        dv->stash[k].pool = &dv->pool;
    if (dv->last_stage) {
        dv->share = calloc((size_t)s->microbatches, sizeof *dv->share);
        dv->loss = calloc((size_t)o->steps, sizeof *dv->loss);
    }
    if (!dv->stash || (dv->last_stage && (!dv->share || !dv->loss)) ||
        pl_lane_init(&dv->lane, o->steps, !o->totals_only) ||
        pl_lane_reserve(&dv->lane, (long)dv->lane.kept * s->len[id] * (o->recompute ? 2 : 1),
                        (long)dv->lane.kept * s->len[id])) /* at most one send an action */
        return -1;
    return 0;
}

void pl_device_free(pl_device *dv)
{
    const pl_schedule *s = dv->job ? dv->job->schedule : NULL;
    for (int k = 0; s && dv->stash && k < s->chunks * s->microbatches; k++)
        pl_stage_free(&dv->stash[k]);
    free(dv->stash);
    pl_pool_free(&dv->pool);
    free(dv->share);
    free(dv->loss);
    pl_data_batch_free(&dv->batch);
    pl_lane_free(&dv->lane);
    pl_memory_transit_free(&dv->transit);
    free(dv->saved);
    memset(dv, 0, sizeof *dv);
}

void pl_device_fail(pl_device *dv, pl_action a, const char *why)
{
    char name[32], msg[512];
    snprintf(msg, sizeof msg, "d%d failed at step %d position %d (%s): %s", dv->id,
             dv->step, atomic_load(&dv->watch.pos),
             pl_schedule_format(dv->job->schedule, a, name, sizeof name), why);
    pl_transport_abort(dv->net, dv->id, msg);
}

/* The step's data, made when the step starts and only by the devices that
 * read it: the first stage's inputs, the last stage's targets. */
static int load_batch(pl_device *dv)
{
    const pl_options *o = dv->job->opt;
    if (!dv->first_stage && !dv->last_stage)
        return 0;
    pl_data_batch_free(&dv->batch);
    if (pl_data_batch(&dv->batch, o->seed, dv->step, o->batch, dv->job->model->width) == 0)
        return 0;
    pl_transport_abort(dv->net, dv->id, "out of host memory for the step's batch");
    return -1;
}

/* The injected fault: fail at once, or stall -- wait for nothing until the
 * run is stopped, which only a watchdog can do. A fiber lets the others of
 * its kernel thread run between its naps. */
static void inject_fault(pl_device *dv, pl_action a)
{
    if (!dv->job->opt->fault_stall) {
        pl_device_fail(dv, a, "injected fault");
        return;
    }
    pl_watch_set(&dv->watch.state, PL_DEV_STALLED);
    while (!pl_transport_stopped(dv->net)) {
        struct timespec ts = {0, 1000000};
        pl_fiber_yield();
        nanosleep(&ts, NULL);
    }
}

// [region device-main]
int pl_device_run_list(pl_device *dv)
{
    const pl_job *job = dv->job;
    const pl_options *o = job->opt;
    for (int i = 0; i < job->schedule->len[dv->id]; i++) {
        pl_action a = job->schedule->actions[dv->id][i];
        pl_watch_set(&dv->watch.pos, i);
        if (pl_transport_stopped(dv->net))
            return -1;
        if (dv->id == o->fault_device && dv->actions_done == o->fault_action) {
            inject_fault(dv, a);
            return -1;
        }
        if (pl_device_run_action(dv, &a))
            return -1;
        dv->actions_done++;
        pl_watch_progress(&dv->watch);
    }
    return 0;
}

int pl_device_run(pl_device *dv)
{
    const pl_options *o = dv->job->opt;
    int rc = -1;
    for (dv->step = 0; dv->step < o->steps; dv->step++) {
        pl_watch_set(&dv->watch.step, dv->step);
        if (load_batch(dv) || pl_device_run_list(dv) || pl_device_end_step(dv))
            goto out;
        if (dv->id == 0 && o->on_step)
            o->on_step(o->on_step_ctx, dv->step + 1, o->steps);
    }
    if (pl_device_end_run(dv))
        goto out;
    pl_report report = {dv->lane, dv->loss};
    memset(&dv->lane, 0, sizeof dv->lane);
    dv->loss = NULL;
    rc = pl_transport_collect(dv->net, dv->id, &report);
    pl_lane_free(&report.lane); /* whatever the transport did not take */
    free(report.loss);
out:
    pl_watch_set(&dv->watch.state, PL_DEV_DONE);
    return rc;
}
// [endregion device-main]
