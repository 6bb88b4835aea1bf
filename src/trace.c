/*
 * trace.c -- events, the metrics of DESIGN 2.2, and the terminal timeline.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

int pl_trace_init(pl_trace *t, int devices, int steps)
{
    memset(t, 0, sizeof *t);
    t->lanes = calloc((size_t)devices, sizeof *t->lanes);
    if (!t->lanes)
        return -1;
    t->devices = devices;
    t->steps = steps;
    return 0;
}

void pl_trace_free(pl_trace *t)
{
    for (int d = 0; t->lanes && d < t->devices; d++)
        free(t->lanes[d].events);
    free(t->lanes);
    memset(t, 0, sizeof *t);
}

int pl_trace_add(pl_trace *t, const pl_event *e)
{
    pl_lane *l = &t->lanes[e->device];
    if (l->len == l->cap) {
        long cap = l->cap ? 2 * l->cap : 64;
        pl_event *ev = realloc(l->events, (size_t)cap * sizeof *ev);
        if (!ev)
            return -1;
        l->events = ev;
        l->cap = cap;
    }
    l->events[l->len++] = *e;
    return 0;
}

/* The events of one step form one contiguous run in each lane, because each
 * device finishes a step before it starts the next. */
static void step_range(const pl_lane *l, int step, long *lo, long *hi)
{
    long i = 0;
    while (i < l->len && l->events[i].step < step)
        i++;
    *lo = i;
    while (i < l->len && l->events[i].step == step)
        i++;
    *hi = i;
}

int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->busy = calloc((size_t)t->devices, sizeof *out->busy);
    if (!out->busy)
        return -1;
    out->devices = t->devices;
    int64_t first = INT64_MAX, last = INT64_MIN, busy = 0;
    for (int d = 0; d < t->devices; d++) {
        long lo, hi;
        step_range(&t->lanes[d], step, &lo, &hi);
        for (long i = lo; i < hi; i++) {
            const pl_event *e = &t->lanes[d].events[i];
            if (e->start < first)
                first = e->start;
            if (e->end > last)
                last = e->end;
            out->busy[d] += e->end - e->start;
        }
        busy += out->busy[d];
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

int pl_trace_equal(const pl_trace *a, const pl_trace *b)
{
    if (a->devices != b->devices)
        return 0;
    for (int d = 0; d < a->devices; d++) {
        const pl_lane *x = &a->lanes[d], *y = &b->lanes[d];
        if (x->len != y->len)
            return 0;
        for (long i = 0; i < x->len; i++) {
            const pl_event *e = &x->events[i], *f = &y->events[i];
            if (e->start != f->start || e->end != f->end || e->mb != f->mb ||
                e->device != f->device || e->stage != f->stage ||
                e->step != f->step || e->kind != f->kind || e->chunk != f->chunk)
                return 0;
        }
    }
    return 1;
}
