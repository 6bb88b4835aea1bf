/*
 * transport_threads.c -- devices as threads of one process (chapters 01-08).
 *
 * Each device has a mailbox (mailbox.c) with a slot for every message it can
 * receive in a step: one queue per (flow, chunk, micro-batch). A send joins
 * the receiver's queue and never blocks; a receive waits for the oldest --
 * polling a few microseconds first when every device has a core of its own,
 * going straight to sleep when devices outnumber cores. The
 * barrier is a mutex and a condition variable; a reduction keeps one value
 * per device per round and waits on the same condition variable; a failure
 * sets one stop flag and wakes everybody. Reports are moved straight into
 * the run's result.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fiber.h"
#include "mailbox.h"
#include "transport.h"

typedef struct {
    pl_transport base;
    int p, m, v, steps;
    pl_mailbox *mail;      /* one per device */
    atomic_int stop;       /* set once by the first failure */
    pthread_mutex_t mu;    /* guards what follows */
    pl_cond cv;            /* the barrier, reductions and failures */
    int at_barrier;        /* devices waiting */
    long generation;       /* barriers released so far */
    int64_t latest;        /* latest time brought to the open barrier */
    int64_t agreed;        /* what the last barrier released agreed on */
    double *value;         /* reductions: [round * p + device] */
    int64_t *stamp;        /* reductions: the latest time brought to each round */
    int *added;            /* reductions: devices that added to each round */
    int failed;            /* 1 once a device failed */
    char err[1024];        /* the first failure */
    pl_trace *trace;       /* where reports go */
    float *loss;
} threads;

static threads *of(pl_transport *t)
{
    return (threads *)t;
}

/* The receiver's mailbox slot for a tag: activations first, then gradients. */
static int slot(const threads *th, const pl_tag *tag)
{
    return (tag->flow == PL_ACTIVATION ? 0 : th->v * th->m) + tag->chunk * th->m + tag->mb;
}

static void stop_all(threads *th, const char *why)
{
    pthread_mutex_lock(&th->mu);
    if (!th->failed) {
        th->failed = 1;
        snprintf(th->err, sizeof th->err, "%s", why);
    }
    atomic_store(&th->stop, 1);
    pl_wakeup all = pl_cond_take(&th->cv, 1);
    pthread_mutex_unlock(&th->mu);
    pl_cond_wake(all);
    for (int d = 0; d < th->p; d++)
        pl_mailbox_wake(&th->mail[d]);
}

static int send(pl_transport *t, int from, int to, const pl_tag *tag, int64_t time,
                pl_tensor x)
{
    threads *th = of(t);
    if (pl_mailbox_put(&th->mail[to], slot(th, tag), tag->step, time, x) == 0)
        return 0;
    pl_tensor_free(&x);
    char why[128];
    snprintf(why, sizeof why, "d%d could not queue a message for d%d: out of host memory",
             from, to);
    stop_all(th, why);
    return -1;
}

static int receive(pl_transport *t, int to, int from, const pl_tag *tag, int64_t *time,
                   pl_tensor *x)
{
    threads *th = of(t);
    pl_message msg;
    if (pl_mailbox_take(&th->mail[to], slot(th, tag), &th->stop, &msg))
        return -1;
    if (msg.step != tag->step) { /* a sender ran its steps out of order: a bug */
        pl_tensor_free(&msg.t);
        char why[160];
        snprintf(why, sizeof why, "d%d expected step %d's message from d%d (stage %d, "
                 "micro-batch %d) but step %d's came first", to, tag->step, from, tag->stage,
                 tag->mb, msg.step);
        stop_all(th, why);
        return -1;
    }
    *time = msg.time;
    *x = msg.t;
    return 0;
}

static int barrier(pl_transport *t, int device, int64_t time, int64_t *agreed)
{
    threads *th = of(t);
    (void)device;
    pthread_mutex_lock(&th->mu);
    long gen = th->generation;
    if (th->at_barrier == 0 || time > th->latest)
        th->latest = time;
    pl_wakeup all = {0};
    if (++th->at_barrier == th->p) {
        th->at_barrier = 0;
        th->agreed = th->latest;
        th->generation++;
        all = pl_cond_take(&th->cv, 1);
    }
    while (gen == th->generation && !atomic_load(&th->stop))
        pl_cond_wait(&th->cv, &th->mu);
    int released = gen != th->generation;
    *agreed = th->agreed;
    pthread_mutex_unlock(&th->mu);
    pl_cond_wake(all);
    return released ? 0 : -1;
}

