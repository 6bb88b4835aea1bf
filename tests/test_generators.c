/*
 * test_generators.c -- the four built-in schedules of chapters 01-04 have the
 * shape their chapters describe, and the validator accepts them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "validate.h"

static char *text_of(const pl_schedule *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    cr_assert(f);
    pl_schedule_write(s, f);
    fclose(f);
    return buf;
}

static void generate(const char *name, pl_schedule *s, int p, int m)
{
    char err[256];
    const pl_schedule_info *info = pl_schedule_find(name);
    cr_assert(info, "%s", name);
    cr_assert_eq(info->generate(s, p, m, err, sizeof err), 0, "%s p=%d m=%d: %s", name, p, m, err);
}

Test(generators, one_f_one_b_is_the_design_example_byte_for_byte)
{
    pl_schedule s;
    generate("1f1b", &s, 4, 8);
    char *text = text_of(&s);
    cr_expect_str_eq(text, "# pipelab schedule\n"
                           "devices 4\n"
                           "microbatches 8\n"
                           "chunks 1\n"
                           "d0: F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7\n"
                           "d1: F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 F7 B5 B6 B7\n"
                           "d2: F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 F6 B5 F7 B6 B7\n"
                           "d3: F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7\n");
    free(text);
    pl_schedule_free(&s);
}

Test(generators, each_chapter_has_its_shape)
{
    pl_schedule s;
    generate("naive", &s, 3, 1);
    char *text = text_of(&s);
    cr_expect_str_eq(text, "# pipelab schedule\ndevices 3\nmicrobatches 1\nchunks 1\n"
                           "d0: F0 B0\nd1: F0 B0\nd2: F0 B0\n");
    free(text);
    pl_schedule_free(&s);

    generate("microbatch", &s, 2, 3);
    text = text_of(&s);
    cr_expect_str_eq(text, "# pipelab schedule\ndevices 2\nmicrobatches 3\nchunks 1\n"
                           "d0: F0 B0 F1 B1 F2 B2\nd1: F0 B0 F1 B1 F2 B2\n");
    free(text);
    pl_schedule_free(&s);

    generate("gpipe", &s, 2, 3);
    text = text_of(&s);
    cr_expect_str_eq(text, "# pipelab schedule\ndevices 2\nmicrobatches 3\nchunks 1\n"
                           "d0: F0 F1 F2 B0 B1 B2\nd1: F0 F1 F2 B0 B1 B2\n");
    free(text);
    pl_schedule_free(&s);

    /* fewer micro-batches than devices: warmup is capped by m */
    generate("1f1b", &s, 4, 2);
    text = text_of(&s);
    cr_expect_str_eq(text, "# pipelab schedule\ndevices 4\nmicrobatches 2\nchunks 1\n"
                           "d0: F0 F1 B0 B1\nd1: F0 F1 B0 B1\nd2: F0 F1 B0 B1\nd3: F0 B0 F1 B1\n");
    free(text);
    pl_schedule_free(&s);
}

Test(generators, bad_sizes_are_rejected_with_a_message)
{
    int n;
    const pl_schedule_info *all = pl_schedules(&n);
    char err[256];
    pl_schedule s;
    for (int g = 0; g < n; g++) {
        int sizes[][2] = {{0, 1}, {-1, 4}, {4, 0}, {4, -2}};
        for (int k = 0; k < 4; k++) {
            err[0] = '\0';
            cr_expect_eq(all[g].generate(&s, sizes[k][0], sizes[k][1], err, sizeof err), -1);
            cr_expect_neq(err[0], '\0', "%s", all[g].name);
            cr_expect_null(s.actions);
            pl_schedule_free(&s);
        }
    }
    cr_expect_eq(pl_schedule_naive(&s, 4, 2, err, sizeof err), -1);
    cr_expect_str_eq(err, "naive runs the whole batch at once: microbatches must be 1");
}

/* Every action of every generator: right count, backwards in increasing
 * micro-batch order, every forward before its backward. */
Test(generators, backwards_run_in_increasing_micro_batch_order)
{
    int n;
    const pl_schedule_info *all = pl_schedules(&n);
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= (all[g].fixed_microbatches ? 1 : 16); m++) {
                pl_schedule s;
                generate(all[g].name, &s, p, m);
                for (int d = 0; d < p; d++) {
                    int next_f = 0, next_b = 0;
                    cr_assert_eq(s.len[d], 2 * m);
                    for (int i = 0; i < s.len[d]; i++) {
                        pl_action a = s.actions[d][i];
                        if (a.kind == PL_F)
                            cr_assert_eq(a.mb, next_f++);
                        else
                            cr_assert(a.kind == PL_B && a.mb == next_b++ && a.mb < next_f,
                                      "%s p=%d m=%d d%d position %d", all[g].name, p, m, d, i);
                    }
                }
                pl_schedule_free(&s);
            }
}

static int min(int a, int b) { return a < b ? a : b; }

Test(generators, peak_in_flight_is_what_each_chapter_promises)
{
    int n;
    const pl_schedule_info *all = pl_schedules(&n);
    char err[1024];
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= (all[g].fixed_microbatches ? 1 : 16); m++) {
                pl_schedule s;
                pl_validation v;
                generate(all[g].name, &s, p, m);
                cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s p=%d m=%d: %s",
                             all[g].name, p, m, err);
                for (int d = 0; d < p; d++) {
                    int want = !strcmp(all[g].name, "gpipe")  ? m
                               : !strcmp(all[g].name, "1f1b") ? min(p - d, m)
                                                              : 1;
                    cr_expect_eq(v.peak_inflight[d], want, "%s p=%d m=%d d%d",
                                 all[g].name, p, m, d);
                }
                pl_validation_free(&v);
                pl_schedule_free(&s);
            }
}

Test(generators, one_f_one_b_warms_up_with_p_minus_s_minus_1_forwards)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 16; m++) {
            pl_schedule s;
            generate("1f1b", &s, p, m);
            for (int d = 0; d < p; d++) {
                int warmup = 0;
                while (warmup < s.len[d] && s.actions[d][warmup].kind == PL_F)
                    warmup++;
                /* the leading forwards are the warmup plus the first steady one */
                cr_expect_eq(warmup, min(p - d, m), "p=%d m=%d d%d", p, m, d);
            }
            pl_schedule_free(&s);
        }
}
