/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapter 03).
 *
 * The validator's dry run, with times: a worklist of devices, each running
 * its list until an action needs a message that has not been sent. When an
 * action runs, everything it waits for already has an end time, so its start
 * is max(device free, message arrived) and its end start + cost. Every action
 * runs once and every message wakes at most one device: linear time, no
 * allocation per action, and the costs and memory deltas of every stage are
 * computed once up front. If the worklist empties with actions left, the
 * schedule deadlocks and the validator names where.
 */
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "validate.h"

/* What one action costs on one stage for one micro-batch size: ticks and
 * stash bytes, per kind. Micro-batches come in at most two sizes (they
 * differ by one row), so each stage has two rows of this table. */
typedef struct {
    int64_t ticks[PL_KINDS];
    int64_t bytes[PL_KINDS];
} stage_cost;

/* Per device: where it is in its list and what it holds. */
typedef struct {
    int pos;
    int inflight;
    int64_t now, held;
} device_state;

typedef struct {
    const pl_job *job;
    const pl_schedule *s;
    stage_cost *table;   /* [2 * stage + (larger micro-batch)] */
    int64_t *arrival[2]; /* per flow, [stage * m + mb]: when the message arrived, -1 before */
    device_state *dev;
    int *work, nwork;
    char *queued;
    long done;
    pl_trace *trace;
} sim;

static int build_table(sim *x)
{
    const pl_job *job = x->job;
    int stages = pl_schedule_stages(x->s), m = x->s->microbatches;
    int small = job->opt->batch / m;
    x->table = malloc((size_t)stages * 2 * sizeof *x->table);
    if (!x->table)
        return -1;
    for (int st = 0; st < stages; st++)
        for (int big = 0; big < 2; big++)
            for (int k = 0; k < PL_KINDS; k++) {
                int first = job->partition->first[st], count = job->partition->count[st];
                stage_cost *c = &x->table[2 * st + big];
                c->ticks[k] = pl_cost_action(&job->cost, job->model, first, count,
                                             small + big, (pl_kind)k);
                c->bytes[k] = pl_memory_stash_delta(job->model, first, count, small + big,
                                                    (pl_kind)k, job->opt->recompute);
            }
    return 0;
}

/* Account an action of `kind` on device d, check the memory budget, and
 * record its event from start to end. */
static int run_kind(sim *x, int d, pl_action a, pl_kind kind, const stage_cost *c, int stage,
                    int64_t start, char *err, size_t errlen)
{
    device_state *ds = &x->dev[d];
    int64_t delta = c->bytes[kind];
    if (delta > 0 && x->job->opt->device_memory) {
        char name[32];
        pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
        if (pl_memory_check(x->job->opt->device_memory, d,
                            pl_schedule_format(x->s, shown, name, sizeof name),
                            (size_t)ds->held, (size_t)delta, err, errlen))
            return -1;
    }
    ds->held += delta;
    ds->inflight += pl_memory_inflight_delta(kind);
    ds->now = start + c->ticks[kind];
    pl_event e = {start, ds->now, ds->held, a.mb, (int16_t)d, (int16_t)stage, 0,
                  (int16_t)ds->inflight, (int8_t)kind, (int8_t)a.chunk};
    if (pl_lane_add(&x->trace->lanes[d], &e) == 0)
        return 0;
    snprintf(err, errlen, "simulate: out of host memory for the trace");
    return -1;
}

/* Run device d until it finishes or needs a message that has not arrived. */
static int run_device(sim *x, int d, char *err, size_t errlen)
{
    const pl_schedule *s = x->s;
    device_state *ds = &x->dev[d];
    size_t m = (size_t)s->microbatches;
    int larger = x->job->opt->batch % s->microbatches; /* micro-batches 0..larger-1 */
    for (; ds->pos < s->len[d]; ds->pos++) {
        pl_action a = s->actions[d][ds->pos];
        pl_route in, out;
        int64_t ready = 0;
        if (pl_schedule_input(s, d, a, &in)) {
            ready = x->arrival[in.flow][(size_t)in.stage * m + (size_t)a.mb];
            if (ready < 0)
                return 0; /* blocked: the sender will queue us again */
        }
        int stage = pl_schedule_stage(s, d, a.chunk);
        const stage_cost *c = &x->table[2 * stage + (a.mb < larger)];
        if (x->job->opt->recompute && pl_action_is_backward(a.kind) &&
            run_kind(x, d, a, PL_R, c, stage, ds->now, err, errlen))
            return -1;
        if (run_kind(x, d, a, a.kind, c, stage, ds->now > ready ? ds->now : ready, err, errlen))
            return -1;
        x->done++;
        if (pl_schedule_output(s, d, a, &out)) {
            x->arrival[out.flow][(size_t)out.stage * m + (size_t)a.mb] = ds->now;
            if (!x->queued[out.peer]) {
                x->queued[out.peer] = 1;
                x->work[x->nwork++] = out.peer;
            }
        }
    }
    return 0;
}

static int run_all(sim *x, char *err, size_t errlen)
{
    int p = x->s->devices;
    for (int d = p - 1; d >= 0; d--) { /* d0 on top */
        x->queued[d] = 1;
        x->work[x->nwork++] = d;
    }
    while (x->nwork > 0) {
        int d = x->work[--x->nwork];
        if (run_device(x, d, err, errlen))
            return -1;
        x->queued[d] = 0;
    }
    if (x->done == pl_schedule_total(x->s))
        return 0;
    if (pl_validate(x->s, NULL, err, errlen) == 0) /* names the deadlock */
        snprintf(err, errlen, "simulate: the schedule did not finish");
    return -1;
}

int pl_simulate(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    memset(out, 0, sizeof *out);
    if (pl_validate_local(s, err, errlen))
        return -1;
    size_t n = (size_t)pl_schedule_stages(s) * (size_t)s->microbatches;
    sim x = {job, s, NULL, {malloc(n * sizeof(int64_t)), malloc(n * sizeof(int64_t))},
             calloc((size_t)s->devices, sizeof(device_state)),
             malloc((size_t)s->devices * sizeof(int)), 0, calloc((size_t)s->devices, 1), 0,
             &out->trace};
    int rc = -1, keep = !job->opt->totals_only;
    if (!x.arrival[0] || !x.arrival[1] || !x.dev || !x.work || !x.queued || build_table(&x) ||
        pl_trace_init(&out->trace, s->devices, 1, keep)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    memset(x.arrival[0], 0xff, n * sizeof(int64_t)); /* -1: not arrived */
    memset(x.arrival[1], 0xff, n * sizeof(int64_t));
    for (int d = 0; d < s->devices; d++)
        if (pl_lane_reserve(&out->trace.lanes[d], (long)s->len[d] * (job->opt->recompute ? 2 : 1))) {
            snprintf(err, errlen, "simulate: out of host memory for the trace");
            goto done;
        }
    if (run_all(&x, err, errlen))
        goto done;
    pl_job_describe(job, &out->trace.info);
    out->trace.info.executor = "simulator";
    out->trace.info.ns_per_tick = job->cost.ns_per_tick;
    out->steps = 1;
    rc = 0;
done:
    if (rc)
        pl_result_free(out);
    free(x.table);
    free(x.arrival[0]);
    free(x.arrival[1]);
    free(x.dev);
    free(x.work);
    free(x.queued);
    return rc;
}
