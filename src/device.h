/**
 * @file device.h
 * @brief One simulated accelerator: its thread, its stash, its action loop.
 *
 * Internal to the runtime: runtime.c creates the devices, device.c is what
 * each device thread runs (its loop over steps, messaging, accounting, the
 * barrier), and action.c is one action. Chapter 01 walks through both: take
 * the next action, wait for its input, run the kernels, send the output on,
 * account the memory.
 *
 * Invariant: a device touches only its own stash, layers, clock and trace
 * lane; everything shared goes through mailboxes or the run's mutex.
 */
#ifndef PL_DEVICE_H
#define PL_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>

#include "data.h"
#include "job.h"
#include "mailbox.h"

typedef struct pl_run pl_run;

/** What a device is doing, for the watchdog's report. */
enum { PL_DEV_COMPUTING = 0, PL_DEV_RECEIVING = 1, PL_DEV_AT_BARRIER = 2, PL_DEV_DONE = 3 };

/** One device thread's state. */
typedef struct {
    pl_run *run;           /**< what all devices share */
    int id;                /**< device index d */
    pthread_t thread;      /**< the device's thread */
    pl_clock clock;        /**< the device's own clock */
    pl_stash *stash;       /**< [chunk * m + mb] */
    size_t held;           /**< activation bytes held now */
    int inflight;          /**< micro-batches held now */
    long actions_done;     /**< over the whole run, for fault injection */
    atomic_int step;       /**< the step it is in, for the watchdog */
    atomic_int pos;        /**< its position in the action list, for the watchdog */
    atomic_int state;      /**< PL_DEV_* */
} pl_device;

/** Everything the device threads share. */
struct pl_run {
    const pl_job *job;     /**< the run */
    const pl_schedule *s;  /**< the job's schedule */
    int p;                 /**< devices */
    int m;                 /**< micro-batches */
    int v;                 /**< chunks per device */
    pl_batch *batches;     /**< one per step, made before the threads start */
    float *loss_share;     /**< [step * m + mb], written by the last stage */
    pl_mailbox *mail;      /**< one per device */
    pl_device *dev;        /**< one per device */
    pl_trace *trace;       /**< where the devices record */
    atomic_int stop;       /**< set once by the first failure */
    atomic_long progress;  /**< actions completed, for the watchdog */
    pthread_mutex_t mu;    /**< guards everything below */
    pthread_cond_t cv;     /**< signalled at the barrier and on failure */
    int at_barrier;        /**< devices waiting at the step barrier */
    long barrier_gen;      /**< steps the barrier has released */
    int64_t barrier_time;  /**< virtual clock: latest end of the step */
    int finished;          /**< devices done with every step */
    int failed;            /**< 1 once a device failed */
    char err[1024];        /**< the first failure's message */
};

/** The device thread's body: every step of its action list. */
void *pl_device_main(void *arg);

/**
 * Run one action on device dv (action.c): receive its input, check memory,
 * compute, record, account, send. Returns 0, or -1 once the run has failed
 * or been stopped (the failure is already reported).
 */
int pl_device_run_action(pl_device *dv, pl_action a);

/**
 * Wait for the message action a needs, if another stage sends it. *ready
 * gets its send time and *in its tensor (the caller frees it); both are zero
 * if the action needs no message. Returns -1 if the run stopped meanwhile.
 */
int pl_device_receive(pl_device *dv, pl_action a, int64_t *ready, pl_tensor *in);

/**
 * Send action a's output t, stamped with `time`, to the stage that needs it;
 * ownership of t passes to the receiver (or t is freed if nobody needs it).
 * Returns 0, or -1 after reporting a failure.
 */
int pl_device_send(pl_device *dv, pl_action a, int64_t time, pl_tensor t);

/** Append an event of `kind` ('F', 'B', 'I', 'W', 'R') for action a to the trace. */
void pl_device_record(pl_device *dv, int stage, pl_action a, char kind, int64_t start,
                      int64_t end);

/**
 * Account a stash that held `before` bytes and now holds `after`, and a
 * change of delta_inflight in-flight micro-batches; update the peaks.
 */
void pl_device_account(pl_device *dv, size_t before, size_t after, int delta_inflight);

/**
 * 1 if the device may grow its stash as an action of `kind` on a micro-batch
 * of `rows` rows of layers [first, first+count) would (pl_stash_delta), within
 * the job's device_memory; otherwise reports "dD out of memory at ..." as the
 * run's failure and returns 0.
 */
int pl_device_fits(pl_device *dv, pl_action a, int first, int count, int rows, char kind);

/** Report "dD failed at step S position P (A): why" as the run's failure. */
void pl_device_fail(pl_device *dv, pl_action a, const char *why);

/** Record the first failure of the run and wake every device so it stops. */
void pl_run_fail(pl_run *r, const char *msg);

#endif
