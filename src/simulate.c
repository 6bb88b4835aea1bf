/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapters 03, 06).
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
 * Every step runs, as the devices run them (chapter 06): after its list a
 * device adds to the gradient norm's all-reduce and waits for it when
 * clipping the barrier way, checks the previous step's norm under
 * post-validation -- and runs the step again where job->clips says the
 * runtime will roll back -- and meets the others at the barrier unless
 * steps sync locally. A device's lists are numbered in the order it runs
 * them (its *pass*); every device runs the same passes, so a message is
 * named by its pass. A message's receiver takes it before its sender can
 * send the next one of the same name -- they exchange messages both ways
 * every pass -- so two entries per name, by pass parity, suffice.
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

/* Where a device is at the end of its list: what it still has to do. */
enum { CHECK, ADD, SUM, ARRIVE, BARRIER, NEXT };

/* Per device: where it is in its list and what it holds. */
typedef struct {
    int pos, step, pass, at, rerun;
    int inflight;
    int64_t now, held;
} device_state;

/* A message: when it arrived and of which pass (-1: none yet). */
typedef struct {
    int64_t time;
    int pass;
} arrival;

/* A reduction or a barrier of one step: devices in, latest time brought. */
typedef struct {
    int in;
    int64_t time;
} meeting;

typedef struct {
    const pl_job *job;
    const pl_schedule *s;
    stage_cost *table;  /* [2 * stage + (larger micro-batch)] */
    arrival *arrival;   /* [((pass & 1) * 2 + flow) * stages * m + stage * m + mb] */
    meeting *sum, *barrier; /* [step] */
    device_state *dev;
    int *work, nwork;
    char *queued;
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

static void wake(sim *x, int d)
{
    if (!x->queued[d]) {
        x->queued[d] = 1;
        x->work[x->nwork++] = d;
    }
}

static arrival *message(sim *x, int pass, pl_flow flow, int stage, int mb)
{
    size_t n = (size_t)pl_schedule_stages(x->s) * (size_t)x->s->microbatches;
    return &x->arrival[((size_t)(pass & 1) * 2 + (size_t)flow) * n +
                       (size_t)stage * (size_t)x->s->microbatches + (size_t)mb];
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
    pl_event e = {start, ds->now, ds->held, a.mb, (int16_t)d, (int16_t)stage,
                  (int16_t)ds->step, (int16_t)ds->inflight, (int8_t)kind, (int8_t)a.chunk};
    if (pl_lane_add(&x->trace->lanes[d], &e) == 0)
        return 0;
    snprintf(err, errlen, "simulate: out of host memory for the trace");
    return -1;
}

/* Run device d's list until it ends or needs a message that has not arrived.
 * Returns 1 at the end of the list, 0 if blocked, -1 on failure. */
static int run_list(sim *x, int d, char *err, size_t errlen)
{
    const pl_schedule *s = x->s;
    device_state *ds = &x->dev[d];
    int larger = x->job->opt->batch % s->microbatches; /* micro-batches 0..larger-1 */
    for (; ds->pos < s->len[d]; ds->pos++) {
        pl_action a = s->actions[d][ds->pos];
        pl_route in, out;
        int64_t ready = 0;
        if (pl_schedule_input(s, d, a, &in)) {
            const arrival *m = message(x, ds->pass, in.flow, in.stage, a.mb);
            if (m->pass != ds->pass)
                return 0; /* blocked: the sender will queue us again */
            ready = m->time;
        }
        int stage = pl_schedule_stage(s, d, a.chunk);
        const stage_cost *c = &x->table[2 * stage + (a.mb < larger)];
        if (x->job->opt->recompute && pl_action_is_backward(a.kind) &&
            run_kind(x, d, a, PL_R, c, stage, ds->now, err, errlen))
            return -1;
        if (run_kind(x, d, a, a.kind, c, stage, ds->now > ready ? ds->now : ready, err, errlen))
            return -1;
        if (pl_schedule_output(s, d, a, &out)) {
            *message(x, ds->pass, out.flow, out.stage, a.mb) = (arrival){ds->now, ds->pass};
            wake(x, out.peer);
        }
    }
    return 1;
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
    default:
        *ds = (device_state){0, ds->step + 1, ds->pass + 1, CHECK, 0, ds->inflight, ds->now,
                             ds->held};
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
    size_t n = 4 * (size_t)pl_schedule_stages(s) * (size_t)s->microbatches;
    sim x = {job, s, NULL, malloc(n * sizeof(arrival)), calloc((size_t)steps, sizeof(meeting)),
             calloc((size_t)steps, sizeof(meeting)),
             calloc((size_t)s->devices, sizeof(device_state)),
             malloc((size_t)s->devices * sizeof(int)), 0, calloc((size_t)s->devices, 1),
             &out->trace};
    int rc = -1, keep = !job->opt->totals_only;
    if (!x.arrival || !x.sum || !x.barrier || !x.dev || !x.work || !x.queued ||
        build_table(&x) || pl_trace_init(&out->trace, s->devices, steps, keep)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        x.arrival[i] = (arrival){0, -1};
    for (int d = 0; d < s->devices; d++)
        if (pl_lane_reserve(&out->trace.lanes[d],
                            (long)steps * s->len[d] * (job->opt->recompute ? 2 : 1))) {
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
    free(x.table);
    free(x.arrival);
    free(x.sum);
    free(x.barrier);
    free(x.dev);
    free(x.work);
    free(x.queued);
    return rc;
}
