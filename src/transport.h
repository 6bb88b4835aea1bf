/**
 * @file transport.h
 * @brief How devices talk: the only way a device reaches another.
 *
 * A device loop (device.c) sends its outputs, receives its inputs, meets the
 * other devices at the end of a step, adds up one number with them (the
 * gradient norm of chapter 06), reports a failure, and hands in what it
 * measured -- through this interface and nothing else. It never learns
 * whether its neighbour is a thread in the same process or an MPI rank on
 * another host. Back ends (the Redis ae_* pattern):
 *
 *  - threads (transport_threads.c): one mailbox per device, a condition
 *    variable barrier and a stop flag, in one process (chapters 01-08);
 *  - mpi (transport_mpi.c, chapter 09; built only by `make mpi`): one rank
 *    per device; messages become tagged point-to-point sends, the barrier an
 *    all-reduce of the time, the reduction an all-gather of one (value, time)
 *    pair per rank, abort an agreed stop, collect a gather to rank 0.
 *
 * A message is named by its tag: which way it flows, the stage that receives
 * it, the micro-batch and the step. Tags make every message unique within a
 * step, so there is never a question of which receive a send pairs with;
 * messages with the same tag (a step run again after a rollback, chapter 06)
 * are received in the order they were sent. Its tensor is (rows, width): an
 * activation is the sending stage's output for the micro-batch's rows, a
 * gradient the loss's gradient with respect to the receiving stage's output.
 *
 * Invariant: sends never block (only receives and the barrier wait), exactly
 * as the validator's dry run assumes; so a valid schedule cannot hang.
 */
#ifndef PL_TRANSPORT_H
#define PL_TRANSPORT_H

#include <stdint.h>

#include "job.h"
#include "route.h"
#include "tensor.h"
#include "trace.h"

/** The name of a message. Back ends take it by address: built field by field
 *  and passed by value, a tag costs a stall on every message (the copy reads
 *  back wider than the stores that built it). */
typedef struct {
    pl_flow flow; /**< activation (to the next stage) or gradient (to the previous) */
    int stage;    /**< the stage that receives it */
    int chunk;    /**< that stage's chunk on the receiving device */
    int mb;       /**< micro-batch */
    int step;     /**< training step */
} pl_tag;

/** What a device hands in when it is done (collect). */
typedef struct {
    pl_lane lane;     /**< what it ran; ownership passes to the transport */
    float *loss;      /**< per step, if it holds the last stage, else NULL; ownership passes */
} pl_report;

typedef struct pl_transport pl_transport;

// [region transport-ops]
/** The operations every back end implements. */
typedef struct {
    /** Send x (rows, width; ownership passes) stamped `time` from device `from` to `to`. 0 or -1. */
    int (*send)(pl_transport *t, int from, int to, const pl_tag *tag, int64_t time, pl_tensor x);
    /** Wait for the message `tag` from `from` to `to` into *time and *x (rows, width; the caller
     *  frees it); 0, or -1 once the run stopped. */
    int (*receive)(pl_transport *t, int to, int from, const pl_tag *tag, int64_t *time,
                   pl_tensor *x);
    /** Wait for every device; *agreed gets the latest `time` brought. 0, or -1 if stopped. */
    int (*barrier)(pl_transport *t, int device, int64_t time, int64_t *agreed);
    /**
     * Add this device's `value`, stamped `time`, to reduction `round` (0 <=
     * round < steps; each device adds once per round). Never waits. 0 or -1.
     */
    int (*reduce)(pl_transport *t, int device, int round, double value, int64_t time);
    /**
     * Wait until every device has added to `round`: *sum gets the values added
     * from 0.0 in device order, *agreed the latest stamp. 0, or -1 if stopped.
     */
    int (*reduced)(pl_transport *t, int device, int round, double *sum, int64_t *agreed);
    /** Report the run's failure (the first one wins) and stop every device. */
    void (*abort)(pl_transport *t, int device, const char *why);
    /** 1 once the run stopped. */
    int (*stopped)(pl_transport *t);
    /** The first failure's message, or NULL if the run has not failed. */
    const char *(*error)(pl_transport *t);
    /** Hand in a device's report; the transport delivers it to the coordinator. 0 or -1. */
    int (*collect)(pl_transport *t, int device, pl_report *r);
    /** Free the transport. */
    void (*destroy)(pl_transport *t);
} pl_transport_ops;
// [endregion transport-ops]

