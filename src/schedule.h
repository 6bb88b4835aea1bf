/**
 * @file schedule.h
 * @brief Schedules as data: for each device, the ordered list of actions.
 *
 * A schedule gives every device its list of actions (action.h); the
 * generators in src/schedules/ write them, the validator proves them
 * complete and deadlock-free, and the simulator and the runtime execute them.
 * Chapter 01 introduces the idea; docs/design.md fixes the text format that
 * pl_schedule_write prints and pl_schedule_parse reads (schedule_text.c).
 *
 * Which stage a chunk holds is the placement's business (route.h): with v
 * chunks per device, chunk c of device d holds stage pl_schedule_stage(s, d, c).
 * Who sends what to whom is never stored; it follows from the placement.
 *
 * Invariant: a schedule owns its action lists; free it with pl_schedule_free.
 */
#ifndef PL_SCHEDULE_H
#define PL_SCHEDULE_H

#include <stddef.h>
#include <stdio.h>

#include "action.h"
#include "route.h"

/** Every device's ordered action list. */
typedef struct {
    int devices;            /**< p */
    int microbatches;       /**< m */
    int chunks;             /**< v */
    pl_placement placement; /**< how the p*v stages sit on the devices */
    int *len;               /**< len[d] actions on device d */
    int *cap;               /**< allocated capacity of actions[d] */
    pl_action **actions;    /**< actions[d][0 .. len[d]) */
} pl_schedule;

/** Stage held by chunk `chunk` of device `device`. */
static inline int pl_schedule_stage(const pl_schedule *s, int device, int chunk)
{
    return pl_route_stage(s->placement, s->devices, device, chunk);
}

/** Number of stages, p * v. */
static inline int pl_schedule_stages(const pl_schedule *s)
{
    return s->devices * s->chunks;
}

/** The message action a on `device` waits for (pl_route_input). */
static inline int pl_schedule_input(const pl_schedule *s, int device, pl_action a,
                                    pl_route *r)
{
    return pl_route_input(s->placement, s->devices, s->chunks, device, a, r);
}

/** The message action a on `device` sends (pl_route_output). */
static inline int pl_schedule_output(const pl_schedule *s, int device, pl_action a,
                                     pl_route *r)
{
    return pl_route_output(s->placement, s->devices, s->chunks, device, a, r);
}

/**
 * Start an empty schedule for p devices, m micro-batches and v chunks, in
 * the loop placement (set s->placement afterwards for another). Returns 0,
 * or -1 (with nothing allocated) on non-positive sizes or allocation failure.
 */
int pl_schedule_init(pl_schedule *s, int devices, int microbatches, int chunks);

/** Free everything the schedule owns; safe on a zeroed schedule. */
void pl_schedule_free(pl_schedule *s);

/** Append an action to device d's list. Returns 0, or -1 on allocation failure. */
int pl_schedule_push(pl_schedule *s, int device, pl_kind kind, int mb, int chunk);

/**
 * Append action a to device d's list if its micro-batch is one of the
 * schedule's (a.mb < m), and leave it out otherwise: a generator that writes
 * the schedule of more micro-batches than it was asked for (chapters 05 and
 * 08) keeps the ones asked for this way. Returns 0, or -1 on allocation
 * failure.
 */
int pl_schedule_keep(pl_schedule *s, int device, pl_action a);

/** Total number of actions over all devices. */
long pl_schedule_total(const pl_schedule *s);

/** Format one action of s ("F3", "B2.1"); returns buf. */
char *pl_schedule_format(const pl_schedule *s, pl_action a, char *buf, size_t n);

/** Write the schedule in the text format (docs/design.md). Returns 0, or -1 if writing failed. */
int pl_schedule_write(const pl_schedule *s, FILE *out);

/**
 * Parse the text format from a NUL-terminated string. On success fills `s`
 * (which the caller frees) and returns 0. On a syntax error returns -1, leaves
 * `s` empty, and writes "line L, column C: what was expected" into err.
 * Parsing checks syntax and ranges only; pl_validate checks the semantics.
 */
int pl_schedule_parse(const char *text, pl_schedule *s, char *err, size_t errlen);

/** A stretch of a schedule's text: its line and column (from 1) and length in bytes. */
typedef struct {
    long line;   /**< from 1 */
    long column; /**< from 1, in bytes, as parse errors count it */
    long length; /**< bytes up to the next blank or the end of the line */
} pl_text_span;

/**
 * Where action `index` of device `device` is written in `text` (as
 * pl_schedule_parse reads it), or with index < 0 where that device's line
 * starts: the validator names an action by device and position, an editor
 * marks it in the text (the playground). Reads as far as the text parses.
 * Returns 0, or -1 (with `at` zeroed) if the text holds no such action.
 */
int pl_schedule_locate(const char *text, int device, int index, pl_text_span *at);

/**
 * Read a whole file and parse it; errors name the file. Refuses what is not
 * a regular file (a FIFO, a device) and files over PL_SCHEDULE_MAX_BYTES.
 * Returns 0 or -1.
 */
int pl_schedule_load(const char *path, pl_schedule *s, char *err, size_t errlen);

/** The largest schedule file pl_schedule_load reads. */
#define PL_SCHEDULE_MAX_BYTES (256L * 1024 * 1024)

/* ---- What a generator is given, and the frame every generator shares ---- */

/** The size of a schedule a generator is asked for. */
typedef struct {
    int devices;      /**< p */
    int microbatches; /**< m */
    int chunks;       /**< v, model chunks per device */
    int warmup_extra; /**< 1f1b: forwards added to the warm-up to cover slow links (chapter 07); 0 */
    int max_inflight; /**< 1f1b: at most this many micro-batches in flight on a device, a
                           memory cap (chapter 04); 0: no cap */
} pl_shape;

/**
 * A generator (one per file in src/schedules/): fills `s` with the schedule
 * for `shape`. Returns 0, or -1 with a one-line message in err (s is then
 * empty). Declare one with `pl_generator pl_schedule_NAME;`.
 */
typedef int pl_generator(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen);

/**
 * The common start of every generator: check that there is at least one
 * device, micro-batch and chunk -- exactly `chunks` chunks if that is not 0 --
 * then initialise s. Returns 0, or -1 with "NAME needs ... (got ...)" in err.
 */
int pl_schedule_begin(pl_schedule *s, const char *name, const pl_shape *shape, int chunks,
                      char *err, size_t errlen);

/**
 * The common end of every generator: if any push failed, free s and report
 * it. Returns 0 or -1.
 */
int pl_schedule_end(pl_schedule *s, const char *name, int failed, char *err, size_t errlen);

#endif
