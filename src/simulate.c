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
    int m;
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

/* Account the stash change of one action, as the runtime does. */
static void account(device_state *st, const pl_job *job, int first, int count,
                    int rows, pl_action a)
{
    const pl_model *m = job->model;
    if (a.kind == PL_F || a.kind == PL_I) {
        st->held += pl_stash_growth(m, first, count, rows, a.kind, job->recompute);
        st->inflight += a.kind == PL_F;
    } else {
        st->held -= pl_stage_stash_bytes(m, first, count, rows,
                                         a.kind == PL_W ? 'I' : 'F', job->recompute);
        st->inflight--;
    }
    if (st->held > st->peak_bytes)
        st->peak_bytes = st->held;
    if (st->inflight > st->peak_inflight)
        st->peak_inflight = st->inflight;
}

static int emit(pl_trace *t, int d, int stage, pl_action a, char kind,
                int64_t start, int64_t end)
{
    pl_event e = {start, end, a.mb, (int16_t)d, (int16_t)stage, 0, kind, (char)a.chunk};
    return pl_trace_add(t, &e);
}

/* One action: wait for its input, recompute if asked, run, record. */
static int run_one(const pl_job *job, arrivals *arr, device_state *st, int d,
                   pl_action a, pl_trace *t, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    int stage = pl_stage_of(s, d, a.chunk);
    int first = job->partition->first[stage], count = job->partition->count[stage];
    int start_row, rows;
    pl_microbatch_range(job->batch, s->microbatches, a.mb, &start_row, &rows);

    if (job->recompute && (a.kind == PL_B || a.kind == PL_I)) {
        int64_t r = pl_cost_action(&job->cost, job->model, first, count, rows, 'R');
        if (emit(t, d, stage, a, 'R', st->now, st->now + r))
            goto oom;
        st->now += r;
    }
    int64_t ready = 0;
    int src_dev;
    pl_action src;
    if (pl_action_source(s, d, a, &src_dev, &src))
        ready = *end_slot(arr, src.kind, pl_stage_of(s, src_dev, src.chunk), a.mb);
    if (pl_job_check_memory(job, d, a, st->held,
                            pl_stash_growth(job->model, first, count, rows, a.kind,
                                            job->recompute),
                            err, errlen))
        return -1;
    int64_t start = st->now > ready ? st->now : ready;
    int64_t end = start + pl_cost_action(&job->cost, job->model, first, count, rows,
                                         pl_kind_letter(a.kind));
    if (emit(t, d, stage, a, pl_kind_letter(a.kind), start, end))
        goto oom;
    st->now = end;
    if (a.kind != PL_W)
        *end_slot(arr, a.kind == PL_F ? PL_F : PL_I, stage, a.mb) = end;
    account(st, job, first, count, rows, a);
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
    arrivals arr = {s->microbatches,
                    calloc((size_t)stages * s->microbatches, sizeof(int64_t)),
                    calloc((size_t)stages * s->microbatches, sizeof(int64_t))};
    device_state *st = calloc((size_t)s->devices, sizeof *st);
    int rc = -1;
    out->loss = NULL;
    out->steps = 1;
    if (!arr.f_end || !arr.b_end || !st || pl_trace_init(&out->trace, s->devices, 1)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    for (long k = 0; k < v.n_order; k++) {
        pl_slot o = v.order[k];
        if (run_one(job, &arr, &st[o.device], o.device,
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
    pl_validation_free(&v);
    return rc;
}
