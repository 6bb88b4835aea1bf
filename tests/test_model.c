/*
 * test_model.c -- the MLP and its stage kernels: gradients agree with finite
 * differences, a model split into stages gives the same bits as one stage,
 * the stash holds exactly the bytes predicted, SGD and equality behave.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data.h"
#include "model.h"
#include "stage.h"

/* Loss of the whole model on (x, t) as pl_model_loss_grad computes it. */
static double loss_of(const pl_model *m, const pl_tensor *x, const pl_tensor *t)
{
    pl_stash s = {0, 0, 0, NULL, NULL};
    cr_assert_eq(pl_stage_forward(m, 0, m->n_layers, x, &s, 0), 0);
    pl_tensor dy = pl_tensor_new(x->rows, m->width);
    double l = pl_model_loss_grad(&dy, &s.act[m->n_layers], t, x->rows);
    pl_tensor_free(&dy);
    pl_stage_free(&s);
    return l;
}

/* Forward, loss and full backward of one micro-batch through the whole model;
 * accumulates into dw, db. */
static void backprop(pl_model *m, const pl_tensor *x, const pl_tensor *t, int batch)
{
    pl_stash s = {0, 0, 0, NULL, NULL};
    int L = m->n_layers;
    cr_assert_eq(pl_stage_forward(m, 0, L, x, &s, 0), 0);
    pl_tensor dy = pl_tensor_new(x->rows, m->width);
    pl_model_loss_grad(&dy, &s.act[L], t, batch);
    cr_assert_eq(pl_stage_backward_input(m, &s, &dy, NULL), 0);
    pl_stage_backward_weight(m, &s);
    pl_tensor_free(&dy);
    pl_stage_free(&s);
}

/* Central differences in double-ish precision are limited by float32
 * rounding of the loss (~1e-7 relative) divided by the step 1e-2, and by
 * ReLU kinks the step may cross: we accept 2% relative error (with a 1e-4
 * absolute floor for tiny gradients), which still catches a wrong sign, a
 * missing transpose or a forgotten ReLU mask. */
Test(model, backward_matches_finite_differences)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 3, 5, 11), 0);
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 3, 0, 7, 5), 0);
    for (int l = 0; l < 3; l++) /* nonzero biases, so their gradient is exercised */
        for (int j = 0; j < 5; j++)
            m.layers[l].b.data[j] = 0.1f * (float)(j - 2);
    backprop(&m, &b.x, &b.y, 7);
    const float h = 1e-2f;
    int checked = 0;
    for (int l = 0; l < 3; l++) {
        pl_tensor *ps[2] = {&m.layers[l].w, &m.layers[l].b};
        pl_tensor *gs[2] = {&m.layers[l].dw, &m.layers[l].db};
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < ps[p]->rows * ps[p]->cols; i++) {
                float keep = ps[p]->data[i];
                ps[p]->data[i] = keep + h;
                double up = loss_of(&m, &b.x, &b.y);
                ps[p]->data[i] = keep - h;
                double down = loss_of(&m, &b.x, &b.y);
                ps[p]->data[i] = keep;
                double num = (up - down) / (2.0 * h), ana = gs[p]->data[i];
                cr_expect_leq(fabs(num - ana), 1e-4 + 0.02 * fabs(num),
                              "layer %d %s[%d]: numeric %g analytic %g", l,
                              p ? "b" : "w", i, num, ana);
                checked++;
            }
    }
    cr_expect_eq(checked, 3 * (25 + 5));
    pl_data_batch_free(&b);
    pl_model_free(&m);
}

/* Forward and backward of micro-batch x through stages [cut[s], cut[s+1]),
 * passing each stage's output on as the next one's input and each stage's
 * input gradient back as the previous one's output gradient -- what a
 * pipeline does. Accumulates into m's dw, db; copies the model output to y. */
static void run_staged(pl_model *m, const int *cut, int stages, const pl_tensor *x,
                       const pl_tensor *t, int batch, pl_tensor *y)
{
    pl_stash s[4] = {{0, 0, 0, NULL, NULL}};
    const pl_tensor *in = x;
    for (int k = 0; k < stages; k++) {
        cr_assert_eq(pl_stage_forward(m, cut[k], cut[k + 1] - cut[k], in, &s[k], 0), 0);
        in = &s[k].act[s[k].count];
    }
    pl_tensor_copy(y, in);
    pl_tensor dy = pl_tensor_new(x->rows, m->width);
    pl_model_loss_grad(&dy, y, t, batch);
    for (int k = stages - 1; k >= 0; k--) {
        pl_tensor dx = k > 0 ? pl_tensor_new(x->rows, m->width) : (pl_tensor){0, 0, NULL};
        cr_assert_eq(pl_stage_backward_input(m, &s[k], &dy, k > 0 ? &dx : NULL), 0);
        pl_stage_backward_weight(m, &s[k]);
        pl_stage_free(&s[k]);
        pl_tensor_free(&dy);
        dy = dx;
    }
}

