/*
 * memory.c -- what a device holds: the stash rule and the budget check
 *
 * EXERCISE 03: the bytes F, R and B add to a device's stash (search for
 * TODO). `make exercise-ch03` grades this file.
 * (chapters 02-04).
 */
#include "memory.h"

#include <stdio.h>
#include <stdlib.h>

#include "stage.h"

/* The split backward of chapter 06: I keeps the stash and adds the
 * gradients W needs (input + 2 x outputs in all); W frees all of it. */
static int64_t split_delta(const pl_model *m, int first, int count, int rows, pl_kind kind)
{
    int64_t full = (int64_t)pl_stage_stash_bytes(m, first, count, rows, PL_F, 0);
    int64_t split = (int64_t)pl_stage_stash_bytes(m, first, count, rows, PL_I, 0);
    return kind == PL_I ? split - full : -split;
}

int64_t pl_memory_stash_delta(const pl_model *m, int first, int count, int rows,
                              pl_kind kind, int recompute)
{
    if (kind == PL_I || kind == PL_W)
        return split_delta(m, first, count, rows, kind);
    /* TODO(ch03): how many bytes the stash of one micro-batch of `rows` rows,
     * on the stage holding layers [first, first+count) of m, grows by when
     * an action of `kind` runs: F, R (the recomputed forward, which runs
     * just before a backward under --recompute) or B -- negative when it
     * shrinks. pl_stage_stash_bytes (stage.h) says what a stash holds. */
    (void)recompute;
    return 0;
}

int64_t pl_memory_message_bytes(const pl_model *m, int first, int count, int rows,
                                pl_flow flow)
{
    int width = flow == PL_ACTIVATION ? m->layers[first + count - 1].out : m->layers[first].in;
    return (int64_t)rows * width * (int64_t)sizeof(float);
}

const char *const pl_memory_components[5] = {"parameters", "gradients", "optimizer state",
                                              "activations", "in-flight messages"};

void pl_memory_add_stage(pl_memory_bill *b, const pl_model *m, int first, int count,
                         int momentum)
{
    for (int l = first; l < first + count; l++) {
        size_t bytes = pl_model_layer_bytes(&m->layers[l]);
        b->params += bytes;
        b->grads += bytes;
        b->optimizer += momentum ? bytes : 0;
    }
}

size_t pl_memory_total(const pl_memory_bill *b)
{
    return b->params + b->grads + b->optimizer + b->activations + b->messages;
}

int pl_memory_check(size_t cap, int d, const char *action, const char *what, size_t held,
                    size_t need, char *err, size_t errlen)
{
    if (cap == 0 || (held <= cap && need <= cap - held))
        return 0;
    char at[64] = "before its first action";
    if (action)
        snprintf(at, sizeof at, "at %s", action);
    snprintf(err, errlen, "d%d out of memory %s: needs %zu bytes of %s, %zu available of %zu",
             d, at, need, what, held < cap ? cap - held : 0, cap);
    return -1;
}

int pl_memory_check_static(size_t cap, int d, const pl_memory_bill *b, char *err,
                           size_t errlen)
{
    size_t part[3] = {b->params, b->grads, b->optimizer}, held = 0;
    for (int k = 0; k < 3; held += part[k++])
        if (pl_memory_check(cap, d, NULL, pl_memory_components[k], held, part[k], err, errlen))
            return -1;
    return 0;
}

int pl_memory_transit_add(pl_memory_transit *t, int64_t arrival, int64_t bytes)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 8;
        int64_t *a = realloc(t->arrival, (size_t)cap * sizeof *a);
        if (a)
            t->arrival = a;
        int64_t *b = a ? realloc(t->bytes, (size_t)cap * sizeof *b) : NULL;
        if (!b)
            return -1;
        t->bytes = b;
        t->cap = cap;
    }
    t->arrival[t->n] = arrival;
    t->bytes[t->n++] = bytes;
    return 0;
}

int64_t pl_memory_transit_at(pl_memory_transit *t, int64_t now)
{
    int64_t sum = 0;
    int kept = 0;
    for (int i = 0; i < t->n; i++)
        if (t->arrival[i] > now) {
            t->arrival[kept] = t->arrival[i];
            t->bytes[kept++] = t->bytes[i];
            sum += t->bytes[i];
        }
    t->n = kept;
    return sum;
}

void pl_memory_transit_free(pl_memory_transit *t)
{
    free(t->arrival);
    free(t->bytes);
    t->arrival = t->bytes = NULL;
    t->n = t->cap = 0;
}
