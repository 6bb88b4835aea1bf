/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapters 03, 06).
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
 *
 * Every step runs, as the devices run them (chapter 06): after its list a
 * device adds to the gradient norm's all-reduce and waits for it when
 * clipping the barrier way, checks the previous step's norm under
 * post-validation -- and runs the step again where job->clips says the
 * runtime will roll back -- and meets the others at the barrier unless
 * steps sync locally. A device's lists are numbered in the order it runs
 * them (its *pass*); every device runs the same passes. A message's receiver
 * takes it before its sender can send the next one of the same name -- they
 * exchange messages both ways every pass -- so two entries per name, by pass
 * parity, suffice; the receiver clears an entry as it takes it.
 *
 * A message to another device arrives pl_cost_link later than it was sent
 * (chapter 07); under --blocking-send its sender waits until then. The hop
 * table holds each message's delay, so free links cost the loop nothing.
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

/* The routes of one (device, chunk), from route.h: its stage, the devices
 * holding the stages before and after it (-1 at the ends), and how long its
 * messages to them take, per micro-batch size. */
typedef struct {
    int stage, prev_peer, next_peer;
    int64_t next_delay[2], prev_delay[2];
} hop;

/* A message by its receiving end: flow, stage, and that stage's chunk. */
typedef struct {
    pl_flow flow;
    int stage, chunk;
} message;

/* Where a device is at the end of its list: what it still has to do. */
enum { CHECK, ADD, SUM, ARRIVE, BARRIER, NEXT };

/* Per device, between runs: where it is in its list and in its steps, and
 * what it holds. */
typedef struct {
    int pos, step, pass, at, rerun;
    int inflight;
    int64_t now, held;
    int64_t fixed;             /* parameters, gradients, optimizer state */
    pl_memory_transit transit; /* messages it sent still on a link */
} device_state;

/* A reduction or a barrier of one step: devices in, latest time brought. */
typedef struct {
    int in;
    int64_t time;
} meeting;

typedef struct {
    const pl_job *job;
    const pl_schedule *s;
    stage_cost *table;   /* [2 * stage + (larger micro-batch)] */
    hop *hops;           /* [device * v + chunk] */
    int64_t *arrival[4]; /* per pass parity and flow, [receiving stage * m + mb]:
                            arrival + 1, 0 before it arrives and once taken */
    meeting *sum, *barrier; /* [step] */
    device_state *dev;
    int *work, nwork;
    char *queued;
    pl_trace *trace;
    int links;           /* 1 if some message takes time */
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
                for (int f = 0; f < 2; f++)
                    c->message[f] = pl_memory_message_bytes(job->model, first, count,
                                                            small + big, (pl_flow)f);
            }
    for (int d = 0; d < s->devices; d++)
        for (int c = 0; c < s->chunks; c++) {
            pl_route r;
            hop *h = &x->hops[d * s->chunks + c];
            h->stage = pl_schedule_stage(s, d, c);
            h->next_peer = pl_schedule_output(s, d, (pl_action){PL_F, 0, c}, &r) ? r.peer : -1;
            h->prev_peer = pl_schedule_output(s, d, (pl_action){PL_B, 0, c}, &r) ? r.peer : -1;
            for (int big = 0; big < 2; big++) {
                const stage_cost *sc = &x->table[2 * h->stage + big];
                h->next_delay[big] = h->next_peer < 0 ? 0
                    : pl_cost_link(&job->cost, d, h->next_peer, sc->message[PL_ACTIVATION]);
                h->prev_delay[big] = h->prev_peer < 0 ? 0
                    : pl_cost_link(&job->cost, d, h->prev_peer, sc->message[PL_GRADIENT]);
                x->links |= h->next_delay[big] > 0 || h->prev_delay[big] > 0;
            }
        }
    return 0;
}

/* A device while it runs: its state in locals, so the hot loop keeps them in
 * registers instead of re-reading them through pointers after every store. */
typedef struct {
    int d, step;
    int64_t now, held, fixed;
    int inflight;
    pl_lane *lane;
    pl_memory_transit *transit;
} runner;

/* Bytes device r sent that are still on a link at its time now. */
static inline int64_t in_transit(const sim *x, runner *r)
{
    return x->links ? pl_memory_transit_at(r->transit, r->now) : 0;
}

