/*
 * ch04.c -- grades exercise 04: 1F1B under a memory cap of K micro-batches
 * per device. Part 1, the bubble derived (the registry's formula for 1f1b,
 * your fragment), against the runs it predicts; part 2, a schedule written
 * by hand for p = 4, m = 6, K = 2 that beats the capped 1F1B.
 */
#include <math.h>

#include "check.h"
#include "validate.h"

/* The capped 1F1B measured: makespan over T = t_F + t_B, and its bubble. */
typedef struct {
    double steps, bubble, formula;
    char note[256];
} measured;

static measured run_capped(int p, int m, int k, double tf, double ti, double tw)
{
    pl_options o = small_run("1f1b", p, m);
    o.max_inflight = k;
    o.t_f = tf, o.t_i = ti, o.t_w = tw;
    pl_experiment x;
    ex_run(&o, &x);
    measured r = {x.makespan_ns / ((tf + ti + tw) * PL_COST_UNIT), x.bubble, x.bubble_theory, ""};
    snprintf(r.note, sizeof r.note, "%s", x.theory_note);
    pl_experiment_free(&x);
    return r;
}

/* Your formula, called directly: the registry's entry for 1f1b. */
static double yours(int p, int m, int k)
{
    const char *why = NULL;
    pl_formula_case c = {p, m, 1, 1, 1, 1, k};
    return pl_registry_find("1f1b")->bubble(&c, &why);
}

/* Typical wrong formulas, as makespans in steps of T = t_F + t_B. */
static double wrong_steps(int which, int p, int m, int k)
{
    switch (which) {
    case 0: return m + p - 1;                                /* the cap ignored */
    case 1: return p + (m - 1) * (double)p / k;              /* device 0's round trip */
    case 2: return (double)k + p - 1 + (double)(m - k) * (p - k);     /* one short */
    case 3: return (double)k + p - 1 + (double)(m - k) * (p - k + 2); /* one too many */
    default: return (double)m * p;                           /* one at a time */
    }
}

static const char *const wrong_hint[] = {
    "the cap changes nothing in your formula: with K < p, a device can start a micro-batch "
    "only when one it holds comes back",
    "that is device 0's round trip shared by K micro-batches, the bound the capped warm-up "
    "does not reach: follow the waits through every device whose warm-up the cap cut",
    "one stage short: count the devices whose warm-up the cap cut, and the one after them",
    "one stage too many: count again the devices each later micro-batch waits on",
    "that is one micro-batch in flight (chapter 02): with K > 1, the first K micro-batches "
    "go through together",
};

/* The wrong formula yours equals wherever the cap binds, if one does. */
static const char *formula_mistake(void)
{
    for (int w = 0; w < 5; w++) {
        int same = 1;
        for (int p = 2; p <= 6 && same; p++)
            for (int k = 1; k < p && same; k++)
                for (int m = k + 1; m <= 12 && same; m++)
                    same = fabs(yours(p, m, k) - (1.0 - m / wrong_steps(w, p, m, k))) < 1e-9;
        if (same)
            return wrong_hint[w];
    }
    return "the formula differs from what the runs measure: derive the makespan as chapter 04 "
           "does, from the chain of actions that wait for each other";
}

static void formula_for(int p, int m, int k, double tf, double ti, double tw)
{
    ex_case("pipelab run --schedule 1f1b --devices %d --microbatches %d --max-inflight %d "
            "--costs %g,%g,%g", p, m, k, tf, ti, tw);
    measured r = run_capped(p, m, k, tf, ti, tw);
    if (r.formula < 0)
        ex_fail("your formula gave no value here (or the run refused it)",
                ex_str("bubble %.6f, measured", r.bubble),
                ex_str("no formula: %s", r.note));
    if (fabs(r.formula - r.bubble) > 1e-9)
        ex_fail(formula_mistake(),
                ex_str("bubble %.6f (makespan %g (t_F + t_B)), measured", r.bubble, r.steps),
                ex_str("your formula: %.6f", r.formula));
}

static void without_a_cap(void)
{
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 10; m++)
            for (int k = 0; k <= p + 1; k += (k == 0 ? p : 1))
                formula_for(p, m, k, 1, 1, 1);
}

