/*
 * trace.c -- lanes of events, and the metrics of docs/design.md.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

static void clear_total(pl_step_total *tot, int step)
{
    *tot = (pl_step_total){step, INT64_MAX, INT64_MIN, 0, 0};
}

int pl_lane_init(pl_lane *l, int steps, int keep_events)
{
    memset(l, 0, sizeof *l);
    l->kept = steps < PL_TRACE_KEPT_STEPS ? steps : PL_TRACE_KEPT_STEPS;
    l->totals = malloc((size_t)(l->kept > 0 ? l->kept : 1) * sizeof *l->totals);
    if (!l->totals)
        return -1;
    for (int k = 0; k < l->kept; k++)
        clear_total(&l->totals[k], k);
    clear_total(&l->first, 0);
    l->steps = steps;
    l->keep_events = keep_events;
    return 0;
}

void pl_lane_free(pl_lane *l)
{
    free(l->events);
    free(l->sends);
    free(l->totals);
    memset(l, 0, sizeof *l);
}

int pl_lane_reserve(pl_lane *l, long events, long sends)
{
    if (!l->keep_events)
        return 0;
    if (events > l->cap) {
        pl_event *ev = realloc(l->events, (size_t)events * sizeof *ev);
        if (!ev)
            return -1;
        l->events = ev;
        l->cap = events;
    }
    if (sends > l->sends_cap) {
        pl_transfer *tr = realloc(l->sends, (size_t)sends * sizeof *tr);
        if (!tr)
            return -1;
        l->sends = tr;
        l->sends_cap = sends;
    }
    return 0;
}

/* Make `step` the newest kept step: forget the events, messages and totals
 * of the steps that fall out of the window. A lane's steps only go forward,
 * so what it keeps is a suffix of each list; moving it down keeps the
 * buffers from growing. */
static void slide(pl_lane *l, int step)
{
    int first = step - l->kept + 1;
    for (int k = l->first_kept; k < first; k++) {
        if (k == 0)
            l->first = l->totals[0]; /* step 0's, kept for good */
        clear_total(&l->totals[k % l->kept], k + l->kept);
    }
    long drop = 0;
    while (drop < l->len && l->events[drop].step < first)
        drop++;
    if (drop > 0) {
        memmove(l->events, l->events + drop, (size_t)(l->len - drop) * sizeof *l->events);
        l->len -= drop;
    }
    for (drop = 0; drop < l->nsends && l->sends[drop].step < first;)
        drop++;
    if (drop > 0) {
        memmove(l->sends, l->sends + drop, (size_t)(l->nsends - drop) * sizeof *l->sends);
        l->nsends -= drop;
    }
    l->first_kept = first;
}

/* The totals of `step`, sliding the window to it first if need be; NULL for
 * a step the lane no longer keeps, or beyond the run. */
static pl_step_total *total(pl_lane *l, int step)
{
    if (step < l->first_kept || step >= l->steps)
        return NULL;
    if (step >= l->first_kept + l->kept)
        slide(l, step);
    return &l->totals[step % l->kept];
}

int pl_lane_begin_step(pl_lane *l, int step)
{
    return total(l, step) ? 0 : -1;
}

int pl_lane_add_tally(pl_lane *l, const pl_tally *t)
{
    pl_step_total *tot = total(l, t->step.step);
    if (!tot)
        return -1;
    if (t->step.first_start < tot->first_start)
        tot->first_start = t->step.first_start;
    if (t->step.last_end > tot->last_end)
        tot->last_end = t->step.last_end;
    tot->busy += t->step.busy;
    tot->bytes_sent += t->step.bytes_sent;
    l->busy += t->step.busy;
    if (t->peak_inflight > l->peak_inflight)
        l->peak_inflight = t->peak_inflight;
    if (t->peak_bytes > l->peak_bytes)
        l->peak_bytes = t->peak_bytes;
    if (t->peak_held > l->peak_held) {
        l->peak_held = t->peak_held;
        l->peak_held_activations = t->peak_held_activations;
        l->peak_held_in_transit = t->peak_held_in_transit;
    }
    return 0;
}

