/**
 * @file web.h
 * @brief The schedule playground's door into the library: command lines in, JSON out.
 *
 * The playground (docs/playground/) is this library compiled to WebAssembly
 * and a page around it. The page writes, from its form, the `pipelab run
 * --simulate --json` command line a learner could type -- it shows it, too --
 * and hands it here. This file reads it with the command's own argument
 * parser (src/cli/args.c), runs it with pl_experiment_run on the simulator,
 * and answers with the summary the command prints, plus what the page draws:
 * the schedule in the text format, each device's memory through the step,
 * and the timelines from the SVG renderer (svg.h). Nothing on the page is
 * computed a second time in JavaScript, so its numbers are the command's.
 *
 * A run that fails answers with the one-line message the command would print
 * and, for a schedule given as text, where in the text each action the
 * message names is written (pl_schedule_locate): the parser's line and
 * column, the validator's device and position, every blocked action of a
 * deadlock.
 *
 * Invariant: nothing is kept between calls; every string returned is the
 * caller's, to be freed with pl_web_free. Built natively too (test_web).
 */
#ifndef PL_WEB_H
#define PL_WEB_H

/**
 * Every registered schedule as a JSON array, in the registry's order: name,
 * chapter, placement, chunks (0: takes --chunks) and chunks_default,
 * microbatches (0: takes --microbatches), bubble and peak formulas in words
 * (null where none), help. Returns NULL only when out of memory.
 */
char *pl_web_registry(void);

/**
 * Run each line of `commands` -- `run ... --simulate ...`, arguments
 * separated by spaces, exactly as after `pipelab` on a command line -- and
 * answer `{"runs":[...],"svg":...}`. Each run is
 * `{"command","ok":true,"summary","schedule","memory","over_budget"}` --
 * summary as `pipelab run --simulate --json` prints it; schedule its text;
 * memory, per device, `[end_ns, activation bytes, bytes in transit]` after
 * each action of the step shown; over_budget, if --device-memory refused
 * the run, the refusal, the rest being the same run without the limit -- or
 * `{"command","ok":false,"error","marks"}`: the message `pipelab` prints
 * and, for each line of it that names a place in the schedule text,
 * `{"line","column","length","blocked","message"}`. svg draws every run that
 * succeeded on one time axis (null if none did). A command naming
 * --schedule-file is given `schedule_text` (may be NULL otherwise), written
 * to that path first. Returns NULL only when out of memory.
 */
char *pl_web_run(const char *commands, const char *schedule_text);

/**
 * The shape `text` declares, `{"devices","microbatches","chunks"}`, or
 * `{"error"}` with the parser's message: the page sizes the model's layers
 * and batch for a schedule pasted in. Returns NULL only when out of memory.
 */
char *pl_web_shape(const char *text);

/** Free a string returned by this module. NULL is ignored. */
void pl_web_free(char *json);

#endif