/** A back end embeds this as its first member. */
struct pl_transport {
    const pl_transport_ops *ops; /**< its operations */
};

/** Send x from `from` to `to` (see pl_transport_ops). */
static inline int pl_transport_send(pl_transport *t, int from, int to, const pl_tag *tag,
                                    int64_t time, pl_tensor x)
{
    return t->ops->send(t, from, to, tag, time, x);
}

/** Receive the message `tag` (see pl_transport_ops). */
static inline int pl_transport_receive(pl_transport *t, int to, int from, const pl_tag *tag,
                                       int64_t *time, pl_tensor *x)
{
    return t->ops->receive(t, to, from, tag, time, x);
}

/** Meet every device at the end of a step (see pl_transport_ops). */
static inline int pl_transport_barrier(pl_transport *t, int device, int64_t time,
                                       int64_t *agreed)
{
    return t->ops->barrier(t, device, time, agreed);
}

/** Add a value to a reduction round, without waiting (see pl_transport_ops). */
static inline int pl_transport_reduce(pl_transport *t, int device, int round, double value,
                                      int64_t time)
{
    return t->ops->reduce(t, device, round, value, time);
}

/** Wait for a reduction round's sum (see pl_transport_ops). */
static inline int pl_transport_reduced(pl_transport *t, int device, int round, double *sum,
                                       int64_t *agreed)
{
    return t->ops->reduced(t, device, round, sum, agreed);
}

/** Stop the run with a failure (see pl_transport_ops). */
static inline void pl_transport_abort(pl_transport *t, int device, const char *why)
{
    t->ops->abort(t, device, why);
}

/** 1 once the run stopped. */
static inline int pl_transport_stopped(pl_transport *t)
{
    return t->ops->stopped(t);
}

/** The first failure's message, or NULL. */
static inline const char *pl_transport_error(pl_transport *t)
{
    return t->ops->error(t);
}

/** Hand in what a device measured (see pl_transport_ops). */
static inline int pl_transport_collect(pl_transport *t, int device, pl_report *r)
{
    return t->ops->collect(t, device, r);
}

/** Free the transport (NULL is fine). */
static inline void pl_transport_free(pl_transport *t)
{
    if (t)
        t->ops->destroy(t);
}

/* ---- The threads back end (transport_threads.c) ---- */

/**
 * A transport for p device threads in this process, with m micro-batches and
 * v chunks per device. Reports are delivered into `trace` (p lanes; each
 * device's lane is moved into place) and `loss` (steps floats, written by the
 * device holding the last stage). Returns NULL on allocation failure.
 */
pl_transport *pl_transport_threads_new(int p, int m, int v, int steps, pl_trace *trace,
                                       float *loss);

/* ---- The MPI back end (transport_mpi.c, only in `make mpi` builds) ---- */

/**
 * A transport for this MPI rank, which runs device `rank` of `job` (one rank
 * per device, MPI already initialised). Reports are gathered to rank 0 into
 * `trace` (p lanes) and `loss` (steps floats), and every rank's trained
 * layers into rank 0's job->model; other ranks pass NULL for both. Returns
 * NULL with a one-line message if the tags cannot name every message or on
 * allocation failure. Collective: every rank calls it.
 */
pl_transport *pl_transport_mpi_new(const pl_job *job, pl_trace *trace, float *loss, char *err,
                                   size_t errlen);

/**
 * Once this rank's device has returned: if the run stopped, agree with every
 * other rank that it did (each rank tells every other one once), join the
 * collective they are in and take every message still on its way, so that
 * nothing is left pending for MPI_Finalize. Returns 0 if the run succeeded
 * on every rank, -1 if it stopped (pl_transport_error says why). Collective.
 */
int pl_transport_mpi_settle(pl_transport *t);

#endif
