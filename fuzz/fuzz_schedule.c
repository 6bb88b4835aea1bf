/*
 * fuzz_schedule.c -- the schedule parser and validator under libFuzzer.
 *
 * Any bytes go in. What must hold for every input, or the fuzzer stops:
 *  - the parser returns 0, or -1 with "line L, column C: ..." in err;
 *  - a parsed schedule survives a round trip: write, parse, same schedule;
 *  - the validator returns 0, or -1 with a message;
 *  - a valid schedule's order lists every action once, each after its
 *    device's previous action, and its peak in-flight is within 0..m*v;
 *  - a small valid schedule runs in the simulator without error.
 * Plus, from the sanitizers: no crash, no leak, no undefined behaviour.
 *
 * `make fuzz` builds it with -fsanitize=fuzzer; tests/test_fuzz_regressions.c
 * includes this file (with PL_FUZZ_NO_ENTRY) and replays what fuzzing found.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "schedule.h"
#include "simulate.h"
#include "validate.h"

/* A broken property: say which, and abort so the fuzzer keeps the input. */
#define PL_FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "fuzz_schedule: %s:%d: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

static int same_schedule(const pl_schedule *a, const pl_schedule *b)
{
    if (a->devices != b->devices || a->microbatches != b->microbatches ||
        a->chunks != b->chunks)
        return 0;
    for (int d = 0; d < a->devices; d++) {
        if (a->len[d] != b->len[d])
            return 0;
        for (int i = 0; i < a->len[d]; i++)
            if (a->actions[d][i].kind != b->actions[d][i].kind ||
                a->actions[d][i].mb != b->actions[d][i].mb ||
                a->actions[d][i].chunk != b->actions[d][i].chunk)
                return 0;
    }
    return 1;
}

static void round_trip(const pl_schedule *s)
{
    char *text = NULL, err[512];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    PL_FUZZ_CHECK(f, "open_memstream");
    pl_schedule_write(s, f);
    fclose(f);
    pl_schedule back;
    int rc = pl_schedule_parse(text, &back, err, sizeof err);
    PL_FUZZ_CHECK(rc == 0, "the written schedule does not parse: %s\n%s", err, text);
    PL_FUZZ_CHECK(same_schedule(s, &back), "the round trip changed the schedule:\n%s", text);
    pl_schedule_free(&back);
    free(text);
}

static void check_valid(const pl_schedule *s, const pl_validation *v)
{
    long total = pl_schedule_total(s);
    PL_FUZZ_CHECK(v->n_order == total, "order has %ld of %ld actions", v->n_order, total);
    int *next = calloc((size_t)s->devices, sizeof *next);
    PL_FUZZ_CHECK(next, "out of memory");
    for (long k = 0; k < total; k++) {
        pl_slot at = v->order[k];
        PL_FUZZ_CHECK(at.device >= 0 && at.device < s->devices, "order: device %d", at.device);
        PL_FUZZ_CHECK(at.index == next[at.device], "order: d%d position %d before %d",
                      at.device, at.index, next[at.device]);
        next[at.device]++;
    }
    for (int d = 0; d < s->devices; d++) {
        PL_FUZZ_CHECK(next[d] == s->len[d], "order misses actions of d%d", d);
        PL_FUZZ_CHECK(v->peak_inflight[d] >= 0 &&
                          v->peak_inflight[d] <= s->microbatches * s->chunks,
                      "d%d peak in flight %d", d, v->peak_inflight[d]);
    }
    free(next);
}

/* A valid schedule small enough to run: the simulator must accept it. */
static void simulate_small(const pl_schedule *s)
{
    int stages = pl_schedule_stages(s);
    if (stages > 16 || s->microbatches > 32 || pl_schedule_total(s) > 4096)
        return;
    char err[512];
    pl_model model;
    pl_partition part;
    PL_FUZZ_CHECK(pl_model_init(&model, stages, 2, 1) == 0, "model");
    PL_FUZZ_CHECK(pl_partition_even(&part, stages, stages, err, sizeof err) == 0, "%s", err);
    pl_options o;
    pl_options_defaults(&o);
    o.batch = s->microbatches;
    o.layers = stages;
    pl_job job = {&o, &model, &part, s,
                  pl_cost_uniform(PL_COST_UNIT, PL_COST_UNIT, PL_COST_UNIT, stages, 2, s->devices,
                                  o.batch, s->microbatches), NULL};
    pl_result r;
    int rc = pl_simulate(&job, &r, err, sizeof err);
    PL_FUZZ_CHECK(rc == 0, "a valid schedule does not simulate: %s", err);
    pl_result_free(&r);
    pl_partition_free(&part);
    pl_model_free(&model);
}

/* Everything one input must satisfy. Returns 0 (libFuzzer's convention). */
int pl_fuzz_schedule(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[4096];
    PL_FUZZ_CHECK(text, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0'; /* the parser reads up to the first NUL, like a C string */
    pl_schedule s;
    err[0] = '\0';
    int rc = pl_schedule_parse(text, &s, err, sizeof err);
    free(text);
    if (rc != 0) {
        PL_FUZZ_CHECK(rc == -1 && !strncmp(err, "line ", 5), "parse: rc %d, err '%s'", rc, err);
        PL_FUZZ_CHECK(s.actions == NULL && s.devices == 0, "a failed parse left a schedule");
        return 0;
    }
    round_trip(&s);
    pl_validation v;
    err[0] = '\0';
    rc = pl_validate(&s, &v, err, sizeof err);
    if (rc == 0) {
        check_valid(&s, &v);
        pl_validation_free(&v);
        simulate_small(&s);
    } else {
        PL_FUZZ_CHECK(rc == -1 && err[0] != '\0', "validate: rc %d, empty message", rc);
    }
    pl_schedule_free(&s);
    return 0;
}

#ifndef PL_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pl_fuzz_schedule(data, size);
}
#endif
