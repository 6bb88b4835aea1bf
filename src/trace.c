/*
 * trace.c -- lanes of events, and the metrics of docs/design.md.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

static void clear_total(pl_step_total *tot, int step)
{
    *tot = (pl_step_total){step, INT64_MAX, INT64_MIN, 0};
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
    l->steps = steps;
    l->keep_events = keep_events;
    return 0;
}

void pl_lane_free(pl_lane *l)
{
    free(l->events);
    free(l->totals);
    memset(l, 0, sizeof *l);
}

int pl_lane_reserve(pl_lane *l, long n)
{
    if (!l->keep_events || n <= l->cap)
        return 0;
    pl_event *ev = realloc(l->events, (size_t)n * sizeof *ev);
    if (!ev)
        return -1;
    l->events = ev;
    l->cap = n;
    return 0;
}

/* Make `step` the newest kept step: forget the events and totals of the
 * steps that fall out of the window. Events are in step order, so the ones
 * kept are a suffix; moving them down keeps the buffer from growing. */
static void slide(pl_lane *l, int step)
{
    int first = step - l->kept + 1;
    for (int k = l->first_kept; k < first; k++)
        clear_total(&l->totals[(k + l->kept) % l->kept], k + l->kept);
    long drop = 0;
    while (drop < l->len && l->events[drop].step < first)
        drop++;
    memmove(l->events, l->events + drop, (size_t)(l->len - drop) * sizeof *l->events);
    l->len -= drop;
    l->first_kept = first;
}

int pl_lane_add(pl_lane *l, const pl_event *e)
{
    if (e->step < l->first_kept || e->step >= l->steps)
        return -1;
    if (e->step >= l->first_kept + l->kept)
        slide(l, e->step);
    pl_step_total *tot = &l->totals[e->step % l->kept];
    if (e->start < tot->first_start)
        tot->first_start = e->start;
    if (e->end > tot->last_end)
        tot->last_end = e->end;
    tot->busy += e->end - e->start;
    if (e->inflight > l->peak_inflight)
        l->peak_inflight = e->inflight;
    if ((size_t)e->held > l->peak_bytes)
        l->peak_bytes = (size_t)e->held;
    if (!l->keep_events)
        return 0;
    if (l->len == l->cap && pl_lane_reserve(l, l->cap ? 2 * l->cap : 64))
        return -1;
    l->events[l->len++] = *e;
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

int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (step < pl_trace_first_kept(t) || step >= t->steps)
        return -1;
    out->busy = calloc((size_t)t->devices, sizeof *out->busy);
    if (!out->busy)
        return -1;
    out->devices = t->devices;
    int64_t first = INT64_MAX, last = INT64_MIN, busy = 0;
    for (int d = 0; d < t->devices; d++) {
        const pl_lane *l = &t->lanes[d];
        const pl_step_total *tot = &l->totals[step % l->kept];
        if (tot->step != step) /* a lane that has not reached it */
            continue;
        if (tot->first_start < first)
            first = tot->first_start;
        if (tot->last_end > last)
            last = tot->last_end;
        out->busy[d] = tot->busy;
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

int pl_trace_equal(const pl_trace *a, const pl_trace *b)
{
    if (a->devices != b->devices)
        return 0;
    for (int d = 0; d < a->devices; d++) {
        const pl_lane *x = &a->lanes[d], *y = &b->lanes[d];
        if (x->len != y->len || !x->events != !y->events ||
            x->peak_bytes != y->peak_bytes || x->peak_inflight != y->peak_inflight)
            return 0;
        for (long i = 0; x->events && i < x->len; i++) {
            const pl_event *e = &x->events[i], *f = &y->events[i];
            if (e->start != f->start || e->end != f->end || e->held != f->held ||
                e->mb != f->mb || e->device != f->device || e->stage != f->stage ||
                e->step != f->step || e->inflight != f->inflight || e->kind != f->kind ||
                e->chunk != f->chunk)
                return 0;
        }
    }
    return 1;
}
