/*
 * action.c -- one action on one device (chapter 01).
 *
 * EXERCISE 01: write pl_device_run_action (search for TODO). `make
 * exercise-ch01` grades this file; exercises/01-naive-staging/README.md
 * explains the task.
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

/*
 * TODO(ch01): one action, start to finish. After the recompute step (given):
 *   1. wait for the input: pl_device_receive(dv, a, &ready, &in); if it
 *      returns -1 the run stopped while waiting: return -1;
 *   2. check the memory the action needs: if !pl_device_fits(dv, a, w.first,
 *      w.count, w.rows, kind), free `in` and return -1;
 *   3. note the stash size before: before = pl_stash_bytes(st);
 *   4. start the clock: t0 = pl_clock_begin(&dv->clock, ready);
 *   5. the work: forward() for 'F', weight() for 'W', backward() for 'B'/'I';
 *   6. free `in`; if the work failed, free `out`, call
 *      pl_device_fail(dv, a, "out of host memory") and return -1;
 *   7. stop the clock at the modelled cost: t1 = pl_clock_end(&dv->clock, t0,
 *      pl_cost_action(&job->cost, job->model, w.first, w.count, w.rows, kind));
 *   8. pl_device_record() the event and pl_device_account() the stash:
 *      +1 in flight after F, 0 after I, -1 after B or W;
 *   9. return pl_device_send(dv, a, t1, out) -- ownership of `out` passes on.
 */
int pl_device_run_action(pl_device *dv, pl_action a)
{
    pl_run *r = dv->run;
    const pl_job *job = r->job;
    where w = locate(dv, a);
    pl_stash *st = &dv->stash[a.chunk * r->m + a.mb];
    char kind = pl_kind_letter(a.kind);
    if (job->recompute && (kind == 'B' || kind == 'I') && recompute(dv, a, w, st))
        return -1;

    (void)forward;
    (void)backward;
    (void)weight;
    pl_device_fail(dv, a, "TODO: pl_device_run_action is not written yet "
                          "(exercises/01-naive-staging)");
    return -1;
}
