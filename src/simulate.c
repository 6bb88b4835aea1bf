/*
 * simulate.c -- a schedule's timeline from arithmetic alone (chapters 03, 06).
 *
 * The validator's dry run, with times: a worklist of devices, each running
 * its list until an action needs a message that has not been sent. When an
 * action runs, everything it waits for already has an end time, so its start
 * is max(device free, message arrived) and its end start + cost. Every action
 * runs once and a device blocked on a message is woken by that message
 * alone: linear time.
 *
 * It is built for speed, because `pipelab plan` and the benchmarks run it on
 * millions of actions (p = 1024, m = 8192 is 16.7 million). Nothing is
 * allocated per action, and an action touches as few cache lines as the
 * arithmetic allows:
 *
 *  - a *recipe* per kind of action says everything running it needs -- its
 *    cost and stash bytes, whether it takes a message, where its message
 *    goes and how long it travels -- computed once from route.h and the cost
 *    model, relative to the device, so devices with the same view of the
 *    pipeline (on uniform stages: all but the two ends) share one;
 *  - messages are entries of one *inbox*, indexed [micro-batch][stage], so a
 *    wave of messages through the pipeline writes and reads neighbouring
 *    entries (its row is padded, so that entries of one stage do not all
 *    fall into the same cache sets);
 *  - a device's state sits in one place, and it tallies its step there,
 *    adding the tally to its lane of the trace when the step ends.
 *
 * If the worklist empties with actions left, the schedule deadlocks and the
 * validator names where.
 *
 * An inbox entry holds the arrival time + 1 of the message its stage takes
 * next for that micro-batch (0: none yet): the activation before the stage's
 * forward, then the gradient -- which can only be sent after that forward
 * ran. Every step runs, as the devices run them (chapter 06): after its list
 * a device adds to the gradient norm's all-reduce and waits for it when
 * clipping the barrier way, checks the previous step's norm under
 * post-validation -- and runs the step again where job->clips says the
 * runtime will roll back -- and meets the others at the barrier unless steps
 * sync locally. A device's lists are numbered in the order it runs them (its
 * *pass*); every device runs the same passes. A message's receiver takes it
 * before its sender can send the next one for that entry -- they exchange
 * messages both ways every pass -- so two inboxes, by pass parity, suffice;
 * the receiver clears an entry as it takes it.
 *
 * A message to another device arrives pl_cost_link later than it was sent
 * (chapter 07); under --blocking-send its sender waits until then. Recipes
 * hold each message's delay, so free links cost the loop nothing.
 */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* for mmap's MAP_ANONYMOUS and madvise's MADV_HUGEPAGE */
#endif
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "validate.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* One kind of action on one chunk of a device d, for one micro-batch size
 * (they differ by at most a row): what running it takes. Stages and devices
 * are counted from d, so that devices in the same position share recipes. */
typedef struct {
    int64_t ticks;    /* how long it takes */
    int64_t bytes;    /* the stash bytes it adds (negative: frees) */
    int64_t delay;    /* how long its message takes to arrive */
    int64_t sent;     /* its message's bytes, if it goes to another device (else 0) */
    int stage;        /* the stage it computes, less d */
    int takes;        /* 1 if it waits for a message: its own stage's inbox entry */
    int sends;        /* where its message goes: to stage + sends (+1 or -1), 0: none */
    int to;           /* the device its message goes to, less d */
    int inflight;     /* the change in micro-batches held */
} recipe;

/* Where a device is at the end of its list: what it still has to do. */
enum { CHECK, ADD, SUM, ARRIVE, BARRIER, NEXT };

/* Per device: where it is in its list and in its steps, and what it holds.
 * What every action reads and writes comes first, in two cache lines: its
 * place and clock, then the tally of its step, which reaches the device's
 * lane of the trace (borrowed while the simulator runs) once per step. */
