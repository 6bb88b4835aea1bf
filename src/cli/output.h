/**
 * @file output.h
 * @brief The files `pipelab` draws its pictures into (--trace, --svg), written safely.
 *
 * An output is written to a temporary file next to its path and renamed over
 * it only when the command succeeded, so a failed or interrupted run leaves
 * whatever was at the path untouched, and a reader never sees half a file.
 * (A path that is not a regular file -- /dev/stdout, a FIFO -- is written
 * directly.) An output path that names an input or the other output is
 * refused before anything runs. A signal that ends the command removes the
 * temporary files (pl_output_catch_signals).
 *
 * Invariant: every file opened here is closed here; on failure only the
 * temporary file is removed.
 */
#ifndef PL_OUTPUT_H
#define PL_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "trace.h"

/** One output file while a command runs. */
typedef struct {
    const char *option; /**< "--trace" or "--svg" */
    const char *path;   /**< the user's path; NULL if not asked for */
    char temp[4096];    /**< the temporary file, or "" when writing directly */
    FILE *f;            /**< open while the command runs */
} pl_output;

/**
 * Open an output for `path` (NULL: not asked for; o->f stays NULL).
 * `inputs` lists paths it must not be (NULL-terminated; NULL entries skipped
 * up to `n_inputs`). Returns 0, or -1 with "OPTION PATH: ..." in err.
 */
int pl_output_open(pl_output *o, const char *option, const char *path,
                   const char *const *inputs, int n_inputs, char *err, size_t errlen);

/**
 * Finish an output: with ok = 1, flush, close and move it into place, and
 * say on stderr what was written (`what`, e.g. "Chrome trace of 4 runs");
 * with ok = 0, close and remove the temporary file. Returns 0, or -1 with
 * "cannot write PATH: REASON" in err.
 */
int pl_output_close(pl_output *o, int ok, const char *what, char *err, size_t errlen);

/** The --trace and --svg files of a run or a comparison. */
typedef struct {
    pl_output trace; /**< Chrome trace */
    pl_output svg;   /**< SVG timelines */
} pl_outputs;

/**
 * Open the --trace and --svg files, if given, refusing paths equal to the
 * schedule file or to each other. Returns 0, or -1 with err.
 */
int pl_outputs_open(pl_outputs *o, const char *trace, const char *svg,
                    const char *schedule_file, char *err, size_t errlen);

/**
 * Draw traces[0..n) into the open files -- the Chrome trace, and the SVG
 * timelines stacked on one time axis -- and close them. With ok = 0 only
 * discard them (the command failed). Returns 0, or -1 with err.
 */
int pl_outputs_finish(pl_outputs *o, const pl_trace *const *traces, int n, int ok, char *err,
                      size_t errlen);

/**
 * Make SIGINT, SIGTERM and SIGHUP end the command cleanly: every temporary
 * file of an open output is removed, and the process then ends by that
 * signal as it would have without this. Ignores SIGPIPE, so that writing to
 * a closed pipe is a write error, reported with exit status 1. Call once,
 * first thing in main. Outputs are opened and finished by the main thread
 * while no device thread runs. Returns 0 or -1.
 */
int pl_output_catch_signals(void);

/**
 * Flush and check stdout; on a write error put "cannot write standard
 * output: REASON" in err and return -1.
 */
int pl_output_stdout(char *err, size_t errlen);

/**
 * s with every control character written as an escape ("\\n", "\\t",
 * "\\x1b"), so that a message echoing what a user typed stays one line and
 * cannot drive a terminal; newlines are kept if keep_newlines (a message of
 * several lines). Written into buf (n bytes, truncated if need be); returns
 * buf.
 */
const char *pl_output_printable(const char *s, int keep_newlines, char *buf, size_t n);

#endif
