/*
 * mailbox.c -- one inbox per device: a mutex, a condition variable, and a
 * queue per message it can receive in a step.
 */
#include "mailbox.h"

#include <sched.h>
#include <stdlib.h>

/* How many times a receiver polls its slot, yielding the core in between,
 * before it goes to sleep on the condition variable. A message that arrives
 * within a few microseconds -- the common case in a busy pipeline -- is then
 * taken without paying for a futex wake-up (tens of microseconds when the
 * receiving core was idle). */
enum { SPINS = 64 };

int pl_mailbox_init(pl_mailbox *b, int nslots)
{
    b->slots = calloc((size_t)nslots, sizeof *b->slots);
    if (!b->slots)
        return -1;
    b->nslots = nslots;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    return 0;
}

void pl_mailbox_destroy(pl_mailbox *b)
{
    if (!b->slots)
        return;
    for (int i = 0; i < b->nslots; i++)
        while (b->slots[i].head) {
            pl_message *m = b->slots[i].head;
            b->slots[i].head = m->next;
            pl_tensor_free(&m->t);
            free(m);
        }
    free(b->slots);
    b->slots = NULL;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

int pl_mailbox_put(pl_mailbox *b, int slot, int step, int64_t time, pl_tensor t)
{
    pl_message *m = malloc(sizeof *m);
    if (!m)
        return -1;
    *m = (pl_message){time, step, t, NULL};
    pthread_mutex_lock(&b->mu);
    pl_mailbox_slot *q = &b->slots[slot];
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    atomic_fetch_add(&q->queued, 1);
    /* Broadcast, not signal: only the owner waits, but a stop may also be
     * waking it; a broadcast never loses either reason. */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

int pl_mailbox_take(pl_mailbox *b, int slot, const atomic_int *stop, pl_message *out)
{
    pl_mailbox_slot *q = &b->slots[slot];
    for (int i = 0; i < SPINS && !atomic_load(&q->queued) && !atomic_load(stop); i++)
        sched_yield();
    pthread_mutex_lock(&b->mu);
    /* The stop flag is read under the lock, and pl_mailbox_wake broadcasts
     * under it, so a stop can never slip in between the check and the wait. */
    while (!atomic_load(&q->queued) && !atomic_load(stop))
        pthread_cond_wait(&b->cv, &b->mu);
    pl_message *m = atomic_load(&q->queued) ? q->head : NULL;
    if (m) {
        q->head = m->next;
        if (!q->head)
            q->tail = NULL;
        atomic_fetch_sub(&q->queued, 1);
    }
    pthread_mutex_unlock(&b->mu);
    if (!m)
        return -1;
    *out = *m;
    out->next = NULL;
    free(m);
    return 0;
}

void pl_mailbox_wake(pl_mailbox *b)
{
    pthread_mutex_lock(&b->mu);
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}
