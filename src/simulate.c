/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapter 03).
 *
 * The validator hands back an execution order in which every action comes
 * after its device's previous action and after the action whose message it
 * needs. Walking that order once is a complete discrete-event simulation:
 * when we reach an action, everything it waits for already has an end time.
 */
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>

#include "data.h"
#include "validate.h"

/* End times of every stage's forward and backward-input, per micro-batch:
 * the arrival times of the messages they send. */
typedef struct {
    int m, stages;
    int64_t *f_end, *b_end;
} arrivals;

static int64_t *end_slot(arrivals *a, pl_kind kind, int stage, int mb)
{
    return (kind == PL_F ? a->f_end : a->b_end) + (size_t)stage * a->m + mb;
}

/* Per-device bookkeeping of the memory rules the runtime measures. */
typedef struct {
    int64_t now;
    size_t held, peak_bytes;
    int inflight, peak_inflight;
} device_state;

/* What one action costs on one stage, in time and stash bytes. Micro-batches
 * come in at most two sizes (they differ by one row), so each stage needs two
 * rows of this table, computed once instead of once per action. */
typedef struct {
    int64_t f, r, b, i, w;     /* durations of F, recomputed F, B, I, W */
    int64_t df, dr, db, di, dw; /* stash byte changes (pl_stash_delta) */
} stage_cost;

static stage_cost cost_of(const pl_job *job, int stage, int rows)
{
    const pl_model *m = job->model;
    int first = job->partition->first[stage], count = job->partition->count[stage];
    stage_cost c;
    c.f = pl_cost_action(&job->cost, m, first, count, rows, 'F');
    c.r = pl_cost_action(&job->cost, m, first, count, rows, 'R');
    c.b = pl_cost_action(&job->cost, m, first, count, rows, 'B');
    c.i = pl_cost_action(&job->cost, m, first, count, rows, 'I');
    c.w = pl_cost_action(&job->cost, m, first, count, rows, 'W');
    c.df = pl_stash_delta(job, first, count, rows, 'F');
    c.dr = pl_stash_delta(job, first, count, rows, 'R');
    c.db = pl_stash_delta(job, first, count, rows, 'B');
    c.di = pl_stash_delta(job, first, count, rows, 'I');
    c.dw = pl_stash_delta(job, first, count, rows, 'W');
    return c;
}

/* table[2 * stage + 0] for the smaller micro-batches, [.. + 1] for the larger. */
static stage_cost *cost_table(const pl_job *job, int stages)
{
    stage_cost *t = malloc((size_t)stages * 2 * sizeof *t);
    int small = job->batch / job->schedule->microbatches;
    for (int s = 0; t && s < stages; s++) {
        t[2 * s] = cost_of(job, s, small);
        t[2 * s + 1] = cost_of(job, s, small + 1);
    }
    return t;
}

static int emit(pl_trace *t, int d, int stage, pl_action a, char kind,
                int64_t start, int64_t end)
{
    pl_event e = {start, end, a.mb, (int16_t)d, (int16_t)stage, 0, kind, (char)a.chunk};
    return pl_trace_add(t, &e);
}

/* Check that a device may grow its stash by `delta`, then account it, as
 * the runtime does. */
static int hold(const pl_job *job, device_state *st, int d, pl_action a, int64_t delta,
                int dinflight, char *err, size_t errlen)
{
    if (delta > 0 && job->device_memory &&
        pl_job_check_memory(job, d, a, st->held, (size_t)delta, err, errlen))
        return -1;
    st->held = (size_t)((int64_t)st->held + delta);
    st->inflight += dinflight;
    if (st->held > st->peak_bytes)
        st->peak_bytes = st->held;
    if (st->inflight > st->peak_inflight)
        st->peak_inflight = st->inflight;
    return 0;
}

/* One action: wait for its input, recompute if asked, run, record. */
static int run_one(const pl_job *job, const stage_cost *table, arrivals *arr,
                   device_state *st, int d, pl_action a, pl_trace *t, char *err,
                   size_t errlen)
{
    const pl_schedule *s = job->schedule;
    int stage = pl_stage_of(s, d, a.chunk);
    const stage_cost *c = &table[2 * stage + (a.mb < job->batch % s->microbatches)];

    if (job->recompute && (a.kind == PL_B || a.kind == PL_I)) {
        if (hold(job, st, d, a, c->dr, 0, err, errlen))
            return -1;
        if (emit(t, d, stage, a, 'R', st->now, st->now + c->r))
            goto oom;
        st->now += c->r;
    }
    /* A forward waits for the previous stage's forward of the same
     * micro-batch; a backward (B or I) for the next stage's backward. */
    int64_t ready = 0;
    if (a.kind == PL_F && stage > 0)
        ready = *end_slot(arr, PL_F, stage - 1, a.mb);
    else if ((a.kind == PL_B || a.kind == PL_I) && stage < arr->stages - 1)
        ready = *end_slot(arr, PL_I, stage + 1, a.mb);
    int64_t dur = c->w, delta = c->dw; /* W frees the stash ... */
    int inflight = -1;                 /* ... and the micro-batch leaves */
    if (a.kind == PL_F)
        dur = c->f, delta = c->df, inflight = 1;
    else if (a.kind == PL_B)
        dur = c->b, delta = c->db;
    else if (a.kind == PL_I)
        dur = c->i, delta = c->di, inflight = 0;
    if (hold(job, st, d, a, delta, inflight, err, errlen))
        return -1;
    int64_t start = st->now > ready ? st->now : ready;
    int64_t end = start + dur;
    if (emit(t, d, stage, a, pl_kind_letter(a.kind), start, end))
        goto oom;
    st->now = end;
    if (a.kind != PL_W)
        *end_slot(arr, a.kind == PL_F ? PL_F : PL_I, stage, a.mb) = end;
    return 0;
oom:
    snprintf(err, errlen, "simulate: out of host memory for the trace");
    return -1;
}

int pl_simulate(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    pl_validation v;
    if (pl_validate(s, &v, err, errlen) != 0)
        return -1;
    int stages = pl_schedule_stages(s);
    arrivals arr = {s->microbatches, stages,
                    calloc((size_t)stages * s->microbatches, sizeof(int64_t)),
                    calloc((size_t)stages * s->microbatches, sizeof(int64_t))};
    device_state *st = calloc((size_t)s->devices, sizeof *st);
    stage_cost *table = cost_table(job, stages);
    int rc = -1;
    out->loss = NULL;
    out->steps = 1;
    if (!arr.f_end || !arr.b_end || !st || !table ||
        pl_trace_init(&out->trace, s->devices, 1, !job->totals_only)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    for (int d = 0; d < s->devices; d++)
        if (pl_trace_reserve(&out->trace, d, (long)s->len[d] * (job->recompute ? 2 : 1))) {
            snprintf(err, errlen, "simulate: out of host memory for the trace");
            goto done;
        }
    for (long k = 0; k < v.n_order; k++) {
        pl_slot o = v.order[k];
        if (run_one(job, table, &arr, &st[o.device], o.device,
                    s->actions[o.device][o.index], &out->trace, err, errlen))
            goto done;
    }
    for (int d = 0; d < s->devices; d++) {
        out->trace.lanes[d].peak_inflight = st[d].peak_inflight;
        out->trace.lanes[d].peak_bytes = st[d].peak_bytes;
    }
    rc = 0;
done:
    if (rc != 0)
        pl_trace_free(&out->trace);
    free(arr.f_end);
    free(arr.b_end);
    free(st);
    free(table);
    pl_validation_free(&v);
    return rc;
}
