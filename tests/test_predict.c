/*
 * test_predict.c -- every run's three figures: on the virtual clock the
 * measured run equals the simulator's prediction exactly, for every
 * configuration; the formula is given exactly where its assumptions hold and
 * is blank, with the reason, exactly where one fails.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"
#include "rng.h"
#include "simulate.h"

/* A configuration drawn from the registry and the options that change
 * timing: uneven micro-batches, unequal stages, FLOP costs, recomputation,
 * unequal t_F/t_I/t_W, a schedule file. */
typedef struct {
    pl_options o;
    int file;
    char path[64];
    int widths[16];
} config;

static config draw_config(pl_rng *r)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    const pl_registry_entry *e = &all[pl_rng_next(r) % (uint64_t)n];
    config c;
    int p = 1 + (int)(pl_rng_next(r) % 5), m = 1 + (int)(pl_rng_next(r) % 9);
    c.o = small_run(e->name, p, m);
    pl_shape shape = pl_registry_shape(e, p, m, e->chunks ? 0 : 1 + (int)(pl_rng_next(r) % 3));
    c.o.chunks = e->chunks ? 0 : shape.chunks;
    int stages = p * shape.chunks;
    c.o.layers = stages + (int)(pl_rng_next(r) % (uint64_t)(stages + 1)); /* often unequal */
    c.o.batch = shape.microbatches + (int)(pl_rng_next(r) % 13);          /* often uneven */
    c.o.width = 4 + (int)(pl_rng_next(r) % 5);
    c.o.recompute = pl_rng_next(r) % 4 == 0;
    if (pl_rng_next(r) % 4 == 0) {
        c.o.cost = PL_COST_FLOPS;
        c.o.flops_per_s = 1e6 * (double)(1 + pl_rng_next(r) % 1000);
    } else if (pl_rng_next(r) % 3 == 0) {
        c.o.t_f = 1 + (double)(pl_rng_next(r) % 3);
        c.o.t_i = 1 + (double)(pl_rng_next(r) % 3);
        c.o.t_w = 0.5 * (double)(1 + pl_rng_next(r) % 4);
    }
    c.file = pl_rng_next(r) % 5 == 0;
    return c;
}

/* Chapter 07's costs, drawn from their own stream so the draws above stay
 * as they were: uneven widths, a balanced partition, links (sometimes with a
 * bandwidth, sometimes blocking), momentum. */
static void draw_real_costs(config *c, pl_rng *r)
{
    if (pl_rng_next(r) % 4 == 0) {
        for (int l = 0; l < c->o.layers && l < 16; l++)
            c->widths[l] = 2 + (int)(pl_rng_next(r) % 9);
        c->o.widths = c->o.layers <= 16 ? c->widths : NULL;
    }
    if (pl_rng_next(r) % 2)
        c->o.partition = PL_PARTITION_BALANCED;
    if (pl_rng_next(r) % 4 == 0)
        c->o.link_latency_ms = 0.25 * (double)(1 + pl_rng_next(r) % 4);
    if (pl_rng_next(r) % 6 == 0)
        c->o.link_bandwidth = 1e5 * (double)(1 + pl_rng_next(r) % 50);
    c->o.blocking_send = pl_rng_next(r) % 4 == 0;
    c->o.momentum = pl_rng_next(r) % 2 ? 0.5f : 0.0f;
}

/* Write the configuration's schedule to a file and run that instead. */
static void as_file(config *c)
{
    pl_schedule s;
    registry_schedule(c->o.schedule, &s, c->o.devices, c->o.microbatches, c->o.chunks);
    snprintf(c->path, sizeof c->path, "/tmp/pipelab-predict-XXXXXX");
    int fd = mkstemp(c->path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_eq(pl_schedule_write(&s, f), 0);
    fclose(f);
    pl_schedule_free(&s);
    c->o.schedule_file = c->path;
    c->o.schedule = NULL;
}

Test(predict, measured_equals_predicted_over_250_random_configurations, .timeout = 120)
{
    pl_rng r, real;
    pl_rng_seed(&r, 2026);
    pl_rng_seed(&real, 707);
    int files = 0, flops = 0, recompute = 0, uneven = 0, formulas = 0, links = 0, widths = 0;
    for (int k = 0; k < 250; k++) {
        config c = draw_config(&r);
        draw_real_costs(&c, &real);
        if (c.file)
            as_file(&c);
        pl_experiment x;
        char err[1024];
        int rc = pl_experiment_run(&c.o, &x, err, sizeof err);
        cr_assert_eq(rc, 0, "config %d: %s", k, err);
        /* The simulator, run on its own with events kept, gives the same
         * trace event for event. */
        pl_result sim;
        pl_options o = c.o;
        pl_job job = x.job;
        job.opt = &o;
        o.steps = 1;
        cr_assert_eq(pl_simulate(&job, &sim, err, sizeof err), 0, "config %d: %s", k, err);
        pl_metrics m;
        cr_assert_eq(pl_metrics_compute(&sim.trace, 0, &m), 0);
        cr_expect_eq(x.makespan_ns, (double)m.makespan * sim.trace.info.ns_per_tick,
                     "config %d (%s p=%d m=%d v=%d batch %d layers %d)", k, x.name,
                     x.schedule.devices, x.schedule.microbatches, x.schedule.chunks,
                     c.o.batch, c.o.layers);
        cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns, "config %d", k);
        cr_expect_eq(x.bubble, x.predicted_bubble, "config %d", k);
        cr_expect(pl_trace_equal(&x.result.trace, &sim.trace),
                  "config %d: the threads' trace differs from the simulator's", k);
        files += c.file;
        flops += c.o.cost == PL_COST_FLOPS;
        recompute += c.o.recompute;
        uneven += c.o.batch % x.schedule.microbatches != 0;
        formulas += x.bubble_theory >= 0;
        links += pl_cost_has_links(&x.job.cost);
        widths += c.o.widths != NULL;
        if (x.bubble_theory >= 0)
            cr_expect(fabs(x.bubble - x.bubble_theory) < 1e-9, "config %d: %s bubble %.12f "
                      "formula %.12f", k, x.name, x.bubble, x.bubble_theory);
        else
            cr_expect_neq(x.theory_note[0], '\0', "config %d: no formula and no reason", k);
        pl_metrics_free(&m);
        pl_result_free(&sim);
        pl_experiment_free(&x);
        if (c.file)
            unlink(c.path);
    }
    /* The draw covered what it should. */
    cr_expect_geq(files, 25);
    cr_expect_geq(flops, 25);
    cr_expect_geq(recompute, 25);
    cr_expect_geq(uneven, 50);
    cr_expect_geq(formulas, 20, "formulas %d", formulas);
    cr_expect_geq(links, 50);
    cr_expect_geq(widths, 40);
}

