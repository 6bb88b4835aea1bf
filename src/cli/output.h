/**
 * @file output.h
 * @brief The files `pipelab` draws its pictures into (--trace, --svg).
 *
 * Output files are opened before a run starts, so a path that cannot be
 * written fails at once, like any bad argument, instead of after the run.
 * Invariant: every file opened here is closed here, and a regular file a
 * failed command would leave half-written is removed.
 */
#ifndef PL_OUTPUT_H
#define PL_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "experiment.h"

/** The picture files of one command; a NULL path means not asked for. */
typedef struct {
    const char *trace_path; /**< --trace FILE, not owned */
    const char *svg_path;   /**< --svg FILE, not owned */
    FILE *trace;            /**< open while the command runs */
    FILE *svg;              /**< open while the command runs */
} pl_outputs;

/**
 * Open `path` for writing. Returns the file, or NULL with
 * "OPTION PATH: cannot write: REASON" in err. A NULL path gives NULL and
 * an empty err (nothing asked for).
 */
FILE *pl_output_open(const char *option, const char *path, char *err, size_t errlen);

/**
 * Close f (NULL is fine). If `ok` is 0 or writing failed, remove the file
 * if it is a regular one (never /dev/stdout or the like);
 * when writing failed put "cannot write PATH: REASON" in err. Returns 0 on
 * success, -1 otherwise.
 */
int pl_output_close(FILE *f, const char *path, int ok, char *err, size_t errlen);

/** Open the --trace and --svg files, if given. Returns 0, or -1 with err. */
int pl_outputs_open(pl_outputs *o, const char *trace, const char *svg, char *err,
                    size_t errlen);

/**
 * Draw runs[0..n) into the open files -- the Chrome trace, and the SVG
 * timelines stacked on one time axis -- and close them. With ok = 0 only
 * close and remove them (the command failed). Returns 0, or -1 with err.
 */
int pl_outputs_finish(pl_outputs *o, const pl_experiment *runs, int n, int ok, char *err,
                      size_t errlen);

#endif
