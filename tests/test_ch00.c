/*
 * test_ch00.c -- chapter 00, the model: it learns, the sequential reference
 * is deterministic, and the cost model says what the chapter says it does.
 */
#include <criterion/criterion.h>

#include "cost.h"
#include "helpers.h"
#include "reference.h"

Test(ch00, the_loss_falls_over_steps)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 8, 32, 1), 0);
    pl_options cfg = train_config(1, 50, 32, 4, 0.05f);
    float loss[50];
    char err[256];
    cr_assert_eq(pl_reference_train(&m, &cfg, loss, err, sizeof err), 0, "%s", err);
    cr_expect_lt(loss[49], 0.7f * loss[0], "loss %g -> %g", loss[0], loss[49]);
    pl_model_free(&m);
}

Test(ch00, the_reference_is_deterministic)
{
    pl_model a, b;
    cr_assert_eq(pl_model_init(&a, 6, 16, 7), 0);
    cr_assert_eq(pl_model_init(&b, 6, 16, 7), 0);
    pl_options cfg = train_config(7, 5, 20, 3, 0.05f);
    char err[256];
    cr_assert_eq(pl_reference_train(&a, &cfg, NULL, err, sizeof err), 0);
    cr_assert_eq(pl_reference_train(&b, &cfg, NULL, err, sizeof err), 0);
    double diff;
    cr_expect(pl_model_equal(&a, &b, &diff));
    pl_model_free(&a);
    pl_model_free(&b);
}

Test(ch00, one_device_threads_match_the_reference_loss_by_loss, .timeout = 30)
{
    pl_options o = small_run("microbatch", 1, 4);
    o.steps = 5;
    o.verify = 1;
    pl_experiment x;
    run_ok(&o, &x);
    cr_expect(x.bitwise_equal);

    pl_model m;
    cr_assert_eq(pl_model_init(&m, o.layers, o.width, o.seed), 0);
    pl_options cfg = train_config(o.seed, o.steps, o.batch, o.microbatches, 0.05f);
    float loss[5];
    char err[256];
    cr_assert_eq(pl_reference_train(&m, &cfg, loss, err, sizeof err), 0);
    cr_expect_eq(memcmp(loss, x.result.loss, sizeof loss), 0, "losses are bitwise equal");
    pl_model_free(&m);
    pl_experiment_free(&x);
}

Test(ch00, uniform_cost_is_one_unit_per_device_share_of_layers_and_nominal_microbatch)
{
    /* 8 layers over 4 devices: a unit is 2 layers on 32/8 = 4 rows. */
    pl_cost c = pl_cost_uniform(PL_COST_UNIT, PL_COST_UNIT, PL_COST_UNIT, 8, 32, 4, 32, 8);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_F), PL_COST_UNIT);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_I), PL_COST_UNIT);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_W), PL_COST_UNIT);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_R), PL_COST_UNIT);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 4, PL_B), 2 * PL_COST_UNIT);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 2, 32, PL_F), 8 * PL_COST_UNIT,
                 "the whole batch costs m units");
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 4, PL_F), PL_COST_UNIT / 2,
                 "a chunk of half a device's layers costs half a unit");
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 3, 4, PL_F), 3 * PL_COST_UNIT / 2);
    /* A third of a unit is a whole number of ticks for every action alike,
     * so ratios between actions stay exact. */
    pl_cost t = pl_cost_uniform(PL_COST_UNIT, PL_COST_UNIT, PL_COST_UNIT, 12, 32, 4, 32, 8);
    cr_expect_eq(pl_cost_action(&t, NULL, 0, 1, 4, PL_F), PL_COST_UNIT / 3);
    cr_expect_eq(pl_cost_action(&t, NULL, 0, 1, 4, PL_B), 2 * (PL_COST_UNIT / 3));
}

Test(ch00, flops_cost_follows_the_layers_of_a_stage)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 4, 16, 1), 0);
    pl_cost c = pl_cost_flops(1e9);
    int64_t one = pl_cost_action(&c, &m, 0, 1, 8, PL_F);
    cr_expect_eq(one, pl_model_layer_flops(&m.layers[0], 8), "a tick is one FLOP");
    cr_expect_float_eq(pl_cost_ns(&c, one), (double)one, 1e-9, "at 1e9 FLOP/s a FLOP is 1 ns");
    cr_expect_eq(pl_cost_action(&c, &m, 0, 3, 8, PL_F), 3 * one, "three equal layers");
    cr_expect_eq(pl_cost_action(&c, &m, 0, 1, 8, PL_B), 2 * one, "backward = input + weight grad");
    pl_model_free(&m);
}
