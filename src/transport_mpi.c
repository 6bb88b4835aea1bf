/*
 * transport_mpi.c -- devices as MPI processes (chapter 09).
 *
 * One rank per device, each running the same device loop (device.c) as a
 * thread would. What the threads back end does with shared memory, this one
 * does with messages:
 *
 *   send      a non-blocking, tagged MPI_Isend of the time stamp and the
 *             tensor packed together; the tag names flow, stage, micro-batch
 *             and step, so a receive can only ever match its own send;
 *   receive   probe for exactly that tag from exactly that rank, then
 *             receive it -- polling, so that a stop is noticed while waiting;
 *   barrier   an all-reduce of the time with MPI_MAX (non-blocking, polled);
 *   reduce    an all-gather of every rank's (value, time), started at once;
 *   reduced   waits for it, then adds the values from 0.0 in rank order, as
 *             the threads do, so every rank gets the same bits;
 *   abort     an agreed stop: the failing rank tells every rank why, every
 *             rank that hears it tells every rank that it stopped, and
 *             pl_transport_mpi_settle ends the run tidily on every rank;
 *   collect   gathers of every rank's lane, losses and trained layers to
 *             rank 0 (gather_mpi.c), after an all-reduce that proves nobody
 *             failed.
 *
 * Nothing here blocks without also watching for a stop, except the gathers
 * of collect, which begin only once every rank has agreed to them.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gather_mpi.h"
#include "transport.h"

/* Tags: the stop message, then one tag for every data message of a window
 * of steps (the step counts modulo the window). */
enum { TAG_STOP = 1, TAG_DATA = 16 };

/* The collectives. Every rank starts the same ones in the same order; a rank
 * may have a few open at once (a reduction, and the barrier after it). */
enum { COLL_FREE = 0, COLL_MAX_TIME = 1, COLL_SUM = 2 };

enum { WHY_MAX = 1024, MAX_OPEN = 8 };

/* What each rank brings to a reduction. */
typedef struct {
    double value;
    int64_t time;
} pair;

/* One collective in progress: MPI writes into it, so it never moves. */
typedef struct {
    int kind;        /* COLL_*; COLL_FREE: the slot is free */
    int index;       /* its number in the order every rank starts them */
    int round;       /* COLL_SUM: the reduction round */
    int done;        /* 1 once MPI completed it */
    MPI_Request req;
    int64_t in, out; /* COLL_MAX_TIME */
    pair mine;       /* COLL_SUM: this rank's */
    pair *all;       /* COLL_SUM: every rank's, [p] */
} coll;

/* A send on its way: its buffer lives until MPI says it left. */
typedef struct {
    MPI_Request req;
    void *buf;
} outgoing;

/* The stop message: whether the sender failed (and why), the collectives it
 * started and the kind of each it has not finished, and how many data
 * messages it sent each rank. */
typedef struct {
    int failed;
    int collectives;
    int n_open;
    int open_index[MAX_OPEN], open_kind[MAX_OPEN];
    char why[WHY_MAX];
    /* followed by long sent[p] */
} stop_head;

typedef struct {
    pl_transport base;
    const pl_job *job;
    MPI_Comm comm;
    int rank, p, stages, m, window;
    pl_trace *trace;          /* rank 0: where lanes go */
    float *loss;              /* rank 0: where losses go */
    outgoing *out;            /* sends on their way */
    int n_out, cap_out;
    long *sent;               /* data messages sent, per peer */
    long *received;           /* data messages received, per peer */
    long *expected;           /* data messages each peer says it sent here */
    /* the stop */
    int stopped;              /* 1 once this rank stopped */
    int failed;               /* 1 once any failure is known */
    char err[WHY_MAX];        /* the first failure this rank heard of */
    char *stop_in;            /* the stop message being received */
    MPI_Request stop_req;     /* its receive, posted while more may come */
    int listening;            /* 1 while stop_req is posted */
    int stops_heard;          /* stop messages received (at most p - 1) */
    int max_collectives;      /* most collectives any rank started */
    int later_kind[MAX_OPEN]; /* the kinds of collectives collectives.. that others started */
    /* the collectives in progress */
    int collectives;          /* started so far */
    coll open[MAX_OPEN];      /* slots */
    pair *pairs;              /* [MAX_OPEN * p]: every slot's `all` */
} mpi_net;

