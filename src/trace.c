/*
 * trace.c -- events, the metrics of DESIGN 2.2, and the terminal timeline.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

int pl_trace_init(pl_trace *t, int devices, int steps, int keep_events)
{
    memset(t, 0, sizeof *t);
    t->lanes = calloc((size_t)devices, sizeof *t->lanes);
    if (!t->lanes)
        return -1;
    t->devices = devices;
    t->steps = steps;
    t->keep_events = keep_events;
    for (int d = 0; d < devices; d++) {
        pl_step_total *tot = malloc((size_t)steps * sizeof *tot);
        if (!tot) {
            pl_trace_free(t);
            return -1;
        }
        for (int k = 0; k < steps; k++)
            tot[k] = (pl_step_total){INT64_MAX, INT64_MIN, 0};
        t->lanes[d].totals = tot;
    }
    return 0;
}

void pl_trace_free(pl_trace *t)
{
    for (int d = 0; t->lanes && d < t->devices; d++) {
        free(t->lanes[d].events);
        free(t->lanes[d].totals);
    }
    free(t->lanes);
    memset(t, 0, sizeof *t);
}

int pl_trace_reserve(pl_trace *t, int d, long n)
{
    pl_lane *l = &t->lanes[d];
    if (!t->keep_events || n <= l->cap)
        return 0;
    pl_event *ev = realloc(l->events, (size_t)n * sizeof *ev);
    if (!ev)
        return -1;
    l->events = ev;
    l->cap = n;
    return 0;
}

int pl_trace_add(pl_trace *t, const pl_event *e)
{
    pl_lane *l = &t->lanes[e->device];
    pl_step_total *tot = &l->totals[e->step];
    if (e->start < tot->first_start)
        tot->first_start = e->start;
    if (e->end > tot->last_end)
        tot->last_end = e->end;
    tot->busy += e->end - e->start;
    if (!t->keep_events) {
        l->len++;
        return 0;
    }
    if (l->len == l->cap && pl_trace_reserve(t, e->device, l->cap ? 2 * l->cap : 64))
        return -1;
    l->events[l->len++] = *e;
    return 0;
}

int pl_metrics_compute(const pl_trace *t, int step, pl_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (step < 0 || step >= t->steps)
        return -1;
    out->busy = calloc((size_t)t->devices, sizeof *out->busy);
    if (!out->busy)
        return -1;
    out->devices = t->devices;
    int64_t first = INT64_MAX, last = INT64_MIN, busy = 0;
    for (int d = 0; d < t->devices; d++) {
        const pl_step_total *tot = &t->lanes[d].totals[step];
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

int pl_trace_equal(const pl_trace *a, const pl_trace *b)
{
    if (a->devices != b->devices)
        return 0;
    for (int d = 0; d < a->devices; d++) {
        const pl_lane *x = &a->lanes[d], *y = &b->lanes[d];
        if (x->len != y->len || !x->events != !y->events)
            return 0;
        for (long i = 0; x->events && i < x->len; i++) {
            const pl_event *e = &x->events[i], *f = &y->events[i];
            if (e->start != f->start || e->end != f->end || e->mb != f->mb ||
                e->device != f->device || e->stage != f->stage ||
                e->step != f->step || e->kind != f->kind || e->chunk != f->chunk)
                return 0;
        }
    }
    return 1;
}

void pl_json_string(const char *s, FILE *out)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}
