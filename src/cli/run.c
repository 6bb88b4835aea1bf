/*
 * run.c -- `run`: one schedule, measured, summarised and drawn. Shared by
 * pipelab (device threads) and pipelab-mpi (MPI processes, chapter 09).
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "output.h"
#include "registry.h"
#include "summary.h"
#include "validate.h"

int pl_cli_threads(void *ctx, const pl_options *o, pl_experiment *x, char *err, size_t errlen)
{
    (void)ctx;
    return pl_experiment_run(o, x, err, errlen);
}

int pl_cli_fail(const char *msg)
{
    char shown[4096];
    fprintf(stderr, "pipelab: %s\n", pl_output_printable(msg, 1, shown, sizeof shown));
    return 2;
}

/* stdout must really have been written: exit 1 otherwise. */
int pl_cli_flushed(int rc)
{
    char err[256];
    if (pl_output_stdout(err, sizeof err) == 0)
        return rc;
    fprintf(stderr, "pipelab: %s\n", err);
    return rc == 2 ? 2 : 1;
}

void pl_cli_schedules(FILE *out)
{
    int n;
    const pl_registry_entry *e = pl_registry_list(&n);
    for (int i = 0; i < n; i++)
        fprintf(out, "  %-12s ch%02d  %s\n", e[i].name, e[i].chapter, e[i].help);
}

int pl_cli_colour(void)
{
    const char *t = getenv("TERM");
    return isatty(STDOUT_FILENO) && t && strcmp(t, "dumb") != 0 && !getenv("NO_COLOR");
}

/* Progress on a terminal, for runs long enough to wait for. */
static void progress(void *ctx, int done, int steps)
{
    (void)ctx;
    fprintf(stderr, "\rpipelab: step %d of %d%s", done, steps, done == steps ? "\n" : "");
}

int pl_cli_check_file(const pl_args *a, char *err, size_t errlen)
{
    pl_schedule s;
    if (pl_schedule_load(a->opt.schedule_file, &s, err, errlen))
        return -1;
    const char *name[3] = {"--devices", "--microbatches", "--chunks"};
    int given[3] = {a->opt.devices, a->opt.microbatches, a->opt.chunks};
    int file[3] = {s.devices, s.microbatches, s.chunks};
    int rc = pl_validate(&s, NULL, err, errlen);
    for (int k = 0; rc == 0 && k < 3; k++)
        if (pl_args_given(a, name[k]) && given[k] != file[k]) {
            snprintf(err, errlen, "%s %d, but %s says %d", name[k], given[k],
                     a->opt.schedule_file, file[k]);
            rc = -1;
        }
    if (rc == 0 && (long)s.devices * s.chunks > a->opt.layers) {
        snprintf(err, errlen, "%s has %d stages but --layers is %d: every stage holds at least "
                 "one layer", a->opt.schedule_file, s.devices * s.chunks, a->opt.layers);
        rc = -1;
    } else if (rc == 0 && s.microbatches > a->opt.batch) {
        snprintf(err, errlen, "%s has %d micro-batches but --batch is %d: every micro-batch "
                 "needs at least one sample", a->opt.schedule_file, s.microbatches, a->opt.batch);
        rc = -1;
    } else if (rc == 0 && a->opt.fault_device >= s.devices) {
        snprintf(err, errlen, "--inject-fault device=%d, but %s has %d devices",
                 a->opt.fault_device, a->opt.schedule_file, s.devices);
        rc = -1;
    }
    pl_schedule_free(&s);
    return rc;
}

int pl_cli_run(pl_args *a, pl_cli_runner *run, void *ctx)
{
    char err[1024];
    if (a->opt.clock != PL_CLOCK_VIRTUAL && a->opt.steps > 1 && isatty(STDERR_FILENO))
        a->opt.on_step = progress;
    if (a->opt.schedule_file && pl_cli_check_file(a, err, sizeof err))
        return pl_cli_fail(err);
    pl_outputs files;
    if (pl_outputs_open(&files, a->trace, a->svg, a->opt.schedule_file, err, sizeof err))
        return pl_cli_fail(err);
    pl_experiment x;
    int rc = run(ctx, &a->opt, &x, err, sizeof err);
    if (rc) {
        char ignored[8];
        pl_outputs_finish(&files, NULL, 0, 0, ignored, sizeof ignored);
        pl_experiment_free(&x);
        fprintf(stderr, "pipelab: %s\n", err);
        return rc == PL_EXPERIMENT_REFUSED ? 2 : 1;
    }
    pl_summary_show_steps(&x, a->show_all);
    if (a->json)
        pl_experiment_json(&x, stdout);
    else
        pl_summary_print(&x, pl_cli_colour(), stdout);
    pl_summary_warnings(&x, stderr);
    /* The files are moved into place only once everything else succeeded:
     * the run, --verify, and standard output. */
    int ok = 1;
    if (a->opt.verify && !x.bitwise_equal) {
        fprintf(stderr, "pipelab: --verify: the trained weights differ from the sequential "
                "reference's (max |diff| %.3g)\n", x.max_abs_diff);
        ok = 0;
    } else if (a->opt.verify && x.threads_checked && !x.threads_equal) {
        fprintf(stderr, "pipelab: --verify: the processes' run differs from the device "
                "threads'\n");
        ok = 0;
    }
    if (pl_output_stdout(err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        ok = 0;
    }
    const pl_trace *t = &x.result.trace;
    if (pl_outputs_finish(&files, &t, 1, ok, err, sizeof err) && ok) {
        fprintf(stderr, "pipelab: %s\n", err);
        ok = 0;
    }
    pl_experiment_free(&x);
    return ok ? 0 : 1;
}