static mpi_net *of(pl_transport *t)
{
    return (mpi_net *)t;
}

static size_t stop_size(const mpi_net *n)
{
    return sizeof(stop_head) + (size_t)n->p * sizeof(long);
}

// [region mpi-tag]
/* The MPI tag of a message: unique within a window of steps, so no receive
 * can pair with a send meant for another flow, stage, micro-batch or step. */
static int tag_of(const mpi_net *n, const pl_tag *t)
{
    long k = ((long)(t->step % n->window) * 2 + t->flow) * n->stages + t->stage;
    return (int)(TAG_DATA + k * n->m + t->mb);
}
// [endregion mpi-tag]

/* Waiting: a hundred polls at once, then sleeps of 10, 20, 40, then 50 us
 * (short beside an action, long enough to leave a shared core to others). */
static void pause_for(int *spins)
{
    if (++*spins < 100)
        return;
    long ns = 10000L << (*spins < 103 ? *spins - 100 : 3);
    struct timespec ts = {0, ns < 50000L ? ns : 50000L};
    nanosleep(&ts, NULL);
}

/* Forget the sends that have left. */
static void reap_sends(mpi_net *n)
{
    int k = 0;
    for (int i = 0; i < n->n_out; i++) {
        int done = 0;
        MPI_Test(&n->out[i].req, &done, MPI_STATUS_IGNORE);
        if (done)
            free(n->out[i].buf);
        else
            n->out[k++] = n->out[i];
    }
    n->n_out = k;
}

/* Start a send of `len` bytes at buf (ownership passes) to `to`. */
static int post(mpi_net *n, void *buf, size_t len, int to, int tag)
{
    if (n->n_out == n->cap_out) {
        int cap = n->cap_out ? 2 * n->cap_out : 16;
        outgoing *o = realloc(n->out, (size_t)cap * sizeof *o);
        if (!o) {
            free(buf);
            return -1;
        }
        n->out = o;
        n->cap_out = cap;
    }
    outgoing *o = &n->out[n->n_out++];
    o->buf = buf;
    MPI_Isend(buf, (int)len, MPI_BYTE, to, tag, n->comm, &o->req);
    return 0;
}

/* Tell every other rank that this one stopped (failed: with why). */
static void tell_stop(mpi_net *n, int failed, const char *why)
{
    for (int q = 0; q < n->p; q++) {
        if (q == n->rank)
            continue;
        char *buf = calloc(1, stop_size(n));
        if (!buf)
            MPI_Abort(n->comm, 1); /* cannot even say we stopped */
        stop_head *h = (stop_head *)buf;
        h->failed = failed;
        h->collectives = n->collectives;
        for (int k = 0; k < MAX_OPEN; k++)
            if (n->open[k].kind != COLL_FREE) {
                h->open_index[h->n_open] = n->open[k].index;
                h->open_kind[h->n_open++] = n->open[k].kind;
            }
        snprintf(h->why, sizeof h->why, "%s", failed ? why : "");
        memcpy(buf + sizeof *h, n->sent, (size_t)n->p * sizeof(long));
        post(n, buf, stop_size(n), q, TAG_STOP);
    }
}

static void note_failure(mpi_net *n, const char *why)
{
    if (!n->failed) {
        n->failed = 1;
        snprintf(n->err, sizeof n->err, "%s", why);
    }
}

/* Stop this rank (once), telling every other rank. */
static void stop_here(mpi_net *n, int failed, const char *why)
{
    if (failed)
        note_failure(n, why);
    if (n->stopped)
        return;
    n->stopped = 1;
    tell_stop(n, failed, why);
}

/* A stop message has come from `from`: note what it says. */
static void hear_stop(mpi_net *n, int from)
{
    const stop_head *h = (const stop_head *)n->stop_in;
    n->stops_heard++;
    if (h->collectives > n->max_collectives)
        n->max_collectives = h->collectives;
    for (int k = 0; k < h->n_open; k++) { /* this rank has stopped: its count is final */
        int ahead = h->open_index[k] - n->collectives;
        if (ahead >= 0 && ahead < MAX_OPEN)
            n->later_kind[ahead] = h->open_kind[k];
    }
    /* sent[p] follows the head, not necessarily aligned: copy, never cast */
    memcpy(&n->expected[from], n->stop_in + sizeof *h + (size_t)n->rank * sizeof(long),
           sizeof(long));
    if (h->failed)
        note_failure(n, h->why);
}

