/*
 * runtime.c -- starting the device threads, watching them, and collecting
 * what they measured (chapter 01).
 */
#if defined(__linux__)
#define _GNU_SOURCE /* for sched_getaffinity and pthread_setaffinity_np */
#include <sched.h>
#endif
#include "runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "fiber.h"
#include "validate.h"

int pl_runtime_check(const pl_job *job, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    const pl_options *o = job->opt;
    if (job->partition->stages != pl_schedule_stages(s)) {
        snprintf(err, errlen, "the partition has %d stages but the schedule needs %d",
                 job->partition->stages, pl_schedule_stages(s));
        return -1;
    }
    if (o->steps < 1 || o->batch < s->microbatches) {
        snprintf(err, errlen, "need at least 1 step and at least one sample per micro-batch");
        return -1;
    }
    if (pl_validate(s, NULL, err, errlen) || pl_job_check_memory(job, err, errlen))
        return -1;
    /* A fault that can never fire would let the run pass silently. */
    int d = o->fault_device;
    if (d >= s->devices) {
        snprintf(err, errlen, "cannot inject a fault on d%d: the schedule has %d devices",
                 d, s->devices);
        return -1;
    }
    if (d >= 0 && (o->fault_action < 0 || o->fault_action >= (long)o->steps * s->len[d])) {
        snprintf(err, errlen, "cannot inject a fault at action %ld of d%d: it runs %ld actions "
                 "(0..%ld) in %d steps", o->fault_action, d, (long)o->steps * s->len[d],
                 (long)o->steps * s->len[d] - 1, o->steps);
        return -1;
    }
    return 0;
}

/* What the threads and the watchdog share. */
typedef struct {
    const pl_job *job;
    pl_transport *net;
    pl_device *dev;
    int p;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* signalled when a device finishes */
    int finished;        /* devices whose thread is done */
} run;

typedef struct {
    run *r;
    int d;
} thread_arg;

/* The cores this thread may run on. */
static int cores(void)
{
#if defined(__linux__)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        return CPU_COUNT(&allowed);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* With more devices than cores, each core runs a contiguous block of
 * devices: most messages go between neighbours, so most wake a thread on
 * the sender's own core -- a context switch, not an interrupt to another
 * core, which costs several times as much (and more in a virtual machine).
 * Device d of p goes to the (d * n / p)-th of the n cores this thread may
 * use. Only a hint: where the system says no, the device runs anywhere. */
static void pin(int d, int p)
{
#if defined(__linux__)
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) >= p)
        return;
    int want = (int)((long)d * CPU_COUNT(&allowed) / p);
    for (int cpu = 0, k = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed) && k++ == want) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
#else
    (void)d, (void)p;
#endif
}

