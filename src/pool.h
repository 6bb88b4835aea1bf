/**
 * @file pool.h
 * @brief Spare tensor buffers (and stash arrays), kept for the next micro-batch.
 *
 * A stash (stage.h) is filled by a forward and emptied by its backward,
 * micro-batch after micro-batch and step after step: the same few sizes
 * over and over. Asking malloc for them each time costs page faults once
 * they are large, because glibc hands big blocks back to the kernel as soon
 * as they are freed and the next forward faults them in again -- about a
 * seventh of a training step at width 512 (issue 14). A pool keeps what a
 * stash gives back and hands it to the next stash asking for that size. It
 * holds no more than its owner once held at the same time, so a run's
 * memory stays what its schedule needs (chapter 04: 1F1B keeps fewer
 * micro-batches than GPipe, and so does its pool).
 *
 * The buffers a pool hands out are not cleared: every stash tensor is
 * written in full before it is read. Nothing is rounded differently, so
 * weights stay bitwise equal whether a pool is used or not.
 *
 * Invariant: one thread owns a pool (a device, or the reference).
 */
#ifndef PL_POOL_H
#define PL_POOL_H

#include <stddef.h>

#include "tensor.h"

/** Spare blocks of one size. */
typedef struct {
    size_t bytes;   /**< the size of every block here */
    void **spare;   /**< the blocks, last given back on top */
    int n;          /**< how many */
    int cap;        /**< allocated */
} pl_pool_size;

/** A thread's spare blocks, by size. A zeroed pool is empty and ready. */
typedef struct {
    pl_pool_size *sizes; /**< one entry per size seen */
    int n;               /**< sizes seen */
    int cap;             /**< allocated */
} pl_pool;

/**
 * A block of `bytes`, from p's spares if it has one of that size, else
 * newly allocated (p may be NULL); its contents are unspecified. NULL on
 * allocation failure. A stash keeps its tensor arrays in one (stage.c).
 */
void *pl_pool_take_block(pl_pool *p, size_t bytes);

/**
 * Give a block of `bytes` from pl_pool_take_block to p for a later take
 * (with p == NULL, or if p cannot grow, it is freed). Safe on NULL.
 */
void pl_pool_give_block(pl_pool *p, void *block, size_t bytes);

/**
 * A rows x cols tensor, from p's spare blocks if it has one of that size,
 * else newly allocated; its contents are unspecified. With p == NULL,
 * exactly pl_tensor_new (zero-filled). data == NULL on allocation failure.
 */
pl_tensor pl_pool_take(pl_pool *p, int rows, int cols);

/**
 * Give t's buffer to p for a later pl_pool_take (with p == NULL, or if p
 * cannot grow, it is freed); t is left empty. Safe on an empty tensor.
 */
void pl_pool_give(pl_pool *p, pl_tensor *t);

/** Free every spare block; p is left empty. */
void pl_pool_free(pl_pool *p);

#endif
