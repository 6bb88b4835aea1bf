/**
 * @file mailbox.h
 * @brief How device threads hand each other activations and gradients.
 *
 * Each device has one mailbox with a slot for every message it can receive
 * in a step: the activation of (micro-batch, chunk) from the previous stage
 * and the gradient from the next. A slot is a queue: without a barrier
 * between steps (chapter 06) the message of step k+1 may arrive before the
 * receiver took the one of step k. Senders never block, so only receivers
 * wait -- which is exactly the model the validator's dry run assumes
 * (chapter 01).
 *
 * Invariant: one sender fills a slot, in step order, and one receiver takes
 * from it in the same order.
 */
#ifndef PL_MAILBOX_H
#define PL_MAILBOX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "fiber.h"
#include "tensor.h"

/** A message: a tensor, the (clock) time it left its sender, and its step. */
typedef struct pl_message {
    int64_t time;            /**< when it left the sender (+ link delay), ns */
    int step;                /**< the training step it belongs to */
    pl_tensor t;             /**< the activation or gradient, (rows, width) */
    struct pl_message *next; /**< the next message queued in the same slot */
} pl_message;

/** Messages waiting for one (flow, chunk, micro-batch), oldest first. */
typedef struct {
    pl_message *head;  /**< the next to take, or NULL */
    pl_message *tail;  /**< the last put, or NULL */
    atomic_int queued; /**< messages waiting (read without the lock to spin) */
} pl_mailbox_slot;

/**
 * How long a receiver polls before it sleeps when there is a core for every
 * device (the threads transport sets spin_ns to it then): a message due
 * within this long is taken without a wake-up, which on a virtual machine
 * costs tens of microseconds.
 */
#define PL_MAILBOX_POLL_NS 20000

/** One device's inbox. */
typedef struct {
    pthread_mutex_t mu;      /**< guards the slots and `waiting` */
    pl_cond cv;              /**< signalled when the message its owner waits for arrives */
    int waiting;             /**< the slot its owner sleeps on, -1 if it does not */
    int64_t spin_ns;         /**< how long a receiver polls before it sleeps (0 by default) */
    int nslots;              /**< one slot per message the device can receive in a step */
    pl_mailbox_slot *slots;  /**< nslots queues */
    pl_message *spare;       /**< messages taken, kept for the next put (under mu) */
} pl_mailbox;

/**
 * Create a mailbox with nslots slots, whose receiver sleeps as soon as its
 * slot is empty (set spin_ns to have it poll first). Returns 0 or -1.
 */
int pl_mailbox_init(pl_mailbox *b, int nslots);

/** Destroy the mailbox, freeing any messages still waiting in it. */
void pl_mailbox_destroy(pl_mailbox *b);

/**
 * Queue a message of `step` at the end of `slot` (the mailbox takes
 * ownership of t) and wake the receiver. Returns 0, or -1 if out of host
 * memory (t is then still the caller's).
 */
int pl_mailbox_put(pl_mailbox *b, int slot, int step, int64_t time, pl_tensor t);

/**
 * Wait until `slot` holds a message or *stop is set: poll for up to
 * b->spin_ns, then sleep. On a message, moves the oldest into *out (the
 * caller now owns out->t) and returns 0; if stopped, returns -1.
 */
int pl_mailbox_take(pl_mailbox *b, int slot, const atomic_int *stop, pl_message *out);

/** Wake every waiter so it can notice a stop flag. */
void pl_mailbox_wake(pl_mailbox *b);

#endif
