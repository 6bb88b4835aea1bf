/*
 * ch06.c -- grades exercise 06: chapter 06's zero-bubble idea applied to
 * chapter 05's schedule. Interleaved 1F1B, p = 3, v = 2, m = 6, with its
 * backwards split into I and W and placed by hand so that every device
 * idles (p-1) t_f of a chunk: 1 ms, against interleaved 1F1B's 3.
 */
#include "check.h"
#include "validate.h"

enum { P = 3, V = 2, M = 6, LAYERS = 12, BATCH = 12 };

static void load(pl_schedule *s)
{
    const char *path = getenv("PL_EXERCISE_DATA");
    char err[1024];
    ex_case("%s", path && *path ? path : "(no schedule file given)");
    if (!path || !*path || pl_schedule_load(path, s, err, sizeof err))
        ex_fail("the schedule file does not parse: the message says where",
                "a schedule in the text format (chapter 01)", err);
    if (s->devices != P || s->microbatches != M || s->chunks != V ||
        s->placement != PL_PLACE_LOOP)
        ex_fail("the task is p = 3 devices, m = 6 micro-batches, v = 2 chunks in the loop "
                "placement",
                "devices 3, microbatches 6, chunks 2, placement loop",
                ex_str("devices %d, microbatches %d, chunks %d, placement %s", s->devices,
                       s->microbatches, s->chunks, pl_route_placement_name(s->placement)));
}

static void valid(void)
{
    pl_schedule s;
    load(&s);
    char err[4096];
    if (pl_validate(&s, NULL, err, sizeof err))
        ex_fail(strstr(err, "deadlock")
                    ? "it deadlocks: an I sends its gradient upstream, so an I must run before "
                      "the upstream backward that waits for it"
                    : "every chunk of every micro-batch needs F, then either B or I then W, on "
                      "each device",
                "valid", err);
    pl_schedule_free(&s);
}

/* How the learner's lists place their Ws: all after the last I, or each
 * right after its own I. */
static int every_w_last(const pl_schedule *s)
{
    for (int d = 0; d < s->devices; d++) {
        int seen_w = 0;
        for (int i = 0; i < s->len[d]; i++) {
            seen_w |= s->actions[d][i].kind == PL_W;
            if (seen_w && s->actions[d][i].kind != PL_W)
                return 0;
        }
    }
    return 1;
}

static int every_w_at_once(const pl_schedule *s)
{
    for (int d = 0; d < s->devices; d++)
        for (int i = 0; i < s->len[d]; i++)
            if (s->actions[d][i].kind == PL_I &&
                (i + 1 == s->len[d] || s->actions[d][i + 1].kind != PL_W ||
                 s->actions[d][i + 1].mb != s->actions[d][i].mb))
                return 0;
    return 1;
}

static int has_b(const pl_schedule *s)
{
    for (int d = 0; d < s->devices; d++)
        for (int i = 0; i < s->len[d]; i++)
            if (s->actions[d][i].kind == PL_B)
                return 1;
    return 0;
}

static void idle_per_device(void)
{
    pl_schedule s;
    load(&s);
    pl_options o;
    pl_options_defaults(&o);
    o.schedule_file = getenv("PL_EXERCISE_DATA");
    o.layers = LAYERS;
    o.batch = BATCH;
    o.steps = 1;
    ex_case("pipelab run --schedule-file %s --layers 12 --batch 12 --steps 1", o.schedule_file);
    pl_experiment x;
    ex_run(&o, &x);
    pl_metrics met;
    pl_metrics_compute(&x.result.trace, x.step, &met);
    char *idle = ex_str("");
    int over = 0;
    for (int d = 0; d < P; d++) {
        int64_t i = met.makespan - met.busy[d];
        idle = ex_str("%s%sd%d %.3f", idle, d ? ", " : "", d, (double)i / 1e6);
        over |= i != 1000000;
    }
    double ms = x.makespan_ns / 1e6;
    if (over)
        ex_fail(ms == 21.0 && has_b(&s)
                    ? "that is interleaved 1F1B's idle time, (p-1)(t_f + t_b) of a chunk: split "
                      "the backwards into I and W"
                : every_w_at_once(&s)
                    ? "each W right after its I: splitting alone sends the gradient up t_w "
                      "sooner per stage -- now defer the Ws, as ZB-H1 does"
                : every_w_last(&s)
                    ? "every W at the very end: the last device's Ws then delay the gradient "
                      "the devices before it wait for -- how long does ZB-H1 make a W wait, "
                      "device by device?"
                    : "a device still idles more than (p-1) t_f: compare your timeline with "
                      "ZB-H1's rule, applied to each device's order of chunk-actions",
                "every device idles 1.000 ms: (p-1) t_f, a chunk's forward being 0.5 ms; a "
                "makespan of 19 ms",
                ex_str("idle ms %s; a makespan of %.3f ms", idle, ms));
    pl_metrics_free(&met);
    pl_experiment_free(&x);
    pl_schedule_free(&s);
}

static void bitwise(void)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule_file = getenv("PL_EXERCISE_DATA");
    o.layers = LAYERS;
    o.batch = BATCH;
    o.steps = 2;
    o.verify = 1;
    ex_case("pipelab run --schedule-file %s --layers 12 --batch 12 --steps 2 --verify",
            o.schedule_file);
    pl_experiment x;
    ex_run(&o, &x);
    if (!x.bitwise_equal)
        ex_fail("the weights differ from the reference's: on each device, each chunk's "
                "weight-gradients (B or W) must come in increasing micro-batch order",
                "bitwise equal to the sequential reference",
                ex_str("max |diff| %g", x.max_abs_diff));
    pl_experiment_free(&x);
}

static const ex_check checks[] = {
    {"schedule-is-valid", valid, 10, NULL},
    {"every-device-idles-1-ms", idle_per_device, 30, NULL},
    {"weights-are-bitwise-the-references", bitwise, 30, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
