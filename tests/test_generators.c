/*
 * test_generators.c -- every registered schedule is valid, in its placement,
 * accumulates weight gradients in micro-batch order and holds the peak its
 * entry promises; the schedules of chapters 01-04 have the shape their
 * chapters describe.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
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
    registry_schedule(name, s, p, m, 0);
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
    const pl_registry_entry *all = pl_registry_list(&n);
    char err[256];
    pl_schedule s;
    for (int g = 0; g < n; g++) {
        int sizes[][3] = {{0, 1, 1}, {-1, 4, 1}, {4, 0, 1}, {4, -2, 1}, {4, 4, 0}};
        for (int k = 0; k < 5; k++) {
            pl_shape shape = {sizes[k][0], sizes[k][1], sizes[k][2], 0, 0};
            err[0] = '\0';
            cr_expect_eq(all[g].generate(&s, &shape, err, sizeof err), -1, "%s", all[g].name);
            cr_expect_neq(err[0], '\0', "%s", all[g].name);
            cr_expect_null(s.actions);
            pl_schedule_free(&s);
        }
    }
    pl_shape two = {4, 2, 1, 0, 0};
    cr_expect_eq(pl_registry_find("naive")->generate(&s, &two, err, sizeof err), -1);
    cr_expect_str_eq(err, "naive runs the whole batch at once: microbatches must be 1");
    pl_shape chunked = {4, 8, 2, 0, 0};
    cr_expect_eq(pl_registry_find("1f1b")->generate(&s, &chunked, err, sizeof err), -1);
    cr_expect_str_eq(err, "1f1b runs 1 chunk per device (got 2)");
}

/* Every registered schedule, for p in 1..8, m in 1..16 and v in 1..3 where it
 * takes them: valid, in its entry's placement, and on every device the
 * weight gradients of each chunk (B, or W when split) come in increasing
 * micro-batch order -- what keeps the weights bitwise equal to the reference. */
Test(generators, every_registered_schedule_is_valid_and_accumulates_in_order, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    char err[1024];
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 8; p++)
            FOR_EACH_M(&all[g], m, 16) FOR_EACH_V(&all[g], v, 3) {
                pl_schedule s;
                registry_schedule(all[g].name, &s, p, m, v);
                cr_assert_eq(s.placement, all[g].placement, "%s", all[g].name);
                cr_assert_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s p=%d m=%d v=%d: %s",
                             all[g].name, p, m, v, err);
                for (int d = 0; d < p; d++) {
                    int next[64] = {0};
                    for (int i = 0; i < s.len[d]; i++) {
                        pl_action a = s.actions[d][i];
                        if (a.kind == PL_B || a.kind == PL_W)
                            cr_assert_eq(a.mb, next[a.chunk]++, "%s p=%d m=%d v=%d d%d "
                                         "position %d", all[g].name, p, m, v, d, i);
                    }
                }
                pl_schedule_free(&s);
            }
}

/* The peak in flight each entry promises, where it promises one, is what the
 * validator counts on every device. */
Test(generators, peak_in_flight_is_what_each_entry_promises, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    char err[1024];
    for (int g = 0; g < n; g++) {
        if (!all[g].peak)
            continue;
        for (int p = 1; p <= 8; p++)
            FOR_EACH_M(&all[g], m, 16) FOR_EACH_V(&all[g], v, 3) {
                pl_schedule s;
                pl_validation val;
                registry_schedule(all[g].name, &s, p, m, v);
                cr_assert_eq(pl_validate(&s, &val, err, sizeof err), 0, "%s", err);
                for (int d = 0; d < p; d++)
                    cr_expect_eq(val.peak_inflight[d], all[g].peak(p, s.microbatches, v, d),
                                 "%s p=%d m=%d v=%d d%d: %s", all[g].name, p, m, v, d,
                                 all[g].peak_text);
                pl_validation_free(&val);
                pl_schedule_free(&s);
            }
    }
}

static int min(int a, int b) { return a < b ? a : b; }

Test(generators, the_chapters_peaks_are_the_registry_s)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 16; m++)
            for (int d = 0; d < p; d++) {
                cr_expect_eq(pl_registry_find("1f1b")->peak(p, m, 1, d), min(p - d, m));
                cr_expect_eq(pl_registry_find("gpipe")->peak(p, m, 1, d), m);
                cr_expect_eq(pl_registry_find("microbatch")->peak(p, m, 1, d), 1);
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