static void expect_same_bits(const pl_tensor *a, const pl_tensor *b, const char *what, int l)
{
    cr_expect_eq(memcmp(a->data, b->data, pl_tensor_bytes(a)), 0, "%s of layer %d", what, l);
}

Test(model, stages_give_the_same_bits_as_one_stage)
{
    const int whole[] = {0, 6}, two[] = {0, 3, 6}, three[] = {0, 1, 4, 6};
    const int *cuts[] = {whole, two, three};
    pl_model m[3];
    pl_tensor y[3];
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 2, 0, 12, 16), 0);
    for (int c = 0; c < 3; c++) {
        cr_assert_eq(pl_model_init(&m[c], 6, 16, 5), 0);
        y[c] = pl_tensor_new(5, 16);
        /* two micro-batches (rows 0-4, 5-11), accumulated in order */
        for (int j = 0; j < 2; j++) {
            pl_tensor x = pl_tensor_rows(&b.x, j ? 5 : 0, j ? 7 : 5);
            pl_tensor t = pl_tensor_rows(&b.y, j ? 5 : 0, j ? 7 : 5);
            pl_tensor out = pl_tensor_new(x.rows, 16);
            run_staged(&m[c], cuts[c], c + 1, &x, &t, 12, &out);
            if (j == 0)
                pl_tensor_copy(&y[c], &out);
            pl_tensor_free(&out);
        }
    }
    for (int c = 1; c < 3; c++) {
        cr_expect_eq(memcmp(y[0].data, y[c].data, pl_tensor_bytes(&y[0])), 0,
                     "outputs, %d stages", c + 1);
        for (int l = 0; l < 6; l++) {
            expect_same_bits(&m[0].layers[l].dw, &m[c].layers[l].dw, "dw", l);
            expect_same_bits(&m[0].layers[l].db, &m[c].layers[l].db, "db", l);
        }
    }
    for (int c = 0; c < 3; c++)
        pl_model_free(&m[c]), pl_tensor_free(&y[c]);
    pl_data_batch_free(&b);
}

Test(model, stash_bytes_match_the_prediction)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 5, 8, 1), 0);
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 1, 0, 6, 8), 0);
    size_t one = 6 * 8 * sizeof(float); /* one activation of the micro-batch */
    for (int recompute = 0; recompute <= 1; recompute++) {
        pl_stash s = {0, 0, 0, NULL, NULL};
        cr_assert_eq(pl_stage_forward(&m, 1, 3, &b.x, &s, recompute), 0);
        cr_expect_eq(pl_stage_held(&s), pl_stage_stash_bytes(&m, 1, 3, 6, PL_F, recompute));
        cr_expect_eq(pl_stage_held(&s), recompute ? one : 4 * one);
        if (recompute)
            cr_assert_eq(pl_stage_recompute(&m, &s), 0);
        pl_tensor dy = pl_tensor_new(6, 8), dx = pl_tensor_new(6, 8);
        cr_assert_eq(pl_stage_backward_input(&m, &s, &dy, &dx), 0);
        cr_expect_eq(pl_stage_held(&s), pl_stage_stash_bytes(&m, 1, 3, 6, PL_I, recompute));
        cr_expect_eq(pl_stage_held(&s), 7 * one, "4 acts + 3 grads");
        pl_stage_backward_weight(&m, &s);
        pl_stage_free(&s);
        cr_expect_eq(pl_stage_held(&s), 0);
        cr_expect_eq(pl_stage_stash_bytes(&m, 1, 3, 6, PL_B, recompute), 0);
        cr_expect_eq(pl_stage_stash_bytes(&m, 1, 3, 6, PL_W, recompute), 0);
        pl_tensor_free(&dy), pl_tensor_free(&dx);
    }
    pl_data_batch_free(&b);
    pl_model_free(&m);
}

