/**
 * @file validate.h
 * @brief Proving a schedule is complete and cannot deadlock, before running it.
 *
 * Three rules, checked in order (chapter 01 explains why each matters):
 *  1. completeness -- for every micro-batch and chunk, each device runs one
 *     F and either one B or one I and one W, and nothing else;
 *  2. local order -- on its own device, F comes before B or I, and I before W;
 *  3. no deadlock -- a dry run in which every device executes its list and
 *     blocks on a message from another device (a forward needs the previous
 *     stage's forward; a backward the next stage's backward) finishes.
 * Messages are buffered without bound, exactly as the runtime's mailboxes are,
 * so a schedule that passes cannot hang the runtime.
 *
 * Invariant: every executor (simulator, runtime) validates first.
 */
#ifndef PL_VALIDATE_H
#define PL_VALIDATE_H

#include <stddef.h>

#include "schedule.h"

/** A position in a schedule: action `index` of device `device`. */
typedef struct {
    int device; /**< d */
    int index;  /**< position in device d's list */
} pl_slot;

/** What the validator learns about a valid schedule. */
typedef struct {
    int *peak_inflight; /**< per device: most micro-batches held at once */
    pl_slot *order;     /**< every action once, in an order the dry run
                             executed them: each after its device's previous
                             action and after the action it receives from */
    long n_order;       /**< pl_schedule_total(s) */
} pl_validation;

/**
 * Check the three rules. Returns 0 if the schedule is valid, -1 otherwise
 * with a message in err: for rules 1 and 2 the device, position, action and
 * broken rule; for a deadlock one line per stuck device naming its blocked
 * action and what it waits for. If `out` is not NULL and the schedule is
 * valid, out->peak_inflight and out->order are allocated (free with
 * pl_validation_free). Runs in time linear in the number of actions.
 */
int pl_validate(const pl_schedule *s, pl_validation *out, char *err, size_t errlen);

/**
 * Rules 1 and 2 only, on every device: the checks that need no dry run. The
 * simulator runs these, then its own timed dry run, which is rule 3.
 * Returns 0, or -1 with pl_validate's message.
 */
int pl_validate_local(const pl_schedule *s, char *err, size_t errlen);

/**
 * Bitwise equality (docs/design.md): on every device, each chunk's weight
 * gradients (B, or W when split) come in increasing micro-batch order, as
 * the sequential reference adds them. A valid schedule may break it and
 * still run; its weights then differ from the reference's in the last bits.
 * Returns 0, or -1 with the first action out of order in err.
 */
int pl_validate_bitwise(const pl_schedule *s, char *err, size_t errlen);

/** Free what pl_validate allocated. */
void pl_validation_free(pl_validation *v);

#endif