static void listen_stop(mpi_net *n)
{
    n->listening = 1;
    MPI_Irecv(n->stop_in, (int)stop_size(n), MPI_BYTE, MPI_ANY_SOURCE, TAG_STOP, n->comm,
              &n->stop_req);
}

/* Take the stop messages that have come; the first one stops this rank
 * too. Returns 1 once this rank has stopped. */
static int poll_stop(mpi_net *n)
{
    int done = 0;
    MPI_Status st;
    while (n->stops_heard < n->p - 1) {
        MPI_Test(&n->stop_req, &done, &st);
        if (!done)
            break;
        n->listening = 0;
        hear_stop(n, st.MPI_SOURCE);
        if (n->stops_heard < n->p - 1)
            listen_stop(n);
        stop_here(n, 0, NULL);
    }
    return n->stopped;
}

/* ---- Collectives: non-blocking, and waited for while watching for a stop ---- */

/* Start a collective of `kind`; NULL if MAX_OPEN are open already. */
static coll *coll_start(mpi_net *n, int kind, int round, double value, int64_t time)
{
    int k = 0;
    while (k < MAX_OPEN && n->open[k].kind != COLL_FREE)
        k++;
    if (k == MAX_OPEN)
        return NULL;
    coll *c = &n->open[k];
    *c = (coll){kind, n->collectives++, round, 0, MPI_REQUEST_NULL, time, 0, {value, time},
                n->pairs + (size_t)k * (size_t)n->p};
    if (kind == COLL_MAX_TIME)
        MPI_Iallreduce(&c->in, &c->out, 1, MPI_INT64_T, MPI_MAX, n->comm, &c->req);
    else
        MPI_Iallgather(&c->mine, sizeof c->mine, MPI_BYTE, c->all, sizeof c->mine, MPI_BYTE,
                       n->comm, &c->req);
    return c;
}

/* Wait for collective c. Returns 0 once it completed, or -1 if watching for
 * a stop and the run stopped first (it stays open, for settle). */
static int coll_wait(mpi_net *n, coll *c, int watch)
{
    int spins = 0;
    while (!c->done) {
        MPI_Test(&c->req, &c->done, MPI_STATUS_IGNORE);
        if (!c->done && watch && poll_stop(n))
            return -1;
        if (!c->done)
            pause_for(&spins);
    }
    return 0;
}

/* An all-reduce of `time` with MPI_MAX into *out, unless the run stops first. */
static int max_time(mpi_net *n, int64_t time, int64_t *out)
{
    coll *c = poll_stop(n) ? NULL : coll_start(n, COLL_MAX_TIME, 0, 0.0, time);
    if (!c || coll_wait(n, c, 1))
        return -1;
    *out = c->out;
    c->kind = COLL_FREE;
    return 0;
}

/* ---- The operations ---- */

/* The message on the wire: the sender's time stamp, its step, the shape,
 * then the floats. */
typedef struct {
    int64_t time;
    int32_t step, rows, cols, pad;
} wire_head;

// [region mpi-send]
static int send(pl_transport *t, int from, int to, const pl_tag *tag, int64_t time,
                pl_tensor x)
{
    mpi_net *n = of(t);
    (void)from;
    size_t bytes = (size_t)x.rows * (size_t)x.cols * sizeof(float);
    char *buf = poll_stop(n) ? NULL : malloc(sizeof(wire_head) + bytes);
    if (buf) {
        wire_head h = {time, tag->step, x.rows, x.cols, 0};
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, x.data, bytes);
    }
    pl_tensor_free(&x);
    reap_sends(n);
    if (!buf || post(n, buf, sizeof(wire_head) + bytes, to, tag_of(n, tag))) {
        if (!n->stopped)
            stop_here(n, 1, "out of host memory for a message");
        return -1;
    }
    n->sent[to]++;
    return 0;
}
// [endregion mpi-send]

