/*
 * test_validate.c -- the three rules: completeness, local order, no deadlock.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "schedule.h"
#include "validate.h"

#define HDR(p, m, v) "devices " #p "\nmicrobatches " #m "\nchunks " #v "\n"

static void parse(const char *text, pl_schedule *s)
{
    char err[256];
    cr_assert_eq(pl_schedule_parse(text, s, err, sizeof err), 0, "%s", err);
}

/* Validate text expecting failure; the message must equal `want`. */
static void rejects(const char *text, const char *want)
{
    pl_schedule s;
    char err[1024] = "";
    parse(text, &s);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1, "accepted:\n%s", text);
    cr_expect_str_eq(err, want);
    pl_schedule_free(&s);
}

Test(validate, rule1_a_missing_forward_is_named)
{
    rejects(HDR(2, 5, 1) "d0: F0 F1 F2 F3 F4 B0 B1 B2 B3 B4\n"
                         "d1: F0 F1 F2 F3 B0 B1 B2 B3 B4\n",
            "d1: micro-batch 4 has no forward (rule 1, completeness)");
}

Test(validate, rule1_a_missing_backward_is_named)
{
    rejects(HDR(2, 2, 1) "d0: F0 F1 B0\nd1: F0 F1 B0 B1\n",
            "d0: micro-batch 1 has no backward (rule 1, completeness)");
    rejects(HDR(1, 1, 1) "d0: F0 I0\n", "d0: micro-batch 0 has I but no W (rule 1, completeness)");
    rejects(HDR(1, 1, 1) "d0: F0 W0\n", "d0: micro-batch 0 has W but no I (rule 1, completeness)");
}

Test(validate, rule1_a_duplicate_is_named_at_its_position)
{
    rejects(HDR(3, 4, 1) "d0: F0 F1 F2 F3 B0 B1 B2 B3\n"
                         "d1: F0 F1 F2 F3 B0 B1 B2 B3\n"
                         "d2: F0 F1 F2 F3 B3 B3 B1 B2\n",
            "d2 position 5 (B3): duplicate backward of micro-batch 3 (rule 1, completeness)");
    rejects(HDR(2, 2, 2) "d0: F1.1 F1.1\nd1:\n",
            "d0 position 1 (F1.1): duplicate forward of micro-batch 1 chunk 1 "
            "(rule 1, completeness)");
}

Test(validate, rule1_b_cannot_mix_with_i_and_w)
{
    rejects(HDR(1, 1, 1) "d0: F0 B0 I0 W0\n",
            "d0 position 2 (I0): micro-batch 0 already has a full backward B; it cannot "
            "also have I (rule 1, completeness)");
    rejects(HDR(1, 1, 1) "d0: F0 I0 W0 B0\n",
            "d0 position 3 (B0): micro-batch 0 is already split into I and W; it cannot "
            "also have a full backward (rule 1, completeness)");
}

Test(validate, rule1_ranges_are_checked_for_schedules_built_in_code)
{
    pl_schedule s;
    char err[256];
    cr_assert_eq(pl_schedule_init(&s, 1, 2, 1), 0);
    pl_schedule_push(&s, 0, PL_F, 0, 0);
    pl_schedule_push(&s, 0, PL_F, 2, 0);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "d0 position 1 (F2): micro-batch 2 is out of range 0..1 "
                          "(rule 1, completeness)");
    s.actions[0][1] = (pl_action){PL_B, 0, 3};
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "d0 position 1 (B0.3): chunk 3 is out of range 0..0 "
                          "(rule 1, completeness)");
    s.actions[0][1] = (pl_action){(pl_kind)9, 0, 0};
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "d0 position 1 (?0): unknown action kind 9 (rule 1, completeness)");
    pl_schedule_free(&s);
}

Test(validate, rule2_backward_before_forward)
{
    rejects(HDR(2, 2, 1) "d0: F0 F1 B0 B1\nd1: F0 B1 F1 B0\n",
            "d1 position 1 (B1): backward before its forward (rule 2, local order)");
    rejects(HDR(1, 1, 1) "d0: I0 F0 W0\n",
            "d0 position 0 (I0): input-grad before its forward (rule 2, local order)");
}

Test(validate, rule2_weight_grad_before_input_grad)
{
    rejects(HDR(2, 1, 1) "d0: F0 I0 W0\nd1: F0 W0 I0\n",
            "d1 position 1 (W0): weight-grad before its input-grad (rule 2, local order)");
}

Test(validate, rule3_a_two_device_cycle_names_both_devices)
{
    /* d0 waits for d1's gradient of micro-batch 0; d1 wants micro-batch 1's
     * activation, which d0 sends only after that backward. */
    rejects(HDR(2, 2, 1) "d0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n",
            "deadlock: d0 blocked at position 1 (B0) waiting for B0 from d1\n"
            "deadlock: d1 blocked at position 0 (F1) waiting for F1 from d0");
}

Test(validate, rule3_a_three_device_deadlock_names_every_device)
{
    /* d2 insists on micro-batch 1 first; d1 is stuck behind the gradient d2
     * never sends, and d0 behind d1 in turn. The gradient d1 waits for comes
     * from an I, and the message says so. */
    rejects(HDR(3, 2, 1) "d0: F0 F1 B0 B1\n"
                         "d1: F0 I0 F1 W0 B1\n"
                         "d2: F1 I1 W1 F0 I0 W0\n",
            "deadlock: d0 blocked at position 2 (B0) waiting for I0 from d1\n"
            "deadlock: d1 blocked at position 1 (I0) waiting for I0 from d2\n"
            "deadlock: d2 blocked at position 0 (F1) waiting for F1 from d1");
}

