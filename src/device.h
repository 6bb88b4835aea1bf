/**
 * @file device.h
 * @brief One simulated accelerator: its thread, its stash, its action loop.
 *
 * Internal to the runtime (runtime.c creates the devices; device.c is what
 * each device thread runs). Chapter 01 walks through pl_device_main line by
 * line: take the next action, wait for its input, run the kernels, send the
 * output on, account the memory.
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

/** Record the first failure of the run and wake every device so it stops. */
void pl_run_fail(pl_run *r, const char *msg);

#endif
