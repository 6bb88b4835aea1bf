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
    pl_train_config cfg = {1, 50, 32, 4, 0.05f};
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
    pl_train_config cfg = {7, 5, 20, 3, 0.05f};
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
    pl_train_config cfg = {o.seed, o.steps, o.batch, o.microbatches, 0.05f};
    float loss[5];
    char err[256];
    cr_assert_eq(pl_reference_train(&m, &cfg, loss, err, sizeof err), 0);
    cr_expect_eq(memcmp(loss, x.result.loss, sizeof loss), 0, "losses are bitwise equal");
    pl_model_free(&m);
    pl_experiment_free(&x);
}

Test(ch00, uniform_cost_is_one_unit_per_nominal_microbatch)
{
    pl_cost c = pl_cost_uniform(32, 8); /* nominal micro-batch: 4 rows */
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 4, 'F'), PL_COST_UNIT_NS);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 4, 'I'), PL_COST_UNIT_NS);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 4, 'W'), PL_COST_UNIT_NS);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 4, 'B'), 2 * PL_COST_UNIT_NS);
    cr_expect_eq(pl_cost_action(&c, NULL, 0, 1, 32, 'F'), 8 * PL_COST_UNIT_NS,
                 "the whole batch costs m units");
}

Test(ch00, flops_cost_follows_the_layers_of_a_stage)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 4, 16, 1), 0);
    pl_cost c = pl_cost_flops(1e9);
    int64_t one = pl_cost_action(&c, &m, 0, 1, 8, 'F');
    cr_expect_eq(one, (int64_t)((double)pl_layer_flops(&m.layers[0], 8) / 1e9 * 1e9));
    cr_expect_eq(pl_cost_action(&c, &m, 0, 3, 8, 'F'), 3 * one, "three equal layers");
    cr_expect_eq(pl_cost_action(&c, &m, 0, 1, 8, 'B'), 2 * one, "backward = input + weight grad");
    pl_model_free(&m);
}
