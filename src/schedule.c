/*
 * schedule.c -- schedules as data (chapter 01), and the registry of the
 * built-in generators.
 *
 * A schedule is nothing but one growable list of actions per device. Who sends
 * what to whom is not stored: it follows from the stage numbering (stage =
 * chunk * p + device), so pl_action_source and pl_action_dest compute it.
 * The text format lives in schedule_text.c.
 */
#include "schedule.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the data ---- */

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

long pl_schedule_total(const pl_schedule *s)
{
    long n = 0;
    for (int d = 0; d < s->devices; d++)
        n += s->len[d];
    return n;
}

char pl_kind_letter(pl_kind k)
{
    return (unsigned)k <= PL_W ? "FBIW"[k] : '?';
}

char *pl_action_format(const pl_schedule *s, pl_action a, char *buf, size_t n)
{
    int chunked = (s && s->chunks > 1) || a.chunk != 0; /* shows a stray chunk too */
    if (chunked)
        snprintf(buf, n, "%c%d.%d", pl_kind_letter(a.kind), a.mb, a.chunk);
    else
        snprintf(buf, n, "%c%d", pl_kind_letter(a.kind), a.mb);
    return buf;
}

/* ---- who talks to whom ---- */

// [region action-source]
/* The device and action of stage `stage` working on micro-batch mb. */
static int at_stage(const pl_schedule *s, int stage, pl_kind kind, int mb,
                    int *device, pl_action *a)
{
    *device = stage % s->devices;
    *a = (pl_action){kind, mb, stage / s->devices};
    return 1;
}

int pl_action_source(const pl_schedule *s, int device, pl_action a,
                     int *src_device, pl_action *src)
{
    int stage = pl_stage_of(s, device, a.chunk), last = pl_schedule_stages(s) - 1;
    if (a.kind == PL_F && stage > 0)
        return at_stage(s, stage - 1, PL_F, a.mb, src_device, src);
    if ((a.kind == PL_B || a.kind == PL_I) && stage < last)
        return at_stage(s, stage + 1, PL_I, a.mb, src_device, src);
    return 0;
}
// [endregion action-source]

int pl_action_dest(const pl_schedule *s, int device, pl_action a,
                   int *dst_device, pl_action *dst)
{
    int stage = pl_stage_of(s, device, a.chunk), last = pl_schedule_stages(s) - 1;
    if (a.kind == PL_F && stage < last)
        return at_stage(s, stage + 1, PL_F, a.mb, dst_device, dst);
    if ((a.kind == PL_B || a.kind == PL_I) && stage > 0)
        return at_stage(s, stage - 1, PL_I, a.mb, dst_device, dst);
    return 0;
}

/* ---- the built-in schedules ---- */

int pl_schedule_begin(pl_schedule *s, const char *name, int devices, int microbatches,
                      int chunks, char *err, size_t errlen)
{
    *s = (pl_schedule){0};
    if (devices < 1 || microbatches < 1) {
        snprintf(err, errlen, "%s needs devices >= 1 and microbatches >= 1 (got %d and %d)",
                 name, devices, microbatches);
        return -1;
    }
    if (pl_schedule_init(s, devices, microbatches, chunks) != 0) {
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

static const pl_schedule_info builtins[] = {
    {"naive", pl_schedule_naive, 1, 1},
    {"microbatch", pl_schedule_microbatch, 2, 0},
    {"gpipe", pl_schedule_gpipe, 3, 0},
    {"1f1b", pl_schedule_1f1b, 4, 0},
};

const pl_schedule_info *pl_schedules(int *count)
{
    *count = (int)(sizeof builtins / sizeof builtins[0]);
    return builtins;
}

const pl_schedule_info *pl_schedule_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

double pl_bubble_theory(const char *name, int p, int m, int v)
{
    const pl_schedule_info *info = pl_schedule_find(name);
    (void)v; /* no built-in schedule of chapters 01-04 has chunks */
    if (!info || p < 1 || m < 1)
        return -1.0;
    if (info->chapter <= 2)                 /* one micro-batch in flight */
        return (double)(p - 1) / p;
    return (double)(p - 1) / (m + p - 1);   /* fill and drain once */
}