typedef struct {
    _Alignas(128) int pos; /* 128: its own pair of cache lines */
    int len, inflight, step;
    int64_t now, held;
    const pl_action *list;
    const recipe *recipes;     /* [(chunk * 2 + larger micro-batch) * PL_KINDS + kind] */
    int pass;
    pl_tally tally;            /* its step so far, added to its lane when the step ends */
    _Alignas(64) pl_lane lane; /* borrowed from the trace */
    int at, rerun;
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
    device_state *dev;
    const int64_t **waiting; /* per device: the inbox entry it is blocked on, or NULL */
    int64_t *inbox[2];   /* per pass parity, [mb * stride + receiving stage] (see the top) */
    size_t stride;       /* inbox entries per micro-batch: the stages, padded */
    size_t inbox_bytes;  /* of each inbox */
    recipe *recipes;     /* every device's, or the one it shares with the device before */
    meeting *sum, *barrier; /* [step] */
    int *work, nwork;    /* the worklist: devices that may run */
    char *queued;        /* per device: 1 if in the worklist */
    int larger;          /* micro-batches 0..larger-1 have a row more */
    int links;           /* 1 if some message takes time */
    int lean;            /* 1 if the loop's rare paths are all no-ops (run_list) */
    char *err;           /* where a failure is described */
    size_t errlen;
} sim;

/* The recipe of `kind` on chunk c of device d, for micro-batches of `rows`
 * rows. */
static recipe cook(const sim *x, int d, int c, pl_kind kind, int rows)
{
    const pl_job *job = x->job;
    const pl_schedule *s = x->s;
    int stage = pl_schedule_stage(s, d, c);
    int first = job->partition->first[stage], count = job->partition->count[stage];
    recipe k = {pl_cost_action(&job->cost, job->model, first, count, rows, kind),
                pl_memory_stash_delta(job->model, first, count, rows, kind, job->opt->recompute),
                0, 0, stage - d, 0, 0, 0, pl_memory_inflight_delta(kind)};
    pl_action a = {kind, 0, c};
    pl_route r;
    if (kind == PL_R) /* a recomputed forward: no messages */
        return k;
    k.takes = pl_schedule_input(s, d, a, &r);
    if (pl_schedule_output(s, d, a, &r)) {
        int64_t bytes = pl_memory_message_bytes(job->model, first, count, rows, r.flow);
        k.sends = r.stage - stage;
        k.to = r.peer - d;
        k.sent = r.peer == d ? 0 : bytes;
        k.delay = r.peer == d ? 0 : pl_cost_link(&job->cost, d, r.peer, bytes);
    }
    return k;
}

static int same(const recipe *a, const recipe *b)
{
    return a->ticks == b->ticks && a->bytes == b->bytes && a->delay == b->delay &&
           a->sent == b->sent && a->stage == b->stage && a->takes == b->takes &&
           a->sends == b->sends && a->to == b->to && a->inflight == b->inflight;
}

/* Every device's recipes; a device whose recipes are those of the device
 * before it shares them. */
static int cook_all(sim *x)
{
    const pl_schedule *s = x->s;
    size_t per = (size_t)s->chunks * 2 * PL_KINDS;
    int small = x->job->opt->batch / s->microbatches;
    x->recipes = malloc((size_t)s->devices * per * sizeof *x->recipes);
    if (!x->recipes)
        return -1;
    recipe *next = x->recipes;
    for (int d = 0; d < s->devices; d++) {
        recipe *k = next;
        int shared = d > 0;
        for (int c = 0; c < s->chunks; c++)
            for (int big = 0; big < 2; big++)
                for (int kind = 0; kind < PL_KINDS; kind++, k++) {
                    *k = cook(x, d, c, (pl_kind)kind, small + big);
                    x->links |= k->delay > 0;
                    shared = shared && same(k, &x->dev[d - 1].recipes[k - next]);
                }
        if (shared) {
            x->dev[d].recipes = x->dev[d - 1].recipes;
        } else {
            x->dev[d].recipes = next;
            next += per;
        }
    }
    return 0;
}

/* Bytes device d sent that are still on a link at time now. */
static inline int64_t in_transit(const sim *x, device_state *ds, int64_t now)
{
    return x->links ? pl_memory_transit_at(&ds->transit, now) : 0;
}

/* The rare paths of an action are functions out of the loop. They describe
 * a failure in x->err. */

