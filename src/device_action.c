/*
 * device_action.c -- one action on one device (chapter 01).
 *
 * The device waits for the message its input comes in (an activation from the
 * previous stage, a gradient from the next), runs the stage's kernels on real
 * tensors, accounts the activations it now holds, and sends its output on.
 * Time is kept by the device's clock and messages go through its transport;
 * this code knows neither which clock nor which transport it has. A message
 * is stamped with the time it arrives: sent at the action's end, plus what
 * the cost model says its link takes (chapter 07).
 */
#include <stdio.h>

#include "device.h"
#include "memory.h"

/* Where an action's work lives: its stage's layers and its micro-batch rows. */
typedef struct {
    int stage, first, count, last; /* last: 1 on the final stage */
    int row0, rows;
} where;

static where locate(const pl_device *dv, pl_action a)
{
    const pl_job *job = dv->job;
    where w;
    w.stage = pl_schedule_stage(job->schedule, dv->id, a.chunk);
    w.first = job->partition->first[w.stage];
    w.count = job->partition->count[w.stage];
    w.last = w.stage == pl_schedule_stages(job->schedule) - 1;
    pl_data_microbatch_range(job->opt->batch, job->schedule->microbatches, a.mb, &w.row0, &w.rows);
    return w;
}

// [region device-forward]
/* F: run the stage's layers on the micro-batch (from the data on the first
 * stage, from the previous stage's message elsewhere), keep the activations
 * the backward will need, and pass the output on.
 * in (rows, in) from the previous stage; out (rows, out) to the next, where
 * in and out are the widths of the stage's first input and last output. */
static int forward(pl_device *dv, where w, pl_stash *st, const pl_tensor *in,
                   pl_tensor *out)
{
    const pl_job *job = dv->job;
    pl_tensor x = w.stage == 0 ? pl_tensor_rows(&dv->batch.x, w.row0, w.rows) : *in;
    if (pl_stage_forward(job->model, w.first, w.count, &x, st, 0))
        return -1;
    if (!w.last) {
        *out = pl_tensor_empty(w.rows, st->act[w.count].cols);
        if (!out->data)
            return -1;
        pl_tensor_copy(out, &st->act[w.count]);
    }
    if (job->opt->recompute) /* keep the stage input only; the backward rebuilds the rest */
        pl_stage_keep_input(st);
    return 0;
}
// [endregion device-forward]

// [region device-backward]
/* B or I: the gradient of the loss w.r.t. the stage output comes from the
 * loss on the last stage, from the next stage's message elsewhere. I stops
 * after the input gradient and keeps the stash for W; B also accumulates the
 * weight gradient and frees the stash.
 * in (rows, out) from the next stage; out (rows, in) to the previous. */
static int backward(pl_device *dv, pl_action a, where w, pl_stash *st,
                    const pl_tensor *in, pl_tensor *out)
{
    const pl_job *job = dv->job;
    pl_tensor dy = *in, own = {0, 0, NULL};
    if (w.last) { /* dy (rows, width) from the loss */
        own = pl_tensor_new(w.rows, job->model->width);
        if (!own.data)
            return -1;
        pl_tensor target = pl_tensor_rows(&dv->batch.y, w.row0, w.rows);
        dv->share[a.mb] = pl_model_loss_grad(&own, &st->act[w.count], &target, job->opt->batch);
        dy = own;
    }
    if (w.stage > 0)
        *out = pl_tensor_empty(w.rows, job->model->layers[w.first].in);
    int rc = (w.stage > 0 && !out->data) ||
             pl_stage_backward_input(job->model, st, &dy, w.stage > 0 ? out : NULL);
    if (rc == 0 && a.kind == PL_B) {
        pl_stage_backward_weight(job->model, st);
        pl_stage_free(st);
    }
    pl_tensor_free(&own);
    return rc ? -1 : 0;
}
// [endregion device-backward]

// [region device-weight]
/* W: accumulate the weight gradient kept by I, then free the stash. */
static int weight(pl_device *dv, pl_stash *st)
{
    pl_stage_backward_weight(dv->job->model, st);
    pl_stage_free(st);
    return 0;
}
// [endregion device-weight]