Test(validate, a_split_backward_is_valid_and_held_until_its_w)
{
    pl_schedule s;
    pl_validation v;
    char err[256];
    parse(HDR(2, 2, 1) "d0: F0 F1 I0 W0 I1 W1\nd1: F0 I0 F1 I1 W0 W1\n", &s);
    cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s", err);
    cr_expect_eq(v.peak_inflight[0], 2);
    cr_expect_eq(v.peak_inflight[1], 2); /* I0 does not free micro-batch 0; W0 does */
    cr_expect_eq(v.n_order, 12);
    pl_validation_free(&v);
    pl_schedule_free(&s);
}

Test(validate, chunks_send_to_their_own_device_too)
{
    pl_schedule s;
    char err[256];
    /* one device, two chunks: stage 1 receives from stage 0 on the same device */
    parse(HDR(1, 1, 2) "d0: F0.0 F0.1 B0.1 B0.0\n", &s);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s", err);
    pl_schedule_free(&s);
    parse(HDR(1, 1, 2) "d0: F0.1 F0.0 B0.1 B0.0\n", &s);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect_str_eq(err, "deadlock: d0 blocked at position 0 (F0.1) waiting for F0.0 from d0");
    pl_schedule_free(&s);
    parse(HDR(2, 2, 2) "d0: F0.0 F1.0 F0.1 F1.1 B0.1 B1.1 B0.0 B1.0\n"
                       "d1: F0.0 F1.0 F0.1 F1.1 B0.1 B1.1 B0.0 B1.0\n", &s);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s", err);
    pl_schedule_free(&s);
}

/* The order the dry run reports runs each action once, after its device's
 * previous action and after the action whose message it needs. */
static void check_order(const pl_schedule *s, const pl_validation *v)
{
    long total = pl_schedule_total(s);
    cr_assert_eq(v->n_order, total);
    long **when = calloc((size_t)s->devices, sizeof *when);
    for (int d = 0; d < s->devices; d++) {
        when[d] = malloc((size_t)s->len[d] * sizeof **when);
        for (int i = 0; i < s->len[d]; i++)
            when[d][i] = -1;
    }
    for (long k = 0; k < total; k++) {
        pl_slot o = v->order[k];
        cr_assert(o.device >= 0 && o.device < s->devices && o.index >= 0 &&
                  o.index < s->len[o.device]);
        cr_assert_eq(when[o.device][o.index], -1, "d%d position %d twice", o.device, o.index);
        when[o.device][o.index] = k;
    }
    for (int d = 0; d < s->devices; d++)
        for (int i = 0; i < s->len[d]; i++) {
            pl_action a = s->actions[d][i];
            pl_route in;
            if (i > 0)
                cr_assert_lt(when[d][i - 1], when[d][i]);
            if (!pl_schedule_input(s, d, a, &in))
                continue;
            int found = 0, sd = in.peer; /* the producer: a forward, or a B or I */
            for (int j = 0; j < s->len[sd]; j++) {
                pl_action b = s->actions[sd][j];
                int kind_ok = in.flow == PL_ACTIVATION ? b.kind == PL_F
                                                       : b.kind == PL_B || b.kind == PL_I;
                if (kind_ok && b.mb == a.mb && b.chunk == in.peer_chunk) {
                    cr_assert_lt(when[sd][j], when[d][i], "d%d position %d", d, i);
                    found = 1;
                }
            }
            cr_assert(found);
        }
    for (int d = 0; d < s->devices; d++)
        free(when[d]);
    free(when);
}

Test(validate, the_execution_order_respects_every_dependency)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    char err[256];
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 6; p++)
            FOR_EACH_M(&all[g], m, 9) FOR_EACH_V(&all[g], v_, 3) {
                pl_schedule s;
                pl_validation v;
                registry_schedule(all[g].name, &s, p, m, v_);
                cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s", err);
                check_order(&s, &v);
                pl_validation_free(&v);
                pl_schedule_free(&s);
            }
    pl_schedule s;
    pl_validation v;
    parse(HDR(2, 2, 1) "d0: F0 F1 I0 W0 I1 W1\nd1: F0 I0 F1 I1 W0 W1\n", &s);
    cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s", err);
    check_order(&s, &v);
    pl_validation_free(&v);
    pl_schedule_free(&s);
}

Test(validate, a_large_schedule_is_checked_in_linear_time, .timeout = 20)
{
    /* 256 devices x 2048 micro-batches = 1M actions; the 16.7M-action case
     * (p=1024, m=8192) is measured by hand, see the report. */
    pl_schedule s;
    pl_validation v;
    char err[256];
    registry_schedule("1f1b", &s, 256, 2048, 1);
    clock_t t0 = clock();
    cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s", err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_expect_lt(secs, 2.0, "%.3f s for 1M actions", secs);
    cr_expect_eq(v.peak_inflight[0], 256);
    cr_expect_eq(v.peak_inflight[255], 1);
    pl_validation_free(&v);
    pl_schedule_free(&s);
}

Test(validate, an_empty_device_is_incomplete_and_bad_sizes_are_caught)
{
    rejects(HDR(2, 1, 1) "d0: F0 B0\nd1:\n",
            "d1: micro-batch 0 has no forward (rule 1, completeness)");
    pl_schedule s = {0};
    char err[256];
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "out of range"), "%s", err);
}