/* The rare paths of an action, out of the loop: a memory budget to check
 * (returns -1 with err if `need` more bytes of `what` do not fit). */
static int check_budget(sim *x, runner *r, pl_action a, pl_kind kind, const char *what,
                        int64_t need, char *err, size_t errlen)
{
    char name[32];
    pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
    return pl_memory_check(x->job->opt->device_memory, r->d,
                           pl_schedule_format(x->s, shown, name, sizeof name), what,
                           (size_t)(r->fixed + r->held + in_transit(x, r)), (size_t)need, err,
                           errlen);
}

/* A message to another device: its sender's bytes in transit until it
 * arrives (and the budget they need), and the transfer in the trace. */
static int on_link(sim *x, runner *r, pl_action a, int to, const message *msg, int64_t bytes,
                   int64_t arrival, char *err, size_t errlen)
{
    if (arrival > r->now) {
        if (x->job->opt->device_memory &&
            check_budget(x, r, a, a.kind, "in-flight messages", bytes, err, errlen))
            return -1;
        if (pl_memory_transit_add(r->transit, arrival, bytes))
            goto oom;
    }
    pl_transfer t = {r->now, arrival, bytes, a.mb, (int16_t)r->d, (int16_t)to,
                     (int16_t)msg->stage, (int16_t)r->step, (int8_t)msg->flow,
                     (int8_t)msg->chunk};
    if (pl_lane_send(r->lane, &t) == 0)
        return 0;
oom:
    snprintf(err, errlen, "simulate: out of host memory");
    return -1;
}

/* Account an action of `kind` that starts at `start`: the memory it needs,
 * its end. */
static inline int account(sim *x, runner *r, pl_action a, pl_kind kind, const stage_cost *c,
                          int64_t start, char *err, size_t errlen)
{
    int64_t delta = c->bytes[kind];
    if (delta > 0 && x->job->opt->device_memory &&
        check_budget(x, r, a, kind, "activations", delta, err, errlen))
        return -1;
    r->held += delta;
    r->inflight += pl_memory_inflight_delta(kind);
    r->now = start + c->ticks[kind];
    return 0;
}

