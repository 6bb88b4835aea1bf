/*
 * mailbox.c -- one inbox per device: a mutex, a condition variable, and a
 * queue per message it can receive in a step.
 *
 * The receiver says which slot it sleeps on, and a sender signals only when
 * it fills that slot. A device in a 1F1B pipeline, waiting for a gradient,
 * is sent the next activation meanwhile; waking it for that would cost a
 * context switch and achieve nothing -- with 64 device threads on 2 cores,
 * such wake-ups once cost as much as the work. A receiver may also poll for
 * a few microseconds first (spin_ns): worth it only when there is a core
 * for every device, so the sender is running while the receiver polls.
 * It never yields the core in between: with more devices than cores,
 * yielding to the next poller is how a storm of context switches starts.
 */
#include "mailbox.h"

#include <stdlib.h>

#include "clock.h"

int pl_mailbox_init(pl_mailbox *b, int nslots)
{
    b->slots = calloc((size_t)nslots, sizeof *b->slots);
    if (!b->slots)
        return -1;
    b->nslots = nslots;
    b->waiting = -1;
    b->spin_ns = 0;
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
    int wake = b->waiting == slot; /* only the owner sleeps here, and only on one slot */
    pthread_mutex_unlock(&b->mu);
    /* Signalled after the unlock, so that the receiver, woken, does not
     * find the lock still held and go back to sleep on it. */
    if (wake)
        pthread_cond_signal(&b->cv);
    return 0;
}

/* Poll `slot` for up to b->spin_ns: 1 if a message (or a stop) came. */
static int poll(const pl_mailbox *b, const pl_mailbox_slot *q, const atomic_int *stop)
{
    if (b->spin_ns <= 0)
        return 0;
    int64_t until = pl_clock_host_ns() + b->spin_ns;
    while (!atomic_load(&q->queued) && !atomic_load(stop))
        if (pl_clock_host_ns() > until)
            return 0;
    return 1;
}

int pl_mailbox_take(pl_mailbox *b, int slot, const atomic_int *stop, pl_message *out)
{
    pl_mailbox_slot *q = &b->slots[slot];
    poll(b, q, stop);
    pthread_mutex_lock(&b->mu);
    /* The stop flag is read under the lock, and pl_mailbox_wake broadcasts
     * under it, so a stop can never slip in between the check and the wait. */
    while (!atomic_load(&q->queued) && !atomic_load(stop)) {
        b->waiting = slot;
        pthread_cond_wait(&b->cv, &b->mu);
    }
    b->waiting = -1;
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
