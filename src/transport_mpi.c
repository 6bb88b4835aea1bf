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
 *   abort     an agreed stop: the failing rank tells every rank why, every
 *             rank that hears it tells every rank that it stopped, and
 *             pl_transport_mpi_settle ends the run tidily on every rank;
 *   collect   gathers of every rank's lane, losses and trained layers to
 *             rank 0, after an all-reduce that proves nobody failed.
 *
 * Nothing here blocks without also watching for a stop, except the gathers
 * of collect, which begin only once every rank has agreed to them.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport.h"

/* Tags: the stop message, then one tag for every data message of a window
 * of steps (the step counts modulo the window). */
enum { TAG_STOP = 1, TAG_DATA = 16 };

/* The collectives a rank may be in when the run stops. */
enum { COLL_NONE = 0, COLL_MAX_TIME = 1 };

enum { WHY_MAX = 1024 };

/* A send on its way: its buffer lives until MPI says it left. */
typedef struct {
    MPI_Request req;
    void *buf;
} outgoing;

/* The stop message: whether the sender failed (and why), the collectives it
 * started, the one it is in, and how many data messages it sent each rank. */
typedef struct {
    int failed;
    int collectives;
    int open_kind;
    int pad;
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
    MPI_Request stop_req;     /* its receive, always posted until settle */
    int stops_heard;          /* stop messages received (at most p - 1) */
    int max_collectives;      /* most collectives any rank started */
    int open_kind;            /* what a rank still in a collective is in */
    /* the collective in progress */
    int collectives;          /* started so far */
    int coll_open;            /* 1 while one is not yet complete */
    int coll_kind;
    MPI_Request coll_req;
    int64_t coll_in, coll_out;
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
static int tag_of(const mpi_net *n, pl_tag t)
{
    long k = ((long)(t.step % n->window) * 2 + t.flow) * n->stages + t.stage;
    return (int)(TAG_DATA + k * n->m + t.mb);
}
// [endregion mpi-tag]

/* Waiting: a few polls at once, then short sleeps, growing to 200 us. */
static void pause_for(int *spins)
{
    if (++*spins < 100)
        return;
    long ns = 20000L << (*spins < 104 ? *spins - 100 : 4);
    struct timespec ts = {0, ns < 200000L ? ns : 200000L};
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
        h->open_kind = n->coll_open ? n->coll_kind : COLL_NONE;
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
    const long *sent = (const long *)(n->stop_in + sizeof *h);
    n->stops_heard++;
    if (h->collectives > n->max_collectives)
        n->max_collectives = h->collectives;
    if (h->open_kind != COLL_NONE)
        n->open_kind = h->open_kind;
    n->expected[from] = sent[n->rank];
    if (h->failed)
        note_failure(n, h->why);
}

static void listen_stop(mpi_net *n)
{
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
        hear_stop(n, st.MPI_SOURCE);
        if (n->stops_heard < n->p - 1)
            listen_stop(n);
        stop_here(n, 0, NULL);
    }
    return n->stopped;
}

/* ---- Collectives: all-reduces that notice a stop while they wait ---- */

static void coll_start(mpi_net *n, int kind, int64_t in)
{
    n->coll_in = in;
    n->coll_kind = kind;
    n->coll_open = 1;
    n->collectives++;
    MPI_Iallreduce(&n->coll_in, &n->coll_out, 1, MPI_INT64_T, MPI_MAX, n->comm, &n->coll_req);
}

/* Wait for the collective in progress. Returns 0 once it completed, or -1
 * if watching for a stop and the run stopped first (it stays open). */
static int coll_wait(mpi_net *n, int watch)
{
    int done = 0, spins = 0;
    for (;;) {
        MPI_Test(&n->coll_req, &done, MPI_STATUS_IGNORE);
        if (done) {
            n->coll_open = 0;
            return 0;
        }
        if (watch && poll_stop(n))
            return -1;
        pause_for(&spins);
    }
}

/* An all-reduce (kind) of `in` into *out, unless the run stops first. */
static int all_reduce(mpi_net *n, int kind, int64_t in, int64_t *out)
{
    if (poll_stop(n))
        return -1;
    coll_start(n, kind, in);
    if (coll_wait(n, 1))
        return -1;
    *out = n->coll_out;
    return 0;
}

/* ---- The operations ---- */

/* The message on the wire: the sender's time stamp, the shape, the floats. */
typedef struct {
    int64_t time;
    int32_t rows, cols;
} wire_head;

