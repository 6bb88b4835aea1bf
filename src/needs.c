/*
 * needs.c -- what a run will need, estimated from its options and shape
 * before anything is allocated, and refused with one line when it is more
 * than this machine has or than a clock can count.
 */
#include "needs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mailbox.h"
#include "memory.h"
#include "route.h"
#include "stage.h"
#include "trace.h"
#include "validate.h"

int pl_needs_model_shape(pl_model *m, const pl_options *o)
{
    int n = o->layers > 0 ? o->layers : 1;
    int *widths = malloc((size_t)n * sizeof *widths);
    memset(m, 0, sizeof *m);
    m->layers = calloc((size_t)n, sizeof *m->layers);
    if (!widths || !m->layers) {
        free(widths);
        free(m->layers);
        m->layers = NULL;
        return -1;
    }
    pl_options_widths(o, widths);
    m->n_layers = o->layers;
    m->width = widths[o->layers - 1];
    for (int l = 0; l < o->layers; l++) { /* as pl_model_build shapes them */
        m->layers[l].in = widths[l == 0 ? o->layers - 1 : l - 1];
        m->layers[l].out = widths[l];
        m->layers[l].relu = l < o->layers - 1;
    }
    free(widths);
    return 0;
}

/* Bookkeeping per scheduled action, whatever executes it: the action and
 * its list's spare capacity, its place in the validator's order, the
 * simulator's arrival stamp, a stash and a mailbox slot. */
static double per_action(void)
{
    return 2.0 * sizeof(pl_action) + sizeof(pl_slot) + sizeof(int64_t) + sizeof(pl_stash) +
           sizeof(pl_message);
}

/* 1 if backwards are split into I and W, so that a micro-batch in flight
 * may hold its input gradients until its W: a schedule is read; a
 * registered one generated in a small shape (if it refuses that shape,
 * taken to split). */
static int splits(const pl_schedule *s, const pl_shape *shape, const pl_registry_entry *e)
{
    pl_schedule small;
    char err[256];
    int split = 0;
    if (!s) {
        pl_shape sh = *shape;
        sh.devices = sh.devices < 4 ? sh.devices : 4;
        sh.microbatches = sh.microbatches < 8 ? sh.microbatches : 8;
        if (pl_registry_generate(e, &sh, &small, err, sizeof err))
            return 1;
        s = &small;
    }
    for (int d = 0; d < s->devices && !split; d++)
        for (int i = 0; i < s->len[d] && !split; i++)
            split = s->actions[d][i].kind == PL_I;
    if (s == &small)
        pl_schedule_free(&small);
    return split;
}

/* What one device d of the run holds and does in one step. */
typedef struct {
    double actions;     /* in its list */
    double stash;       /* bytes of the micro-batches it holds at its peak */
    double busy;        /* ticks of work */
} device_need;

static device_need device(const pl_job *job, const pl_shape *shape, const pl_registry_entry *e,
                          const int *peak_inflight, int split, int d)
{
    const pl_options *o = job->opt;
    const pl_schedule *s = job->schedule;
    int p = shape->devices, m = shape->microbatches, v = shape->chunks;
    int small = o->batch / m, big = small + (o->batch % m != 0), n_big = o->batch % m;
    device_need n = {s ? s->len[d] : 3.0 * v * m, 0, 0};
    double full = 0, kept = 0, grads = 0; /* per micro-batch, the largest of its stages */
    for (int c = 0; c < v; c++) {
        int st = s ? pl_schedule_stage(s, d, c) : pl_route_stage(e->placement, p, d, c);
        int first = job->partition->first[st], count = job->partition->count[st];
        double f = (double)pl_stage_stash_bytes(job->model, first, count, big, PL_F, 0);
        double k = (double)pl_stage_stash_bytes(job->model, first, count, big, PL_F,
                                                o->recompute);
        double g = (double)pl_stage_stash_bytes(job->model, first, count, big, PL_I, 0) - f;
        full = f > full ? f : full;
        kept = k > kept ? k : kept;
        grads = g > grads ? g : grads;
        for (int rows = small; rows <= big && rows > 0; rows++) {
            double times = rows == big && n_big ? n_big : m - n_big;
            const pl_kind kinds[3] = {PL_F, PL_B, PL_R};
            for (int k = 0; k < (o->recompute ? 3 : 2); k++)
                n.busy += times * (double)pl_cost_action(&job->cost, job->model, first, count,
                                                         rows, kinds[k]);
        }
    }
    int peak = peak_inflight ? peak_inflight[d] : e ? pl_registry_peak(e, shape, d) : v * m;
    if (peak < 1 || peak > v * m)
        peak = v * m;
    /* Each micro-batch in flight keeps its stash (its stage input alone
     * under recomputation, with one rebuilt whole for its backward); the
     * backward under way adds its gradients -- or, split into I and W,
     * every micro-batch between its I and its W holds them. */
    n.stash = split ? peak * (full + grads)
                    : peak * kept + (o->recompute ? full - kept : 0) + grads;
    return n;
}