/* A device's whole life, as a kernel thread or a fiber. */
static void device_main(void *arg, int d)
{
    run *r = arg;
    pl_device_run(&r->dev[d]);
    pthread_mutex_lock(&r->mu);
    r->finished++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *thread_main(void *arg)
{
    thread_arg *t = arg;
    pin(t->d, t->r->p);
    device_main(t->r, t->d);
    return NULL;
}

/* The watchdog's report: where every device is and what it waits for. */
static void stall_report(run *r, double seconds)
{
    char msg[1024], name[32];
    int n = snprintf(msg, sizeof msg, "watchdog: no device progressed for %g s;", seconds);
    for (int d = 0; d < r->p && n < (int)sizeof msg; d++) {
        pl_device_watch *w = &r->dev[d].watch;
        int state = atomic_load(&w->state), pos = atomic_load(&w->pos);
        pl_action a = r->job->schedule->actions[d][pos];
        const char *what = state == PL_DEV_RECEIVING ? "waiting for its input"
                         : state == PL_DEV_AT_BARRIER ? "waiting at the end of the step"
                         : state == PL_DEV_STALLED ? "stalled (injected)"
                         : state == PL_DEV_DONE ? "finished" : "computing";
        n += snprintf(msg + n, sizeof msg - (size_t)n, " d%d step %d position %d (%s) %s;",
                      d, atomic_load(&w->step), pos,
                      pl_schedule_format(r->job->schedule, a, name, sizeof name), what);
    }
    pl_transport_abort(r->net, -1, msg);
}

/* Progress: actions completed and messages received. *moving is 1 unless
 * some device waits for a message (or is stalled) while none computes: a
 * long action is progress on every clock, and devices that are all at the
 * barrier or finished are about to be released, not stuck. */
static long progress(run *r, int *moving)
{
    long n = 0;
    int computing = 0, waiting = 0;
    for (int d = 0; d < r->p; d++) {
        int state = atomic_load(&r->dev[d].watch.state);
        n += atomic_load(&r->dev[d].watch.progress);
        computing |= state == PL_DEV_COMPUTING;
        waiting |= state == PL_DEV_RECEIVING || state == PL_DEV_STALLED;
    }
    *moving = computing || !waiting;
    return n;
}

/* Wait for every device to finish, stopping the run if for `limit` seconds
 * nothing progresses while devices wait for messages and none computes --
 * seen at two looks in a row, 20 ms apart, however short the limit. */
static void watch(run *r, double limit)
{
    long last = -1;
    int stalled_looks = 0;
    int64_t since = pl_clock_host_ns();
    pthread_mutex_lock(&r->mu);
    while (r->finished < r->p) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        int moving;
        long now = progress(r, &moving);
        int64_t t = pl_clock_host_ns();
        if (now != last || moving) {
            last = now;
            since = t;
            stalled_looks = 0;
        } else if (++stalled_looks >= 2 && limit > 0 && r->finished < r->p &&
                   !pl_transport_stopped(r->net) && (double)(t - since) / 1e9 > limit) {
            pthread_mutex_unlock(&r->mu);
            stall_report(r, limit);
            pthread_mutex_lock(&r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* Start every device as a kernel thread of its own, each on a stack of
 * PL_RUNTIME_STACK_BYTES; returns how many started. */
static int start(run *r, thread_arg *args, pthread_t *threads)
{
    int started = 0;
    pthread_attr_t attr;
    int sized = pthread_attr_init(&attr) == 0;
    if (sized && pthread_attr_setstacksize(&attr, PL_RUNTIME_STACK_BYTES) != 0) {
        pthread_attr_destroy(&attr);
        sized = 0;
    }
    for (; started < r->p; started++) {
        args[started] = (thread_arg){r, started};
        if (pthread_create(&threads[started], sized ? &attr : NULL, thread_main,
                           &args[started]))
            break;
    }
    if (sized)
        pthread_attr_destroy(&attr);
    return started;
}

/* Stop a run some of whose devices never started. */
static void not_started(run *r, int started)
{
    pl_transport_abort(r->net, -1, "runtime: could not start the device threads");
    pthread_mutex_lock(&r->mu);
    r->finished += r->p - started; /* so watch() returns */
    pthread_mutex_unlock(&r->mu);
}

// [region executor]
/* Run every device and wait for the last, watching them. On the virtual
 * clock the devices are fibers (fiber.h), one kernel thread per core
 * between them: only the order of messages shows in a figure there, and a
 * fiber waits for a message without a trip through the kernel. The scaled
 * and real clocks measure the host's time, so each device there is a
 * kernel thread the host schedules. */
static void run_devices(run *r, thread_arg *args, pthread_t *threads)
{
    const pl_options *o = r->job->opt;
    pl_fibers *fs = NULL;
    if (o->clock == PL_CLOCK_VIRTUAL && !o->kernel_threads &&
        (fs = pl_fibers_start(r->p, cores(), PL_RUNTIME_STACK_BYTES, device_main, r))) {
        watch(r, o->watchdog_s < 0 ? PL_WATCHDOG_AUTO_S : o->watchdog_s);
        pl_fibers_join(fs);
        return;
    }
    /* Nothing ran if fibers could not start: kernel threads run it instead. */
    int started = start(r, args, threads);
    if (started < r->p)
        not_started(r, started);
    watch(r, o->watchdog_s < 0 ? PL_WATCHDOG_AUTO_S : o->watchdog_s);
    for (int d = 0; d < started; d++)
        pthread_join(threads[d], NULL);
}
// [endregion executor]

int pl_runtime_run(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    const pl_options *o = job->opt;
    memset(out, 0, sizeof *out);
    if (pl_runtime_check(job, err, errlen))
        return -1;
    run r = {job, NULL, NULL, s->devices, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    thread_arg *args = calloc((size_t)r.p, sizeof *args);
    pthread_t *threads = calloc((size_t)r.p, sizeof *threads);
    r.dev = calloc((size_t)r.p, sizeof *r.dev);
    out->loss = calloc((size_t)o->steps, sizeof *out->loss);
    int rc = -1, ready = args && threads && r.dev && out->loss &&
                         pl_trace_init(&out->trace, r.p, o->steps, !o->totals_only) == 0 &&
                         (r.net = pl_transport_threads_new(r.p, s->microbatches, s->chunks,
                                                           o->steps, &out->trace,
                                                           out->loss)) != NULL;
    int64_t epoch = pl_clock_host_ns();
    for (int d = 0; ready && d < r.p; d++)
        ready = pl_device_init(&r.dev[d], job, r.net, d, epoch) == 0;
    if (!ready) {
        snprintf(err, errlen, "runtime: out of host memory");
        goto done;
    }
    run_devices(&r, args, threads);
    const char *failure = pl_transport_error(r.net);
    if (failure) {
        snprintf(err, errlen, "%s", failure);
        goto done;
    }
    pl_job_describe(job, &out->trace.info);
    out->trace.info.executor = "threads";
    out->trace.info.ns_per_tick = pl_clock_ns_per_tick(&r.dev[0].clock);
    out->steps = o->steps;
    rc = 0;
done:
    for (int d = 0; r.dev && d < r.p; d++)
        pl_device_free(&r.dev[d]);
    pl_transport_free(r.net);
    free(r.dev);
    free(args);
    free(threads);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    if (rc)
        pl_result_free(out);
    return rc;
}