/* Record the action of `kind` that ran from `start` to the device's now. */
static inline int record(sim *x, runner *r, pl_action a, pl_kind kind, int stage,
                         int64_t start, char *err, size_t errlen)
{
    pl_event e = {start, r->now, r->held, in_transit(x, r), a.mb, r->inflight, (int16_t)r->d,
                  (int16_t)stage, (int16_t)r->step, (int8_t)kind, (int8_t)a.chunk};
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

/* Run device d's list until it ends (returns 1) or needs a message that has
 * not arrived (0); -1 on failure. The routing is route.h's, through the hop
 * table; the message of (stage, micro-batch) is indexed by the stage that
 * receives it. */
static int run_list(sim *x, int d, char *err, size_t errlen)
{
    const pl_schedule *s = x->s;
    device_state *ds = &x->dev[d];
    const pl_action *list = s->actions[d];
    const hop *hops = &x->hops[(size_t)d * s->chunks];
    int64_t *act = x->arrival[2 * (ds->pass & 1) + PL_ACTIVATION];
    int64_t *grad = x->arrival[2 * (ds->pass & 1) + PL_GRADIENT];
    int len = s->len[d], pos = ds->pos, rc = 0, recompute = x->job->opt->recompute;
    int larger = x->job->opt->batch % s->microbatches; /* micro-batches 0..larger-1 */
    size_t m = (size_t)s->microbatches;
    runner r = {d, ds->step, ds->now, ds->held, ds->fixed, ds->inflight, &x->trace->lanes[d],
                &ds->transit};
    for (; pos < len; pos++) {
        pl_action a = list[pos];
        const hop *h = &hops[a.chunk];
        size_t here = (size_t)h->stage * m + (size_t)a.mb;
        int64_t ready = 1, *in = NULL; /* arrival + 1: 0 means it has not arrived */
        if (a.kind == PL_F && h->prev_peer >= 0)
            in = &act[here];
        else if (pl_action_is_backward(a.kind) && h->next_peer >= 0)
            in = &grad[here];
        if (in && (ready = *in) == 0)
            break; /* blocked: the sender will wake us */
        if (in)
            *in = 0; /* taken: the entry is free for the pass after next */
        ready--;
        int big = a.mb < larger;
        const stage_cost *c = &x->table[2 * h->stage + big];
        if (recompute && pl_action_is_backward(a.kind)) {
            int64_t start = r.now;
            if ((rc = account(x, &r, a, PL_R, c, start, err, errlen)) ||
                (rc = record(x, &r, a, PL_R, h->stage, start, err, errlen)))
                break;
        }
        int64_t start = r.now > ready ? r.now : ready, arrival = -1;
        if ((rc = account(x, &r, a, a.kind, c, start, err, errlen)))
            break;
        int to = -1;
        message msg = {PL_ACTIVATION, 0, 0};
        if (a.kind == PL_F && h->next_peer >= 0) {
            arrival = r.now + h->next_delay[big];
            act[here + m] = arrival + 1; /* to stage + 1 */
            to = h->next_peer;
            msg.stage = h->stage + 1;
        } else if (pl_action_is_backward(a.kind) && h->prev_peer >= 0) {
            arrival = r.now + h->prev_delay[big];
            grad[here - m] = arrival + 1; /* to stage - 1 */
            to = h->prev_peer;
            msg = (message){PL_GRADIENT, h->stage - 1, 0};
        }
        if (to >= 0) {
            wake(x, to);
            if (to != d) {
                int64_t bytes = c->message[msg.flow];
                int home;
                pl_route_home(s->placement, s->devices, msg.stage, &home, &msg.chunk);
                if (r.lane->keep_events || arrival > r.now)
                    rc = on_link(x, &r, a, to, &msg, bytes, arrival, err, errlen);
                else if ((rc = pl_lane_sent(r.lane, r.step, bytes)) != 0)
                    snprintf(err, errlen, "simulate: step %d is past the trace", r.step);
                if (rc)
                    break;
            }
        }
        if ((rc = record(x, &r, a, a.kind, h->stage, start, err, errlen)))
            break;
        if (arrival > r.now && x->job->opt->blocking_send)
            r.now = arrival; /* the sender waits for its message to arrive */
    }
    ds->pos = pos;
    ds->now = r.now;
    ds->held = r.held;
    ds->inflight = r.inflight;
    return rc ? -1 : pos == len;
}

/* Device d brings its time to meeting g; everybody waits once all are in. */
static void arrive(sim *x, meeting *g, int64_t time)
{
    if (g->in == 0 || time > g->time)
        g->time = time;
    if (++g->in == x->s->devices)
        for (int e = 0; e < x->s->devices; e++)
            wake(x, e);
}

/* Wait at meeting g: 0 until everyone is in, then 1 with the clock moved on. */
static int met(sim *x, device_state *ds, const meeting *g)
{
    if (g->in < x->s->devices)
        return 0;
    if (g->time > ds->now)
        ds->now = g->time;
    return 1;
}

// [region simulate-end-step]
/* The end of device d's step, as device_step.c does it. Returns 1 when the
 * device has a list to run (the next step, or this one again), 0 if it
 * waits or is done. */
static int end_step(sim *x, int d)
{
    const pl_options *o = x->job->opt;
    device_state *ds = &x->dev[d];
    int clip = o->clip_norm > 0, post = clip && o->post_validation;
    switch (ds->at) {
    case CHECK: /* post-validation: the previous step's norm, and maybe a rollback */
        if (post && ds->step > 0 && !ds->rerun) {
            if (!met(x, ds, &x->sum[ds->step - 1]))
                return 0;
            if (x->job->clips && x->job->clips[ds->step - 1]) {
                ds->rerun = 1; /* run this step again, on the clipped weights */
                ds->pass++;
                ds->pos = 0;
                return 1;
            }
        }
        ds->at = ADD; /* fall through */
    case ADD:
        if (clip)
            arrive(x, &x->sum[ds->step], ds->now);
        ds->at = SUM; /* fall through */
    case SUM: /* clipping the barrier way: wait for the norm */
        if (clip && !post && !met(x, ds, &x->sum[ds->step]))
            return 0;
        ds->at = ARRIVE; /* fall through */
    case ARRIVE:
        if (o->step_sync == PL_SYNC_GLOBAL)
            arrive(x, &x->barrier[ds->step], ds->now);
        ds->at = BARRIER; /* fall through */
    case BARRIER:
        if (o->step_sync == PL_SYNC_GLOBAL && !met(x, ds, &x->barrier[ds->step]))
            return 0;
        ds->at = NEXT; /* fall through */
    default: /* the next step; what it holds, messages on links included, goes on */
        ds->pos = 0;
        ds->step++;
        ds->pass++;
        ds->at = CHECK;
        ds->rerun = 0;
        return ds->step < o->steps;
    }
}
// [endregion simulate-end-step]

static int run_all(sim *x, char *err, size_t errlen)
{
    int p = x->s->devices;
    for (int d = p - 1; d >= 0; d--) /* d0 on top */
        wake(x, d);
    while (x->nwork > 0) {
        int d = x->work[--x->nwork], rc = 1;
        x->queued[d] = 0;
        while (rc == 1 && x->dev[d].step < x->job->opt->steps) {
            rc = run_list(x, d, err, errlen);
            if (rc == 1)
                rc = end_step(x, d);
        }
        if (rc < 0)
            return -1;
    }
    for (int d = 0; d < p; d++)
        if (x->dev[d].step < x->job->opt->steps) {
            if (pl_validate(x->s, NULL, err, errlen) == 0) /* names the deadlock */
                snprintf(err, errlen, "simulate: the schedule did not finish");
            return -1;
        }
    return 0;
}

int pl_simulate(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    int steps = job->opt->steps;
    memset(out, 0, sizeof *out);
    if (pl_validate_local(s, err, errlen))
        return -1;
    if (steps < 1) {
        snprintf(err, errlen, "simulate: need at least 1 step");
        return -1;
    }
    size_t n = (size_t)pl_schedule_stages(s) * (size_t)s->microbatches;
    /* calloc: large zeroed blocks come straight from the kernel, touched only
     * where a message arrives. */
    sim x = {job, s, NULL, NULL,
             {calloc(n, sizeof(int64_t)), calloc(n, sizeof(int64_t)),
              calloc(n, sizeof(int64_t)), calloc(n, sizeof(int64_t))},
             calloc((size_t)steps, sizeof(meeting)), calloc((size_t)steps, sizeof(meeting)),
             calloc((size_t)s->devices, sizeof(device_state)),
             malloc((size_t)s->devices * sizeof(int)), 0, calloc((size_t)s->devices, 1),
             &out->trace, 0};
    int rc = -1, keep = !job->opt->totals_only;
    if (!x.arrival[0] || !x.arrival[1] || !x.arrival[2] || !x.arrival[3] || !x.sum ||
        !x.barrier || !x.dev || !x.work || !x.queued || build_tables(&x) ||
        pl_trace_init(&out->trace, s->devices, steps, keep)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    if (pl_job_check_memory(job, err, errlen))
        goto done;
    for (int d = 0; d < s->devices; d++) {
        pl_memory_bill b = pl_job_static_memory(job, d);
        x.dev[d].fixed = (int64_t)pl_memory_total(&b);
    }
    for (int d = 0; d < s->devices; d++)
        if (pl_lane_reserve(&out->trace.lanes[d],
                            (long)out->trace.lanes[d].kept * s->len[d] *
                                (job->opt->recompute ? 2 : 1))) {
            snprintf(err, errlen, "simulate: out of host memory for the trace");
            goto done;
        }
    if (run_all(&x, err, errlen))
        goto done;
    pl_job_describe(job, &out->trace.info);
    out->trace.info.executor = "simulator";
    out->trace.info.ns_per_tick = job->cost.ns_per_tick;
    out->steps = steps;
    rc = 0;
done:
    if (rc)
        pl_result_free(out);
    for (int d = 0; x.dev && d < s->devices; d++)
        pl_memory_transit_free(&x.dev[d].transit);
    free(x.table);
    free(x.hops);
    for (int k = 0; k < 4; k++)
        free(x.arrival[k]);
    free(x.sum);
    free(x.barrier);
    free(x.dev);
    free(x.work);
    free(x.queued);
    return rc;
}
