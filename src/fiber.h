/**
 * @file fiber.h
 * @brief Device threads the runtime schedules itself: many fibers on one
 * kernel thread per core, for the virtual clock (chapter 01).
 *
 * On the virtual clock, time is modelled, so what the host does in between
 * does not show in any figure: only the order of messages matters, and the
 * messages fix it. That leaves the host's cost. With 64 device threads on 2
 * cores, a 1F1B device blocks for a message about once every two actions,
 * and each block is a context switch through the kernel -- microseconds on
 * a virtual machine, more than the action's own work. A fiber is a device
 * thread that blocks by saving its registers and jumping to the next ready
 * fiber on the same kernel thread: tens of nanoseconds, no system call.
 *
 * Fibers are threads in everything but who schedules them: each has its own
 * stack and runs the same device loop, waits on the same mutexes and
 * condition variables (pl_cond, below) as a kernel thread would, and may be
 * interrupted by another kernel thread's fiber at any point between. Fiber i
 * of n always runs on worker i * workers / n -- contiguous blocks, so most
 * messages go to a fiber of the same worker -- and never moves.
 *
 * Invariant: a fiber never blocks its kernel thread for long (a
 * pthread_cond_wait, a sleep): it waits on a pl_cond, or yields -- the one
 * exception, an injected stall, yields before each 1 ms nap. The scaled
 * and real clocks sleep and measure host time, so they keep one kernel
 * thread per device.
 */
#ifndef PL_FIBER_H
#define PL_FIBER_H

#include <pthread.h>
#include <stddef.h>

/** One fiber: its stack, where it stopped, the worker it runs on (fiber.c). */
typedef struct pl_fiber pl_fiber;

/** A running set of fibers and the kernel threads (workers) they run on. */
typedef struct pl_fibers pl_fibers;

/**
 * Start n fibers, fiber i running main(ctx, i) on a stack of stack_bytes, on
 * `workers` kernel threads (at most n). Returns the running set, or NULL if
 * a stack, a worker or host memory could not be had, or this build has no
 * fibers (WebAssembly) -- then nothing ran.
 */
pl_fibers *pl_fibers_start(int n, int workers, size_t stack_bytes,
                           void (*main)(void *ctx, int i), void *ctx);

/** Wait until every fiber's main has returned, then free the set. */
void pl_fibers_join(pl_fibers *fs);

/** Let the other ready fibers of this kernel thread run first; nothing on a
 *  kernel thread of its own. */
void pl_fiber_yield(void);

/**
 * A condition variable that kernel threads and fibers can wait on alike.
 * Waking is in two halves, so that the waker can release the mutex before
 * the woken run: pl_cond_take under the mutex says whom to wake,
 * pl_cond_wake after it wakes them.
 */
typedef struct {
    pthread_cond_t cv;   /**< what kernel threads wait on */
    pl_fiber *fibers;    /**< the fibers waiting, the latest first (under the mutex) */
} pl_cond;

/** Whom a pl_cond_take chose to wake. */
typedef struct {
    pl_cond *cond;       /**< the condition they wait on, or NULL: nobody to wake */
    pl_fiber *fibers;    /**< the fibers taken off it */
    int all;             /**< every waiter, or one */
} pl_wakeup;

/** Make a condition with nobody waiting. */
void pl_cond_init(pl_cond *c);

/** Destroy a condition nobody waits on any more. */
void pl_cond_destroy(pl_cond *c);

/**
 * With mu held: release it, wait until woken, take it again. A fiber gives
 * its kernel thread to the next ready fiber of the same worker meanwhile.
 * May return without a wake-up, like pthread_cond_wait: callers wait in a
 * loop.
 */
void pl_cond_wait(pl_cond *c, pthread_mutex_t *mu);

/** With the mutex held: choose one waiter of c to wake (or all of them). */
pl_wakeup pl_cond_take(pl_cond *c, int all);

/** After releasing the mutex: wake whom pl_cond_take chose. */
void pl_cond_wake(pl_wakeup w);

#endif