// [region mpi-send]
static int send(pl_transport *t, int from, int to, pl_tag tag, int64_t time, pl_tensor x)
{
    mpi_net *n = of(t);
    (void)from;
    size_t bytes = (size_t)x.rows * (size_t)x.cols * sizeof(float);
    char *buf = poll_stop(n) ? NULL : malloc(sizeof(wire_head) + bytes);
    if (buf) {
        wire_head h = {time, x.rows, x.cols};
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
static int receive(pl_transport *t, int to, int from, pl_tag tag, int64_t *time, pl_tensor *x)
{
    mpi_net *n = of(t);
    int mtag = tag_of(n, tag), found = 0, spins = 0, len;
    MPI_Status st;
    (void)to;
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
    return all_reduce(of(t), COLL_MAX_TIME, time, agreed);
}

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

/* ---- Collect: every rank's report and layers, gathered to rank 0 ---- */

/* What rank 0 learns of each lane before its events. */
typedef struct {
    int64_t len, peak_bytes;
    int32_t peak_inflight, has_loss;
} lane_head;

/* The floats of this rank's trained layers (w, then b, layer after layer,
 * chunk after chunk), or their count if buf is NULL. */
static long layers_of(const mpi_net *n, int device, float *buf, int store)
{
    const pl_job *job = n->job;
    long k = 0;
    for (int c = 0; c < job->schedule->chunks; c++) {
        int stage = pl_schedule_stage(job->schedule, device, c);
        for (int i = 0; i < job->partition->count[stage]; i++) {
            pl_layer *l = &job->model->layers[job->partition->first[stage] + i];
            pl_tensor *part[2] = {&l->w, &l->b};
            for (int j = 0; j < 2; j++) {
                size_t len = (size_t)part[j]->rows * (size_t)part[j]->cols;
                if (buf && store)
                    memcpy(part[j]->data, buf + k, len * sizeof(float));
                else if (buf)
                    memcpy(buf + k, part[j]->data, len * sizeof(float));
                k += (long)len;
            }
        }
    }
    return k;
}

/* Rank 0 only: count and place of every rank's part of a gather. */
static int *spread(const mpi_net *n, const long *len, int **displs)
{
    int *count = calloc((size_t)n->p, sizeof *count);
    *displs = calloc((size_t)n->p, sizeof **displs);
    long at = 0;
    for (int d = 0; count && *displs && d < n->p; d++) {
        if (len[d] > 2147483647L - at)
            return NULL;
        count[d] = (int)len[d];
        (*displs)[d] = (int)at;
        at += len[d];
    }
    return count;
}

static void gather_failed(mpi_net *n)
{
    fprintf(stderr, "pipelab: rank %d: out of host memory while gathering the results\n",
            n->rank);
    MPI_Abort(n->comm, 1);
}

/* Every rank's lane (its events, totals and peaks) into rank 0's trace. */
static void gather_lanes(mpi_net *n, pl_report *r, lane_head *heads)
{
    pl_lane *l = &r->lane;
    int steps = n->job->opt->steps, root = n->rank == 0, keep = l->keep_events;
    long ev_bytes = l->events ? l->len * (long)sizeof(pl_event) : 0;
    int tot_bytes = steps * (int)sizeof(pl_step_total);
    pl_step_total *totals = root ? malloc((size_t)n->p * (size_t)tot_bytes) : NULL;
    long *lens = root ? calloc((size_t)n->p, sizeof *lens) : NULL;
    int *displs = NULL, *counts = NULL;
    if (root && (!totals || !lens))
        gather_failed(n);
    MPI_Gather(l->totals, tot_bytes, MPI_BYTE, totals, tot_bytes, MPI_BYTE, 0, n->comm);
    for (int d = 0; root && d < n->p; d++)
        lens[d] = heads[d].len * (keep ? (long)sizeof(pl_event) : 0);
    char *events = NULL;
    if (root) {
        counts = spread(n, lens, &displs);
        events = counts ? malloc((size_t)displs[n->p - 1] + (size_t)counts[n->p - 1] + 1) : NULL;
        if (!events)
            gather_failed(n);
    }
    MPI_Gatherv(l->events, (int)ev_bytes, MPI_BYTE, events, counts, displs, MPI_BYTE, 0,
                n->comm);
    for (int d = 0; root && d < n->p; d++) {
        pl_lane *dst = &n->trace->lanes[d];
        pl_lane_free(dst);
        if (d == 0) { /* rank 0's own lane moves into place */
            *dst = *l;
            memset(l, 0, sizeof *l);
            continue;
        }
        if (pl_lane_init(dst, steps, keep) ||
            pl_lane_reserve(dst, heads[d].len))
            gather_failed(n);
        if (counts[d])
            memcpy(dst->events, events + displs[d], (size_t)counts[d]);
        memcpy(dst->totals, (char *)totals + (size_t)d * (size_t)tot_bytes, (size_t)tot_bytes);
        dst->len = heads[d].len;
        dst->peak_inflight = heads[d].peak_inflight;
        dst->peak_bytes = (size_t)heads[d].peak_bytes;
    }
    free(events);
    free(counts);
    free(displs);
    free(lens);
    free(totals);
}

/* The loss of every step, from the rank holding the last stage. */
static void gather_loss(mpi_net *n, pl_report *r, const lane_head *heads)
{
    int steps = n->job->opt->steps, root = n->rank == 0;
    float *mine = r->loss ? r->loss : calloc((size_t)steps, sizeof *mine);
    float *all = root ? malloc((size_t)n->p * (size_t)steps * sizeof *all) : NULL;
    if (!mine || (root && !all))
        gather_failed(n);
    MPI_Gather(mine, steps, MPI_FLOAT, all, steps, MPI_FLOAT, 0, n->comm);
    for (int d = 0; root && d < n->p; d++)
        if (heads[d].has_loss)
            memcpy(n->loss, all + (size_t)d * (size_t)steps, (size_t)steps * sizeof *all);
    if (mine != r->loss)
        free(mine);
    free(all);
}

/* Every rank's trained layers into rank 0's model. */
static void gather_layers(mpi_net *n)
{
    int root = n->rank == 0;
    long mine = layers_of(n, n->rank, NULL, 0);
    float *buf = malloc((size_t)(mine ? mine : 1) * sizeof *buf);
    long *lens = root ? calloc((size_t)n->p, sizeof *lens) : NULL;
    if (!buf || (root && !lens))
        gather_failed(n);
    layers_of(n, n->rank, buf, 0);
    int *counts = NULL, *displs = NULL;
    float *all = NULL;
    if (root) {
        for (int d = 0; d < n->p; d++)
            lens[d] = layers_of(n, d, NULL, 0);
        counts = spread(n, lens, &displs);
        all = counts ? malloc(((size_t)displs[n->p - 1] + (size_t)counts[n->p - 1] + 1) *
                              sizeof *all) : NULL;
        if (!all)
            gather_failed(n);
    }
    MPI_Gatherv(buf, (int)mine, MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, n->comm);
    for (int d = 1; root && d < n->p; d++)
        layers_of(n, d, all + displs[d], 1);
    free(all);
    free(counts);
    free(displs);
    free(lens);
    free(buf);
}

// [region mpi-collect]
static int collect(pl_transport *t, int device, pl_report *r)
{
    mpi_net *n = of(t);
    int64_t ignored;
    (void)device;
    /* Everyone is here and nobody failed: from now on every rank gathers. */
    if (all_reduce(n, COLL_MAX_TIME, 0, &ignored))
        return -1;
    lane_head mine = {r->lane.len, (int64_t)r->lane.peak_bytes, r->lane.peak_inflight,
                      r->loss != NULL};
    lane_head *heads = n->rank == 0 ? calloc((size_t)n->p, sizeof *heads) : NULL;
    if (n->rank == 0 && !heads)
        gather_failed(n);
    MPI_Gather(&mine, sizeof mine, MPI_BYTE, heads, sizeof mine, MPI_BYTE, 0, n->comm);
    gather_lanes(n, r, heads);
    gather_loss(n, r, heads);
    gather_layers(n);
    free(heads);
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
    if (n->comm != MPI_COMM_NULL)
        MPI_Comm_free(&n->comm);
    free(n);
}

static const pl_transport_ops ops = {send, receive, barrier, abort_run, stopped, error,
                                     collect, destroy};

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
    if (n->window < need) {
        snprintf(err, errlen, "%d stages x %d micro-batches need more MPI tags than this MPI "
                 "has (%d steps' worth, of %d needed)", n->stages, n->m, n->window, need);
    } else if (!n->sent || !n->received || !n->expected || !n->stop_in) {
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
    if (!poll_stop(n)) { /* success: every send was received; nobody will stop now */
        MPI_Cancel(&n->stop_req);
        MPI_Wait(&n->stop_req, MPI_STATUS_IGNORE);
    } else {
        while (n->stops_heard < n->p - 1) { /* every rank says it stopped, once */
            poll_stop(n);
            pause_for(&spins);
        }
        /* Collectives start in the same order everywhere, and one starts only
         * after the one before completed everywhere: so ranks are at most one
         * apart. The ones behind join the one the others are in. */
        if (n->collectives > n->max_collectives)
            n->max_collectives = n->collectives;
        if (n->coll_open)
            coll_wait(n, 0);
        if (n->collectives < n->max_collectives) {
            coll_start(n, n->open_kind, INT64_MIN);
            coll_wait(n, 0);
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
                MPI_Recv(buf, len, MPI_BYTE, q, st.MPI_TAG, n->comm, MPI_STATUS_IGNORE);
                free(buf);
                n->received[q]++;
            }
    }
    for (int i = 0; i < n->n_out; i++) {
        MPI_Wait(&n->out[i].req, MPI_STATUS_IGNORE);
        free(n->out[i].buf);
    }
    n->n_out = 0;
    return n->stopped ? -1 : 0;
}
