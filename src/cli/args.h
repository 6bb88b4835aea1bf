/**
 * @file args.h
 * @brief Reading the `pipelab` command line into pl_options, strictly.
 *
 * Every value is checked: whole numbers in range, known names, no option
 * given twice, no conflicting pair, no option the command would ignore. The
 * first problem is reported as one line naming the option and what it
 * expected; main then exits with 2.
 */
#ifndef PL_ARGS_H
#define PL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

/** The commands. */
typedef enum {
    PL_CMD_RUN,
    PL_CMD_COMPARE,
    PL_CMD_SHOW,
    PL_CMD_CHECK,
    PL_CMD_SWEEP,
    PL_CMD_LIST,
    PL_CMD_PARTITION,
    PL_CMD_PLAN
} pl_command;

/** The most layers (and so widths, and stages) a command line may give. */
#define PL_ARGS_MAX_LAYERS 4096

/** What the command line asked for, beyond the run options. */
typedef struct {
    pl_command command; /**< what to do */
    pl_options opt;     /**< the run's options */
    int json;           /**< --json */
    const char *trace;  /**< --trace FILE */
    const char *svg;    /**< --svg FILE */
    const char *over;   /**< sweep: "m", "p" or "v" */
    int show_all;       /**< --show-steps all: the timelines draw every step */
    int help;           /**< --help */
    int strict;         /**< check --strict: refuse what check only warns about */
    uint64_t given;     /**< bit per option seen (64 bits on every platform) */
    const char *file;   /**< check: the positional FILE */
    int widths[PL_ARGS_MAX_LAYERS];       /**< --widths; opt.widths points here ... */
    int n_widths;                         /**< ... and this many are given */
    int measured;                         /**< --partition-by measured */
    int stage_layers[PL_ARGS_MAX_LAYERS]; /**< --partition N,N,...; opt.stage_layers points here */
} pl_args;

/** 1 if option `name` ("--devices") was given. */
int pl_args_given(const pl_args *a, const char *name);

/**
 * Parse argv[1..argc): the command, then its options. Returns 0, or -1 with
 * a message in err. Cross-option rules (devices vs layers, micro-batches vs
 * batch, options that do not apply) are checked here too, so a bad
 * combination never reaches a run.
 */
int pl_args_parse(pl_args *a, int argc, char **argv, char *err, size_t errlen);

#endif