/* Whether `need` more bytes of `what` fit in device d's memory: 0, or -1. */
static int check_budget(const sim *x, int d, pl_action a, pl_kind kind, const char *what,
                        int64_t need)
{
    device_state *ds = &x->dev[d];
    char name[32];
    pl_action shown = {kind == PL_R ? a.kind : kind, a.mb, a.chunk};
    return pl_memory_check(x->job->opt->device_memory, d,
                           pl_schedule_format(x->s, shown, name, sizeof name), what,
                           (size_t)(ds->fixed + ds->held + in_transit(x, ds, ds->now)),
                           (size_t)need, x->err, x->errlen);
}

/* A message device d sends to another device: its bytes in transit until it
 * arrives (and the budget they need), and the transfer in the trace. */
static int on_link(const sim *x, int d, pl_action a, const recipe *k, int64_t arrival)
{
    device_state *ds = &x->dev[d];
    if (arrival > ds->now) {
        if (x->job->opt->device_memory &&
            check_budget(x, d, a, a.kind, "in-flight messages", k->sent))
            return -1;
        if (pl_memory_transit_add(&ds->transit, arrival, k->sent))
            goto oom;
    }
    pl_route to = {PL_ACTIVATION, 0, 0, 0, 0};
    pl_schedule_output(x->s, d, a, &to);
    pl_transfer t = {ds->now, arrival, k->sent, a.mb, (int16_t)d, (int16_t)to.peer,
                     (int16_t)to.stage, (int16_t)ds->step, (int8_t)to.flow,
                     (int8_t)to.chunk};
    if (pl_lane_send(&ds->lane, &t) == 0)
        return 0;
oom:
    snprintf(x->err, x->errlen, "simulate: out of host memory");
    return -1;
}

/* The later of two times. Whether a message came before its receiver was
 * free is anyone's guess, so this is best a conditional move, not a branch
 * the CPU would mispredict half the time. */
static inline int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Wake device d: what it waits for has arrived. */
static inline void wake(sim *x, int d)
{
    if (!x->queued[d]) {
        x->queued[d] = 1;
        x->work[x->nwork++] = d;
    }
}

/* Run recipe k of action a (of kind `kind`: a's, or R) on device d from
 * `start`: the memory it needs, its end, its message -- into the inbox
 * entry k->sends stages on from `entry`, waking the receiver if it waits for
 * it -- and its event. */
static ALWAYS_INLINE int run(sim *x, int d, const pl_action *a, pl_kind kind,
                             const recipe *k, int64_t start, int64_t *entry, int lean)
{
    device_state *ds = &x->dev[d];
    int64_t arrival = 0;
    if (!lean && k->bytes > 0 && x->job->opt->device_memory &&
        check_budget(x, d, *a, kind, "activations", k->bytes))
        return -1;
    ds->held += k->bytes;
    ds->inflight += k->inflight;
    ds->now = start + k->ticks;
    if (k->sends) {
        int64_t *out = entry + k->sends;
        int to = d + k->to;
        arrival = ds->now + k->delay;
        *out = arrival + 1;
        if (x->waiting[to] == out)
            wake(x, to);
        if (!lean && to != d && (ds->lane.keep_events || arrival > ds->now)) {
            if (on_link(x, d, *a, k, arrival))
                return -1;
        } else {
            ds->tally.step.bytes_sent += k->sent;
        }
    }
    pl_event e = {start, ds->now, ds->held, lean ? 0 : in_transit(x, ds, ds->now), a->mb,
                  ds->inflight, (int16_t)d, (int16_t)(d + k->stage), (int16_t)ds->step,
                  (int8_t)kind, (int8_t)a->chunk};
    pl_tally_add(&ds->tally, &e);
    if (!lean && pl_lane_append(&ds->lane, &e)) {
        snprintf(x->err, x->errlen, "simulate: out of host memory for the trace");
        return -1;
    }
    if (!lean && arrival > ds->now && x->job->opt->blocking_send)
        ds->now = arrival; /* the sender waits for its message to arrive */
    return 0;
}

/* While device d waits, ask the memory system for the inbox entries its
 * next two actions will read and write: they lie on rows the pipeline is
 * only reaching, not yet in the cache, and by the device's next turn they
 * are. A hint: it changes no result. */
