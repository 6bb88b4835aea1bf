/**
 * @file action.h
 * @brief The vocabulary of the course: what one device does to one micro-batch.
 *
 * An action is a kind of work on one micro-batch of one model chunk:
 *
 *   F  forward                      (chapter 01)
 *   B  full backward: I then W      (chapter 01)
 *   I  backward, input-gradient     (chapter 06): what the previous stage waits for
 *   W  backward, weight-gradient    (chapter 06): what nobody waits for
 *   R  recomputed forward           (chapter 03): never scheduled; the runtime
 *                                   runs it before a B or I under --recompute
 *
 * Every module that names a kind -- the text format, the validator, the
 * executors, the renderers -- uses this enum and these letters.
 *
 * Invariant: a schedule holds only F, B, I and W; R appears only in traces.
 */
#ifndef PL_ACTION_H
#define PL_ACTION_H

#include <stddef.h>

/** What an action does. */
typedef enum {
    PL_F = 0, /**< forward */
    PL_B = 1, /**< full backward: input-grad then weight-grad */
    PL_I = 2, /**< backward, input-gradient half */
    PL_W = 3, /**< backward, weight-gradient half */
    PL_R = 4  /**< recomputed forward (traces only) */
} pl_kind;

/** Number of kinds, R included. */
enum { PL_KINDS = 5 };

/** One unit of work on one device. */
typedef struct {
    pl_kind kind; /**< F, B, I or W */
    int mb;       /**< micro-batch index, 0..m-1 */
    int chunk;    /**< model chunk on this device, 0..v-1 */
} pl_action;

/** The letter of a kind: 'F', 'B', 'I', 'W' or 'R' ('?' if out of range). */
char pl_action_letter(pl_kind k);

/**
 * The kind a schedule letter names: F, B, I or W (R is never scheduled).
 * Returns 0 and fills *k, or -1 for any other character.
 */
int pl_action_kind(char letter, pl_kind *k);

/** The kind in words: "forward", "backward", "input-grad", "weight-grad", "recomputed forward". */
const char *pl_action_name(pl_kind k);

/** 1 for the kinds that consume the gradient of the stage output: B and I. */
static inline int pl_action_is_backward(pl_kind k)
{
    return k == PL_B || k == PL_I;
}

/**
 * Format one action into buf: "F3", or "B2.1" when the schedule has more than
 * one chunk (or the action's chunk is not 0). Returns buf.
 */
char *pl_action_format(pl_action a, int chunks, char *buf, size_t n);

#endif
