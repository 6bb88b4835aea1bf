/*
 * device_step.c -- the end of a device's step (chapters 01 and 06).
 *
 * After its list a device applies the optimizer step to its own stages. By
 * default it then meets every other device at a barrier, so each step starts
 * everywhere at once. With --step-sync local it does not: it starts its next
 * step at once, and only the messages of that step order it against the
 * others -- a stage's weights are its device's alone, so the update needs
 * nobody else.
 *
 * Clipping the gradients by their global norm puts a synchronisation back:
 * every device needs the sum of every device's squares (clip.h), an
 * all-reduce. Either each device waits for it before its update (the
 * barrier way), or -- post-validation, the zero-bubble paper's section 4 --
 * it updates at once as if no clipping were needed, goes on, and checks the
 * norm at the end of its next step. In the rare case the update should have
 * been clipped, it restores its weights, redoes the update clipped, and runs
 * again the step it computed on the rejected weights.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"
#include "device.h"

/* The layers [*first, *first + *count) of the device's chunk c. */
static void own(const pl_device *dv, int c, int *first, int *count)
{
    int stage = pl_schedule_stage(dv->job->schedule, dv->id, c);
    *first = dv->job->partition->first[stage];
    *count = dv->job->partition->count[stage];
}

/* The optimizer step on the device's own layers, gradients scaled first.
 * Returns 0, or -1 (reported) if the optimizer's state cannot be allocated. */
static int update(pl_device *dv, float factor)
{
    const pl_job *job = dv->job;
    for (int c = 0; c < job->schedule->chunks; c++) {
        int first, count;
        own(dv, c, &first, &count);
        pl_clip_scale(job->model, first, count, factor);
        if (pl_model_sgd(job->model, first, count, job->opt->lr, job->opt->momentum)) {
            pl_transport_abort(dv->net, dv->id, "out of host memory for the optimizer state");
            return -1;
        }
    }
    return 0;
}

/* The tensors a rollback restores of layer l: w, b, dw, db, and with
 * momentum (chapter 07) the velocities, allocated here if the first update
 * has not done so yet (they start at zero). Returns how many, or -1. */
static int kept(pl_layer *l, float momentum, pl_tensor **t)
{
    t[0] = &l->w, t[1] = &l->b, t[2] = &l->dw, t[3] = &l->db;
    if (momentum == 0.0f)
        return 4;
    if (!l->vw.data)
        l->vw = pl_tensor_new(l->in, l->out);
    if (!l->vb.data)
        l->vb = pl_tensor_new(1, l->out);
    t[4] = &l->vw, t[5] = &l->vb;
    return l->vw.data && l->vb.data ? 6 : -1;
}

/* Copy what kept() names of the device's layers into dv->saved (save = 1)
 * or back (save = 0): what a rollback restores. Returns 0, or -1 if out of
 * host memory. */
static int keep(pl_device *dv, int save)
{
    const pl_job *job = dv->job;
    int chunks = job->schedule->chunks, first, count;
    size_t at = 0;
    pl_tensor *t[6];
    for (int c = 0; !dv->saved && c < chunks; c++) {
        own(dv, c, &first, &count);
        for (int k = first; k < first + count; k++) {
            int n = kept(&job->model->layers[k], job->opt->momentum, t);
            for (int j = 0; j < n; j++)
                at += (size_t)t[j]->rows * (size_t)t[j]->cols;
            if (n < 0)
                at = SIZE_MAX / 2; /* refused below */
        }
    }
    if (!dv->saved && (at >= SIZE_MAX / 2 || !(dv->saved = malloc(at * sizeof(float))))) {
        pl_transport_abort(dv->net, dv->id, "out of host memory for the rollback copy");
        return -1;
    }
    at = 0;
    for (int c = 0; c < chunks; c++) {
        own(dv, c, &first, &count);
        for (int k = first; k < first + count; k++) {
            int n = kept(&job->model->layers[k], job->opt->momentum, t);
            for (int j = 0; j < n; j++) {
                size_t n = (size_t)t[j]->rows * (size_t)t[j]->cols;
                if (save)
                    memcpy(dv->saved + at, t[j]->data, n * sizeof(float));
                else
                    memcpy(t[j]->data, dv->saved + at, n * sizeof(float));
                at += n;
            }
        }
    }
    return 0;
}