/* Ticks of the messages on links in one step, from the options (never from
 * the cost model's integers, which such figures would overflow): *all, every
 * message one after another -- every stage boundary between two devices
 * carries m activations and m gradients; *chain, one micro-batch's, there
 * and back: a step lasts at least that. */
static void link_ticks(const pl_job *job, const pl_shape *shape, const pl_registry_entry *e,
                       double *all, double *chain)
{
    const pl_options *o = job->opt;
    const pl_partition *part = job->partition;
    pl_placement place = job->schedule ? job->schedule->placement : e->placement;
    double tick = job->cost.ns_per_tick, alpha = o->link_latency_ms * 1e6 / tick;
    *all = *chain = 0;
    if (o->link_latency_ms <= 0 && o->link_bandwidth <= 0)
        return;
    int rows = o->batch / shape->microbatches + (o->batch % shape->microbatches != 0);
    for (int st = 0; st + 1 < part->stages; st++) {
        int from, to, chunk;
        pl_route_home(place, shape->devices, st, &from, &chunk);
        pl_route_home(place, shape->devices, st + 1, &to, &chunk);
        if (from == to)
            continue; /* a hand-off to itself crosses no link */
        double bytes = (double)pl_memory_message_bytes(job->model, part->first[st],
                                                       part->count[st], rows, PL_ACTIVATION);
        double one = alpha + (o->link_bandwidth > 0 ? bytes * 1e9 / o->link_bandwidth / tick : 0);
        *all += 2.0 * shape->microbatches * one;
        *chain += 2.0 * one;
    }
}

void pl_needs_estimate(const pl_job *job, const pl_shape *shape, const pl_registry_entry *e,
                       const int *peak_inflight, pl_needs *out)
{
    const pl_options *o = job->opt;
    const pl_model *model = job->model;
    const pl_partition *part = job->partition;
    memset(out, 0, sizeof *out);
    out->shape = *shape;
    double actions = 0, busiest = 0, work = 0;
    int split = splits(job->schedule, shape, e);
    for (int d = 0; d < shape->devices; d++) {
        device_need n = device(job, shape, e, peak_inflight, split, d);
        actions += n.actions;
        out->bytes[PL_NEED_ACTIVATIONS] += n.stash;
        work += n.busy;
        busiest = n.busy > busiest ? n.busy : busiest;
    }
    /* A stage boundary may hold a whole batch's messages of one flow when
     * the sender runs ahead of the receiver. */
    for (int st = 0; st + 1 < part->stages; st++)
        out->bytes[PL_NEED_MESSAGES] += (double)pl_memory_message_bytes(
            model, part->first[st], part->count[st], o->batch, PL_ACTIVATION);
    /* Each of the (at most two) devices reading the data makes a step's
     * batch, inputs and targets, through the teacher's forward (its input
     * and two layer outputs); the sequential reference of --verify and of
     * clipping makes them once more, each with a model of its own. */
    int references = (o->verify && !o->simulate) + (o->clip_norm > 0);
    int readers = (o->simulate ? 0 : shape->devices > 1 ? 2 : 1) + references;
    out->bytes[PL_NEED_DATA] = readers * 5.0 * o->batch * model->width * sizeof(float);
    pl_memory_bill bill = {0, 0, 0, 0, 0};
    for (int st = 0; st < part->stages; st++)
        pl_memory_add_stage(&bill, model, part->first[st], part->count[st], o->momentum > 0);
    /* post-validation keeps a copy of what a rollback restores */
    int copies = 1 + references + (o->post_validation && !o->simulate);
    out->bytes[PL_NEED_MODEL] = copies * (double)pl_memory_total(&bill);
    out->bytes[PL_NEED_SCHEDULE] = actions * per_action();
    int kept = o->steps < PL_TRACE_KEPT_STEPS ? o->steps : PL_TRACE_KEPT_STEPS;
    out->bytes[PL_NEED_TRACE] = o->totals_only ? 0
        : kept * actions * ((o->recompute ? 2.0 : 1.0) * sizeof(pl_event) + sizeof(pl_transfer));
    for (int k = 0; k < PL_NEEDS; k++)
        out->total_bytes += out->bytes[k];
    /* A step lasts at most its work and its messages, one after another; a
     * rollback (post-validation) runs a step twice. */
    double links, chain, runs = (o->post_validation ? 2.0 : 1.0) * o->steps;
    link_ticks(job, shape, e, &links, &chain);
    out->busiest_ticks = busiest > chain ? busiest : chain;
    out->link_ticks = runs * links;
    out->ticks = runs * work + out->link_ticks;
    out->host_seconds = o->clock == PL_CLOCK_SCALED && !o->simulate
        ? o->steps * out->busiest_ticks * job->cost.ns_per_tick * o->scale / 1e9 : 0;
}

