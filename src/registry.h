/**
 * @file registry.h
 * @brief The one place a schedule is declared.
 *
 * Every named schedule is one entry: its name, the chapter that explains it,
 * its generator (one file in src/schedules/), its placement, the chunks and
 * micro-batches it takes, the closed-form bubble its chapter derives -- with
 * the assumptions under which that formula holds -- the peak in-flight count
 * per device where the chapter derives one, and a line of help. The command
 * line's names and --help, `compare`, `sweep`, the fuzzing seeds and the
 * registry-driven tests all read this table; adding a schedule is one
 * generator file and one entry (docs/design.md shows a real addition).
 *
 * Invariant: an entry's generator produces a schedule in the entry's
 * placement, with the entry's fixed chunks and micro-batches if it has any.
 */
#ifndef PL_REGISTRY_H
#define PL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "schedule.h"

/** What a closed-form bubble may assume; an entry lists the ones its formula needs. */
enum {
    PL_ASSUME_EQUAL_STAGES = 1,       /**< every stage costs the same per kind */
    PL_ASSUME_EQUAL_MICROBATCHES = 2, /**< m divides the batch */
    PL_ASSUME_NO_RECOMPUTE = 4,       /**< no recomputed forwards */
    PL_ASSUME_FREE_LINKS = 8          /**< messages arrive the moment they are sent (chapter 07) */
};

/** The case a formula is evaluated for, once its assumptions hold. */
typedef struct {
    int p;       /**< devices */
    int m;       /**< micro-batches */
    int v;       /**< chunks per device */
    int64_t t_f; /**< ticks of one stage's forward (equal on every stage) */
    int64_t t_i; /**< ticks of one stage's input-grad */
    int64_t t_w; /**< ticks of one stage's weight-grad */
    int max_inflight; /**< 1f1b's memory cap (pl_shape.max_inflight); 0: none */
} pl_formula_case;

/**
 * A closed-form bubble: returns it for case c, or a negative number with
 * *why set to a one-line reason when c is outside the formula's domain.
 */
typedef double pl_bubble_formula(const pl_formula_case *c, const char **why);

/** Peak micro-batches in flight on device d (p devices, m micro-batches, v chunks). */
typedef int pl_peak_formula(int p, int m, int v, int d);

/** One registered schedule. */
typedef struct {
    const char *name;            /**< as on the command line: "1f1b" */
    int chapter;                 /**< the chapter that explains it */
    pl_generator *generate;      /**< writes the schedule */
    pl_placement placement;      /**< the placement its schedules use */
    int chunks;                  /**< v it always uses, or 0: takes --chunks */
    int chunks_default;          /**< v without --chunks, when chunks is 0 */
    int microbatches;            /**< m it always uses (naive: 1), or 0: takes --microbatches */
    unsigned assumes;            /**< PL_ASSUME_* its bubble formula needs */
    pl_bubble_formula *bubble;   /**< closed-form bubble, or NULL */
    const char *bubble_text;     /**< that formula in words: "(p-1)/(m+p-1)" */
    pl_peak_formula *peak;       /**< peak in flight per device, or NULL */
    const char *peak_text;       /**< in words: "min(p-d, m)" */
    const char *help;            /**< one line for --help */
} pl_registry_entry;

/** Every registered schedule, in chapter order; *count receives their number. */
const pl_registry_entry *pl_registry_list(int *count);

/** The entry named `name`, or NULL. */
const pl_registry_entry *pl_registry_find(const char *name);

/**
 * The shape entry e runs with when asked for p devices, m micro-batches and
 * v chunks (v = 0: not asked): fixed chunks and micro-batches win, and an
 * entry that takes --chunks uses its default when v is 0.
 */
pl_shape pl_registry_shape(const pl_registry_entry *e, int p, int m, int v);

/**
 * Generate entry e's schedule for `shape` (as pl_registry_shape returns it).
 * Returns 0, or -1 with a message in err.
 */
int pl_registry_generate(const pl_registry_entry *e, const pl_shape *shape, pl_schedule *s,
                         char *err, size_t errlen);

/**
 * Entry e's peak in-flight count on device d for `shape`: its peak formula,
 * no more than shape->max_inflight when that caps it. -1 if it has none.
 */
int pl_registry_peak(const pl_registry_entry *e, const pl_shape *shape, int d);

/**
 * Entry e's formula for p devices, m micro-batches and v chunks under the
 * default uniform costs (t_F = t_I = t_W) -- the curve a sweep plot draws.
 * Returns a negative number where it has none.
 */
double pl_registry_bubble(const pl_registry_entry *e, int p, int m, int v);

/**
 * Write the registered names into buf as "a, b, c or d". Returns buf.
 */
char *pl_registry_names(char *buf, size_t n);

#endif