// [region reduction]
static int reduce(pl_transport *t, int device, int round, double value, int64_t time)
{
    threads *th = of(t);
    pthread_mutex_lock(&th->mu);
    th->value[(size_t)round * (size_t)th->p + (size_t)device] = value;
    if (th->added[round] == 0 || time > th->stamp[round])
        th->stamp[round] = time;
    pl_wakeup all = ++th->added[round] == th->p ? pl_cond_take(&th->cv, 1) : (pl_wakeup){0};
    pthread_mutex_unlock(&th->mu);
    pl_cond_wake(all);
    return 0;
}

static int reduced(pl_transport *t, int device, int round, double *sum, int64_t *agreed)
{
    threads *th = of(t);
    (void)device;
    pthread_mutex_lock(&th->mu);
    while (th->added[round] < th->p && !atomic_load(&th->stop))
        pl_cond_wait(&th->cv, &th->mu);
    int done = th->added[round] == th->p;
    double s = 0.0; /* from 0.0, in device order: every device gets the same bits */
    for (int d = 0; done && d < th->p; d++)
        s += th->value[(size_t)round * (size_t)th->p + (size_t)d];
    *sum = s;
    *agreed = th->stamp[round];
    pthread_mutex_unlock(&th->mu);
    return done ? 0 : -1;
}
// [endregion reduction]

static void abort_run(pl_transport *t, int device, const char *why)
{
    (void)device;
    stop_all(of(t), why);
}

static int stopped(pl_transport *t)
{
    return atomic_load(&of(t)->stop);
}

static const char *error(pl_transport *t)
{
    threads *th = of(t);
    pthread_mutex_lock(&th->mu);
    const char *e = th->failed ? th->err : NULL;
    pthread_mutex_unlock(&th->mu);
    return e;
}

/* Each device moves its own lane into its own slot of the result; no two
 * devices touch the same memory. */
static int collect(pl_transport *t, int device, pl_report *r)
{
    threads *th = of(t);
    pl_lane_free(&th->trace->lanes[device]);
    th->trace->lanes[device] = r->lane;
    memset(&r->lane, 0, sizeof r->lane);
    if (r->loss) {
        memcpy(th->loss, r->loss, (size_t)th->steps * sizeof *th->loss);
        free(r->loss);
        r->loss = NULL;
    }
    return 0;
}

static void destroy(pl_transport *t)
{
    threads *th = of(t);
    for (int d = 0; th->mail && d < th->p; d++)
        pl_mailbox_destroy(&th->mail[d]);
    free(th->mail);
    free(th->value);
    free(th->stamp);
    free(th->added);
    pthread_mutex_destroy(&th->mu);
    pl_cond_destroy(&th->cv);
    free(th);
}

static const pl_transport_ops ops = {send, receive, barrier, reduce, reduced, abort_run,
                                     stopped, error, collect, destroy};

pl_transport *pl_transport_threads_new(int p, int m, int v, int steps, pl_trace *trace,
                                       float *loss)
{
    threads *th = calloc(1, sizeof *th);
    if (!th)
        return NULL;
    th->base.ops = &ops;
    th->p = p;
    th->m = m;
    th->v = v;
    th->steps = steps;
    th->trace = trace;
    th->loss = loss;
    pthread_mutex_init(&th->mu, NULL);
    pl_cond_init(&th->cv);
    th->mail = calloc((size_t)p, sizeof *th->mail);
    th->value = calloc((size_t)steps * (size_t)p, sizeof *th->value);
    th->stamp = calloc((size_t)steps, sizeof *th->stamp);
    th->added = calloc((size_t)steps, sizeof *th->added);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (int d = 0; th->mail && d < p; d++) {
        if (pl_mailbox_init(&th->mail[d], 2 * v * m)) {
            destroy(&th->base);
            return NULL;
        }
        th->mail[d].spin_ns = p <= cores ? PL_MAILBOX_POLL_NS : 0;
    }
    if (!th->mail || !th->value || !th->stamp || !th->added) {
        destroy(&th->base);
        return NULL;
    }
    return &th->base;
}
