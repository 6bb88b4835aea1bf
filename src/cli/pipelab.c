/*
 * pipelab -- run, show, check, compare and sweep pipeline schedules.
 * `pipelab --help` says how; docs/design.md is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "experiment.h"
#include "run.h"
#include "validate.h"

static const char usage_head[] =
    "usage: pipelab COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run      --schedule NAME   run one schedule and measure it\n"
    "  compare                    every schedule side by side\n"
    "  show     --schedule NAME   print the schedule in the text format\n"
    "  check    FILE              validate a schedule file\n"
    "  list                       the registered schedules, one per line\n"
    "  sweep    [--over m|p|v]    bubble against m (or p, or v), measured beside theory\n"
    "  partition                  each stage's layers, time and memory, by every method\n"
    "  plan     [--device-memory BYTES]   the fastest schedule, m, v and recomputation\n"
    "                             that fit the budget, searched with the simulator\n"
    "\n"
    "schedules:\n";

static const char usage_options[] =
    "\n"
    "options (defaults in brackets):\n"
    "  --schedule NAME        one of the schedules above [1f1b]\n"
    "  --schedule-file FILE   run a schedule written in the text format\n"
    "  --devices P            simulated devices [4]\n"
    "  --microbatches M       micro-batches per step [8; naive always 1]; plan: the\n"
    "                         largest m tried [the batch, at most 64]\n"
    "  --chunks V             model chunks per device, for the schedules that take them\n"
    "                         [2]; sweep --over v and plan: the largest v [4]\n"
    "  --layers L             layers of the MLP [8]\n"
    "  --width D              features per layer [32]\n"
    "  --widths W,W,...       each layer's output width (the input is as wide as the\n"
    "                         last); sets --layers\n"
    "  --model mlp|lm-like    lm-like: the last layer 4 x D wide, so the first and the\n"
    "                         last cost 4 middle layers each [mlp]\n"
    "  --partition even|balanced|N,N,...   layers per stage [even]; balanced: the\n"
    "                         slowest stage as fast as can be, under the cost model\n"
    "  --partition-by model|measured   what balanced balances: the cost model, or\n"
    "                         each layer timed on this host [model]\n"
    "  --batch B              samples per step [32]\n"
    "  --steps N              training steps [2]\n"
    "  --seed S               data and weight seed [1]\n"
    "  --momentum X           SGD momentum, 0 <= X < 1 (0: no optimizer state) [0]\n"
    "  --cost uniform|flops   cost model [uniform: 1 unit = 1 ms = the forward of L/p\n"
    "                         layers of width D on batch/m rows; t_F = t_I = t_W = 1]\n"
    "  --flops X              device speed for --cost flops, FLOP/s [1e9]\n"
    "  --costs F,I,W          --cost uniform: t_F, t_I, t_W in units [1,1,1]\n"
    "  --unit-m N             --cost uniform: a unit is the forward on batch/N rows\n"
    "                         [N = m; plan: 1, the whole batch, so that m compare]\n"
    "";

/* The rest of the options, and the exit status (ISO C caps a string literal
 * at 4095 characters). */
static const char usage_more[] =
    "  --clock virtual|scaled|real   how devices keep time [virtual]\n"
    "  --scale X              scaled clock: host time per modelled time [1]\n"
    "  --link-latency MS      every message between devices takes MS more [0]\n"
    "  --link-bandwidth B     ... and its bytes / B bytes per second [unlimited]\n"
    "  --blocking-send        a sender waits until its message has arrived\n"
    "  --warmup-extra K|auto  1f1b: K more warm-up forwards per link downstream; auto:\n"
    "                         enough to cover each link's round trip [0]\n"
    "  --simulate             predict with the simulator instead of threads\n"
    "  --verify               compare the weights with the sequential reference\n"
    "  --recompute            keep stage inputs only; recompute before backward\n"
    "  --step-sync global|local   end every step at a barrier, or let each device\n"
    "                         step its optimizer and go on alone [global]\n"
    "  --clip-grad-norm X     clip the gradients to global norm X (an all-reduce\n"
    "                         that every device waits for before its optimizer step)\n"
    "  --post-validation      with --clip-grad-norm: step at once, check the norm\n"
    "                         in the background, roll back and redo if it fails\n"
    "  --device-memory BYTES  memory each device may hold: parameters, gradients,\n"
    "                         optimizer state, activations, messages in transit\n"
    "  --inject-fault device=D,action=K[,stall]   make device D fail (or stall)\n"
    "                         at its K-th action of the run\n"
    "  --watchdog SECONDS     stop if no action completes while every device waits\n"
    "                         [auto: 5 s]\n"
    "  --json                 JSON on stdout: one line per run\n"
    "  --trace FILE.json      Chrome trace (Perfetto, chrome://tracing): run, compare\n"
    "  --svg FILE.svg         SVG timeline (run, compare) or bubble plot (sweep)\n"
    "  --show-steps all|median   the timelines draw every step, or the median one\n"
    "                         [median]\n"
    "  --help                 this text\n"
    "\n"
    "Every run prints three figures: measured; predicted (the simulator, same\n"
    "schedule and costs); and the chapter's formula where its assumptions hold.\n"
    "\n"
    "exit status: 0 success; 1 the run failed (a device failed or ran out of\n"
    "memory, verify found a difference, check found the schedule invalid, an\n"
    "output could not be written); 2 bad input (an option, a value, an unreadable\n"
    "or invalid schedule file)\n";

