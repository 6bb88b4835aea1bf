/**
 * @file data.h
 * @brief Deterministic synthetic data and the split into micro-batches.
 *
 * Inputs are uniform random numbers from a seeded generator; targets come
 * from a fixed random "teacher" network, so there is something to learn and
 * the loss falls (chapter 00). Micro-batches are contiguous row ranges whose
 * sizes differ by at most one (chapter 02).
 *
 * Invariant: the same (seed, step, batch, width) always gives the same bits.
 */
#ifndef PL_DATA_H
#define PL_DATA_H

#include <stdint.h>

#include "tensor.h"

/** One training batch: inputs x (batch, width) and targets y (batch, width). */
typedef struct {
    pl_tensor x; /**< inputs (batch, width) */
    pl_tensor y; /**< targets (batch, width) */
} pl_batch;

/**
 * Fill `out` with the batch for training step `step`: inputs drawn from
 * (seed, step), targets from the teacher network fixed by `seed`.
 * Returns 0, or -1 on bad sizes or allocation failure.
 */
int pl_data_batch(pl_batch *out, uint64_t seed, int step, int batch, int width);

/** Free a batch. */
void pl_data_batch_free(pl_batch *b);

/**
 * Rows [start, start+rows) of micro-batch j when `batch` rows are split into
 * m micro-batches: the first (batch mod m) get one row more.
 * Requires 1 <= m <= batch and 0 <= j < m.
 */
void pl_data_microbatch_range(int batch, int m, int j, int *start, int *rows);

#endif
