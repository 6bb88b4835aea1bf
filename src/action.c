/*
 * action.c -- one action on one device (chapter 01).
 *
 * The device waits for the message its input comes in (an activation from the
 * previous stage, a gradient from the next), runs the stage's kernels on real
 * tensors, accounts the activations it now holds, and sends its output on.
 * Time is kept by the device's clock, which may be virtual, scaled or real --
 * this code does not know which.
 */
#include <stdio.h>

#include "device.h"

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

// [region device-forward]
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
// [endregion device-forward]

// [region device-backward]
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
// [endregion device-backward]

/* The recomputed forward of chapter 03: rebuild the activations from the
 * kept stage input. It runs as soon as the device is free, before the
 * gradient arrives, so the rebuilt activations are held -- and counted --
 * until the backward frees them. */
static int recompute(pl_device *dv, pl_action a, where w, pl_stash *st)
{
    const pl_job *job = dv->run->job;
    if (!pl_device_fits(dv, a, w.first, w.count, w.rows, 'R'))
        return -1;
    size_t before = pl_stash_bytes(st);
    int64_t t0 = pl_clock_begin(&dv->clock, 0);
    if (pl_stage_recompute(job->model, st)) {
        pl_device_fail(dv, a, "out of host memory");
        return -1;
    }
    int64_t cost = pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, 'R');
    pl_device_record(dv, w.stage, a, 'R', t0, pl_clock_end(&dv->clock, t0, cost));
    pl_device_account(dv, before, pl_stash_bytes(st), 0);
    return 0;
}

/* W: accumulate the weight gradient kept by I, then free the stash. */
static int weight(pl_device *dv, pl_stash *st)
{
    pl_stage_backward_weight(dv->run->job->model, st);
    pl_stash_free(st);
    return 0;
}

// [region device-action]
/* One action, start to finish: wait for the input, check the memory it
 * needs, run the kernels, record, account, pass the output on. */
int pl_device_run_action(pl_device *dv, pl_action a)
{
    pl_run *r = dv->run;
    const pl_job *job = r->job;
    where w = locate(dv, a);
    pl_stash *st = &dv->stash[a.chunk * r->m + a.mb];
    char kind = pl_kind_letter(a.kind);
    if (job->recompute && (kind == 'B' || kind == 'I') && recompute(dv, a, w, st))
        return -1;

    int64_t ready;
    pl_tensor in, out = {0, 0, NULL};
    if (pl_device_receive(dv, a, &ready, &in))
        return -1; /* stopped while waiting */
    if (!pl_device_fits(dv, a, w.first, w.count, w.rows, kind)) {
        pl_tensor_free(&in);
        return -1;
    }
    size_t before = pl_stash_bytes(st);
    int64_t t0 = pl_clock_begin(&dv->clock, ready);
    int rc = kind == 'F' ? forward(dv, w, st, &in, &out)
           : kind == 'W' ? weight(dv, st)
                         : backward(dv, a, w, st, &in, &out);
    pl_tensor_free(&in);
    if (rc) {
        pl_tensor_free(&out);
        pl_device_fail(dv, a, "out of host memory");
        return -1;
    }
    int64_t cost = pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, kind);
    int64_t t1 = pl_clock_end(&dv->clock, t0, cost);
    pl_device_record(dv, w.stage, a, kind, t0, t1);
    pl_device_account(dv, before, pl_stash_bytes(st), kind == 'F' ? 1 : kind == 'I' ? 0 : -1);
    return pl_device_send(dv, a, t1, out);
}
// [endregion device-action]
