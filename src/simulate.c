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
 *
 * A message to another device arrives pl_cost_link later than it was sent
 * (chapter 07); under --blocking-send its sender waits until then.
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
    int64_t message[2]; /* bytes of the message it sends, per flow */
} stage_cost;

/* Per device: where it is in its list and what it holds. */
typedef struct {
    int pos;
    int inflight;
    int64_t now, held;
    int64_t fixed;               /* parameters, gradients, optimizer state */
    pl_memory_transit transit;   /* messages it sent still on a link */
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
                for (int f = 0; f < 2; f++)
                    c->message[f] = pl_memory_message_bytes(job->model, first, count,
                                                            small + big, (pl_flow)f);
            }
    return 0;
}

/* Check that device d may take `need` more bytes of `what` for action a. */
static int fits(sim *x, int d, pl_action a, pl_kind kind, const char *what, int64_t need,
                int64_t transit, char *err, size_t errlen)
{
    const device_state *ds = &x->dev[d];
    char name[32];
    pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
    return need <= 0 || !x->job->opt->device_memory ||
           pl_memory_check(x->job->opt->device_memory, d,
                           pl_schedule_format(x->s, shown, name, sizeof name), what,
                           (size_t)(ds->fixed + ds->held + transit), (size_t)need, err,
                           errlen) == 0;
}

/* Send action a's output, if it has one, at the device's time: when it
 * arrives, who is woken, the sender's bytes in transit, the transfer.
 * *wait gets the arrival time if the sender must wait for it. */
static int send(sim *x, int d, pl_action a, const stage_cost *c, int64_t *wait, char *err,
                size_t errlen)
{
    device_state *ds = &x->dev[d];
    size_t m = (size_t)x->s->microbatches;
    pl_route out;
    *wait = ds->now;
    if (!pl_schedule_output(x->s, d, a, &out))
        return 0;
    int64_t bytes = c->message[out.flow];
    int64_t arrival = ds->now + pl_cost_link(&x->job->cost, d, out.peer, bytes);
    x->arrival[out.flow][(size_t)out.stage * m + (size_t)a.mb] = arrival;
    if (!x->queued[out.peer]) {
        x->queued[out.peer] = 1;
        x->work[x->nwork++] = out.peer;
    }
    if (out.peer == d)
        return 0;
    if (arrival > ds->now) {
        int64_t transit = pl_memory_transit_at(&ds->transit, ds->now);
        if (!fits(x, d, a, a.kind, "in-flight messages", bytes, transit, err, errlen))
            return -1;
        if (pl_memory_transit_add(&ds->transit, arrival, bytes))
            goto oom;
    }
    if (x->job->opt->blocking_send)
        *wait = arrival;
    pl_transfer t = {ds->now, arrival, bytes, a.mb, (int16_t)d, (int16_t)out.peer,
                     (int16_t)out.stage, 0, (int8_t)out.flow, (int8_t)out.chunk};
    if (pl_lane_send(&x->trace->lanes[d], &t) == 0)
        return 0;
oom:
    snprintf(err, errlen, "simulate: out of host memory");
    return -1;
}

/* Run an action of `kind` on device d from `start`: check the memory it
 * needs, account it, send its output (not R's), record its event. */
static int run_kind(sim *x, int d, pl_action a, pl_kind kind, const stage_cost *c, int stage,
                    int64_t start, char *err, size_t errlen)
{
    device_state *ds = &x->dev[d];
    int64_t delta = c->bytes[kind], wait = 0;
    if (!fits(x, d, a, kind, "activations", delta,
              pl_memory_transit_at(&ds->transit, ds->now), err, errlen))
        return -1;
    ds->held += delta;
    ds->inflight += pl_memory_inflight_delta(kind);
    ds->now = start + c->ticks[kind];
    if (kind != PL_R && send(x, d, a, c, &wait, err, errlen))
        return -1;
    pl_event e = {start, ds->now, ds->held, pl_memory_transit_at(&ds->transit, ds->now), a.mb,
                  (int16_t)d, (int16_t)stage, 0, (int16_t)ds->inflight, (int8_t)kind,
                  (int8_t)a.chunk};
    if (wait > ds->now) /* a blocking send: the device waits for the arrival */
        ds->now = wait;
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
        pl_route in;
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
    if (pl_job_check_memory(job, err, errlen))
        goto done;
    for (int d = 0; d < s->devices; d++) {
        pl_memory_bill b = pl_job_static_memory(job, d);
        x.dev[d].fixed = (int64_t)pl_memory_total(&b);
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
    for (int d = 0; x.dev && d < s->devices; d++)
        pl_memory_transit_free(&x.dev[d].transit);
    free(x.table);
    free(x.arrival[0]);
    free(x.arrival[1]);
    free(x.dev);
    free(x.work);
    free(x.queued);
    return rc;
}