static inline void prefetch_next(const sim *x, const device_state *ds, int64_t *inbox, int d)
{
#if defined(__GNUC__)
    for (int ahead = 1; ahead <= 2 && ds->pos + ahead < ds->len; ahead++) {
        const pl_action *a = &ds->list[ds->pos + ahead];
        const recipe *k =
            &ds->recipes[(a->chunk * 2 + (a->mb < x->larger)) * PL_KINDS + a->kind];
        int64_t *entry = &inbox[(size_t)a->mb * x->stride + (size_t)(d + k->stage)];
        __builtin_prefetch(entry, 1);
        __builtin_prefetch(entry + k->sends, 1);
    }
#else
    (void)x, (void)ds, (void)inbox, (void)d;
#endif
}

/* Run device d's list until it ends (returns 1) or needs a message that has
 * not arrived (0: it waits on that inbox entry, and the sender wakes it);
 * -1 on failure. */
static ALWAYS_INLINE int run_list_as(sim *x, int d, int lean)
{
    device_state *ds = &x->dev[d];
    int64_t *inbox = x->inbox[ds->pass & 1];
    const pl_options *o = x->job->opt;
    x->waiting[d] = NULL;
    for (; ds->pos < ds->len; ds->pos++) {
        const pl_action *a = &ds->list[ds->pos];
        const recipe *kinds = ds->recipes + (a->chunk * 2 + (a->mb < x->larger)) * PL_KINDS;
        const recipe *k = &kinds[a->kind];
        int64_t *entry = &inbox[(size_t)a->mb * x->stride + (size_t)(d + k->stage)], ready = 0;
        if (k->takes) {
            if (*entry == 0) {
                x->waiting[d] = entry; /* blocked: the sender will wake us */
                prefetch_next(x, ds, inbox, d);
                return 0;
            }
            ready = *entry - 1;
            *entry = 0; /* taken: the entry is free for the next message */
        }
        /* Under --recompute a backward first rebuilds the stash (R), which
         * needs no message and sends none; then the action itself. */
        for (int i = !lean && o->recompute && pl_action_is_backward(a->kind) ? 0 : 1; i < 2;
             i++)
            if (run(x, d, a, i ? a->kind : PL_R, i ? k : &kinds[PL_R],
                    later(ds->now, i ? ready : 0), entry, lean))
                return -1;
    }
    return 1;
}

/* run_list_as compiled twice: once whole, once `lean` -- for a run whose
 * rare paths would all do nothing (no recomputation, no memory budget, no
 * link delays, no events kept: what `pipelab plan` and `make bench` run), so
 * that its loop carries none of their tests. Both give the same trace. */
static int run_list(sim *x, int d)
{
    return x->lean ? run_list_as(x, d, 1) : run_list_as(x, d, 0);
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
 * waits or is done, -1 on failure. */
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
        if (pl_lane_add_tally(&ds->lane, &ds->tally) ||
            (ds->step + 1 < o->steps && pl_lane_begin_step(&ds->lane, ds->step + 1))) {
            snprintf(x->err, x->errlen, "simulate: step %d is past the trace", ds->step);
            return -1;
        }
        ds->pos = 0;
        ds->step++;
        ds->pass++;
        ds->at = CHECK;
        ds->rerun = 0;
        ds->tally = pl_tally_empty(ds->step);
        return ds->step < o->steps;
    }
}
// [endregion simulate-end-step]

static int run_all(sim *x)
{
    int p = x->s->devices, steps = x->job->opt->steps;
    for (int d = p - 1; d >= 0; d--) /* d0 on top */
        wake(x, d);
    while (x->nwork > 0) {
        int d = x->work[--x->nwork], rc = 1;
        x->queued[d] = 0;
        while (rc == 1 && x->dev[d].step < steps) {
            rc = run_list(x, d);
            if (rc == 1)
                rc = end_step(x, d);
        }
        if (rc < 0)
            return -1;
    }
    for (int d = 0; d < p; d++)
        if (x->dev[d].step < steps) {
            if (pl_validate(x->s, NULL, x->err, x->errlen) == 0) /* names the deadlock */
                snprintf(x->err, x->errlen, "simulate: the schedule did not finish");
            return -1;
        }
    return 0;
}

/* A zeroed inbox of n bytes. It is the simulator's one large array (64 MB
 * for p = 1024, m = 8192) and every page of it gets touched, so on Linux it
 * asks for huge pages: a few dozen page faults instead of tens of thousands. */
