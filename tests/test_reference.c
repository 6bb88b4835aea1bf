/*
 * test_reference.c -- the sequential reference of chapter 00: it learns, it
 * is deterministic, micro-batching gives the full batch's gradient, and bad
 * configurations are refused with a message.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data.h"
#include "helpers.h"
#include "stage.h"
#include "reference.h"

Test(reference, loss_falls_over_twenty_steps)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 6, 32, 4), 0);
    pl_options cfg = train_config(4, 20, 48, 4, 0.05f);
    float loss[20];
    char err[256];
    cr_assert_eq(pl_reference_train(&m, &cfg, loss, err, sizeof err), 0, "%s", err);
    cr_expect_lt(loss[19], 0.8f * loss[0], "loss %g -> %g", (double)loss[0], (double)loss[19]);
    pl_model_free(&m);
}

Test(reference, same_seed_same_bits)
{
    pl_model a, b;
    cr_assert_eq(pl_model_init(&a, 5, 16, 2), 0);
    cr_assert_eq(pl_model_init(&b, 5, 16, 2), 0);
    pl_options cfg = train_config(3, 4, 30, 7, 0.05f);
    float la[4], lb[4];
    char err[256];
    cr_assert_eq(pl_reference_train(&a, &cfg, la, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pl_reference_train(&b, &cfg, lb, err, sizeof err), 0, "%s", err);
    double d = -1.0;
    cr_expect(pl_model_equal(&a, &b, &d));
    cr_expect_eq(d, 0.0);
    cr_expect_eq(memcmp(la, lb, sizeof la), 0);
    pl_model_free(&a), pl_model_free(&b);
}

/* Accumulate the gradient of one batch split into mbs micro-batches, the way
 * the reference does, without the SGD step that would clear it. */
static void gradient(pl_model *m, const pl_batch *b, int batch, int mbs)
{
    int L = m->n_layers;
    for (int j = 0; j < mbs; j++) {
        int start, rows;
        pl_data_microbatch_range(batch, mbs, j, &start, &rows);
        pl_tensor x = pl_tensor_rows(&b->x, start, rows);
        pl_tensor t = pl_tensor_rows(&b->y, start, rows);
        pl_stash s = {0, 0, 0, NULL, NULL};
        pl_tensor dy = pl_tensor_new(rows, m->width);
        cr_assert_eq(pl_stage_forward(m, 0, L, &x, &s, 0), 0);
        pl_model_loss_grad(&dy, &s.act[L], &t, batch);
        cr_assert_eq(pl_stage_backward_input(m, &s, &dy, NULL), 0);
        pl_stage_backward_weight(m, &s);
        pl_stage_free(&s);
        pl_tensor_free(&dy);
    }
}

/* Micro-batching at most reorders float additions, so the gradient matches
 * the full batch's to rounding: we allow 1e-5 of the gradient's largest
 * magnitude (float epsilon is 1.2e-7; the sums have ~30 terms). With these
 * kernels the order does not even change -- pl_tensor_weight_grad sums row
 * after row straight into dw -- and the bits agree; but that is a property
 * of one kernel, not a promise (a kernel that sums each micro-batch apart,
 * then adds, would differ in the last bits). */
Test(reference, microbatch_gradient_equals_the_full_batch_gradient)
{
    pl_model full, split;
    cr_assert_eq(pl_model_init(&full, 4, 16, 8), 0);
    cr_assert_eq(pl_model_init(&split, 4, 16, 8), 0);
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 8, 0, 30, 16), 0);
    gradient(&full, &b, 30, 1);
    gradient(&split, &b, 30, 7);
    for (int l = 0; l < 4; l++) {
        const pl_tensor *g[2][2] = {{&full.layers[l].dw, &full.layers[l].db},
                                    {&split.layers[l].dw, &split.layers[l].db}};
        for (int p = 0; p < 2; p++) {
            int n = g[0][p]->rows * g[0][p]->cols;
            double scale = 0.0;
            for (int i = 0; i < n; i++)
                scale = fmax(scale, fabs(g[0][p]->data[i]));
            for (int i = 0; i < n; i++)
                cr_expect_leq(fabs((double)g[0][p]->data[i] - g[1][p]->data[i]), 1e-5 * scale,
                              "layer %d %s[%d]", l, p ? "db" : "dw", i);
        }
    }
    pl_data_batch_free(&b);
    pl_model_free(&full), pl_model_free(&split);
}

Test(reference, loss_is_the_batch_mean_squared_error)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 3, 8, 1), 0);
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 6, 0, 10, 8), 0);
    pl_stash s = {0, 0, 0, NULL, NULL};
    cr_assert_eq(pl_stage_forward(&m, 0, 3, &b.x, &s, 0), 0);
    double sse = 0.0;
    for (int i = 0; i < 10 * 8; i++) {
        double d = (double)s.act[3].data[i] - b.y.data[i];
        sse += d * d;
    }
    pl_options cfg = train_config(6, 1, 10, 3, 0.05f);
    float loss;
    char err[256];
    cr_assert_eq(pl_reference_train(&m, &cfg, &loss, err, sizeof err), 0, "%s", err);
    cr_expect_float_eq(loss, sse / 80.0, 1e-5 * sse / 80.0, "loss %g", (double)loss);
    pl_stage_free(&s);
    pl_data_batch_free(&b);
    pl_model_free(&m);
}

static void expect_refused(pl_options cfg, const char *needle)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 2, 4, 1), 0);
    char err[256] = "";
    cr_expect_eq(pl_reference_train(&m, &cfg, NULL, err, sizeof err), -1);
    cr_expect_neq(strstr(err, needle), NULL, "message: %s", err);
    pl_model_free(&m);
}

Test(reference, bad_configurations_are_refused)
{
    expect_refused(train_config(1, 0, 8, 2, 0.05f), "steps");
    expect_refused(train_config(1, 3, 0, 1, 0.05f), "batch");
    expect_refused(train_config(1, 3, 8, 0, 0.05f), "microbatches");
    expect_refused(train_config(1, 3, 8, 9, 0.05f), "microbatches");
}