/* Wait for the sum of reduction `round`, moving the clock on to its time. */
static int wait_sum(pl_device *dv, int round, double *sum)
{
    int64_t agreed;
    pl_watch_set(&dv->watch.state, PL_DEV_AT_BARRIER);
    int rc = pl_transport_reduced(dv->net, dv->id, round, sum, &agreed);
    pl_watch_set(&dv->watch.state, PL_DEV_COMPUTING);
    if (rc == 0)
        pl_clock_advance(&dv->clock, agreed);
    return rc;
}

// [region post-validation]
/* Post-validation: check the update of the step before, whose norm every
 * device has been adding up in the background. Returns 0 if it stands, 1
 * if it was redone clipped (the step since ran on wrong weights), -1 if the
 * run stopped. */
static int check_previous(pl_device *dv)
{
    int round = dv->unchecked;
    double sum;
    if (round < 0)
        return 0;
    dv->unchecked = -1;
    if (wait_sum(dv, round, &sum))
        return -1;
    float factor = pl_clip_factor(sum, dv->job->opt->clip_norm);
    if (factor == 1.0f)
        return 0;
    if (keep(dv, 0) || update(dv, factor)) /* from the state of before the update */
        return -1;
    return 1;
}
// [endregion post-validation]

// [region optimizer-step]
/* The update: at once without clipping; with it, after adding this device's
 * squares to the all-reduce, and either after its sum (the barrier way) or
 * at once, keeping what a rollback needs (post-validation). */
static int optimizer_step(pl_device *dv)
{
    const pl_job *job = dv->job;
    double sum;
    if (job->opt->clip_norm <= 0)
        return update(dv, 1.0f);
    double mine = pl_clip_device_sqnorm(job->model, job->partition, job->schedule, dv->id);
    if (pl_transport_reduce(dv->net, dv->id, dv->step, mine, pl_clock_stamp(&dv->clock)))
        return -1;
    if (job->opt->post_validation) {
        if (keep(dv, 1))
            return -1;
        dv->unchecked = dv->step;
        return update(dv, 1.0f);
    }
    if (wait_sum(dv, dv->step, &sum))
        return -1;
    return update(dv, pl_clip_factor(sum, job->opt->clip_norm));
}
// [endregion optimizer-step]

int pl_device_end_step(pl_device *dv)
{
    const pl_job *job = dv->job;
    const pl_schedule *s = job->schedule;
    int again;
    while ((again = check_previous(dv)) == 1) /* the step ran on rejected weights */
        if (pl_device_run_list(dv))
            return -1;
    if (again < 0)
        return -1;
    if (dv->last_stage) {
        float total = 0.0f; /* in micro-batch order, as the reference sums */
        for (int j = 0; j < s->microbatches; j++)
            total += dv->share[j];
        dv->loss[dv->step] = total;
    }
    if (optimizer_step(dv))
        return -1;
    if (job->opt->step_sync == PL_SYNC_LOCAL)
        return 0;
    int64_t agreed; /* the barrier: every clock moves on to the latest */
    pl_watch_set(&dv->watch.state, PL_DEV_AT_BARRIER);
    int rc = pl_transport_barrier(dv->net, dv->id, pl_clock_stamp(&dv->clock), &agreed);
    pl_watch_set(&dv->watch.state, PL_DEV_COMPUTING);
    if (rc == 0)
        pl_clock_advance(&dv->clock, agreed);
    return rc;
}

int pl_device_end_run(pl_device *dv)
{
    return check_previous(dv) < 0 ? -1 : 0;
}