/* Bytes of the messages it sent that are still on a link now. */
static int64_t in_transit(pl_device *dv)
{
    return pl_memory_transit_at(&dv->transit, pl_clock_stamp(&dv->clock));
}

/* The event of an action that ran from t0 to t1 (what it holds, in flight
 * and in transit, as now). */
static int record(pl_device *dv, where w, pl_action a, pl_kind kind, int64_t t0, int64_t t1)
{
    pl_event e = {t0, t1, (int64_t)dv->held, in_transit(dv), a.mb, dv->inflight,
                  (int16_t)dv->id, (int16_t)w.stage, (int16_t)dv->step, (int8_t)kind,
                  (int8_t)a.chunk};
    if (pl_lane_add(&dv->lane, &e) == 0)
        return 0;
    pl_device_fail(dv, a, "out of host memory for the trace");
    return -1;
}

/* 1 if the device may take `need` more bytes of `what` for an action of
 * `kind`, within the job's device memory -- everything it holds counted;
 * otherwise reports the failure and returns 0. */
static int room(pl_device *dv, pl_action a, pl_kind kind, const char *what, int64_t need)
{
    const pl_job *job = dv->job;
    char name[32], why[256];
    pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
    if (need <= 0 || job->opt->device_memory == 0 || /* no cap: nothing to name the action for */
        pl_memory_check(job->opt->device_memory, dv->id,
                        pl_schedule_format(job->schedule, shown, name, sizeof name), what,
                        dv->fixed + dv->held + (size_t)in_transit(dv), (size_t)need, why,
                        sizeof why) == 0)
        return 1;
    pl_transport_abort(dv->net, dv->id, why);
    return 0;
}

/* 1 if the device may grow its stash as an action of `kind` would. */
static int fits(pl_device *dv, pl_action a, where w, pl_kind kind)
{
    const pl_job *job = dv->job;
    return job->opt->device_memory == 0 || /* no cap: nothing to count against */
           room(dv, a, kind, "activations",
                pl_memory_stash_delta(job->model, w.first, w.count, w.rows, kind,
                                      job->opt->recompute));
}

/* Count what the stash of (chunk, mb) holds now, after an action of `kind`. */
static void account(pl_device *dv, size_t before, const pl_stash *st, pl_kind kind)
{
    dv->held = dv->held - before + pl_stage_held(st);
    dv->inflight += pl_memory_inflight_delta(kind);
}

/* The recomputed forward of chapter 03: rebuild the activations from the
 * kept stage input. It runs as soon as the device is free, before the
 * gradient arrives, so the rebuilt activations are held -- and counted --
 * until the backward frees them. */
static int recompute(pl_device *dv, pl_action a, where w, pl_stash *st)
{
    const pl_job *job = dv->job;
    if (!fits(dv, a, w, PL_R))
        return -1;
    size_t before = pl_stage_held(st);
    int64_t t0 = pl_clock_begin(&dv->clock, 0);
    if (pl_stage_recompute(job->model, st)) {
        pl_device_fail(dv, a, "out of host memory");
        return -1;
    }
    int64_t cost = pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, PL_R);
    int64_t t1 = pl_clock_end(&dv->clock, cost);
    account(dv, before, st, PL_R);
    return record(dv, w, a, PL_R, t0, t1);
}

/* The message action a waits for, if another stage sends it: *ready gets its
 * stamp and *in its tensor (both zero if none). -1 if the run stopped. */
static int receive(pl_device *dv, pl_action a, int64_t *ready, pl_tensor *in)
{
    pl_route r;
    *ready = 0;
    *in = (pl_tensor){0, 0, NULL};
    if (!pl_schedule_input(dv->job->schedule, dv->id, a, &r))
        return 0;
    pl_tag tag = {r.flow, r.stage, r.chunk, a.mb, dv->step};
    pl_watch_set(&dv->watch.state, PL_DEV_RECEIVING);
    int rc = pl_transport_receive(dv->net, dv->id, r.peer, &tag, ready, in);
    pl_watch_set(&dv->watch.state, PL_DEV_COMPUTING);
    if (rc == 0)
        pl_watch_progress(&dv->watch); /* a message delivered is progress */
    return rc;
}

