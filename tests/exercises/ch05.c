/*
 * ch05.c -- grades exercise 05: the bubble of looped BFS when there are
 * fewer micro-batches than devices (m < p), where chapter 05's formula does
 * not hold. Your formula (the registry's, your fragment) against the bubble
 * the threads measure, for every p, v and m < p, on three cost settings.
 */
#include <math.h>

#include "check.h"

/* Your formula, called directly, under uniform costs t_f = t_i = t_w = 1. */
static double yours(int p, int m, int v)
{
    const char *why = NULL;
    pl_formula_case c = {p, m, v, 1, 1, 1, 0};
    return pl_registry_find("looped-bfs")->bubble(&c, &why);
}

/* Typical wrong answers, as makespans in chunk steps of t_f + t_b. */
static double wrong_steps(int which, int p, int m, int v)
{
    switch (which) {
    case 0: return (double)v * m + p - 1;       /* the formula for m >= p */
    case 1: return (double)v * p + p - 1;       /* every chunk's fill as if m = p */
    default: return (double)v * (p + m - 1);    /* each chunk fills and drains alone */
    }
}

static const char *const wrong_hint[] = {
    "that is the formula for m >= p: with m < p, chunk c of micro-batch 0 comes back to "
    "device 0 after device 0 has run out of chunk c-1's forwards -- it waits",
    "the micro-batches after micro-batch 0 count as if there were p of them: they follow "
    "micro-batch 0 one step behind, however few they are",
    "each chunk fills and drains on its own in your formula: the forwards of chunk c follow "
    "micro-batch 0 round the loop; only the backwards wait for the last forward",
};

static const char *formula_mistake(void)
{
    for (int w = 0; w < 3; w++) {
        int same = 1;
        for (int p = 3; p <= 8 && same; p++)
            for (int v = 2; v <= 4 && same; v++)
                for (int m = 2; m < p && same; m++)
                    same = fabs(yours(p, m, v) - (1.0 - v * m / wrong_steps(w, p, m, v))) < 1e-9;
        if (same)
            return wrong_hint[w];
    }
    return "the formula differs from what the runs measure: follow micro-batch 0 round the "
           "loop v times, as chapter 05 does for looped BFS";
}

static void formula_for(int p, int m, int v, double tf, double ti, double tw)
{
    pl_options o = small_run("looped-bfs", p, m);
    o.chunks = v;
    o.layers = p * v;
    o.t_f = tf, o.t_i = ti, o.t_w = tw;
    ex_case("pipelab run --schedule looped-bfs --devices %d --microbatches %d --chunks %d "
            "--layers %d --costs %g,%g,%g", p, m, v, p * v, tf, ti, tw);
    pl_experiment x;
    ex_run(&o, &x);
    double steps = x.makespan_ns / ((tf + ti + tw) * PL_COST_UNIT / v);
    if (x.bubble_theory < 0)
        ex_fail(m < p && v > 1 ? "your formula still refuses m < p: derive the one that holds"
                               : "your formula gives no value here (or the run refused it)",
                ex_str("bubble %.6f, measured (a makespan of %g chunk steps)", x.bubble, steps),
                ex_str("no formula: %s", x.theory_note));
    if (fabs(x.bubble_theory - x.bubble) > 1e-9)
        ex_fail(formula_mistake(),
                ex_str("bubble %.6f, measured (a makespan of %g chunk steps of t_f + t_b)",
                       x.bubble, steps),
                ex_str("your formula: %.6f", x.bubble_theory));
    pl_experiment_free(&x);
}

static void at_least_p(void)
{
    for (int p = 1; p <= 6; p++)
        for (int v = 1; v <= 3; v++)
            for (int m = p; m <= p + 4; m++)
                formula_for(p, m, v, 1, 1, 1);
}

static void below_p(void)
{
    for (int p = 2; p <= 8; p++)
        for (int v = 1; v <= 4; v++)
            for (int m = 1; m < p; m++)
                formula_for(p, m, v, 1, 1, 1);
}

static void other_costs(void)
{
    static const double c[][3] = {{2, 2, 1}, {1, 2, 2}, {3, 1, 1}};
    for (int i = 0; i < 3; i++)
        for (int p = 3; p <= 5; p++)
            for (int v = 2; v <= 3; v++)
                for (int m = 1; m <= p; m++)
                    formula_for(p, m, v, c[i][0], c[i][1], c[i][2]);
}

static const ex_check checks[] = {
    {"formula-when-m-is-at-least-p", at_least_p, 60, NULL},
    {"formula-when-m-is-below-p", below_p, 120, NULL},
    {"formula-on-other-costs", other_costs, 60, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
