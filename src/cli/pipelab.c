/*
 * pipelab -- run, show, check, compare and sweep pipeline schedules.
 * `pipelab --help` says how; DESIGN 3.1 is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "output.h"
#include "validate.h"

static const char usage[] =
    "usage: pipelab COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run      --schedule NAME   run one schedule and measure it\n"
    "  compare                    every built-in schedule side by side\n"
    "  show     --schedule NAME   print the schedule in the text format\n"
    "  check    FILE              validate a schedule file\n"
    "  sweep    [--over m|p]      bubble against m (or p), measured beside theory\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --schedule NAME        naive, microbatch, gpipe, 1f1b [1f1b]\n"
    "  --schedule-file FILE   run a schedule written in the text format\n"
    "  --devices P            simulated devices [4]\n"
    "  --microbatches M       micro-batches per step [8; naive always 1]\n"
    "  --layers L             layers of the MLP [8]\n"
    "  --width D              features per layer [32]\n"
    "  --batch B              samples per step [32]\n"
    "  --steps N              training steps [2]\n"
    "  --seed S               data and weight seed [1]\n"
    "  --cost uniform|flops   cost model [uniform: t_F = t_I = t_W = 1 ms]\n"
    "  --flops X              device speed for --cost flops, FLOP/s [1e9]\n"
    "  --clock virtual|scaled|real   how devices keep time [virtual]\n"
    "  --scale X              scaled clock: host time per modelled time [1]\n"
    "  --simulate             predict with the simulator instead of threads\n"
    "  --verify               compare the weights with the sequential reference\n"
    "  --recompute            keep stage inputs only; recompute before backward\n"
    "  --device-memory BYTES  activation memory each device may hold\n"
    "  --inject-fault device=D,action=K   make device D fail at its K-th action\n"
    "  --watchdog SECONDS     stop if no device progresses this long\n"
    "                         [auto: 5 s beyond the longest action]\n"
    "  --json                 one JSON summary line on stdout\n"
    "  --trace FILE.json      Chrome trace (Perfetto, chrome://tracing): run, compare\n"
    "  --svg FILE.svg         SVG timeline (run, compare) or bubble plot (sweep)\n"
    "  --help                 this text\n"
    "\n"
    "exit status: 0 success; 1 the run failed (a device failed or ran out of\n"
    "memory, verify found a difference, check found the schedule invalid);\n"
    "2 bad input (an option, a value, an unreadable or invalid schedule file)\n";

static int fail(const char *msg)
{
    fprintf(stderr, "pipelab: %s\n", msg);
    return 2;
}

static int colour(void)
{
    const char *t = getenv("TERM");
    return isatty(STDOUT_FILENO) && t && strcmp(t, "dumb") != 0 && !getenv("NO_COLOR");
}

static void print_theory(const pl_experiment *x)
{
    if (x->bubble_theory < 0)
        printf("bubble     %.4f\n", x->bubble);
    else
        printf("bubble     %.4f   theory %.4f\n", x->bubble, x->bubble_theory);
}

static void print_run(const pl_experiment *x)
{
    const pl_trace *t = &x->result.trace;
    printf("%s: p = %d, m = %d, %s clock, %s\n", x->name,
           x->schedule.devices, x->schedule.microbatches, pl_clock_name(x->opt.clock),
           x->opt.simulate ? "simulator" : "device threads");
    pl_timeline_print(t, t->steps - 1, 100, colour(), stdout);
    printf("makespan   %.3f ms\n", (double)x->makespan / 1e6);
    print_theory(x);
    printf("in-flight  ");
    for (int d = 0; d < t->devices; d++)
        printf("d%d:%d ", d, t->lanes[d].peak_inflight);
    printf("(peak micro-batches held)\nactivation ");
    for (int d = 0; d < t->devices; d++)
        printf("d%d:%.1fKiB ", d, (double)t->lanes[d].peak_bytes / 1024.0);
    printf("(peak)\n");
    if (x->result.loss) {
        printf("loss       ");
        for (int k = 0; k < x->result.steps; k++)
            printf("%.6f ", (double)x->result.loss[k]);
        printf("\n");
    }
    if (x->opt.verify && !x->opt.simulate)
        printf("verify     %s (max |diff| %.3g)\n",
               x->bitwise_equal ? "bitwise equal to the sequential reference"
                                : "DIFFERS from the sequential reference",
               x->max_abs_diff);
}

/* Progress on a terminal, for runs long enough to wait for. */
static void progress(void *ctx, int done, int steps)
{
    (void)ctx;
    fprintf(stderr, "\rpipelab: step %d of %d%s", done, steps, done == steps ? "\n" : "");
}

