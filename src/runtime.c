/*
 * runtime.c -- starting the device threads, watching them, and collecting
 * what they measured (chapter 01).
 */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "validate.h"

/** The automatic watchdog's margin beyond the longest action, in seconds. */
#define PL_WATCHDOG_SLACK_S 5.0

void pl_run_fail(pl_run *r, const char *msg)
{
    pthread_mutex_lock(&r->mu);
    if (!r->failed) {
        r->failed = 1;
        snprintf(r->err, sizeof r->err, "%s", msg);
    }
    atomic_store(&r->stop, 1);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int d = 0; d < r->p; d++)
        pl_mailbox_wake(&r->mail[d]);
}

static int check_job(const pl_job *job, char *err, size_t errlen)
{
    const pl_schedule *s = job->schedule;
    if (job->partition->stages != pl_schedule_stages(s)) {
        snprintf(err, errlen, "the partition has %d stages but the schedule needs %d",
                 job->partition->stages, pl_schedule_stages(s));
        return -1;
    }
    if (job->steps < 1 || job->batch < s->microbatches) {
        snprintf(err, errlen, "need at least 1 step and at least one sample per micro-batch");
        return -1;
    }
    if (pl_validate(s, NULL, err, errlen))
        return -1;
    /* A fault that can never fire would let the run pass silently. */
    int d = job->fault_device;
    if (d >= s->devices) {
        snprintf(err, errlen, "cannot inject a fault on d%d: the schedule has %d devices",
                 d, s->devices);
        return -1;
    }
    if (d >= 0 && (job->fault_action < 0 ||
                   job->fault_action >= (long)job->steps * s->len[d])) {
        snprintf(err, errlen, "cannot inject a fault at action %ld of d%d: it runs %ld actions "
                 "(0..%ld) in %d steps", job->fault_action, d, (long)job->steps * s->len[d],
                 (long)job->steps * s->len[d] - 1, job->steps);
        return -1;
    }
    return 0;
}

/* Everything the threads share, made before any thread starts. */
static int setup(pl_run *r, const pl_job *job, pl_result *out)
{
    const pl_schedule *s = job->schedule;
    memset(r, 0, sizeof *r);
    r->job = job;
    r->s = s;
    r->p = s->devices;
    r->m = s->microbatches;
    r->v = s->chunks;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->trace = &out->trace;
    r->batches = calloc((size_t)job->steps, sizeof *r->batches);
    r->loss_share = calloc((size_t)job->steps * r->m, sizeof *r->loss_share);
    r->mail = calloc((size_t)r->p, sizeof *r->mail);
    r->dev = calloc((size_t)r->p, sizeof *r->dev);
    if (!r->batches || !r->loss_share || !r->mail || !r->dev ||
        pl_trace_init(&out->trace, r->p, job->steps, 1))
        return -1;
    for (int k = 0; k < job->steps; k++)
        if (pl_data_batch(&r->batches[k], job->seed, k, job->batch, job->model->width))
            return -1;
    int64_t epoch = pl_clock_host_ns();
    for (int d = 0; d < r->p; d++) {
        pl_device *dv = &r->dev[d];
        dv->run = r;
        dv->id = d;
        dv->clock = pl_clock_make(job->clock, epoch, job->scale);
        dv->clock.stop = &r->stop; /* a stopped run cuts scaled sleeps short */
        dv->stash = calloc((size_t)r->v * r->m, sizeof *dv->stash);
        if (!dv->stash || pl_mailbox_init(&r->mail[d], 2 * r->v * r->m))
            return -1;
    }
    return 0;
}

