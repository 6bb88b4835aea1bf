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
    b->spare = NULL;
    pthread_mutex_init(&b->mu, NULL);
    pl_cond_init(&b->cv);
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
    while (b->spare) {
        pl_message *m = b->spare;
        b->spare = m->next;
        free(m);
    }
    free(b->slots);
    b->slots = NULL;
    pthread_mutex_destroy(&b->mu);
    pl_cond_destroy(&b->cv);
}

/* Add d to a slot's count. It changes only under the lock, so a load and a
 * store will do (no locked add); a poller reads it without the lock, only
 * to decide when to take the lock. */
static void count(pl_mailbox_slot *q, int d)
{
    int n = atomic_load_explicit(&q->queued, memory_order_relaxed);
    atomic_store_explicit(&q->queued, n + d, memory_order_relaxed);
}

int pl_mailbox_put(pl_mailbox *b, int slot, int step, int64_t time, pl_tensor t)
{
    pthread_mutex_lock(&b->mu);
    /* A message taken is kept for the next put: a mailbox holds at most as
     * many as the pipeline keeps in flight to it, allocated once. */
    pl_message *m = b->spare;
    if (m)
        b->spare = m->next;
    else if (!(m = malloc(sizeof *m))) {
        pthread_mutex_unlock(&b->mu);
        return -1;
    }
    *m = (pl_message){time, step, t, NULL};
    pl_mailbox_slot *q = &b->slots[slot];
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    count(q, 1);
    /* Only the owner sleeps here, and only on one slot. */
    pl_wakeup owner = b->waiting == slot ? pl_cond_take(&b->cv, 0) : (pl_wakeup){0};
    pthread_mutex_unlock(&b->mu);
    /* Woken after the unlock, so that the receiver, woken, does not find
     * the lock still held and go back to sleep on it. */
    pl_cond_wake(owner);
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
        pl_cond_wait(&b->cv, &b->mu);
    }
    b->waiting = -1;
    pl_message *m = atomic_load(&q->queued) ? q->head : NULL;
    if (m) {
        q->head = m->next;
        if (!q->head)
            q->tail = NULL;
        count(q, -1);
        *out = *m;
        out->next = NULL;
        m->next = b->spare;
        b->spare = m;
    }
    pthread_mutex_unlock(&b->mu);
    return m ? 0 : -1;
}

void pl_mailbox_wake(pl_mailbox *b)
{
    pthread_mutex_lock(&b->mu);
    pl_wakeup all = pl_cond_take(&b->cv, 1);
    pthread_mutex_unlock(&b->mu);
    pl_cond_wake(all);
}