int pl_lane_append(pl_lane *l, const pl_event *e)
{
    if (!l->keep_events)
        return 0;
    if (l->len == l->cap && pl_lane_reserve(l, l->cap ? 2 * l->cap : 64, 0))
        return -1;
    l->events[l->len++] = *e;
    return 0;
}

int pl_lane_add(pl_lane *l, const pl_event *e)
{
    pl_tally t = pl_tally_empty(e->step);
    pl_tally_add(&t, e);
    return pl_lane_add_tally(l, &t) ? -1 : pl_lane_append(l, e);
}

int pl_lane_send(pl_lane *l, const pl_transfer *t)
{
    pl_step_total *tot = total(l, t->step);
    if (!tot)
        return -1;
    tot->bytes_sent += t->bytes;
    if (!l->keep_events)
        return 0;
    if (l->nsends == l->sends_cap &&
        pl_lane_reserve(l, 0, l->sends_cap ? 2 * l->sends_cap : 64))
        return -1;
    l->sends[l->nsends++] = *t;
    return 0;
}

int pl_trace_init(pl_trace *t, int devices, int steps, int keep_events)
{
    memset(t, 0, sizeof *t);
    t->lanes = calloc((size_t)devices, sizeof *t->lanes);
    if (!t->lanes)
        return -1;
    t->devices = devices;
    t->steps = steps;
    t->info.devices = devices;
    t->info.formula = -1;
    t->info.shown_steps = 1;
    t->info.ns_per_tick = 1.0;
    for (int d = 0; d < devices; d++)
        if (pl_lane_init(&t->lanes[d], steps, keep_events)) {
            pl_trace_free(t);
            return -1;
        }
    return 0;
}

void pl_trace_free(pl_trace *t)
{
    for (int d = 0; t->lanes && d < t->devices; d++)
        pl_lane_free(&t->lanes[d]);
    free(t->lanes);
    memset(t, 0, sizeof *t);
}

int pl_trace_has_events(const pl_trace *t, int step)
{
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; t->lanes[d].events && i < t->lanes[d].len; i++)
            if (t->lanes[d].events[i].step == step)
                return 1;
    return 0;
}

int pl_trace_first_kept(const pl_trace *t)
{
    int first = 0;
    for (int d = 0; d < t->devices; d++)
        if (t->lanes[d].first_kept > first)
            first = t->lanes[d].first_kept;
    return first;
}

/* Device d's totals of step k, or NULL if its lane does not keep them. */
static const pl_step_total *kept(const pl_trace *t, int d, int k)
{
    const pl_lane *l = &t->lanes[d];
    const pl_step_total *tot = k >= l->first_kept && k < l->steps ? &l->totals[k % l->kept]
                                                                  : NULL;
    return tot && tot->step == k ? tot : NULL;
}

int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out)
{
    return pl_metrics_steps(t, step, 1, out);
}

int pl_metrics_steps(const pl_trace *t, int first_step, int count, pl_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (first_step < pl_trace_first_kept(t) || count < 1 || first_step > t->steps - count)
        return -1;
    out->busy = calloc((size_t)t->devices, sizeof *out->busy);
    if (!out->busy)
        return -1;
    out->devices = t->devices;
    int64_t first = INT64_MAX, last = INT64_MIN, busy = 0;
    for (int d = 0; d < t->devices; d++)
        for (int k = first_step; k < first_step + count; k++) {
            const pl_step_total *tot = kept(t, d, k);
            if (!tot)
                continue;
            if (tot->first_start < first)
                first = tot->first_start;
            if (tot->last_end > last)
                last = tot->last_end;
            out->busy[d] += tot->busy;
            busy += tot->busy;
        }
    if (first == INT64_MAX) {
        pl_metrics_free(out);
        return -1;
    }
    out->first_start = first;
    out->makespan = last - first;
    out->bubble = out->makespan > 0
        ? 1.0 - (double)busy / ((double)t->devices * (double)out->makespan)
        : 0.0;
    return 0;
}

void pl_metrics_free(pl_metrics *m)
{
    free(m->busy);
    m->busy = NULL;
}

