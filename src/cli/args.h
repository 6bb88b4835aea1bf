/**
 * @file args.h
 * @brief Reading the `pipelab` command line into pl_options, strictly.
 *
 * Every value is checked: whole numbers in range, known names, no option
 * given twice, no conflicting pair. The first problem is reported as one
 * line naming the option and what it expected; main then exits with 2.
 */
#ifndef PL_ARGS_H
#define PL_ARGS_H

#include <stddef.h>

#include "experiment.h"

/** What the command line asked for, beyond the run options. */
typedef struct {
    pl_options opt;     /**< the run's options */
    int json;           /**< --json */
    const char *trace;  /**< --trace FILE */
    const char *svg;    /**< --svg FILE */
    const char *over;   /**< sweep: "m" or "p" */
    int help;           /**< --help */
    unsigned given;     /**< bit per option seen, to catch duplicates */
    int given_m;        /**< --microbatches was given */
    int given_p;        /**< --devices was given */
    const char *file;   /**< check: the positional FILE */
} pl_args;

/**
 * Parse argv[first..argc) into a. Returns 0, or -1 with a message in err.
 * Cross-option rules (devices vs layers, micro-batches vs batch) are checked
 * here too, so a bad combination never reaches a run.
 */
int pl_args_parse(pl_args *a, int argc, char **argv, int first, char *err, size_t errlen);

#endif