static void teardown(pl_run *r, int steps)
{
    for (int d = 0; r->dev && d < r->p; d++) {
        for (int k = 0; r->dev[d].stash && k < r->v * r->m; k++)
            pl_stash_free(&r->dev[d].stash[k]);
        free(r->dev[d].stash);
    }
    for (int d = 0; r->mail && d < r->p; d++)
        pl_mailbox_destroy(&r->mail[d]);
    for (int k = 0; r->batches && k < steps; k++)
        pl_batch_free(&r->batches[k]);
    free(r->batches);
    free(r->loss_share);
    free(r->mail);
    free(r->dev);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

/* The watchdog's report: where every device is and what it waits for. */
static void stall_report(pl_run *r, double seconds)
{
    char msg[1024], name[32];
    int n = snprintf(msg, sizeof msg, "watchdog: no device progressed for %.1f s;", seconds);
    for (int d = 0; d < r->p && n < (int)sizeof msg; d++) {
        pl_device *dv = &r->dev[d];
        int state = atomic_load(&dv->state), pos = atomic_load(&dv->pos);
        pl_action a = r->s->actions[d][pos];
        const char *what = state == PL_DEV_RECEIVING ? "waiting for its input"
                         : state == PL_DEV_AT_BARRIER ? "waiting at the end of the step"
                         : state == PL_DEV_DONE ? "finished" : "computing";
        n += snprintf(msg + n, sizeof msg - (size_t)n, " d%d step %d position %d (%s) %s;",
                      d, atomic_load(&dv->step), pos,
                      pl_action_format(r->s, a, name, sizeof name), what);
    }
    pl_run_fail(r, msg);
}

/* The watchdog's limit in seconds (0: off). A negative job->watchdog_s asks
 * for the automatic limit: PL_WATCHDOG_SLACK_S beyond the longest single
 * action, which on the scaled clock lasts its modelled cost times the scale.
 * (The virtual clock does not sleep, and the real one takes what the host
 * takes, so for them the slack alone is the limit.) */
static double watchdog_limit(const pl_run *r)
{
    const pl_job *job = r->job;
    if (job->watchdog_s >= 0)
        return job->watchdog_s;
    double longest = 0;
    if (job->clock == PL_CLOCK_SCALED) {
        static const char kinds[] = "FBIWR";
        int rows = (job->batch + r->m - 1) / r->m; /* the largest micro-batch */
        for (int st = 0; st < job->partition->stages; st++)
            for (int k = 0; kinds[k]; k++) {
                double ns = (double)pl_cost_action(&job->cost, job->model,
                                                   job->partition->first[st],
                                                   job->partition->count[st], rows, kinds[k]);
                if (ns * job->scale / 1e9 > longest)
                    longest = ns * job->scale / 1e9;
            }
    }
    return PL_WATCHDOG_SLACK_S + longest;
}

/* Wait for every device to finish, stopping the run if none makes progress
 * for the watchdog's limit. */
static void watch(pl_run *r)
{
    double limit = watchdog_limit(r);
    long last = -1;
    int64_t since = pl_clock_host_ns();
    pthread_mutex_lock(&r->mu);
    while (r->finished < r->p) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        long now = atomic_load(&r->progress);
        int64_t t = pl_clock_host_ns();
        if (now != last) {
            last = now;
            since = t;
        } else if (limit > 0 && !r->failed && (double)(t - since) / 1e9 > limit) {
            pthread_mutex_unlock(&r->mu);
            stall_report(r, limit);
            pthread_mutex_lock(&r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

int pl_runtime_run(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (check_job(job, err, errlen))
        return -1;
    pl_run r;
    int started = 0, rc = -1;
    if (setup(&r, job, out)) {
        snprintf(err, errlen, "runtime: out of host memory");
        goto done;
    }
    for (; started < r.p; started++)
        if (pthread_create(&r.dev[started].thread, NULL, pl_device_main, &r.dev[started])) {
            pl_run_fail(&r, "runtime: could not start a device thread");
            /* count the missing threads as finished so watch() returns */
            pthread_mutex_lock(&r.mu);
            r.finished += r.p - started;
            pthread_mutex_unlock(&r.mu);
            break;
        }
    watch(&r);
    for (int d = 0; d < started; d++)
        pthread_join(r.dev[d].thread, NULL);
    if (r.failed) {
        snprintf(err, errlen, "%s", r.err);
        goto done;
    }
    out->steps = job->steps;
    out->loss = calloc((size_t)job->steps, sizeof *out->loss);
    if (!out->loss) {
        snprintf(err, errlen, "runtime: out of host memory");
        goto done;
    }
    for (int k = 0; k < job->steps; k++)
        for (int j = 0; j < r.m; j++) /* in micro-batch order, as the reference sums */
            out->loss[k] += r.loss_share[k * r.m + j];
    rc = 0;
done:
    teardown(&r, job->steps);
    if (rc)
        pl_result_free(out);
    return rc;
}