/* n bytes in words: "512 B", "3.2 GiB". */
static const char *size(double n, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"};
    int u = 0;
    while (n >= 1024 && u < 7) {
        n /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
    return buf;
}

/* What need k is, and the options that drive it, with their values. */
static void driven_by(const pl_job *job, const pl_needs *nd, pl_need k, char *buf, size_t n)
{
    const pl_options *o = job->opt;
    const pl_shape *sh = &nd->shape;
    switch (k) {
    case PL_NEED_ACTIVATIONS:
        snprintf(buf, n, "activations, from --batch %d, --width %d, --layers %d and the "
                 "micro-batches in flight", o->batch, o->width, o->layers);
        return;
    case PL_NEED_MESSAGES:
        snprintf(buf, n, "messages, from --batch %d, --width %d and %d stages", o->batch,
                 o->width, job->partition->stages);
        return;
    case PL_NEED_DATA:
        snprintf(buf, n, "data, from --batch %d and --width %d", o->batch, o->width);
        return;
    case PL_NEED_MODEL:
        snprintf(buf, n, "model, from --layers %d and --width %d%s", o->layers, o->width,
                 o->verify ? ", twice under --verify" : "");
        return;
    case PL_NEED_SCHEDULE:
        snprintf(buf, n, "schedule, from --devices %d, --microbatches %d and --chunks %d",
                 sh->devices, sh->microbatches, sh->chunks);
        return;
    default:
        snprintf(buf, n, "trace, from --devices %d, --microbatches %d, --chunks %d and %d "
                 "kept steps", sh->devices, sh->microbatches, sh->chunks,
                 o->steps < PL_TRACE_KEPT_STEPS ? o->steps : PL_TRACE_KEPT_STEPS);
    }
}

/* The two largest needs, largest first. */
static void largest(const pl_needs *nd, int top[2])
{
    top[0] = 0;
    top[1] = 1;
    for (int k = 1; k < PL_NEEDS; k++)
        if (nd->bytes[k] > nd->bytes[top[0]]) {
            top[1] = top[0];
            top[0] = k;
        } else if (k != top[0] && nd->bytes[k] > nd->bytes[top[1]]) {
            top[1] = k;
        }
}

static int too_much_memory(const pl_job *job, const pl_needs *nd, char *err, size_t errlen)
{
    double have = pl_needs_host_memory();
    if (nd->total_bytes <= have)
        return 0;
    int top[2];
    largest(nd, top);
    char total[32], host[32], first[32], second[32], what[2][192];
    for (int i = 0; i < 2; i++)
        driven_by(job, nd, (pl_need)top[i], what[i], sizeof what[i]);
    snprintf(err, errlen, "the run needs about %s of host memory, more than the %s this "
             "machine has: %s of %s; %s of %s; ask for less, or pass --ignore-limits to try "
             "anyway", size(nd->total_bytes, total, sizeof total), size(have, host, sizeof host),
             size(nd->bytes[top[0]], first, sizeof first), what[0],
             size(nd->bytes[top[1]], second, sizeof second), what[1]);
    return -1;
}

/* Seconds in words: "42 s", "3.5 h", "12 years". */
static const char *duration(double s, char *buf, size_t n)
{
    if (s < 120)
        snprintf(buf, n, "%.3g s", s);
    else if (s < 3600)
        snprintf(buf, n, "%.3g min", s / 60);
    else if (s < 2 * 86400)
        snprintf(buf, n, "%.3g h", s / 3600);
    else if (s < 2 * 365.25 * 86400)
        snprintf(buf, n, "%.3g days", s / 86400);
    else
        snprintf(buf, n, "%.3g years", s / (365.25 * 86400));
    return buf;
}

int pl_needs_check(const pl_job *job, const pl_needs *nd, char *err, size_t errlen)
{
    const pl_options *o = job->opt;
    const char *tick = job->cost.kind == PL_COST_FLOPS ? "FLOPs" : "ns";
    double host_ns = nd->ticks * job->cost.ns_per_tick * o->scale;
    char a[48], b[48];
    if (!(nd->ticks <= PL_NEEDS_MAX_TICKS) && !(nd->link_ticks < nd->ticks - nd->link_ticks)) {
        char links[96];
        snprintf(links, sizeof links, o->link_bandwidth > 0 ? "--link-latency %g ms, "
                 "--link-bandwidth %g B/s" : "--link-latency %g ms", o->link_latency_ms,
                 o->link_bandwidth);
        snprintf(err, errlen, "%s: the run's messages take up to %.3g ticks (%s) over --steps "
                 "%d, more than the %.3g a 64-bit clock counts safely; give faster links",
                 links, nd->link_ticks, tick, o->steps, PL_NEEDS_MAX_TICKS);
        return -1;
    }
    if (!(nd->ticks <= PL_NEEDS_MAX_TICKS)) {
        snprintf(err, errlen, "the run models up to %.3g ticks (%s) over --steps %d, more than "
                 "the %.3g a 64-bit clock counts safely; lower --steps, --batch, --width or "
                 "--layers", nd->ticks, tick, o->steps, PL_NEEDS_MAX_TICKS);
        return -1;
    }
    if (o->clock == PL_CLOCK_SCALED && !o->simulate && !(host_ns <= PL_NEEDS_MAX_TICKS)) {
        snprintf(err, errlen, "--scale %g: the scaled clock's deadlines would reach %.3g ns of "
                 "host time, more than 64-bit nanoseconds hold; lower --scale or --steps",
                 o->scale, host_ns);
        return -1;
    }
    if (o->ignore_limits)
        return 0;
    if (too_much_memory(job, nd, err, errlen))
        return -1;
    if (nd->host_seconds > PL_NEEDS_HOST_SECONDS) {
        snprintf(err, errlen, "--clock scaled --scale %g: the run takes at least %s of host "
                 "time (a step lasts at least %.3g ms of modelled time, --steps %d), more "
                 "than the %s allowed; lower --scale or --steps, or pass "
                 "--ignore-limits to try anyway", o->scale,
                 duration(nd->host_seconds, a, sizeof a),
                 nd->busiest_ticks * job->cost.ns_per_tick / 1e6, o->steps,
                 duration(PL_NEEDS_HOST_SECONDS, b, sizeof b));
        return -1;
    }
    return 0;
}

/* The number in a file such as the control group's memory.max; < 0 if
 * there is none ("max", no such file). */
static double number_in(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long n;
    int got = f && fscanf(f, "%llu", &n) == 1;
    if (f)
        fclose(f);
    return got ? (double)n : -1;
}

double pl_needs_host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && page > 0 ? (double)pages * (double)page : 1e300;
    const int which[2] = {RLIMIT_AS, RLIMIT_DATA};
    for (int i = 0; i < 2; i++) {
        struct rlimit r;
        if (getrlimit(which[i], &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
            (double)r.rlim_cur < have)
            have = (double)r.rlim_cur;
    }
    const char *cgroup[2] = {"/sys/fs/cgroup/memory.max",
                             "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (int i = 0; i < 2; i++) {
        double n = number_in(cgroup[i]);
        if (n > 0 && n < have)
            have = n;
    }
    return have;
}
