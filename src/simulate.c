/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapter 03).
 *
 * The validator's dry run, with times: a worklist of devices, each running
 * its list until an action needs a message that has not been sent. When an
 * action runs, everything it waits for already has an end time, so its start
 * is max(device free, message arrived) and its end start + cost. Every action
 * runs once and every message wakes at most one device: linear time.
 *
 * It is built for speed, because `pipelab plan` and the benchmarks run it on
 * millions of actions: the routes of every (device, chunk) -- computed once,
 * by route.h -- and the costs and memory deltas of every stage are tables;
 * a device's state lives in locals while it runs; nothing is allocated per
 * action. If the worklist empties with actions left, the schedule deadlocks
 * and the validator names where.
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

/* The routes of one (device, chunk), from route.h: its stage, and the
 * devices holding the stages before and after it (-1 at the ends). */
typedef struct {
    int stage, prev_peer, next_peer;
} hop;

/* Per device, between runs: where it is in its list and what it holds. */
typedef struct {
    int pos;
    int inflight;
    int64_t now, held;
} device_state;

typedef struct {
    const pl_job *job;
    const pl_schedule *s;
    stage_cost *table;   /* [2 * stage + (larger micro-batch)] */
    hop *hops;           /* [device * v + chunk] */
    int64_t *arrival[2]; /* per flow, [receiving stage * m + mb]: arrival + 1, 0 before */
    device_state *dev;
    int *work, nwork;
    char *queued;
    long done;
    pl_trace *trace;
} sim;

static int build_tables(sim *x)
{
    const pl_job *job = x->job;
    const pl_schedule *s = x->s;
    int stages = pl_schedule_stages(s), m = s->microbatches, small = job->opt->batch / m;
    x->table = malloc((size_t)stages * 2 * sizeof *x->table);
    x->hops = malloc((size_t)stages * sizeof *x->hops);
    if (!x->table || !x->hops)
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
    for (int d = 0; d < s->devices; d++)
        for (int c = 0; c < s->chunks; c++) {
            pl_route r;
            hop *h = &x->hops[d * s->chunks + c];
            h->stage = pl_schedule_stage(s, d, c);
            h->next_peer = pl_schedule_output(s, d, (pl_action){PL_F, 0, c}, &r) ? r.peer : -1;
            h->prev_peer = pl_schedule_output(s, d, (pl_action){PL_B, 0, c}, &r) ? r.peer : -1;
        }
    return 0;
}

/* A device while it runs: its state in locals, so the hot loop keeps them in
 * registers instead of re-reading them through pointers after every store. */
typedef struct {
    int d;
    int64_t now, held;
    int inflight;
    pl_lane *lane;
} runner;

/* The rare paths of an action, out of the loop: a memory budget to check
 * (returns -1 with err if it does not fit). */
static int check_budget(sim *x, const runner *r, pl_action a, pl_kind kind, int64_t delta,
                        char *err, size_t errlen)
{
    char name[32];
    pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
    return pl_memory_check(x->job->opt->device_memory, r->d,
                           pl_schedule_format(x->s, shown, name, sizeof name),
                           (size_t)r->held, (size_t)delta, err, errlen);
}

/* Account an action of `kind` that starts at `start`, and record it. */
static inline int account(sim *x, runner *r, pl_action a, pl_kind kind, const stage_cost *c,
                          int stage, int64_t start, char *err, size_t errlen)
{
    int64_t delta = c->bytes[kind];
    if (delta > 0 && x->job->opt->device_memory &&
        check_budget(x, r, a, kind, delta, err, errlen))
        return -1;
    r->held += delta;
    r->inflight += pl_memory_inflight_delta(kind);
    r->now = start + c->ticks[kind];
    pl_event e = {start, r->now, r->held, a.mb, r->inflight, (int16_t)r->d, (int16_t)stage, 0,
                  (int8_t)kind, (int8_t)a.chunk};
    if (pl_lane_add(r->lane, &e) == 0)
        return 0;
    snprintf(err, errlen, "simulate: out of host memory for the trace");
    return -1;
}

/* Wake device d: a message it may be waiting for has arrived. */
static inline void wake(sim *x, int d)
{
    if (!x->queued[d]) {
        x->queued[d] = 1;
        x->work[x->nwork++] = d;
    }
}

/* Run device d until it finishes or needs a message that has not arrived.
 * The routing is route.h's, through the hop table; the message of (stage,
 * micro-batch) is indexed by the stage that receives it. */
static int run_device(sim *x, int d, char *err, size_t errlen)
{
    const pl_schedule *s = x->s;
    device_state *ds = &x->dev[d];
    const pl_action *list = s->actions[d];
    const hop *hops = &x->hops[(size_t)d * s->chunks];
    int64_t *act = x->arrival[PL_ACTIVATION], *grad = x->arrival[PL_GRADIENT];
    int len = s->len[d], pos = ds->pos, rc = 0, recompute = x->job->opt->recompute;
    int larger = x->job->opt->batch % s->microbatches; /* micro-batches 0..larger-1 */
    size_t m = (size_t)s->microbatches;
    runner r = {d, ds->now, ds->held, ds->inflight, &x->trace->lanes[d]};
    for (; pos < len; pos++) {
        pl_action a = list[pos];
        const hop *h = &hops[a.chunk];
        size_t here = (size_t)h->stage * m + (size_t)a.mb;
        int64_t ready = 1; /* arrival + 1: 0 means the message has not arrived */
        if (a.kind == PL_F && h->prev_peer >= 0)
            ready = act[here];
        else if (pl_action_is_backward(a.kind) && h->next_peer >= 0)
            ready = grad[here];
        if (ready-- == 0)
            break; /* blocked: the sender will wake us */
        const stage_cost *c = &x->table[2 * h->stage + (a.mb < larger)];
        if (recompute && pl_action_is_backward(a.kind) &&
            (rc = account(x, &r, a, PL_R, c, h->stage, r.now, err, errlen)))
            break;
        if ((rc = account(x, &r, a, a.kind, c, h->stage, r.now > ready ? r.now : ready, err,
                          errlen)))
            break;
        x->done++;
        if (a.kind == PL_F && h->next_peer >= 0) {
            act[here + m] = r.now + 1; /* to stage + 1 */
            wake(x, h->next_peer);
        } else if (pl_action_is_backward(a.kind) && h->prev_peer >= 0) {
            grad[here - m] = r.now + 1; /* to stage - 1 */
            wake(x, h->prev_peer);
        }
    }
    ds->pos = pos;
    ds->now = r.now;
    ds->held = r.held;
    ds->inflight = r.inflight;
    return rc;
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
    /* calloc: large zeroed blocks come straight from the kernel, touched only
     * where a message arrives. */
    sim x = {job, s, NULL, NULL, {calloc(n, sizeof(int64_t)), calloc(n, sizeof(int64_t))},
             calloc((size_t)s->devices, sizeof(device_state)),
             malloc((size_t)s->devices * sizeof(int)), 0, calloc((size_t)s->devices, 1), 0,
             &out->trace};
    int rc = -1, keep = !job->opt->totals_only;
    if (!x.arrival[0] || !x.arrival[1] || !x.dev || !x.work || !x.queued || build_tables(&x) ||
        pl_trace_init(&out->trace, s->devices, 1, keep)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
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
    free(x.hops);
    free(x.arrival[0]);
    free(x.arrival[1]);
    free(x.dev);
    free(x.work);
    free(x.queued);
    return rc;
}
