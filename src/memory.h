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
 * Chapter 07 adds the rest of a device's bill: its stages' parameters,
 * their gradients and the optimizer's state (momentum: one more copy), held
 * for the whole run, and the messages it has sent that are still on a link
 * (a non-blocking send keeps its buffer until the transfer ends). A device's
 * total is the sum of all five, and --device-memory caps the total.
 *
 * Invariant: summed over a device's actions of one step, both deltas are 0.
 */
#ifndef PL_MEMORY_H
#define PL_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "model.h"
#include "route.h"

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
 * Bytes of the message a stage holding layers [first, first+count) of m sends
 * for a micro-batch of `rows` rows: its output (flow PL_ACTIVATION, rows x
 * the last layer's width) or its input gradient (PL_GRADIENT, rows x the
 * first layer's input width). The runtime sends tensors of exactly this size.
 */
int64_t pl_memory_message_bytes(const pl_model *m, int first, int count, int rows,
                                pl_flow flow);

/** A device's memory, component by component (chapter 07). */
typedef struct {
    size_t params;      /**< its stages' weights and biases */
    size_t grads;       /**< their gradients: as many bytes again */
    size_t optimizer;   /**< SGD with momentum: one velocity per parameter; plain SGD: 0 */
    size_t activations; /**< the stash, at the moment of the peak */
    size_t messages;    /**< messages in transit it sent, at the moment of the peak */
} pl_memory_bill;

/** The components' names, in the bill's order: "parameters", ... "in-flight messages". */
extern const char *const pl_memory_components[5];

/**
 * Add to b what the stage holding layers [first, first+count) of m keeps for
 * the whole run: parameters, gradients, and with `momentum` the optimizer's
 * velocities.
 */
void pl_memory_add_stage(pl_memory_bill *b, const pl_model *m, int first, int count,
                         int momentum);

/** The sum of the bill's five components. */
size_t pl_memory_total(const pl_memory_bill *b);

/**
 * The messages a device has sent that may still be on a link, for its
 * in-flight message bytes. Each executor keeps one per device; both ask
 * at the same instants (an action's end), so both count the same bytes.
 */
typedef struct {
    int64_t *arrival; /**< when each message arrives */
    int64_t *bytes;   /**< its size */
    int n;            /**< messages kept */
    int cap;          /**< allocated */
} pl_memory_transit;

/** Keep a message of `bytes` bytes arriving at `arrival`. Returns 0 or -1. */
int pl_memory_transit_add(pl_memory_transit *t, int64_t arrival, int64_t bytes);

/** Forget the messages arrived by time `now`; the bytes of those still on a link. */
int64_t pl_memory_transit_at(pl_memory_transit *t, int64_t now);

/** Free what t holds. Safe on a zeroed one. */
void pl_memory_transit_free(pl_memory_transit *t);

/**
 * Check that device d, holding `held` bytes in all, may take `need` more
 * bytes of `what` (a component's name) for `action` (its name, e.g. "F5";
 * NULL before the first action) within `cap` bytes (0: no limit). Returns 0,
 * or -1 with "d1 out of memory at F5: needs N bytes of activations, M
 * available of C" in err.
 */
int pl_memory_check(size_t cap, int d, const char *action, const char *what, size_t held,
                    size_t need, char *err, size_t errlen);

/**
 * Check that the parts of bill b a device holds from the start fit in `cap`:
 * parameters, then gradients, then optimizer state. Returns 0, or -1 with
 * pl_memory_check's message naming the first component that does not fit.
 */
int pl_memory_check_static(size_t cap, int d, const pl_memory_bill *b, char *err,
                           size_t errlen);

#endif