// [region mpi-receive]
static int receive(pl_transport *t, int to, int from, const pl_tag *tag, int64_t *time,
                   pl_tensor *x)
{
    mpi_net *n = of(t);
    int mtag = tag_of(n, tag), found = 0, spins = 0, len;
    MPI_Status st;
    for (;;) { /* only this tag from only this rank: never another message */
        if (poll_stop(n))
            return -1;
        MPI_Iprobe(from, mtag, n->comm, &found, &st);
        if (found)
            break;
        pause_for(&spins);
    }
    MPI_Get_count(&st, MPI_BYTE, &len);
    char *buf = malloc((size_t)len);
    if (!buf) {
        stop_here(n, 1, "out of host memory for a message");
        return -1;
    }
    MPI_Recv(buf, len, MPI_BYTE, from, mtag, n->comm, MPI_STATUS_IGNORE);
    n->received[from]++;
    wire_head h;
    memcpy(&h, buf, sizeof h);
    if (h.step != tag->step) { /* a sender ran its steps out of order: a bug */
        char why[160];
        snprintf(why, sizeof why, "d%d expected step %d's message from d%d (stage %d, "
                 "micro-batch %d) but step %d's came first", to, tag->step, from, tag->stage,
                 tag->mb, h.step);
        free(buf);
        stop_here(n, 1, why);
        return -1;
    }
    *time = h.time;
    *x = pl_tensor_new(h.rows, h.cols);
    if (x->data)
        memcpy(x->data, buf + sizeof h, (size_t)h.rows * (size_t)h.cols * sizeof(float));
    free(buf);
    if (!x->data) {
        stop_here(n, 1, "out of host memory for a message");
        return -1;
    }
    return 0;
}
// [endregion mpi-receive]

static int barrier(pl_transport *t, int device, int64_t time, int64_t *agreed)
{
    (void)device;
    return max_time(of(t), time, agreed);
}

// [region mpi-reduction]
static int reduce(pl_transport *t, int device, int round, double value, int64_t time)
{
    mpi_net *n = of(t);
    (void)device;
    if (poll_stop(n))
        return -1;
    if (coll_start(n, COLL_SUM, round, value, time))
        return 0;
    stop_here(n, 1, "more reductions open at once than the MPI transport keeps");
    return -1;
}

static int reduced(pl_transport *t, int device, int round, double *sum, int64_t *agreed)
{
    mpi_net *n = of(t);
    coll *c = NULL;
    (void)device;
    for (int k = 0; k < MAX_OPEN; k++)
        if (n->open[k].kind == COLL_SUM && n->open[k].round == round)
            c = &n->open[k];
    if (!c) {
        stop_here(n, 1, "a reduction was awaited that was never started");
        return -1;
    }
    if (coll_wait(n, c, 1))
        return -1;
    double s = 0.0; /* from 0.0, in rank order: every rank gets the same bits */
    int64_t latest = c->all[0].time;
    for (int d = 0; d < n->p; d++) {
        s += c->all[d].value;
        if (c->all[d].time > latest)
            latest = c->all[d].time;
    }
    *sum = s;
    *agreed = latest;
    c->kind = COLL_FREE;
    return 0;
}
// [endregion mpi-reduction]

static void abort_run(pl_transport *t, int device, const char *why)
{
    (void)device;
    stop_here(of(t), 1, why);
}

static int stopped(pl_transport *t)
{
    return poll_stop(of(t));
}

static const char *error(pl_transport *t)
{
    mpi_net *n = of(t);
    return n->failed ? n->err : NULL;
}

// [region mpi-collect]
static int collect(pl_transport *t, int device, pl_report *r)
{
    mpi_net *n = of(t);
    int64_t ignored;
    (void)device;
    /* Everyone is here and nobody failed: from now on every rank gathers. */
    if (max_time(n, 0, &ignored))
        return -1;
    pl_gather_mpi(n->comm, n->job, r, n->trace, n->loss);
    return 0;
}
// [endregion mpi-collect]

static void destroy(pl_transport *t)
{
    mpi_net *n = of(t);
    for (int i = 0; i < n->n_out; i++)
        free(n->out[i].buf);
    free(n->out);
    free(n->sent);
    free(n->received);
    free(n->expected);
    free(n->stop_in);
    free(n->pairs);
    if (n->comm != MPI_COMM_NULL)
        MPI_Comm_free(&n->comm);
    free(n);
}

static const pl_transport_ops ops = {send, receive, barrier, reduce, reduced, abort_run,
                                     stopped, error, collect, destroy};

/* How many steps the tags can tell apart, at most `steps`; 0 if not one. */
static int tag_window(const mpi_net *n, int steps)
{
    void *attr;
    int flag = 0;
    MPI_Comm_get_attr(n->comm, MPI_TAG_UB, &attr, &flag);
    long ub = flag ? (long)*(int *)attr : 32767L; /* the least MPI promises */
    long per_step = 2L * n->stages * n->m;
    long fit = (ub - TAG_DATA + 1) / per_step;
    return (int)(fit < steps ? fit : steps);
}

