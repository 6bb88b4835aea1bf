/*
 * test_data.c -- the generator, the synthetic batches and micro-batch ranges.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data.h"
#include "rng.h"

Test(data, rng_is_splitmix64)
{
    /* Reference values of splitmix64 seeded with 0 (Vigna's splitmix64.c). */
    pl_rng r;
    pl_rng_seed(&r, 0);
    cr_expect_eq(pl_rng_next(&r), 0xe220a8397b1dcdafULL);
    cr_expect_eq(pl_rng_next(&r), 0x6e789e6aa1b965f4ULL);
}

Test(data, uniform_stays_in_range)
{
    pl_rng r;
    pl_rng_seed(&r, 42);
    for (int i = 0; i < 100000; i++) {
        float u = pl_rng_uniform(&r, -1.0f, 1.0f);
        cr_assert(u >= -1.0f && u < 1.0f, "%g", (double)u);
    }
}

Test(data, same_seed_and_step_give_the_same_bits)
{
    pl_batch a, b, c;
    cr_assert_eq(pl_data_batch(&a, 5, 3, 16, 8), 0);
    cr_assert_eq(pl_data_batch(&b, 5, 3, 16, 8), 0);
    cr_assert_eq(pl_data_batch(&c, 5, 4, 16, 8), 0);
    size_t n = sizeof(float) * 16 * 8;
    cr_expect_eq(memcmp(a.x.data, b.x.data, n), 0);
    cr_expect_eq(memcmp(a.y.data, b.y.data, n), 0);
    cr_expect_neq(memcmp(a.x.data, c.x.data, n), 0, "another step, other inputs");
    pl_data_batch_free(&a), pl_data_batch_free(&b), pl_data_batch_free(&c);
}

Test(data, targets_are_a_function_of_the_inputs)
{
    /* The teacher is fixed by the seed: a row's target depends on that row
     * only, whichever step or batch size it comes from. */
    pl_batch a, b;
    cr_assert_eq(pl_data_batch(&a, 9, 0, 4, 6), 0);
    cr_assert_eq(pl_data_batch(&b, 9, 0, 8, 6), 0);
    cr_expect_eq(memcmp(a.x.data, b.x.data, sizeof(float) * 4 * 6), 0);
    cr_expect_eq(memcmp(a.y.data, b.y.data, sizeof(float) * 4 * 6), 0);
    for (int i = 0; i < 4 * 6; i++)
        cr_expect(a.x.data[i] >= -1.0f && a.x.data[i] < 1.0f);
    pl_data_batch_free(&a), pl_data_batch_free(&b);
}

Test(data, bad_sizes_are_refused)
{
    pl_batch b;
    cr_expect_eq(pl_data_batch(&b, 1, 0, 0, 8), -1);
    cr_expect_eq(pl_data_batch(&b, 1, 0, 8, 0), -1);
    cr_expect_null(b.x.data);
    pl_data_batch_free(&b);
}

Test(data, microbatches_cover_the_batch_with_sizes_differing_by_one)
{
    for (int batch = 1; batch <= 40; batch++)
        for (int m = 1; m <= batch; m++) {
            int next = 0, lo = batch, hi = 0;
            for (int j = 0; j < m; j++) {
                int start, rows;
                pl_data_microbatch_range(batch, m, j, &start, &rows);
                cr_assert_eq(start, next, "batch %d m %d j %d", batch, m, j);
                cr_assert_geq(rows, 1);
                if (j < batch % m)
                    cr_expect_eq(rows, batch / m + 1, "the first batch%%m get one more");
                lo = rows < lo ? rows : lo;
                hi = rows > hi ? rows : hi;
                next += rows;
            }
            cr_assert_eq(next, batch);
            cr_assert_leq(hi - lo, 1);
        }
}

Test(data, rows_view_shares_storage)
{
    pl_tensor t = pl_tensor_new(5, 3);
    pl_tensor v = pl_tensor_rows(&t, 2, 2);
    cr_expect_eq(v.rows, 2);
    cr_expect_eq(v.cols, 3);
    cr_expect_eq(v.data, t.data + 6);
    v.data[0] = 7.0f;
    cr_expect_eq(t.data[6], 7.0f);
    pl_tensor_free(&t);
}
