/*
 * device.c -- what each device thread does (chapter 01).
 *
 * EXERCISE 01: write run_action (search for TODO). `make exercise-ch01`
 * grades this file; exercises/01-naive-staging/README.md explains the task.
 *
 * For every action on its list the device: waits for the message its input
 * comes in (an activation from the previous stage, a gradient from the next),
 * runs the stage's kernels on real tensors, sends its output on, and accounts
 * the activations it now holds. Time is kept by the device's clock, which may
 * be virtual, scaled or real -- the loop does not know which.
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

static void fail_at(pl_device *dv, pl_action a, const char *why)
{
    char name[32], msg[512];
    snprintf(msg, sizeof msg, "d%d failed at step %d position %d (%s): %s", dv->id,
             atomic_load(&dv->step), atomic_load(&dv->pos),
             pl_action_format(dv->run->s, a, name, sizeof name), why);
    pl_run_fail(dv->run, msg);
}

/* Wait for the input of action a, if another stage sends it. *ready gets the
 * message's send time (0 if none); *in the tensor (empty if none). */
static int receive(pl_device *dv, pl_action a, int64_t *ready, pl_tensor *in)
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
static int send(pl_device *dv, pl_action a, int64_t time, pl_tensor t)
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
        fail_at(dv, a, "message sent twice");
        return -1;
    }
    return 0;
}

static void record(pl_device *dv, int stage, pl_action a, char kind, int64_t start,
                   int64_t end)
{
    pl_event e = {start, end, a.mb, (int16_t)dv->id, (int16_t)stage,
                  (int16_t)atomic_load(&dv->step), kind, (char)a.chunk};
    if (pl_trace_add(dv->run->trace, &e))
        fail_at(dv, a, "out of host memory for the trace");
}

/* Update held bytes and in-flight count after the stash of (chunk, mb) changed. */
static void account(pl_device *dv, size_t before, size_t after, int delta_inflight)
{
    pl_lane *lane = &dv->run->trace->lanes[dv->id];
    dv->held = dv->held - before + after;
    dv->inflight += delta_inflight;
    if (dv->held > lane->peak_bytes)
        lane->peak_bytes = dv->held;
    if (dv->inflight > lane->peak_inflight)
        lane->peak_inflight = dv->inflight;
}

/* Where an action's work lives: its stage's layers and its micro-batch rows. */
typedef struct {
    int stage, first, count, last; /* last: 1 on the final stage */
    int row0, rows;
} where;

static where locate(const pl_device *dv, pl_action a)
{
    const pl_run *r = dv->run;
    where w;
    w.stage = pl_stage_of(r->s, dv->id, a.chunk);
    w.first = r->job->partition->first[w.stage];
    w.count = r->job->partition->count[w.stage];
    w.last = w.stage == pl_schedule_stages(r->s) - 1;
    pl_microbatch_range(r->job->batch, r->m, a.mb, &w.row0, &w.rows);
    return w;
}

/* F: run the stage's layers on the micro-batch (from the data on the first
 * stage, from the previous stage's message elsewhere), keep the activations
 * the backward will need, and pass the output on. */
static int forward(pl_device *dv, where w, pl_stash *st, const pl_tensor *in,
                   pl_tensor *out)
{
    const pl_job *job = dv->run->job;
    pl_tensor x = w.stage == 0
        ? pl_tensor_rows(&dv->run->batches[atomic_load(&dv->step)].x, w.row0, w.rows)
        : *in;
    if (pl_stage_forward(job->model, w.first, w.count, &x, st, 0))
        return -1;
    if (!w.last) {
        *out = pl_tensor_new(w.rows, job->model->width);
        if (!out->data)
            return -1;
        pl_tensor_copy(out, &st->act[w.count]);
    }
    if (job->recompute) /* keep the stage input only; the backward rebuilds the rest */
        for (int k = 1; k <= w.count; k++)
            pl_tensor_free(&st->act[k]);
    return 0;
}

