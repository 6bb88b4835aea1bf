/**
 * @file summary.h
 * @brief What `pipelab run` prints: the timeline and the three figures.
 *
 * One run, on the screen: what ran (schedule, p, m, v, clock, the cost
 * unit), the timeline of the step the figures are of (the median step, so
 * labelled), then measured, predicted and formula side by side -- with the
 * reason when the formula does not apply -- and memory, messages, loss and
 * the verdict of --verify.
 *
 * Invariant: every figure printed is of the step the timeline shows -- or,
 * with --show-steps all, of the median one among the steps it shows.
 */
#ifndef PL_SUMMARY_H
#define PL_SUMMARY_H

#include <stdio.h>

#include "experiment.h"

/** Print the summary of a finished run; ANSI colour only if `colour`. */
void pl_summary_print(const pl_experiment *x, int colour, FILE *out);

/**
 * With `all`, make the run's pictures (the timeline, --svg) draw every step
 * (every step the trace kept: the last PL_TRACE_KEPT_STEPS of a longer run)
 * on one time axis instead of the median step alone (chapter 06).
 */
void pl_summary_show_steps(pl_experiment *x, int all);

/** The cost unit in words: "1 unit = 1 ms" or "1 tick = 1 FLOP at 1e+09 FLOP/s". */
const char *pl_summary_unit(const pl_experiment *x, char *buf, size_t n);

/**
 * Warn on `out` about what a run's figures cannot show: a loss that is not a
 * finite number (the training diverged; JSON writes null). Returns 1 if it
 * warned, else 0.
 */
int pl_summary_warnings(const pl_experiment *x, FILE *out);

#endif