Test(model, recompute_rebuilds_the_same_bits)
{
    pl_model m;
    cr_assert_eq(pl_model_init(&m, 4, 8, 3), 0);
    pl_batch b;
    cr_assert_eq(pl_data_batch(&b, 3, 1, 5, 8), 0);
    pl_stash kept = {0, 0, 0, NULL, NULL}, redo = {0, 0, 0, NULL, NULL};
    cr_assert_eq(pl_stage_forward(&m, 0, 4, &b.x, &kept, 0), 0);
    cr_assert_eq(pl_stage_forward(&m, 0, 4, &b.x, &redo, 1), 0);
    pl_tensor dy = pl_tensor_new(5, 8);
    cr_expect_eq(pl_stage_backward_input(&m, &redo, &dy, NULL), -1,
                 "backward before recomputation is refused");
    cr_assert_eq(pl_stage_recompute(&m, &redo), 0);
    for (int k = 0; k <= 4; k++)
        expect_same_bits(&kept.act[k], &redo.act[k], "activation", k);
    pl_tensor_free(&dy);
    pl_stage_free(&kept), pl_stage_free(&redo);
    pl_data_batch_free(&b);
    pl_model_free(&m);
}

Test(model, init_is_deterministic_and_shaped)
{
    pl_model a, b, c;
    cr_assert_eq(pl_model_init(&a, 4, 8, 9), 0);
    cr_assert_eq(pl_model_init(&b, 4, 8, 9), 0);
    cr_assert_eq(pl_model_init(&c, 4, 8, 10), 0);
    double d;
    cr_expect(pl_model_equal(&a, &b, &d));
    cr_expect_eq(d, 0.0);
    cr_expect_not(pl_model_equal(&a, &c, &d));
    cr_expect_gt(d, 0.0);
    for (int l = 0; l < 4; l++) {
        cr_expect_eq(a.layers[l].relu, l < 3, "only the last layer is linear");
        cr_expect_eq(a.layers[l].w.rows, 8);
        cr_expect_eq(a.layers[l].b.cols, 8);
    }
    pl_model z;
    cr_expect_eq(pl_model_init(&z, 0, 8, 1), -1);
    pl_model_free(&z);
    pl_model_free(&a), pl_model_free(&b), pl_model_free(&c);
}

Test(model, clone_sgd_and_equal)
{
    pl_model a, b;
    cr_assert_eq(pl_model_init(&a, 2, 4, 1), 0);
    cr_assert_eq(pl_model_clone(&b, &a), 0);
    cr_expect(pl_model_equal(&a, &b, NULL));
    b.layers[1].dw.data[3] = 2.0f;
    b.layers[1].db.data[0] = -4.0f;
    float w = b.layers[1].w.data[3];
    cr_assert_eq(pl_model_sgd(&b, 1, 1, 0.5f, 0.0f), 0);
    cr_expect_eq(b.layers[1].w.data[3], w - 1.0f);
    cr_expect_eq(b.layers[1].b.data[0], 2.0f);
    cr_expect_eq(b.layers[1].dw.data[3], 0.0f, "sgd clears the gradient");
    double d;
    cr_expect_not(pl_model_equal(&a, &b, &d));
    cr_expect_eq(d, 2.0);
    pl_model_free(&a), pl_model_free(&b);
}

Test(model, loss_grad_and_flops)
{
    const float Y[] = {1, 2, 3, 4}, T[] = {0, 2, 5, 4};
    pl_tensor y = pl_tensor_new(2, 2), t = pl_tensor_new(2, 2), dy = pl_tensor_new(2, 2);
    memcpy(y.data, Y, sizeof Y);
    memcpy(t.data, T, sizeof T);
    /* these 2 rows of a batch of 4: (1 + 0 + 4 + 0) / (4 * 2) */
    cr_expect_eq(pl_model_loss_grad(&dy, &y, &t, 4), 5.0f / 8.0f);
    const float want[] = {0.25f, 0.0f, -0.5f, 0.0f}; /* 2 (y - t) / 8 */
    for (int i = 0; i < 4; i++)
        cr_expect_eq(dy.data[i], want[i]);
    pl_tensor none = {0, 0, NULL};
    pl_layer l = {3, 5, 1, none, none, none, none, none, none};
    cr_expect_eq(pl_model_layer_flops(&l, 7), 2 * 7 * 3 * 5);
    pl_tensor_free(&y), pl_tensor_free(&t), pl_tensor_free(&dy);
}