/* Step 0's totals of device d: in the window while it is there, saved for
 * good once the window slides past it. */
static const pl_step_total *step_zero(const pl_trace *t, int d)
{
    const pl_lane *l = &t->lanes[d];
    return l->first_kept == 0 ? &l->totals[0] : &l->first;
}

/* The end of step k -- its last action's end over every device -- for the
 * first step (kept for good) and the kept ones. */
static int64_t step_end(const pl_trace *t, int k)
{
    int64_t end = INT64_MIN;
    for (int d = 0; d < t->devices; d++) {
        const pl_step_total *tot = k == 0 ? step_zero(t, d) : kept(t, d, k);
        if (tot && tot->last_end > end)
            end = tot->last_end;
    }
    return end;
}

int pl_trace_period(const pl_trace *t, double *period, double *bubble)
{
    int n = t->steps;
    if (n < 2)
        return -1;
    int64_t window = step_end(t, n - 1) - step_end(t, 0), busy = 0;
    for (int d = 0; d < t->devices; d++) /* every step's but the first */
        busy += t->lanes[d].busy - step_zero(t, d)->busy;
    *period = (double)window / (n - 1);
    *bubble = window > 0 ? 1.0 - (double)busy / ((double)t->devices * (double)window) : 0.0;
    return 0;
}

long pl_trace_messages(const pl_trace *t, int step)
{
    int p = t->info.devices, last = p * t->info.chunks - 1;
    long n = 0;
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; t->lanes[d].events && i < t->lanes[d].len; i++) {
            const pl_event *e = &t->lanes[d].events[i];
            int to = e->kind == PL_F && e->stage < last ? e->stage + 1
                   : pl_action_is_backward((pl_kind)e->kind) && e->stage > 0 ? e->stage - 1
                   : -1;
            int peer, chunk;
            if (e->step != step || to < 0)
                continue;
            pl_route_home(t->info.placement, p, to, &peer, &chunk);
            n += peer != e->device; /* a hand-off to itself crosses no link */
        }
    return n;
}

int64_t pl_trace_bytes_sent(const pl_trace *t, int d, int step)
{
    const pl_step_total *tot = kept(t, d, step);
    return tot ? tot->bytes_sent : 0;
}

int pl_trace_has_transfers(const pl_trace *t, int step)
{
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].nsends; i++)
            if (t->lanes[d].sends[i].step == step &&
                t->lanes[d].sends[i].end > t->lanes[d].sends[i].start)
                return 1;
    return 0;
}

/* 1 if the two lanes sent the same messages. */
static int same_sends(const pl_lane *x, const pl_lane *y)
{
    if (x->nsends != y->nsends)
        return 0;
    for (long i = 0; i < x->nsends; i++) {
        const pl_transfer *a = &x->sends[i], *b = &y->sends[i];
        if (a->start != b->start || a->end != b->end || a->bytes != b->bytes ||
            a->mb != b->mb || a->from != b->from || a->to != b->to || a->stage != b->stage ||
            a->step != b->step || a->flow != b->flow || a->chunk != b->chunk)
            return 0;
    }
    return 1;
}

int pl_trace_equal(const pl_trace *a, const pl_trace *b)
{
    if (a->devices != b->devices)
        return 0;
    for (int d = 0; d < a->devices; d++) {
        const pl_lane *x = &a->lanes[d], *y = &b->lanes[d];
        if (x->len != y->len || !x->events != !y->events ||
            x->peak_bytes != y->peak_bytes || x->peak_inflight != y->peak_inflight ||
            x->peak_held != y->peak_held || !same_sends(x, y))
            return 0;
        for (long i = 0; x->events && i < x->len; i++) {
            const pl_event *e = &x->events[i], *f = &y->events[i];
            if (e->start != f->start || e->end != f->end || e->held != f->held ||
                e->in_transit != f->in_transit ||
                e->mb != f->mb || e->device != f->device || e->stage != f->stage ||
                e->step != f->step || e->inflight != f->inflight || e->kind != f->kind ||
                e->chunk != f->chunk)
                return 0;
        }
    }
    return 1;
}