// [region device-send]
/* Send the output of action a, which ended at t1 (ownership of out passes
 * on), stamped with the time it arrives: now, plus its link's delay.
 * *arrival gets that time (now if it sends nothing). While the message is on
 * a link its bytes count as the sender's: a non-blocking send keeps its
 * buffer until the transfer ends. */
static int send(pl_device *dv, pl_action a, pl_tensor out, int64_t t1, int64_t *arrival)
{
    const pl_job *job = dv->job;
    int64_t now = pl_clock_stamp(&dv->clock), bytes = (int64_t)pl_tensor_bytes(&out);
    pl_route r;
    *arrival = now;
    if (!pl_schedule_output(job->schedule, dv->id, a, &r)) {
        pl_tensor_free(&out);
        return 0;
    }
    int64_t delay = pl_cost_link(&job->cost, dv->id, r.peer, bytes);
    *arrival = now + delay;
    if (delay > 0 && (!room(dv, a, a.kind, "in-flight messages", bytes) ||
                      pl_memory_transit_add(&dv->transit, *arrival, bytes))) {
        pl_tensor_free(&out);
        if (!pl_transport_stopped(dv->net))
            pl_device_fail(dv, a, "out of host memory");
        return -1;
    }
    pl_tag tag = {r.flow, r.stage, r.chunk, a.mb, dv->step};
    if (r.peer != dv->id) {
        pl_transfer x = {t1, t1 + pl_clock_span(&dv->clock, delay), bytes, a.mb,
                         (int16_t)dv->id, (int16_t)r.peer, (int16_t)r.stage,
                         (int16_t)dv->step, (int8_t)r.flow, (int8_t)r.chunk};
        if (pl_lane_send(&dv->lane, &x)) {
            pl_tensor_free(&out);
            pl_device_fail(dv, a, "out of host memory for the trace");
            return -1;
        }
    }
    return pl_transport_send(dv->net, dv->id, r.peer, &tag, *arrival, out);
}
// [endregion device-send]

// [region device-action]
/* One action, start to finish: wait for the input, check the memory it
 * needs, run the kernels, account, pass the output on, record. */
int pl_device_run_action(pl_device *dv, const pl_action *action)
{
    const pl_action a = *action;
    const pl_job *job = dv->job;
    where w = locate(dv, a);
    pl_stash *st = &dv->stash[a.chunk * job->schedule->microbatches + a.mb];
    if (job->opt->recompute && pl_action_is_backward(a.kind) && recompute(dv, a, w, st))
        return -1;

    int64_t ready, arrival;
    pl_tensor in, out = {0, 0, NULL};
    if (receive(dv, a, &ready, &in))
        return -1; /* stopped while waiting */
    if (!fits(dv, a, w, a.kind)) {
        pl_tensor_free(&in);
        return -1;
    }
    size_t before = pl_stage_held(st);
    int64_t t0 = pl_clock_begin(&dv->clock, ready);
    int rc = a.kind == PL_F ? forward(dv, w, st, &in, &out)
           : a.kind == PL_W ? weight(dv, st)
                            : backward(dv, a, w, st, &in, &out);
    pl_tensor_free(&in);
    if (rc) {
        pl_tensor_free(&out);
        pl_device_fail(dv, a, "out of host memory");
        return -1;
    }
    int64_t cost = pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, a.kind);
    int64_t t1 = pl_clock_end(&dv->clock, cost);
    account(dv, before, st, a.kind);
    if (send(dv, a, out, t1, &arrival) || record(dv, w, a, a.kind, t0, t1))
        return -1;
    if (job->opt->blocking_send) /* the sender waits until its message has arrived */
        pl_clock_advance(&dv->clock, arrival);
    return 0;
}
// [endregion device-action]
