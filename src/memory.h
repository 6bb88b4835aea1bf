/**
 * @file memory.h
 * @brief The one accounting rule for what a device holds between actions.
 *
 * Chapters 02-04 measure memory two ways, and this module is the only place
 * either is defined; the validator, the simulator, the runtime and the
 * renderers all ask it:
 *
 *  - in flight: micro-batches whose forward ran on the device and whose
 *    activations are still held. F adds one; B, or W when the backward is
 *    split, frees it; I and the recomputed forward R leave it.
 *  - held bytes: the stash's tensors. F stashes the stage input and every
 *    layer output (only the input under recomputation); R rebuilds the rest,
 *    held until the backward; I adds the gradients W needs; B and W free the
 *    whole stash.
 *
 * Invariant: summed over a device's actions of one step, both deltas are 0.
 */
#ifndef PL_MEMORY_H
#define PL_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "model.h"

/** The change in micro-batches in flight when an action of `kind` runs. */
static inline int pl_memory_inflight_delta(pl_kind kind)
{
    return kind == PL_F ? 1 : kind == PL_B || kind == PL_W ? -1 : 0;
}

/**
 * The change in stash bytes when an action of `kind` runs on a micro-batch
 * of `rows` rows of the stage holding layers [first, first+count) of m;
 * `recompute` is 1 under --recompute. The runtime's measured bytes agree
 * (tests check).
 */
int64_t pl_memory_stash_delta(const pl_model *m, int first, int count, int rows,
                              pl_kind kind, int recompute);

/**
 * Check that device d, holding `held` activation bytes, may grow its stash by
 * `need` bytes for `action` (its name, e.g. "F5") within `cap` bytes (0: no
 * limit). Returns 0, or -1 with "d1 out of memory at F5: needs N bytes of
 * activations, M available of C" in err.
 */
int pl_memory_check(size_t cap, int d, const char *action, size_t held, size_t need,
                    char *err, size_t errlen);

#endif
