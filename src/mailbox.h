/**
 * @file mailbox.h
 * @brief How device threads hand each other activations and gradients.
 *
 * Each device has one mailbox with a slot for every message it can receive
 * in a step: the activation of (micro-batch, chunk) from the previous stage
 * and the gradient from the next. Senders never block (slots are unbounded
 * buffering in effect: one per message), so only receivers wait -- which is
 * exactly the model the validator's dry run assumes (chapter 01).
 *
 * Invariant: each slot is filled at most once and taken at most once per step.
 */
#ifndef PL_MAILBOX_H
#define PL_MAILBOX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "tensor.h"

/** A message: a tensor and the (clock) time it left its sender. */
typedef struct {
    int64_t time;    /**< when it left the sender (+ link delay), ns */
    pl_tensor t;     /**< the activation or gradient, (rows, width) */
    atomic_int full; /**< 1 while the message waits in its slot */
} pl_message;

/** One device's inbox. */
typedef struct {
    pthread_mutex_t mu;  /**< guards the slots */
    pthread_cond_t cv;   /**< signalled when a message arrives */
    int nslots;          /**< one slot per message the device can receive */
    pl_message *slots;   /**< nslots messages */
} pl_mailbox;

/** Create a mailbox with nslots slots. Returns 0 or -1. */
int pl_mailbox_init(pl_mailbox *b, int nslots);

/** Destroy the mailbox, freeing any tensors still waiting in it. */
void pl_mailbox_destroy(pl_mailbox *b);

/**
 * Deliver a message (the mailbox takes ownership of msg.t) and wake the
 * receiver. Returns 0, or -1 if the slot is already full (a schedule bug).
 */
int pl_mailbox_put(pl_mailbox *b, int slot, int64_t time, pl_tensor t);

/**
 * Wait until `slot` is full or *stop is set. On a message, moves it into *out
 * (the caller now owns out->t) and returns 0; if stopped, returns -1.
 */
int pl_mailbox_take(pl_mailbox *b, int slot, const atomic_int *stop, pl_message *out);

/** Wake every waiter so it can notice a stop flag. */
void pl_mailbox_wake(pl_mailbox *b);

#endif
