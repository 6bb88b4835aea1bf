/*
 * ch03.c -- grades exercise 03: the memory accounting of recomputation, the
 * rule (pl_memory_stash_delta) by which the simulator predicts the bytes a
 * device holds and the runtime checks its memory budget.
 *
 * The truth is what the threads hold: the runtime measures the bytes of
 * every stash after every action (pl_stage_held), whatever the rule says.
 * The simulator, which knows only the rule, must predict the same bytes
 * after every action on every device; and a device given exactly its peak
 * must fit, while one byte less must fail at the action that needs it.
 */
#include "check.h"
#include "stage.h"

/* Run o on the threads and on the simulator; the first event where the
 * bytes held differ fails the check, named by its action. */
static void expect_bytes_predicted(pl_options o)
{
    pl_experiment threads, sim;
    o.simulate = 0;
    ex_run(&o, &threads);
    o.simulate = 1;
    ex_run(&o, &sim);
    for (int d = 0; d < o.devices; d++) {
        const pl_lane *t = &threads.result.trace.lanes[d], *s = &sim.result.trace.lanes[d];
        for (long i = 0; i < t->len && i < s->len; i++) {
            const pl_event *a = &t->events[i], *b = &s->events[i];
            if (a->held == b->held)
                continue;
            pl_kind k = (pl_kind)a->kind;
            char name[32];
            pl_action act = {k == PL_R ? PL_B : k, a->mb, a->chunk};
            pl_schedule_format(&threads.schedule, act, name, sizeof name);
            int64_t before = i ? t->events[i - 1].held : 0, step = a->held - before;
            int64_t pstep = b->held - (i ? s->events[i - 1].held : 0);
            const char *hint =
                k == PL_R ? "R rebuilds the activations F dropped, and they stay until the "
                            "backward frees them: R adds the full stash less what F kept"
                : k == PL_F && o.recompute
                    ? "under recomputation F keeps only the stage input "
                      "(pl_stage_stash_bytes says how many bytes that is)"
                : k == PL_F ? "F stashes the stage input and every layer's output"
                : k == PL_B ? "B frees the whole stash: everything F kept and R rebuilt"
                            : "the bytes after this action are wrong";
            ex_fail(hint,
                    ex_str("d%d after %s%s (event %ld of its trace, R included): %lld bytes "
                           "held, a change of %+lld", d, k == PL_R ? "the R before " : "", name,
                           i, (long long)a->held, (long long)step),
                    ex_str("predicted %lld bytes, a change of %+lld", (long long)b->held,
                           (long long)pstep));
        }
        if (t->peak_bytes != threads.prediction.trace.lanes[d].peak_bytes)
            ex_fail("the predicted peak differs from the measured one",
                    ex_str("d%d peak %zu bytes", d, t->peak_bytes),
                    ex_str("predicted %zu", threads.prediction.trace.lanes[d].peak_bytes));
    }
    pl_experiment_free(&threads);
    pl_experiment_free(&sim);
}

static pl_options run_of(const char *schedule, int p, int m, int batch, int recompute)
{
    pl_options o = small_run(schedule, p, m);
    o.layers = 2 * p; /* two layers a stage: recomputation saves something */
    o.batch = batch;
    o.recompute = recompute;
    return o;
}

static void without_recomputation(void)
{
    ex_case("pipelab run --schedule gpipe --devices 4 --microbatches 8 --layers 8 --batch 16");
    expect_bytes_predicted(run_of("gpipe", 4, 8, 16, 0));
    ex_case("pipelab run --schedule 1f1b --devices 3 --microbatches 5 --layers 6 --batch 10");
    expect_bytes_predicted(run_of("1f1b", 3, 5, 10, 0));
}

static void gpipe_with_recomputation(void)
{
    ex_case("pipelab run --schedule gpipe --devices 4 --microbatches 8 --layers 8 --batch 16 "
            "--recompute");
    expect_bytes_predicted(run_of("gpipe", 4, 8, 16, 1));
}

