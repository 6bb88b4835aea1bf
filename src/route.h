/**
 * @file route.h
 * @brief Placements and routing: which device holds a stage, and who sends
 *        what to whom.
 *
 * A model of S = p * v stages is spread over p devices, v chunks each. The
 * placement says how (chapter 05 introduces the first, chapter 08 the second):
 *
 *   loop  chunk c of device d holds stage c*p + d. A micro-batch loops
 *         through the devices v times: d0, d1, ..., d(p-1), d0, d1, ...
 *   v     even chunks as in loop, odd chunks reversed: chunk c holds stage
 *         (c+1)*p - 1 - d. With v = 2, device d holds stages d and 2p-1-d:
 *         the micro-batch goes down the devices and comes back up, so the
 *         first device also holds the last stage.
 *
 * With v = 1 both are the plain split of chapter 01: stage s on device s.
 *
 * Routing follows from the placement alone; nothing about messages is stored
 * in a schedule. A forward on stage s > 0 needs the activation made by stage
 * s-1's forward of the same micro-batch; a backward (B or I) on stage s < S-1
 * needs the gradient made by stage s+1's backward (its B or its I). W needs
 * no message and sends none. The validator, the simulator and the runtime
 * all ask these functions, so they cannot disagree.
 *
 * Invariant: pl_route_output of the sender and pl_route_input of the
 * receiver name the same message (same flow, stage and micro-batch).
 */
#ifndef PL_ROUTE_H
#define PL_ROUTE_H

#include "action.h"

/** How stages are laid out over devices. */
typedef enum {
    PL_PLACE_LOOP = 0, /**< chunk c of device d holds stage c*p + d */
    PL_PLACE_V = 1     /**< odd chunks reversed: device d holds d and 2p-1-d */
} pl_placement;

/** "loop" or "v". */
const char *pl_route_placement_name(pl_placement pl);

/** Parse "loop" or "v"; returns 0, or -1 if unknown. */
int pl_route_placement_parse(const char *name, pl_placement *out);

/** Which way a message travels. */
typedef enum {
    PL_ACTIVATION = 0, /**< a forward's output, to the next stage */
    PL_GRADIENT = 1    /**< a backward's input-gradient, to the previous stage */
} pl_flow;

/** One message, named from both ends. */
typedef struct {
    pl_flow flow;   /**< activation or gradient */
    int stage;      /**< the stage that receives it */
    int chunk;      /**< the receiving stage's chunk on its device */
    int peer;       /**< the device at the other end */
    int peer_chunk; /**< the chunk holding the stage at the other end */
} pl_route;

// [region route-stage]
/** The stage held by chunk `chunk` of `device` (p devices, any v). */
static inline int pl_route_stage(pl_placement pl, int p, int device, int chunk)
{
    if (pl == PL_PLACE_V && (chunk & 1))
        return (chunk + 1) * p - 1 - device;
    return chunk * p + device;
}
// [endregion route-stage]

// [region route-home]
/** The device and chunk that hold `stage`: pl_route_stage's inverse. */
static inline void pl_route_home(pl_placement pl, int p, int stage, int *device, int *chunk)
{
    // [region route-home-body]
    if (stage < p) { /* chunk 0 in every placement; spares a division per message */
        *chunk = 0;
        *device = stage;
        return;
    }
    int c = stage / p, r = stage % p;
    *chunk = c;
    // [region route-home-device]
    *device = pl == PL_PLACE_V && (c & 1) ? p - 1 - r : r;
    // [endregion route-home-device]
    // [endregion route-home-body]
}
// [endregion route-home]

/* Fill *r for the message whose far end is stage `peer_stage`; the receiver
 * is this end (stage, chunk) for an input, the far end for an output. */
static inline int pl_route_fill(pl_placement pl, int p, pl_flow flow, int peer_stage,
                                int stage, int chunk, int is_input, pl_route *r)
{
    pl_route_home(pl, p, peer_stage, &r->peer, &r->peer_chunk);
    r->flow = flow;
    r->stage = is_input ? stage : peer_stage;
    r->chunk = is_input ? chunk : r->peer_chunk;
    return 1;
}

// [region route-input]
/**
 * The message action a on `device` waits for, if any: for F on stage s > 0 the
 * activation from stage s-1; for B or I on stage s < S-1 the gradient from
 * stage s+1. Returns 1 and fills *r (r->peer is the sender), or 0 if the
 * action needs no message. p devices, v chunks, S = p*v stages.
 */
static inline int pl_route_input(pl_placement pl, int p, int v, int device, pl_action a,
                                 pl_route *r)
{
    int s = pl_route_stage(pl, p, device, a.chunk);
    if (a.kind == PL_F && s > 0)
        return pl_route_fill(pl, p, PL_ACTIVATION, s - 1, s, a.chunk, 1, r);
    if (pl_action_is_backward(a.kind) && s < p * v - 1)
        return pl_route_fill(pl, p, PL_GRADIENT, s + 1, s, a.chunk, 1, r);
    return 0;
}
// [endregion route-input]

/**
 * The message action a on `device` sends, if any: F on stage s < S-1 sends
 * its activation to stage s+1; B or I on stage s > 0 sends the input
 * gradient to stage s-1. Returns 1 and fills *r (r->peer is the receiver),
 * or 0 if the action sends nothing.
 */
static inline int pl_route_output(pl_placement pl, int p, int v, int device, pl_action a,
                                  pl_route *r)
{
    int s = pl_route_stage(pl, p, device, a.chunk);
    if (a.kind == PL_F && s < p * v - 1)
        return pl_route_fill(pl, p, PL_ACTIVATION, s + 1, s, a.chunk, 0, r);
    if (pl_action_is_backward(a.kind) && s > 0)
        return pl_route_fill(pl, p, PL_GRADIENT, s - 1, s, a.chunk, 0, r);
    return 0;
}

#endif
