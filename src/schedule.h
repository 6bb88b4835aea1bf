/**
 * @file schedule.h
 * @brief Schedules as data: for each device, the ordered list of actions.
 *
 * An action is one kind of work (F forward, B full backward, I input-grad,
 * W weight-grad) on one micro-batch of one model chunk. A schedule gives every
 * device its list; the generators in src/schedules/ write them, the validator
 * proves them complete and deadlock-free, and the simulator and the runtime
 * execute them. Chapter 01 introduces the idea; DESIGN 3.2 fixes the text
 * format that pl_schedule_write prints and pl_schedule_parse reads.
 *
 * Stage numbering: with p devices and v chunks per device, chunk c of device
 * d holds stage c*p + d (the interleaved layout of chapter 05); with v = 1
 * stage s lives on device s.
 *
 * Invariant: a schedule owns its action lists; free it with pl_schedule_free.
 */
#ifndef PL_SCHEDULE_H
#define PL_SCHEDULE_H

#include <stddef.h>
#include <stdio.h>

/** What an action does. */
typedef enum {
    PL_F = 0, /**< forward */
    PL_B = 1, /**< full backward: input-grad then weight-grad */
    PL_I = 2, /**< backward, input-gradient half */
    PL_W = 3  /**< backward, weight-gradient half */
} pl_kind;

/** The letter of a kind: 'F', 'B', 'I' or 'W'. */
char pl_kind_letter(pl_kind k);

/** One unit of work on one device. */
typedef struct {
    pl_kind kind; /**< F, B, I or W */
    int mb;    /**< micro-batch index, 0..m-1 */
    int chunk; /**< model chunk on this device, 0..v-1 */
} pl_action;

/** Every device's ordered action list. */
typedef struct {
    int devices;      /**< p */
    int microbatches; /**< m */
    int chunks;       /**< v */
    int *len;         /**< len[d] actions on device d */
    int *cap;         /**< allocated capacity of actions[d] */
    pl_action **actions; /**< actions[d][0 .. len[d]) */
} pl_schedule;

/** Stage held by chunk `chunk` of device `device`. */
static inline int pl_stage_of(const pl_schedule *s, int device, int chunk)
{
    return chunk * s->devices + device;
}

/** Number of stages, p * v. */
static inline int pl_schedule_stages(const pl_schedule *s)
{
    return s->devices * s->chunks;
}

/**
 * Start an empty schedule for p devices, m micro-batches and v chunks.
 * Returns 0, or -1 (with nothing allocated) on non-positive sizes or
 * allocation failure.
 */
int pl_schedule_init(pl_schedule *s, int devices, int microbatches, int chunks);

/** Free everything the schedule owns; safe on a zeroed schedule. */
void pl_schedule_free(pl_schedule *s);

/** Append an action to device d's list. Returns 0, or -1 on allocation failure. */
int pl_schedule_push(pl_schedule *s, int device, pl_kind kind, int mb, int chunk);

/**
 * Where the input of action `a` on `device` comes from, if another stage
 * sends it: a forward on stage s > 0 receives the activation of stage s-1's
 * forward; a backward (B or I) on stage s < S-1 receives the gradient made by
 * stage s+1's backward (its B or its I -- `src->kind` is set to PL_I for
 * either). Returns 1 and fills *src_device and *src, or 0 if the action needs
 * no message (first-stage F, last-stage B/I, and every W).
 */
int pl_action_source(const pl_schedule *s, int device, pl_action a,
                     int *src_device, pl_action *src);

/**
 * Where action `a` on `device` sends its output: F on stage s < S-1 to stage
 * s+1; B or I on stage s > 0 to stage s-1. Returns 1 and fills *dst_device
 * and *dst (dst->kind is PL_F for an activation, PL_I for a gradient), or 0
 * if the action sends nothing.
 */
int pl_action_dest(const pl_schedule *s, int device, pl_action a,
                   int *dst_device, pl_action *dst);

/** Total number of actions over all devices. */
long pl_schedule_total(const pl_schedule *s);

/** Format one action ("F3", "W0", "B2.1") into buf; returns buf. */
char *pl_action_format(const pl_schedule *s, pl_action a, char *buf, size_t n);

/** Write the schedule in the text format of DESIGN 3.2. */
void pl_schedule_write(const pl_schedule *s, FILE *out);

/**
 * Parse the text format from a NUL-terminated string. On success fills `s`
 * (which the caller frees) and returns 0. On a syntax error returns -1, leaves
 * `s` empty, and writes "line L, column C: what was expected" into err.
 * Parsing checks syntax and ranges only; pl_validate checks the semantics.
 */
int pl_schedule_parse(const char *text, pl_schedule *s, char *err, size_t errlen);

/** Read a whole file and parse it; errors name the file. Returns 0 or -1. */
int pl_schedule_load(const char *path, pl_schedule *s, char *err, size_t errlen);

/* ---- The built-in generators, one file each in src/schedules/ ---- */

/** A generator: fills an initialised-by-it schedule; returns 0 or -1 with err. */
typedef int (*pl_generator)(pl_schedule *s, int devices, int microbatches,
                            char *err, size_t errlen);

/** Chapter 01: one batch, forward through every device then backward. m must be 1. */
int pl_schedule_naive(pl_schedule *s, int devices, int microbatches,
                      char *err, size_t errlen);
/** Chapter 02: micro-batches one at a time, each through the whole pipeline. */
int pl_schedule_microbatch(pl_schedule *s, int devices, int microbatches,
                           char *err, size_t errlen);
/** Chapter 03: fill-drain, every forward then every backward. */
int pl_schedule_gpipe(pl_schedule *s, int devices, int microbatches,
                      char *err, size_t errlen);
/** Chapter 04: warm-up, one-forward-one-backward, cool-down. */
int pl_schedule_1f1b(pl_schedule *s, int devices, int microbatches,
                     char *err, size_t errlen);

/**
 * The common start of every generator: check that there is at least one
 * device and one micro-batch, then initialise s. Returns 0, or -1 with
 * "NAME needs devices >= 1 and microbatches >= 1 (got P and M)" in err.
 */
int pl_schedule_begin(pl_schedule *s, const char *name, int devices, int microbatches,
                      int chunks, char *err, size_t errlen);

/**
 * The common end of every generator: if any push failed, free s and report
 * it. Returns 0 or -1.
 */
int pl_schedule_end(pl_schedule *s, const char *name, int failed, char *err, size_t errlen);

/** A named built-in schedule and the bubble its chapter predicts. */
typedef struct {
    const char *name;       /**< as on the command line: "1f1b" */
    pl_generator generate;  /**< writes the schedule */
    int chapter;            /**< the chapter that explains it */
    int fixed_microbatches; /**< 1 if the schedule always runs m = 1 (naive) */
} pl_schedule_info;

/** The built-in schedules, in chapter order; *count receives their number. */
const pl_schedule_info *pl_schedules(int *count);

/** Look a built-in schedule up by name; NULL if unknown. */
const pl_schedule_info *pl_schedule_find(const char *name);

/**
 * The bubble fraction the chapter's formula predicts for a named schedule
 * with p devices, m micro-batches and v chunks under uniform costs:
 * naive and microbatch (p-1)/p, gpipe and 1f1b (p-1)/(m+p-1).
 * Returns a negative number for a schedule with no formula (a file).
 */
double pl_bubble_theory(const char *name, int p, int m, int v);

#endif