pl_transport *pl_transport_mpi_new(const pl_job *job, pl_trace *trace, float *loss, char *err,
                                   size_t errlen)
{
    mpi_net *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of host memory for the transport");
        return NULL;
    }
    n->base.ops = &ops;
    n->job = job;
    n->trace = trace;
    n->loss = loss;
    n->stages = pl_schedule_stages(job->schedule);
    n->m = job->schedule->microbatches;
    MPI_Comm_dup(MPI_COMM_WORLD, &n->comm);
    MPI_Comm_rank(n->comm, &n->rank);
    MPI_Comm_size(n->comm, &n->p);
    int steps = job->opt->steps, need = steps < 2 ? steps : 2;
    n->window = tag_window(n, steps);
    n->sent = calloc((size_t)n->p, sizeof *n->sent);
    n->received = calloc((size_t)n->p, sizeof *n->received);
    n->expected = calloc((size_t)n->p, sizeof *n->expected);
    n->stop_in = calloc(1, stop_size(n));
    n->pairs = calloc((size_t)MAX_OPEN * (size_t)n->p, sizeof *n->pairs);
    if (n->window < need) {
        snprintf(err, errlen, "%d stages x %d micro-batches need more MPI tags than this MPI "
                 "has (%d steps' worth, of %d needed)", n->stages, n->m, n->window, need);
    } else if (!n->sent || !n->received || !n->expected || !n->stop_in || !n->pairs) {
        snprintf(err, errlen, "out of host memory for the transport");
    } else {
        listen_stop(n);
        return &n->base;
    }
    destroy(&n->base);
    return NULL;
}

int pl_transport_mpi_settle(pl_transport *t)
{
    mpi_net *n = of(t);
    int spins = 0;
    if (poll_stop(n)) { /* else success: every send was received; nobody will stop now */
        while (n->stops_heard < n->p - 1) { /* every rank says it stopped, once */
            poll_stop(n);
            pause_for(&spins);
        }
        /* Collectives start in the same order everywhere, and none completes
         * before every rank has started it: what the ranks ahead started and
         * this one did not is open on each of them, and they said which kind.
         * This rank joins those, then every collective it has open ends. */
        while (n->collectives < n->max_collectives) {
            int kind = n->later_kind[0];
            memmove(n->later_kind, n->later_kind + 1, (MAX_OPEN - 1) * sizeof(int));
            n->later_kind[MAX_OPEN - 1] = COLL_FREE;
            if (kind == COLL_FREE || !coll_start(n, kind, -1, 0.0, INT64_MIN))
                MPI_Abort(n->comm, 1); /* cannot happen: nothing else could end this run */
        }
        for (int k = 0; k < MAX_OPEN; k++)
            if (n->open[k].kind != COLL_FREE) {
                coll_wait(n, &n->open[k], 0);
                n->open[k].kind = COLL_FREE;
            }
        /* Take what was sent here and never received: every send completes. */
        n->expected[n->rank] = n->sent[n->rank];
        for (int q = 0; q < n->p; q++)
            while (n->received[q] < n->expected[q]) {
                MPI_Status st;
                int len;
                MPI_Probe(q, MPI_ANY_TAG, n->comm, &st);
                MPI_Get_count(&st, MPI_BYTE, &len);
                char *buf = malloc((size_t)len + 1);
                if (!buf)
                    MPI_Abort(n->comm, 1); /* nothing else can end this run tidily */
                MPI_Recv(buf, len, MPI_BYTE, q, st.MPI_TAG, n->comm, MPI_STATUS_IGNORE);
                free(buf);
                n->received[q]++;
            }
    }
    if (n->listening) { /* no stop is coming: success, or a run of one rank */
        MPI_Cancel(&n->stop_req);
        MPI_Wait(&n->stop_req, MPI_STATUS_IGNORE);
        n->listening = 0;
    }
    for (int i = 0; i < n->n_out; i++) {
        MPI_Wait(&n->out[i].req, MPI_STATUS_IGNORE);
        free(n->out[i].buf);
    }
    n->n_out = 0;
    return n->stopped ? -1 : 0;
}
