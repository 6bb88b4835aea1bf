/*
 * test_tensor.c -- the three matmul orientations and ReLU on examples small
 * enough to check by hand.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tensor.h"

static pl_tensor from(int rows, int cols, const float *v)
{
    pl_tensor t = pl_tensor_new(rows, cols);
    cr_assert_not_null(t.data);
    memcpy(t.data, v, sizeof(float) * (size_t)(rows * cols));
    return t;
}

static void expect_values(const pl_tensor *t, int rows, int cols, const float *v)
{
    cr_assert_eq(t->rows, rows);
    cr_assert_eq(t->cols, cols);
    for (int i = 0; i < rows * cols; i++)
        cr_expect_eq(t->data[i], v[i], "element %d: %g, expected %g", i,
                     (double)t->data[i], (double)v[i]);
}

/* x (2, 3), w (3, 2), b (1, 2): small integers, so every sum is exact. */
static const float X[] = {1, 2, 3, 4, 5, 6};
static const float W[] = {1, -1, 0, 2, 1, 0};
static const float B[] = {10, 20};

Test(tensor, new_is_zeroed_and_sized)
{
    pl_tensor t = pl_tensor_new(3, 4);
    cr_assert_not_null(t.data);
    cr_expect_eq(pl_tensor_bytes(&t), 3 * 4 * sizeof(float));
    for (int i = 0; i < 12; i++)
        cr_expect_eq(t.data[i], 0.0f);
    pl_tensor_free(&t);
    cr_expect_null(t.data);
    cr_expect_eq(pl_tensor_bytes(&t), 0);
    pl_tensor_free(&t); /* safe twice */
    pl_tensor e = pl_tensor_new(0, 4);
    cr_expect_null(e.data);
}

Test(tensor, forward_is_x_w_plus_b)
{
    pl_tensor x = from(2, 3, X), w = from(3, 2, W), b = from(1, 2, B);
    pl_tensor y = pl_tensor_new(2, 2);
    pl_tensor_forward(&y, &x, &w, &b);
    /* row 0: [1*1+2*0+3*1, 1*-1+2*2+3*0] + b = [4, 3] + [10, 20] */
    const float want[] = {14, 23, 20, 26};
    expect_values(&y, 2, 2, want);
    pl_tensor_free(&x), pl_tensor_free(&w), pl_tensor_free(&b), pl_tensor_free(&y);
}

Test(tensor, input_grad_is_dy_w_transposed)
{
    const float DY[] = {1, 2, -1, 3};
    pl_tensor dy = from(2, 2, DY), w = from(3, 2, W);
    pl_tensor dx = pl_tensor_new(2, 3);
    pl_tensor_input_grad(&dx, &dy, &w);
    /* dx[i][k] = sum_j dy[i][j] w[k][j]; row 0: [1-2, 0+4, 1+0] */
    const float want[] = {-1, 4, 1, -4, 6, -1};
    expect_values(&dx, 2, 3, want);
    pl_tensor_free(&dy), pl_tensor_free(&w), pl_tensor_free(&dx);
}

Test(tensor, weight_grad_accumulates_x_transposed_dy)
{
    const float DY[] = {1, 2, -1, 3};
    pl_tensor x = from(2, 3, X), dy = from(2, 2, DY);
    pl_tensor dw = pl_tensor_new(3, 2), db = pl_tensor_new(1, 2);
    pl_tensor_weight_grad(&dw, &db, &x, &dy);
    /* dw[k][j] = sum_i x[i][k] dy[i][j]; db = column sums of dy */
    const float want_w[] = {-3, 14, -3, 19, -3, 24};
    const float want_b[] = {0, 5};
    expect_values(&dw, 3, 2, want_w);
    expect_values(&db, 1, 2, want_b);
    pl_tensor_weight_grad(&dw, &db, &x, &dy); /* accumulates, does not overwrite */
    const float twice_w[] = {-6, 28, -6, 38, -6, 48};
    const float twice_b[] = {0, 10};
    expect_values(&dw, 3, 2, twice_w);
    expect_values(&db, 1, 2, twice_b);
    pl_tensor_free(&x), pl_tensor_free(&dy), pl_tensor_free(&dw), pl_tensor_free(&db);
}

Test(tensor, relu_and_its_backward)
{
    const float V[] = {-2, 0, 3, -0.5f};
    const float G[] = {1, 1, 1, 1};
    pl_tensor t = from(2, 2, V), g = from(2, 2, G);
    pl_tensor_relu(&t);
    const float want[] = {0, 0, 3, 0};
    expect_values(&t, 2, 2, want);
    pl_tensor_relu_backward(&g, &t); /* gradient passes only where the output is > 0 */
    const float want_g[] = {0, 0, 1, 0};
    expect_values(&g, 2, 2, want_g);
    pl_tensor_free(&t), pl_tensor_free(&g);
}

Test(tensor, copy_and_zero)
{
    pl_tensor a = from(2, 3, X), b = pl_tensor_new(2, 3);
    pl_tensor_copy(&b, &a);
    expect_values(&b, 2, 3, X);
    pl_tensor_zero(&b);
    const float zeros[6] = {0};
    expect_values(&b, 2, 3, zeros);
    pl_tensor_free(&a), pl_tensor_free(&b);
}

Test(tensor, sgd_steps_against_the_gradient_and_clears_it)
{
    /* 37 elements: two blocks of 16 and a tail of 5. */
    pl_tensor w = pl_tensor_new(1, 37), g = pl_tensor_new(1, 37);
    cr_assert(w.data && g.data);
    for (int i = 0; i < 37; i++) {
        w.data[i] = (float)i;
        g.data[i] = (float)(i % 5) - 2.0f;
    }
    pl_tensor_sgd(&w, &g, 0.5f);
    for (int i = 0; i < 37; i++) {
        cr_expect_eq(w.data[i], (float)i - 0.5f * ((float)(i % 5) - 2.0f), "w[%d]", i);
        cr_expect_eq(g.data[i], 0.0f, "g[%d] is cleared", i);
    }
    pl_tensor_free(&w), pl_tensor_free(&g);
}