static int cmd_run(pl_args *a)
{
    if (a->opt.clock != PL_CLOCK_VIRTUAL && a->opt.steps > 1 && isatty(STDERR_FILENO))
        a->opt.on_step = progress;
    char err[1024];
    const pl_schedule_info *info = a->opt.schedule ? pl_schedule_find(a->opt.schedule) : NULL;
    if (info && info->fixed_microbatches && a->given_m && a->opt.microbatches != 1)
        return fail("--schedule naive runs the whole batch at once: --microbatches must be 1 "
                    "(the microbatch schedule splits it)");
    if (info && info->fixed_microbatches)
        a->opt.microbatches = 1;
    pl_outputs files;
    if (pl_outputs_open(&files, a->trace, a->svg, err, sizeof err))
        return fail(err);
    if (a->opt.schedule_file) { /* a file that cannot run is bad input: exit 2 */
        pl_schedule s;
        if (pl_schedule_load(a->opt.schedule_file, &s, err, sizeof err))
            return fail(err);
        int bad = pl_validate(&s, NULL, err, sizeof err);
        pl_schedule_free(&s);
        if (bad)
            return fail(err);
    }
    pl_experiment x;
    int rc = pl_experiment_run(&a->opt, &x, err, sizeof err);
    if (rc) {
        char ignored[8];
        pl_outputs_finish(&files, &x, 1, 0, ignored, sizeof ignored);
        pl_experiment_free(&x);
        fprintf(stderr, "pipelab: %s\n", err);
        return 1;
    }
    if (a->json)
        pl_experiment_json(&x, stdout);
    else
        print_run(&x);
    int ok = !a->opt.verify || a->opt.simulate || x.bitwise_equal;
    if (pl_outputs_finish(&files, &x, 1, 1, err, sizeof err)) {
        fprintf(stderr, "pipelab: %s\n", err);
        ok = 0;
    }
    pl_experiment_free(&x);
    return ok ? 0 : 1;
}

static int cmd_show(pl_args *a)
{
    char err[1024];
    const pl_schedule_info *info = pl_schedule_find(a->opt.schedule);
    pl_schedule s;
    int m = info->fixed_microbatches ? 1 : a->opt.microbatches;
    if (info->generate(&s, a->opt.devices, m, err, sizeof err))
        return fail(err);
    pl_schedule_write(&s, stdout);
    pl_schedule_free(&s);
    return 0;
}

static int cmd_check(pl_args *a)
{
    char err[4096];
    if (!a->file)
        return fail("check needs a FILE: pipelab check FILE");
    pl_schedule s;
    if (pl_schedule_load(a->file, &s, err, sizeof err))
        return fail(err);
    pl_validation v;
    int rc = pl_validate(&s, &v, err, sizeof err);
    if (rc == 0) {
        printf("%s: valid: p = %d, m = %d, v = %d, %ld actions; "
               "peak in-flight", a->file, s.devices, s.microbatches, s.chunks,
               pl_schedule_total(&s));
        for (int d = 0; d < s.devices; d++)
            printf(" %d", v.peak_inflight[d]);
        printf("\n");
        pl_validation_free(&v);
    } else {
        fprintf(stderr, "pipelab: %s: invalid\n%s\n", a->file, err);
    }
    pl_schedule_free(&s);
    return rc ? 1 : 0;
}

int pl_cmd_compare(pl_args *a, int colour);
int pl_cmd_sweep(pl_args *a);

int main(int argc, char **argv)
{
    char err[1024];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    pl_args a;
    memset(&a, 0, sizeof a);
    pl_options_defaults(&a.opt);
    if (pl_args_parse(&a, argc, argv, 2, err, sizeof err))
        return fail(err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *cmd = argv[1];
    if (a.file && strcmp(cmd, "check"))
        return fail("unexpected argument (options start with --; see --help)");
    if ((a.trace || a.svg) && (!strcmp(cmd, "show") || !strcmp(cmd, "check")))
        return fail("--trace and --svg draw a run: use them with run, compare or sweep");
    if (a.trace && !strcmp(cmd, "sweep"))
        return fail("--trace records one run: use it with run or compare (sweep takes --svg)");
    if (!strcmp(cmd, "run"))
        return cmd_run(&a);
    if (!strcmp(cmd, "show"))
        return a.opt.schedule_file ? fail("show prints a built-in schedule: use --schedule NAME")
                                   : cmd_show(&a);
    if (!strcmp(cmd, "check"))
        return cmd_check(&a);
    if (!strcmp(cmd, "compare"))
        return pl_cmd_compare(&a, colour());
    if (!strcmp(cmd, "sweep"))
        return pl_cmd_sweep(&a);
    snprintf(err, sizeof err, "unknown command '%s' (run, compare, show, check, sweep)", cmd);
    return fail(err);
}
