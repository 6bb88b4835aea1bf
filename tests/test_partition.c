/*
 * test_partition.c -- the even split of layers over stages, and its errors.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "partition.h"

Test(partition, even_split_gives_the_first_stages_the_extra_layers)
{
    pl_partition p;
    char err[128];
    cr_assert_eq(pl_partition_even(&p, 10, 4, err, sizeof err), 0, "%s", err);
    const int first[] = {0, 3, 6, 8}, count[] = {3, 3, 2, 2};
    cr_assert_eq(p.stages, 4);
    for (int s = 0; s < 4; s++) {
        cr_expect_eq(p.first[s], first[s], "stage %d", s);
        cr_expect_eq(p.count[s], count[s], "stage %d", s);
    }
    pl_partition_free(&p);
    pl_partition_free(&p); /* safe twice */
}

Test(partition, every_layer_in_exactly_one_stage)
{
    char err[128];
    for (int L = 1; L <= 12; L++)
        for (int S = 1; S <= L; S++) {
            pl_partition p;
            cr_assert_eq(pl_partition_even(&p, L, S, err, sizeof err), 0);
            int next = 0;
            for (int s = 0; s < S; s++) {
                cr_expect_eq(p.first[s], next);
                cr_expect(p.count[s] == L / S || p.count[s] == L / S + 1);
                next += p.count[s];
            }
            cr_expect_eq(next, L, "L=%d S=%d", L, S);
            pl_partition_free(&p);
        }
}

Test(partition, more_stages_than_layers_is_an_error)
{
    pl_partition p;
    char err[128] = "";
    cr_expect_eq(pl_partition_even(&p, 4, 8, err, sizeof err), -1);
    cr_expect_str_eq(err, "cannot split 4 layers over 8 stages: "
                          "each stage needs at least one layer");
    cr_expect_null(p.first);
    pl_partition_free(&p);
}

Test(partition, zero_stages_is_an_error)
{
    pl_partition p;
    char err[128] = "";
    cr_expect_eq(pl_partition_even(&p, 4, 0, err, sizeof err), -1);
    cr_expect_neq(strstr(err, "at least one stage"), NULL, "%s", err);
    pl_partition_free(&p);
}
