/*
 * fuzz_args.c -- the command line's option parser under libFuzzer.
 *
 * The input is a command line: arguments separated (or ended) by NUL bytes,
 * the first one the command. What must hold for every input, or the fuzzer stops:
 *  - the parser returns 0, or -1 with one line in err that starts with an
 *    option, a quoted argument or a word of the usage, and holds no control
 *    character (an echoed argument is escaped);
 *  - an accepted command line's values are in their documented ranges, and
 *    its cross-option rules hold: --flops only with --cost flops, --scale
 *    only with --clock scaled, --simulate without --verify, --inject-fault,
 *    --watchdog or (unless clipping) --seed, --blocking-send only on links
 *    that cost, --post-validation only with clipping, two output names;
 *  - a run it accepts is then either refused by pl_experiment_check, in one
 *    line, or checks -- without overflow in the estimates, which run under
 *    UBSan here.
 * Plus, from the sanitizers: no crash, no leak, no undefined behaviour.
 *
 * `make fuzz-args` builds and runs it (mk/fuzz.mk); tests/test_fuzz_args.c
 * includes this file (with PL_FUZZ_NO_ENTRY) and replays what fuzzing found.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "experiment.h"

#define PL_FUZZ_ARGS_CHECK(cond, ...)                                             \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "fuzz_args: %s:%d: ", __FILE__, __LINE__);            \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

enum { MAX_ARGS = 48 };

/* err is one printable line. */
static void one_line(const char *err)
{
    PL_FUZZ_ARGS_CHECK(err[0] != '\0', "an empty message");
    for (const unsigned char *c = (const unsigned char *)err; *c; c++)
        PL_FUZZ_ARGS_CHECK(*c >= 0x20 && *c != 0x7f, "a control character in: %s", err);
}

/* What an accepted command line promises. */
static void accepted(const pl_args *a)
{
    const pl_options *o = &a->opt;
    PL_FUZZ_ARGS_CHECK(a->command >= PL_CMD_RUN && a->command <= PL_CMD_PLAN, "command");
    if (a->help)
        return;
    PL_FUZZ_ARGS_CHECK(o->devices >= 1 && o->devices <= 1024, "devices %d", o->devices);
    PL_FUZZ_ARGS_CHECK(o->microbatches >= 1 && o->microbatches <= 1 << 16, "m %d",
                       o->microbatches);
    PL_FUZZ_ARGS_CHECK(o->chunks >= 0 && o->chunks <= 64, "chunks %d", o->chunks);
    PL_FUZZ_ARGS_CHECK(o->layers >= 1 && o->layers <= 4096, "layers %d", o->layers);
    PL_FUZZ_ARGS_CHECK(o->width >= 1 && o->width <= 4096, "width %d", o->width);
    PL_FUZZ_ARGS_CHECK(o->batch >= 1 && o->batch <= 1 << 20, "batch %d", o->batch);
    PL_FUZZ_ARGS_CHECK(o->steps >= 1 && o->steps <= 10000, "steps %d", o->steps);
    PL_FUZZ_ARGS_CHECK(isfinite(o->scale) && o->scale > 0 && o->scale <= 1e6, "scale %g",
                       o->scale);
    PL_FUZZ_ARGS_CHECK(isfinite(o->flops_per_s) && o->flops_per_s >= 1e6 &&
                       o->flops_per_s <= 1e18, "flops %g", o->flops_per_s);
    PL_FUZZ_ARGS_CHECK(o->watchdog_s == -1.0 || (o->watchdog_s > 0 && o->watchdog_s <= 1e6),
                       "watchdog %g", o->watchdog_s);
    PL_FUZZ_ARGS_CHECK(o->fault_device >= -1 && (o->fault_device < o->devices ||
                       o->schedule_file), "fault device %d", o->fault_device);
    PL_FUZZ_ARGS_CHECK(!pl_args_given(a, "--flops") || o->cost == PL_COST_FLOPS, "--flops");
    PL_FUZZ_ARGS_CHECK(!pl_args_given(a, "--scale") || o->clock == PL_CLOCK_SCALED, "--scale");
    PL_FUZZ_ARGS_CHECK(!o->simulate || (!o->verify && o->fault_device < 0 &&
                       !pl_args_given(a, "--watchdog") &&
                       (!pl_args_given(a, "--seed") || o->clip_norm > 0)),
                       "--simulate with what it ignores");
    PL_FUZZ_ARGS_CHECK(!o->blocking_send || o->link_latency_ms > 0 || o->link_bandwidth > 0,
                       "--blocking-send on free links");
    PL_FUZZ_ARGS_CHECK(!o->post_validation || o->clip_norm > 0, "--post-validation alone");
    PL_FUZZ_ARGS_CHECK(!a->trace || !a->svg || strcmp(a->trace, a->svg), "one output twice");
    PL_FUZZ_ARGS_CHECK(!o->schedule_file || !pl_args_given(a, "--schedule"), "two schedules");
}

/* Everything one input must satisfy. Returns 0 (libFuzzer's convention). */
int pl_fuzz_args(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2], err[1024];
    PL_FUZZ_ARGS_CHECK(text, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    argv[argc++] = "pipelab";
    for (size_t at = 0; at < size && argc <= MAX_ARGS; at += strlen(text + at) + 1)
        argv[argc++] = text + at;
    argv[argc] = NULL;
    pl_args a;
    memset(&a, 0, sizeof a);
    pl_options_defaults(&a.opt);
    err[0] = '\0';
    int rc = pl_args_parse(&a, argc, argv, err, sizeof err);
    if (rc != 0) {
        PL_FUZZ_ARGS_CHECK(rc == -1, "rc %d", rc);
        one_line(err);
    } else {
        accepted(&a);
        /* A run is checked, never run: its needs are estimated (and a
         * schedule file is read) exactly as before a real run. */
        if (!a.help && a.command == PL_CMD_RUN) {
            err[0] = '\0';
            rc = pl_experiment_check(&a.opt, err, sizeof err);
            PL_FUZZ_ARGS_CHECK(rc == 0 || rc == PL_EXPERIMENT_REFUSED, "check rc %d", rc);
            if (rc)
                PL_FUZZ_ARGS_CHECK(err[0], "refused without a message");
        }
    }
    free(text);
    return 0;
}

#ifndef PL_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pl_fuzz_args(data, size);
}
#endif