static int64_t *inbox_new(size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, n, MADV_HUGEPAGE); /* a hint: without it, the pages are small */
    return p;
#else
    return calloc(1, n);
#endif
}

static void inbox_free(int64_t *inbox, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (inbox)
        munmap(inbox, n);
#else
    (void)n;
    free(inbox);
#endif
}

/* Everything a run needs, allocated; 0 or -1. */
static int setup(sim *x, const pl_job *job, pl_trace *trace)
{
    const pl_schedule *s = job->schedule;
    int p = s->devices, steps = job->opt->steps;
    x->stride = (size_t)pl_schedule_stages(s) + 8;
    x->inbox_bytes = x->stride * (size_t)s->microbatches * sizeof(int64_t);
    x->inbox[0] = inbox_new(x->inbox_bytes);
    x->inbox[1] = inbox_new(x->inbox_bytes);
    x->dev = aligned_alloc(_Alignof(device_state), (size_t)p * sizeof *x->dev);
    x->waiting = calloc((size_t)p, sizeof *x->waiting);
    x->sum = calloc((size_t)steps, sizeof *x->sum);
    x->barrier = calloc((size_t)steps, sizeof *x->barrier);
    x->work = malloc((size_t)p * sizeof *x->work);
    x->queued = calloc((size_t)p, 1);
    if (!x->inbox[0] || !x->inbox[1] || !x->dev || !x->waiting || !x->sum || !x->barrier ||
        !x->work || !x->queued)
        return -1;
    memset(x->dev, 0, (size_t)p * sizeof *x->dev);
    if (cook_all(x) || pl_trace_init(trace, p, steps, !job->opt->totals_only))
        return -1;
    for (int d = 0; d < p; d++) {
        device_state *ds = &x->dev[d];
        pl_memory_bill b = pl_job_static_memory(job, d);
        ds->fixed = (int64_t)pl_memory_total(&b);
        ds->list = s->actions[d];
        ds->len = s->len[d];
        long kept = (long)trace->lanes[d].kept * s->len[d]; /* at most one send an action */
        if (pl_lane_reserve(&trace->lanes[d], kept * (job->opt->recompute ? 2 : 1), kept))
            return -1;
    }
    return 0;
}

static void teardown(sim *x)
{
    for (int d = 0; x->dev && d < x->s->devices; d++)
        pl_memory_transit_free(&x->dev[d].transit);
    inbox_free(x->inbox[0], x->inbox_bytes);
    inbox_free(x->inbox[1], x->inbox_bytes);
    free(x->dev);
    free(x->waiting);
    free(x->recipes);
    free(x->sum);
    free(x->barrier);
    free(x->work);
    free(x->queued);
}

int pl_simulate(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    memset(out, 0, sizeof *out);
    if (pl_validate_local(s, err, errlen))
        return -1;
    if (job->opt->steps < 1) {
        snprintf(err, errlen, "simulate: need at least 1 step");
        return -1;
    }
    sim x = {.job = job, .s = s, .larger = job->opt->batch % s->microbatches, .err = err,
             .errlen = errlen};
    int rc = -1;
    if (setup(&x, job, &out->trace)) {
        snprintf(err, errlen, "simulate: out of host memory");
        goto done;
    }
    if (pl_job_check_memory(job, err, errlen))
        goto done;
    const pl_options *o = job->opt;
    x.lean = !o->recompute && !o->device_memory && !x.links && o->totals_only &&
             !o->blocking_send;
    for (int d = 0; d < s->devices; d++) { /* each device keeps its lane while it runs */
        x.dev[d].lane = out->trace.lanes[d];
        x.dev[d].tally = pl_tally_empty(0);
    }
    rc = run_all(&x);
    for (int d = 0; d < s->devices; d++)
        out->trace.lanes[d] = x.dev[d].lane;
    if (rc)
        goto done;
    pl_job_describe(job, &out->trace.info);
    out->trace.info.executor = "simulator";
    out->trace.info.ns_per_tick = job->cost.ns_per_tick;
    out->steps = job->opt->steps;
done:
    if (rc)
        pl_result_free(out);
    teardown(&x);
    return rc;
}