/* Each assumption, broken alone, blanks the formula with its own reason;
 * with all of them kept, the formula is there. */
Test(predict, the_formula_is_blank_exactly_where_an_assumption_fails, .timeout = 30)
{
    pl_options base = small_run("1f1b", 4, 8);
    base.layers = 8;
    base.batch = 32;
    pl_experiment x;
    run_ok(&base, &x);
    cr_expect_float_eq(x.bubble_theory, 3.0 / 11, 1e-12);
    cr_expect_str_eq(x.theory_note, "");
    pl_experiment_free(&x);

    pl_options o = base;
    o.batch = 33;
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect_str_eq(x.theory_note, "micro-batches are unequal: batch 33 is not a multiple of m = 8");
    pl_experiment_free(&x);

    o = base;
    o.layers = 9;
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect(strstr(x.theory_note, "stages are unequal: stage 1's forward") != NULL, "%s",
              x.theory_note);
    pl_experiment_free(&x);

    o = base;
    o.recompute = 1;
    run_ok(&o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect(strstr(x.theory_note, "recomputed forwards") != NULL, "%s", x.theory_note);
    pl_experiment_free(&x);

    /* FLOP costs of equal stages keep the stages equal: the formula holds. */
    o = base;
    o.cost = PL_COST_FLOPS;
    run_ok(&o, &x);
    cr_expect_float_eq(x.bubble_theory, 3.0 / 11, 1e-12);
    cr_expect_float_eq(x.bubble, 3.0 / 11, 1e-12);
    pl_experiment_free(&x);

    /* Naive and micro-batching need none of these: one device works at a time. */
    o = base;
    o.schedule = "microbatch";
    o.batch = 33;
    o.layers = 9;
    run_ok(&o, &x);
    cr_expect_float_eq(x.bubble_theory, 0.75, 1e-12);
    cr_expect_float_eq(x.bubble, 0.75, 1e-12);
    pl_experiment_free(&x);
}

Test(predict, a_schedule_file_has_no_formula_but_a_prediction, .timeout = 30)
{
    config c;
    c.o = small_run("gpipe", 3, 4);
    c.file = 1;
    as_file(&c);
    pl_experiment x;
    run_ok(&c.o, &x);
    cr_expect_lt(x.bubble_theory, 0);
    cr_expect_str_eq(x.theory_note, "a schedule file has no formula");
    cr_expect_eq(x.makespan_ns, x.predicted_makespan_ns);
    pl_experiment_free(&x);
    unlink(c.path);
}

/* On the scaled clock the prediction is the model lived `scale` times slower. */
Test(predict, the_scaled_prediction_is_in_host_time, .timeout = 30)
{
    pl_options o = small_run("1f1b", 2, 2);
    o.clock = PL_CLOCK_SCALED;
    o.scale = 3.0;
    pl_experiment x;
    run_ok(&o, &x);
    /* (m+p-1)(t_F+t_B) = 3 * 3 units, slept 3 times slower */
    cr_expect_eq(x.predicted_makespan_ns, 3.0 * 9 * PL_COST_UNIT);
    /* Host time is noisy; a loaded 2-core machine stays well within a third. */
    cr_expect(fabs(x.makespan_ns - x.predicted_makespan_ns) < x.predicted_makespan_ns / 3,
              "measured %.0f ns, predicted %.0f ns", x.makespan_ns, x.predicted_makespan_ns);
    pl_experiment_free(&x);
}
