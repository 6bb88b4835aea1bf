/*
 * schedule.c -- schedules as data (chapter 01).
 *
 * A schedule is nothing but one growable list of actions per device. Who sends
 * what to whom is not stored: it follows from the placement (route.h). The
 * text format lives in schedule_text.c, the registry of named schedules in
 * registry.c.
 */
#include "schedule.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl_schedule_init(pl_schedule *s, int devices, int microbatches, int chunks)
{
    *s = (pl_schedule){0};
    if (devices < 1 || microbatches < 1 || chunks < 1)
        return -1;
    s->len = calloc((size_t)devices, sizeof *s->len);
    s->cap = calloc((size_t)devices, sizeof *s->cap);
    s->actions = calloc((size_t)devices, sizeof *s->actions);
    if (!s->len || !s->cap || !s->actions) {
        pl_schedule_free(s);
        return -1;
    }
    s->devices = devices;
    s->microbatches = microbatches;
    s->chunks = chunks;
    s->placement = PL_PLACE_LOOP;
    return 0;
}

void pl_schedule_free(pl_schedule *s)
{
    for (int d = 0; s->actions && d < s->devices; d++)
        free(s->actions[d]);
    free(s->actions);
    free(s->len);
    free(s->cap);
    *s = (pl_schedule){0};
}

int pl_schedule_push(pl_schedule *s, int device, pl_kind kind, int mb, int chunk)
{
    if (device < 0 || device >= s->devices)
        return -1;
    if (s->len[device] == s->cap[device]) {
        if (s->cap[device] > INT_MAX / 2)
            return -1;
        int cap = s->cap[device] ? 2 * s->cap[device] : 16;
        pl_action *grown = realloc(s->actions[device], (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        s->actions[device] = grown;
        s->cap[device] = cap;
    }
    s->actions[device][s->len[device]++] = (pl_action){kind, mb, chunk};
    return 0;
}

int pl_schedule_keep(pl_schedule *s, int device, pl_action a)
{
    return a.mb < s->microbatches ? pl_schedule_push(s, device, a.kind, a.mb, a.chunk) : 0;
}

long pl_schedule_total(const pl_schedule *s)
{
    long n = 0;
    for (int d = 0; d < s->devices; d++)
        n += s->len[d];
    return n;
}

char *pl_schedule_format(const pl_schedule *s, pl_action a, char *buf, size_t n)
{
    return pl_action_format(a, s ? s->chunks : 1, buf, n);
}

int pl_schedule_begin(pl_schedule *s, const char *name, const pl_shape *shape, int chunks,
                      char *err, size_t errlen)
{
    *s = (pl_schedule){0};
    if (chunks && shape->chunks != chunks) {
        snprintf(err, errlen, "%s runs %d chunk%s per device (got %d)", name, chunks,
                 chunks == 1 ? "" : "s", shape->chunks);
        return -1;
    }
    if (shape->devices < 1 || shape->microbatches < 1 || shape->chunks < 1) {
        snprintf(err, errlen, "%s needs devices, microbatches and chunks >= 1 "
                 "(got %d, %d and %d)", name, shape->devices, shape->microbatches,
                 shape->chunks);
        return -1;
    }
    if (pl_schedule_init(s, shape->devices, shape->microbatches, shape->chunks) != 0) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    return 0;
}

int pl_schedule_end(pl_schedule *s, const char *name, int failed, char *err, size_t errlen)
{
    if (!failed)
        return 0;
    pl_schedule_free(s);
    snprintf(err, errlen, "%s: out of memory", name);
    return -1;
}
