/*
 * device.c -- a device thread's life (chapter 01): walk the action list step
 * after step, hand messages to and from the mailboxes, account memory, record
 * the trace, and meet the other devices at the end of every step. What one
 * action does is in action.c.
 */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mailbox slot of a message: activations first, then gradients. */
static int slot_of(const pl_run *r, pl_kind kind, int chunk, int mb)
{
    return (kind == PL_F ? 0 : r->v * r->m) + chunk * r->m + mb;
}

void pl_device_fail(pl_device *dv, pl_action a, const char *why)
{
    char name[32], msg[512];
    snprintf(msg, sizeof msg, "d%d failed at step %d position %d (%s): %s", dv->id,
             atomic_load(&dv->step), atomic_load(&dv->pos),
             pl_action_format(dv->run->s, a, name, sizeof name), why);
    pl_run_fail(dv->run, msg);
}

/* Wait for the input of action a, if another stage sends it. *ready gets the
 * message's send time (0 if none); *in the tensor (empty if none). */
int pl_device_receive(pl_device *dv, pl_action a, int64_t *ready, pl_tensor *in)
{
    pl_run *r = dv->run;
    int src_dev;
    pl_action src;
    *ready = 0;
    *in = (pl_tensor){0, 0, NULL};
    if (!pl_action_source(r->s, dv->id, a, &src_dev, &src))
        return 0;
    pl_message msg;
    atomic_store(&dv->state, PL_DEV_RECEIVING);
    int rc = pl_mailbox_take(&r->mail[dv->id], slot_of(r, a.kind, a.chunk, a.mb),
                             &r->stop, &msg);
    atomic_store(&dv->state, PL_DEV_COMPUTING);
    if (rc != 0)
        return -1;
    *ready = msg.time;
    *in = msg.t;
    return 0;
}

/* Send action a's output (ownership of t passes to the receiver). */
int pl_device_send(pl_device *dv, pl_action a, int64_t time, pl_tensor t)
{
    pl_run *r = dv->run;
    int dst_dev;
    pl_action dst;
    if (!pl_action_dest(r->s, dv->id, a, &dst_dev, &dst)) {
        pl_tensor_free(&t);
        return 0;
    }
    if (pl_mailbox_put(&r->mail[dst_dev], slot_of(r, dst.kind, dst.chunk, a.mb), time, t)) {
        pl_tensor_free(&t);
        pl_device_fail(dv, a, "message sent twice");
        return -1;
    }
    return 0;
}

void pl_device_record(pl_device *dv, int stage, pl_action a, char kind, int64_t start,
                      int64_t end)
{
    pl_event e = {start, end, a.mb, (int16_t)dv->id, (int16_t)stage,
                  (int16_t)atomic_load(&dv->step), kind, (char)a.chunk};
    if (pl_trace_add(dv->run->trace, &e))
        pl_device_fail(dv, a, "out of host memory for the trace");
}

/* Update held bytes and in-flight count after the stash of (chunk, mb) changed. */
void pl_device_account(pl_device *dv, size_t before, size_t after, int delta_inflight)
{
    pl_lane *lane = &dv->run->trace->lanes[dv->id];
    dv->held = dv->held - before + after;
    dv->inflight += delta_inflight;
    if (dv->held > lane->peak_bytes)
        lane->peak_bytes = dv->held;
    if (dv->inflight > lane->peak_inflight)
        lane->peak_inflight = dv->inflight;
}

int pl_device_fits(pl_device *dv, pl_action a, int first, int count, int rows, char kind)
{
    const pl_job *job = dv->run->job;
    int64_t delta = pl_stash_delta(job, first, count, rows, kind);
    char why[256];
    if (delta <= 0 ||
        pl_job_check_memory(job, dv->id, a, dv->held, (size_t)delta, why, sizeof why) == 0)
        return 1;
    pl_run_fail(dv->run, why);
    return 0;
}

/* Wait for every device to finish the step. On the virtual clock, the step
 * ends for everyone at the latest device's time (the optimizer step is a
 * synchronisation point). Returns -1 if the run stopped meanwhile. */
static int barrier(pl_device *dv)
{
    pl_run *r = dv->run;
    atomic_store(&dv->state, PL_DEV_AT_BARRIER);
    pthread_mutex_lock(&r->mu);
    long gen = r->barrier_gen;
    if (dv->clock.now > r->barrier_time)
        r->barrier_time = dv->clock.now;
    if (++r->at_barrier == r->p) {
        r->at_barrier = 0;
        r->barrier_gen++;
        pthread_cond_broadcast(&r->cv);
    }
    while (gen == r->barrier_gen && !atomic_load(&r->stop))
        pthread_cond_wait(&r->cv, &r->mu);
    int released = gen != r->barrier_gen;
    int64_t t = r->barrier_time;
    pthread_mutex_unlock(&r->mu);
    atomic_store(&dv->state, PL_DEV_COMPUTING);
    pl_clock_advance(&dv->clock, t);
    return released ? 0 : -1;
}

// [region device-main]
void *pl_device_main(void *arg)
{
    pl_device *dv = arg;
    pl_run *r = dv->run;
    const pl_job *job = r->job;
    int n = r->s->len[dv->id];
    for (int step = 0; step < job->steps; step++) {
        atomic_store(&dv->step, step);
        for (int i = 0; i < n; i++) {
            pl_action a = r->s->actions[dv->id][i];
            atomic_store(&dv->pos, i);
            if (atomic_load(&r->stop))
                goto out;
            if (dv->id == job->fault_device && dv->actions_done == job->fault_action) {
                pl_device_fail(dv, a, "injected fault");
                goto out;
            }
            if (pl_device_run_action(dv, a))
                goto out;
            dv->actions_done++;
            atomic_fetch_add(&r->progress, 1);
        }
        for (int c = 0; c < r->v; c++) {
            int stage = pl_stage_of(r->s, dv->id, c);
            pl_model_sgd(job->model, job->partition->first[stage],
                         job->partition->count[stage], job->lr);
        }
        if (barrier(dv))
            goto out;
        if (dv->id == 0 && job->on_step)
            job->on_step(job->on_step_ctx, step + 1, job->steps);
    }
out:
    atomic_store(&dv->state, PL_DEV_DONE);
    pthread_mutex_lock(&r->mu);
    r->finished++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}
// [endregion device-main]