/* Chapter 03's figure: 7 stage inputs and one full stash, 5120 bytes. */
static void the_chapters_peak(void)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = "gpipe";
    o.devices = 4;
    o.microbatches = 8;
    o.recompute = 1;
    o.steps = 1;
    ex_case("pipelab run --schedule gpipe --devices 4 --microbatches 8 --recompute");
    pl_experiment x;
    ex_run(&o, &x);
    for (int d = 0; d < 4; d++)
        if (x.prediction.trace.lanes[d].peak_bytes != 5120)
            ex_fail(x.prediction.trace.lanes[d].peak_bytes < 5120
                        ? "the prediction is below the chapter's 5120 bytes: at the first "
                          "recomputation a device holds every micro-batch's input and one "
                          "micro-batch's rebuilt activations"
                        : "the prediction is above the chapter's 5120 bytes: under "
                          "recomputation F keeps the stage input only, and B frees what R "
                          "rebuilt",
                    ex_str("d%d: 5120 bytes = 7 x 512 (inputs) + 1536 (one full stash)", d),
                    ex_str("d%d: %zu bytes predicted (%zu measured)", d,
                           x.prediction.trace.lanes[d].peak_bytes,
                           x.result.trace.lanes[d].peak_bytes));
    pl_experiment_free(&x);
}

/* Micro-batches of two sizes, and the other schedules of the course. */
static void uneven_and_other_schedules(void)
{
    static const struct {
        const char *name;
        int p, m, batch;
    } runs[] = {{"1f1b", 4, 8, 30}, {"gpipe", 3, 5, 13}, {"interleaved", 2, 4, 9},
                {"zb-h1", 3, 6, 20}, {"microbatch", 2, 3, 7}};
    for (int r = 0; r < 5; r++) {
        pl_options o = run_of(runs[r].name, runs[r].p, runs[r].m, runs[r].batch, 1);
        if (!strcmp(runs[r].name, "interleaved"))
            o.layers = 8;
        ex_case("pipelab run --schedule %s --devices %d --microbatches %d --batch %d "
                "--layers %d --recompute", runs[r].name, runs[r].p, runs[r].m, runs[r].batch,
                o.layers);
        expect_bytes_predicted(o);
    }
}

/* The budget: the runtime checks each action's bytes, by the rule, before
 * running it. Exactly the peak fits; one byte less fails, at the action
 * that would go over it. */
static void the_budget(void)
{
    pl_options o = run_of("1f1b", 4, 8, 16, 1);
    ex_case("pipelab run --schedule 1f1b --devices 4 --microbatches 8 --layers 8 --batch 16 "
            "--recompute, then with --device-memory at its peak");
    pl_experiment x;
    ex_run(&o, &x);
    size_t peak = pl_experiment_peak_memory(&x);
    pl_experiment_free(&x);
    o.device_memory = peak;
    char err[1024] = "";
    if (pl_experiment_run(&o, &x, err, sizeof err))
        ex_fail("a budget of exactly the peak was refused: the check before an action asks "
                "your rule for that action's bytes -- too many for one of them?",
                ex_str("--device-memory %zu: the run fits", peak), err);
    pl_experiment_free(&x);
    o.device_memory = peak - 1;
    int rc = pl_experiment_run(&o, &x, err, sizeof err);
    size_t held = rc == 0 ? pl_experiment_peak_memory(&x) : 0;
    pl_experiment_free(&x);
    if (rc == 0)
        ex_fail("the devices went over their budget without failing: the check before an "
                "action asks your rule for that action's bytes -- too few for one of them "
                "(R?)",
                ex_str("--device-memory %zu: d0 out of memory at an action", peak - 1),
                ex_str("it ran, holding %zu bytes", held));
    if (!strstr(err, "out of memory") || !strstr(err, "activations"))
        ex_fail("the run failed, but not on its activations",
                ex_str("--device-memory %zu: dD out of memory at ...: needs N bytes of "
                       "activations", peak - 1),
                err);
}

static const ex_check checks[] = {
    {"bytes-without-recomputation", without_recomputation, 30, NULL},
    {"bytes-with-recomputation", gpipe_with_recomputation, 30, NULL},
    {"the-chapters-5120-bytes", the_chapters_peak, 30, NULL},
    {"uneven-micro-batches-and-other-schedules", uneven_and_other_schedules, 60, NULL},
    {"a-budget-of-exactly-the-peak", the_budget, 30, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