/* B or I: the gradient of the loss w.r.t. the stage output comes from the
 * loss on the last stage, from the next stage's message elsewhere. I stops
 * after the input gradient and keeps the stash for W; B also accumulates the
 * weight gradient and frees the stash. */
static int backward(pl_device *dv, pl_action a, where w, pl_stash *st,
                    const pl_tensor *in, pl_tensor *out)
{
    pl_run *r = dv->run;
    const pl_job *job = r->job;
    int step = atomic_load(&dv->step);
    pl_tensor dy = *in, own = {0, 0, NULL};
    if (w.last) {
        own = pl_tensor_new(w.rows, job->model->width);
        if (!own.data)
            return -1;
        pl_tensor target = pl_tensor_rows(&r->batches[step].y, w.row0, w.rows);
        r->loss_share[step * r->m + a.mb] =
            pl_loss_grad(&own, &st->act[w.count], &target, job->batch);
        dy = own;
    }
    if (w.stage > 0)
        *out = pl_tensor_new(w.rows, job->model->width);
    int rc = (w.stage > 0 && !out->data) ||
             pl_stage_backward_input(job->model, st, &dy, w.stage > 0 ? out : NULL);
    if (rc == 0 && a.kind == PL_B) {
        pl_stage_backward_weight(job->model, st);
        pl_stash_free(st);
    }
    pl_tensor_free(&own);
    return rc ? -1 : 0;
}

/* The recomputed forward of chapter 03: rebuild the activations from the
 * kept stage input, before the backward needs them. */
static int recompute(pl_device *dv, pl_action a, where w, pl_stash *st)
{
    const pl_job *job = dv->run->job;
    int64_t t0 = pl_clock_begin(&dv->clock, 0);
    if (pl_stage_recompute(job->model, st))
        return -1;
    int64_t cost = pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, 'R');
    record(dv, w.stage, a, 'R', t0, pl_clock_end(&dv->clock, t0, cost));
    return 0;
}

/* One action, start to finish.
 *
 * TODO(ch01): write the device's action loop body for one action `a`:
 *   1. wait for the action's input with receive() (it returns -1 if the run
 *      stopped while waiting: just return -1 then);
 *   2. start the clock: t0 = pl_clock_begin(&dv->clock, ready);
 *   3. run the work: forward() for PL_F, backward() for PL_B and PL_I, and
 *      for PL_W pl_stage_backward_weight() then pl_stash_free();
 *   4. free the input tensor; on a kernel failure free `out`, call
 *      fail_at(dv, a, "out of host memory") and return -1;
 *   5. end the clock with the action's modelled cost (pl_cost_action with
 *      the kind's letter), record() the event, account() the stash change
 *      (+1 in flight after F, -1 after B or W, 0 after I);
 *   6. send() the output on, and return what send returns.
 * The memory check and the recompute step at the top are done for you.
 */
static int run_action(pl_device *dv, pl_action a)
{
    pl_run *r = dv->run;
    const pl_job *job = r->job;
    where w = locate(dv, a);
    pl_stash *st = &dv->stash[a.chunk * r->m + a.mb];
    size_t before = pl_stash_bytes(st);
    char why[256];
    if (pl_job_check_memory(job, dv->id, a, dv->held,
                            pl_stash_growth(job->model, w.first, w.count, w.rows,
                                            a.kind, job->recompute),
                            why, sizeof why)) {
        pl_run_fail(r, why);
        return -1;
    }
    if (job->recompute && (a.kind == PL_B || a.kind == PL_I) && recompute(dv, a, w, st)) {
        fail_at(dv, a, "out of host memory");
        return -1;
    }

    /* The helpers you need (remove these lines once you use them). */
    (void)receive, (void)send, (void)record, (void)account, (void)forward, (void)backward;
    (void)before;
    fail_at(dv, a, "TODO: run_action is not written yet (exercises/01-naive-staging)");
    return -1;
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
                fail_at(dv, a, "injected fault");
                goto out;
            }
            if (run_action(dv, a))
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
    }
out:
    atomic_store(&dv->state, PL_DEV_DONE);
    pthread_mutex_lock(&r->mu);
    r->finished++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}