static void with_a_cap(void)
{
    for (int p = 2; p <= 6; p++)
        for (int k = 1; k < p; k++)
            for (int m = 1; m <= 12; m++)
                formula_for(p, m, k, 1, 1, 1);
}

static void other_costs(void)
{
    static const double c[][3] = {{2, 2, 1}, {1, 2, 2}, {3, 1, 1}};
    for (int i = 0; i < 3; i++)
        for (int p = 3; p <= 5; p++)
            for (int k = 1; k < p; k++)
                formula_for(p, 9, k, c[i][0], c[i][1], c[i][2]);
}

/* ---- part 2: the schedule by hand ---- */

enum { P = 4, M = 6, K = 2 };

static void load(pl_schedule *s)
{
    const char *path = getenv("PL_EXERCISE_DATA");
    char err[1024];
    ex_case("%s", path && *path ? path : "(no schedule file given)");
    if (!path || !*path || pl_schedule_load(path, s, err, sizeof err))
        ex_fail("the schedule file does not parse: the validator's message says where",
                "a schedule in the text format (chapter 01)", err);
    if (s->devices != P || s->microbatches != M || s->chunks != 1)
        ex_fail("the task is p = 4 devices, m = 6 micro-batches, one chunk",
                "devices 4, microbatches 6, chunks 1",
                ex_str("devices %d, microbatches %d, chunks %d", s->devices, s->microbatches,
                       s->chunks));
}

static void schedule_is_valid_and_capped(void)
{
    pl_schedule s;
    load(&s);
    pl_validation v;
    char err[4096];
    if (pl_validate(&s, &v, err, sizeof err))
        ex_fail("the schedule is invalid: every device needs F and B of every micro-batch, F "
                "first, and no deadlock", "valid", err);
    for (int d = 0; d < P; d++)
        if (v.peak_inflight[d] > K)
            ex_fail("a device holds more than 2 micro-batches: count its forwards whose "
                    "backward has not run yet",
                    ex_str("d%d holds at most %d", d, K),
                    ex_str("d%d holds %d at once", d, v.peak_inflight[d]));
    pl_validation_free(&v);
    pl_schedule_free(&s);
}

static void schedule_meets_the_target(void)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule_file = getenv("PL_EXERCISE_DATA");
    o.batch = 24; /* m = 6 divides it: equal micro-batches */
    o.steps = 1;
    o.verify = 1;
    ex_case("pipelab run --schedule-file %s --batch 24 --steps 1 --verify",
            o.schedule_file ? o.schedule_file : "(none)");
    pl_experiment x;
    ex_run(&o, &x);
    double ms = x.makespan_ns / 1e6;
    int peak = 0;
    for (int d = 0; d < P; d++)
        peak = x.result.trace.lanes[d].peak_inflight > peak ? x.result.trace.lanes[d].peak_inflight
                                                             : peak;
    if (ms > 42.0 + 1e-9)
        ex_fail(ms == 51.0 ? "that is the capped 1F1B of the chapter (51 ms): its warm-ups hold "
                             "a second micro-batch on devices that gain nothing by it -- which "
                             "devices need two?"
                : ms == 72.0 ? "one micro-batch at a time, as chapter 02: let device 0 hold "
                               "two, and start the second early"
                             : "faster is possible: device 0 can hold only 2 of the 6, and "
                               "each spends 12 ms on its round trip -- keep device 0 busy "
                               "with the other micro-batch meanwhile",
                "42 ms or less, at most 2 micro-batches in flight",
                ex_str("%.3f ms (at most %d in flight)", ms, peak));
    if (!x.bitwise_equal)
        ex_fail("the weights differ from the reference's: on each device, the backwards must "
                "run in increasing micro-batch order",
                "bitwise equal to the sequential reference",
                ex_str("max |diff| %g", x.max_abs_diff));
    pl_experiment_free(&x);
}

static const ex_check checks[] = {
    {"formula-without-a-cap", without_a_cap, 60, NULL},
    {"formula-with-a-cap", with_a_cap, 120, NULL},
    {"formula-on-other-costs", other_costs, 60, NULL},
    {"schedule-is-valid-and-capped", schedule_is_valid_and_capped, 10, NULL},
    {"schedule-takes-42-ms-and-trains-bitwise", schedule_meets_the_target, 30, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
