/**
 * @file run.h
 * @brief `run`, shared by the two programs that run a schedule: `pipelab`
 *        (device threads) and `pipelab-mpi` (MPI processes, chapter 09).
 *
 * Both read the same options (args.h), write the same pictures (output.h)
 * and print the same summary (summary.h); they differ only in how the
 * experiment is run, which each passes in as a runner.
 *
 * Invariant: messages go to stderr as "pipelab: ..." on one line; exit
 * status 0 success, 1 a failed run, 2 bad input.
 */
#ifndef PL_RUN_H
#define PL_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "args.h"
#include "experiment.h"

/**
 * Run the experiment `o` describes into `x` (which it must leave safe to
 * free): pl_experiment_run for device threads. Returns 0, or
 * PL_EXPERIMENT_REFUSED (bad input) or -1 (a failed run) with err.
 */
typedef int pl_cli_runner(void *ctx, const pl_options *o, pl_experiment *x, char *err,
                          size_t errlen);

/** pl_experiment_run as a runner (ctx unused). */
int pl_cli_threads(void *ctx, const pl_options *o, pl_experiment *x, char *err, size_t errlen);

/**
 * A schedule file (a->opt.schedule_file) must be valid and agree with
 * --devices, --microbatches and --chunks if they are given, and with the
 * layers and batch: returns 0, or -1 with the message in err (bad input).
 * The playground (src/web/) checks with it too.
 */
int pl_cli_check_file(const pl_args *a, char *err, size_t errlen);

/**
 * `run`: check a schedule file, open --trace and --svg, run with `run`,
 * print the summary or --json, write the pictures. Returns the exit status.
 */
int pl_cli_run(pl_args *a, pl_cli_runner *run, void *ctx);

/** Print "pipelab: msg" on stderr; returns 2 (bad input). */
int pl_cli_fail(const char *msg);

/** Check that stdout was really written: returns rc, or 1 (2 stays 2) if not. */
int pl_cli_flushed(int rc);

/** The registered schedules for --help: name, chapter, one line each. */
void pl_cli_schedules(FILE *out);

/** 1 if stdout is a terminal that wants colour. */
int pl_cli_colour(void);

#endif