static int usage(FILE *out)
{
    fputs(usage_head, out);
    pl_cli_schedules(out);
    fputs(usage_options, out);
    fputs(usage_more, out);
    return 0;
}

static int cmd_show(pl_args *a)
{
    char err[1024];
    const pl_registry_entry *e = pl_registry_find(a->opt.schedule);
    pl_shape shape = pl_registry_shape(e, a->opt.devices, a->opt.microbatches, a->opt.chunks);
    shape.warmup_extra = a->opt.warmup_extra; /* 1f1b over slow links (chapter 07) */
    pl_schedule s;
    if (pl_registry_generate(e, &shape, &s, err, sizeof err))
        return pl_cli_fail(err);
    pl_schedule_write(&s, stdout);
    pl_schedule_free(&s);
    return pl_cli_flushed(0);
}

static int cmd_check(pl_args *a)
{
    char err[4096];
    if (!a->file)
        return pl_cli_fail("check needs a FILE: pipelab check FILE");
    pl_schedule s;
    if (pl_schedule_load(a->file, &s, err, sizeof err))
        return pl_cli_fail(err);
    pl_validation v;
    int rc = pl_validate(&s, &v, err, sizeof err);
    if (rc == 0) {
        printf("%s: valid: p = %d, m = %d, v = %d, placement %s, %ld actions; peak in-flight",
               a->file, s.devices, s.microbatches, s.chunks,
               pl_route_placement_name(s.placement), pl_schedule_total(&s));
        for (int d = 0; d < s.devices; d++)
            printf(" %d", v.peak_inflight[d]);
        printf("\n");
        pl_validation_free(&v);
    } else {
        fprintf(stderr, "pipelab: %s: invalid\n%s\n", a->file, err);
    }
    pl_schedule_free(&s);
    return pl_cli_flushed(rc ? 1 : 0);
}

/* Each registered schedule: name, chapter, placement, chunks and help on
 * one line (scripts such as the fuzz seeds read its first word), its
 * formula on the next. */
static int cmd_list(void)
{
    int n;
    const pl_registry_entry *e = pl_registry_list(&n);
    for (int i = 0; i < n; i++) {
        char chunks[16];
        if (e[i].chunks)
            snprintf(chunks, sizeof chunks, "v=%d", e[i].chunks);
        else
            snprintf(chunks, sizeof chunks, "v>=1");
        printf("%-12s ch%02d  %-4s  %-5s  %s\n%17sbubble %s\n", e[i].name, e[i].chapter,
               pl_route_placement_name(e[i].placement), chunks, e[i].help, "",
               e[i].bubble ? e[i].bubble_text : "(no closed form)");
    }
    return pl_cli_flushed(0);
}

int pl_cmd_compare(pl_args *a, int colour);
int pl_cmd_sweep(pl_args *a);
int pl_cmd_partition(pl_args *a);
int pl_cmd_plan(pl_args *a);

int main(int argc, char **argv)
{
    char err[1024];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : pl_cli_flushed(0);
    }
    pl_args a;
    memset(&a, 0, sizeof a);
    pl_options_defaults(&a.opt);
    if (pl_args_parse(&a, argc, argv, err, sizeof err))
        return pl_cli_fail(err);
    if (a.help) {
        usage(stdout);
        return pl_cli_flushed(0);
    }
    switch (a.command) {
    case PL_CMD_RUN: return pl_cli_run(&a, pl_cli_threads, NULL);
    case PL_CMD_SHOW: return cmd_show(&a);
    case PL_CMD_CHECK: return cmd_check(&a);
    case PL_CMD_LIST: return cmd_list();
    case PL_CMD_COMPARE: return pl_cli_flushed(pl_cmd_compare(&a, pl_cli_colour()));
    case PL_CMD_SWEEP: return pl_cli_flushed(pl_cmd_sweep(&a));
    case PL_CMD_PARTITION: return pl_cli_flushed(pl_cmd_partition(&a));
    case PL_CMD_PLAN: return pl_cli_flushed(pl_cmd_plan(&a));
    }
    return pl_cli_fail("unknown command");
}
