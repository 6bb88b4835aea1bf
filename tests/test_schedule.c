/*
 * test_schedule.c -- schedules as data and their text format (docs/design.md).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "schedule.h"

/* The text pl_schedule_write prints (caller frees). */
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

Test(schedule, kind_letters_and_action_names)
{
    char buf[32];
    pl_kind k;
    cr_expect_eq(pl_action_letter(PL_F), 'F');
    cr_expect_eq(pl_action_letter(PL_B), 'B');
    cr_expect_eq(pl_action_letter(PL_I), 'I');
    cr_expect_eq(pl_action_letter(PL_W), 'W');
    cr_expect_eq(pl_action_letter(PL_R), 'R');
    cr_expect_eq(pl_action_letter((pl_kind)7), '?');
    cr_expect(pl_action_kind('W', &k) == 0 && k == PL_W);
    cr_expect_eq(pl_action_kind('R', &k), -1, "R is never scheduled");
    cr_expect_str_eq(pl_action_name(PL_I), "input-grad");
    pl_schedule s;
    cr_assert_eq(pl_schedule_init(&s, 2, 4, 1), 0);
    cr_expect_str_eq(pl_schedule_format(&s, (pl_action){PL_B, 3, 0}, buf, sizeof buf), "B3");
    pl_schedule_free(&s);
    cr_assert_eq(pl_schedule_init(&s, 2, 4, 2), 0);
    cr_expect_str_eq(pl_schedule_format(&s, (pl_action){PL_F, 3, 1}, buf, sizeof buf), "F3.1");
    cr_expect_str_eq(pl_schedule_format(&s, (pl_action){PL_W, 0, 0}, buf, sizeof buf), "W0.0");
    pl_schedule_free(&s);
}

Test(schedule, init_rejects_bad_sizes_and_free_is_safe_twice)
{
    pl_schedule s;
    cr_expect_eq(pl_schedule_init(&s, 0, 1, 1), -1);
    cr_expect_eq(pl_schedule_init(&s, 1, 0, 1), -1);
    cr_expect_eq(pl_schedule_init(&s, 1, 1, -3), -1);
    pl_schedule_free(&s);
    cr_assert_eq(pl_schedule_init(&s, 3, 2, 1), 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(pl_schedule_push(&s, 1, PL_F, i % 2, 0), 0);
    cr_expect_eq(pl_schedule_push(&s, 3, PL_F, 0, 0), -1);
    cr_expect_eq(pl_schedule_total(&s), 1000);
    cr_expect_eq(s.actions[1][999].mb, 1);
    pl_schedule_free(&s);
    pl_schedule_free(&s);
}

Test(schedule, registry_in_chapter_order_with_formulas)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    const char *names[] = {"naive", "microbatch", "gpipe", "1f1b"};
    cr_assert_geq(n, 4);
    for (int i = 0; i < 4; i++) {
        cr_expect_str_eq(all[i].name, names[i]);
        cr_expect_eq(all[i].chapter, i + 1);
        cr_expect_eq(all[i].microbatches, i == 0);
        cr_expect_eq(pl_registry_find(names[i]), &all[i]);
    }
    for (int i = 1; i < n; i++)
        cr_expect_geq(all[i].chapter, all[i - 1].chapter, "%s before %s", all[i - 1].name,
                      all[i].name);
    cr_expect_null(pl_registry_find("zigzag"));
    cr_expect_null(pl_registry_find(NULL));
    cr_expect_float_eq(pl_registry_bubble(&all[0], 4, 1, 1), 0.75, 1e-12);
    cr_expect_float_eq(pl_registry_bubble(&all[1], 4, 8, 1), 0.75, 1e-12);
    cr_expect_float_eq(pl_registry_bubble(&all[2], 4, 8, 1), 3.0 / 11, 1e-12);
    cr_expect_float_eq(pl_registry_bubble(&all[3], 4, 8, 1), 3.0 / 11, 1e-12);
    cr_expect_float_eq(pl_registry_bubble(&all[3], 1, 8, 1), 0.0, 1e-12);
    char buf[256];
    cr_expect(strstr(pl_registry_names(buf, sizeof buf), "naive, microbatch, gpipe") == buf);
}

Test(schedule, every_generator_round_trips)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    char err[256];
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 8; p++)
            FOR_EACH_M(&all[g], m, 16) FOR_EACH_V(&all[g], v, 3) {
                pl_schedule a, b;
                registry_schedule(all[g].name, &a, p, m, v);
                char *text = text_of(&a);
                cr_assert_eq(pl_schedule_parse(text, &b, err, sizeof err), 0, "%s", err);
                char *again = text_of(&b);
                cr_expect_str_eq(again, text, "%s p=%d m=%d v=%d", all[g].name, p, m, v);
                cr_expect_eq(pl_schedule_total(&b), pl_schedule_total(&a));
                cr_expect_eq(b.placement, a.placement);
                free(text);
                free(again);
                pl_schedule_free(&a);
                pl_schedule_free(&b);
            }
}

Test(schedule, chunks_round_trip_with_their_suffix)
{
    const char *text = "# pipelab schedule\ndevices 2\nmicrobatches 1\nchunks 2\n"
                       "placement loop\n"
                       "d0: F0.0 F0.1 I0.1 W0.1 I0.0 W0.0\n"
                       "d1: F0.0 F0.1 B0.1 B0.0\n";
    pl_schedule s;
    char err[256];
    cr_assert_eq(pl_schedule_parse(text, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.actions[0][3].kind, PL_W);
    cr_expect_eq(s.actions[0][3].chunk, 1);
    char *again = text_of(&s);
    cr_expect_str_eq(again, text);
    free(again);
    pl_schedule_free(&s);
}

Test(schedule, the_placement_line_round_trips_and_defaults_to_loop)
{
    const char *text = "# pipelab schedule\ndevices 2\nmicrobatches 1\nchunks 2\n"
                       "placement v\n"
                       "d0: F0.0 F0.1 B0.1 B0.0\n"
                       "d1: F0.0 F0.1 B0.1 B0.0\n";
    pl_schedule s;
    char err[256];
    cr_assert_eq(pl_schedule_parse(text, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.placement, PL_PLACE_V);
    char *again = text_of(&s);
    cr_expect_str_eq(again, text);
    free(again);
    pl_schedule_free(&s);
    cr_assert_eq(pl_schedule_parse("devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0\n", &s,
                                   err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.placement, PL_PLACE_LOOP);
    pl_schedule_free(&s);
    static const struct { const char *text, *err; } bad[] = {
        {"placement zigzag\n", "line 1, column 11: expected a placement: loop or v, found 'zigzag'"},
        {"placement\n", "line 1, column 10: expected a placement: loop or v, found end of line"},
        {"placement v v\n", "line 1, column 13: expected end of line after the placement, found 'v'"},
        {"placement v\nplacement v\n", "line 2, column 1: 'placement' given twice"},
        {"devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0\nplacement v\n",
         "line 5, column 1: 'placement' must come before the first device line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(pl_schedule_parse(bad[i].text, &s, err, sizeof err), -1, "case %zu", i);
        cr_expect_str_eq(err, bad[i].err, "case %zu", i);
    }
}

Test(schedule, a_byte_order_mark_is_skipped)
{
    pl_schedule s;
    char err[256];
    cr_expect_eq(pl_schedule_parse("\xef\xbb\xbf" "devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0\n",
                                   &s, err, sizeof err), 0, "%s", err);
    pl_schedule_free(&s);
}

Test(schedule, layout_is_tolerated)
{
    const char *text = "\r\n  # a comment\r\nchunks 1 # trailing\r\n\tdevices\t2\r\n"
                       "microbatches   2\r\n\r\n# devices in any order\r\n"
                       "d1 :  F0\tB0   F1 B1 # done\r\n"
                       "d0:F0 F1 B0 B1";
    pl_schedule s;
    char err[256] = "";
    cr_assert_eq(pl_schedule_parse(text, &s, err, sizeof err), 0, "%s", err);
    char *out = text_of(&s);
    cr_expect_str_eq(out, "# pipelab schedule\ndevices 2\nmicrobatches 2\nchunks 1\n"
                          "d0: F0 F1 B0 B1\nd1: F0 B0 F1 B1\n");
    free(out);
    pl_schedule_free(&s);
}

Test(schedule, an_empty_device_line_round_trips)
{
    const char *text = "# pipelab schedule\ndevices 2\nmicrobatches 1\nchunks 1\nd0:\nd1: F0\n";
    pl_schedule s;
    char err[256];
    cr_assert_eq(pl_schedule_parse(text, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.len[0], 0);
    char *out = text_of(&s);
    cr_expect_str_eq(out, text);
    free(out);
    pl_schedule_free(&s);
}

#define HDR "devices 2\nmicrobatches 4\nchunks 1\n"

Test(schedule, syntax_errors_name_line_and_column)
{
    static const struct { const char *text, *err; } cases[] = {
        {"", "line 1, column 1: expected 'devices', found end of input"},
        {"devices 2\nmicrobatches 4\nd0: F0\n",
         "line 3, column 1: expected 'chunks', found 'd0:'"},
        {"devices two\n", "line 1, column 9: expected a number of devices 1..4096, found 'two'"},
        {"devices 0\n", "line 1, column 9: expected a number of devices 1..4096, found '0'"},
        {"devices 4097\n", "line 1, column 9: expected a number of devices 1..4096, found '4097'"},
        {"devices 99999999999999999999999\n",
         "line 1, column 9: expected a number of devices 1..4096, found '99999999999999999999'"},
        {"microbatches 1048577\n",
         "line 1, column 14: expected a number of microbatches 1..1048576, found '1048577'"},
        {"chunks 65\n", "line 1, column 8: expected a number of chunks 1..64, found '65'"},
        {"devices 2 3\n", "line 1, column 11: expected end of line after devices, found '3'"},
        {"devices 2\ndevices 3\n", "line 2, column 1: 'devices' given twice"},
        {"devices\n", "line 1, column 8: expected a number of devices 1..4096, found end of line"},
        {"  layers 4\n", "line 1, column 3: expected 'devices', found 'layers'"},
        {HDR "d0: F0 B0 F1 B1 F2 B2 F3 B3\nd2: F0\n",
         "line 5, column 1: expected a device line d0..d1, found 'd2:'"},
        {HDR "d0: F0 B0\nd0: F1\n",
         "line 5, column 1: expected one line per device, found a second line for d0 "
         "(the first is line 4)"},
        {HDR "d0 F0\n", "line 4, column 4: expected ':' after the device, found 'F0'"},
        {HDR "d0: F0 X1\n", "line 4, column 8: expected an action: F, B, I or W and a micro-batch, "
                            "found 'X1'"},
        {HDR "d1: F4\n", "line 4, column 6: expected a micro-batch 0..3, found '4'"},
        {HDR "d1: F\n", "line 4, column 6: expected a micro-batch 0..3, found end of line"},
        {HDR "d1: F-1\n", "line 4, column 6: expected a micro-batch 0..3, found '-1'"},
        {HDR "d1: F0B0\n", "line 4, column 7: expected a space between actions, found 'B0'"},
        {HDR "d1: F0.1\n", "line 4, column 8: expected a chunk 0..0, found '1'"},
        {"devices 1\nmicrobatches 1\nchunks 2\nd0: F0 B0.0\n",
         "line 4, column 7: expected '.' and a chunk, found a space"},
        {HDR "d0: F0\n\n", "line 6, column 1: expected a line for d1, found end of input"},
        {HDR "d0: F0\ndevices 2\n", "line 5, column 1: 'devices' given twice"},
        {HDR "d0: F0\n\x01\xff\n", "line 5, column 1: expected a device line such as 'd0:', "
                                   "found '\\x01\\xff'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_schedule s;
        char err[256] = "";
        cr_expect_eq(pl_schedule_parse(cases[i].text, &s, err, sizeof err), -1, "case %zu", i);
        cr_expect_str_eq(err, cases[i].err, "case %zu", i);
        cr_expect_eq(s.devices, 0, "case %zu: the schedule is left empty", i);
        cr_expect_null(s.actions);
    }
}

Test(schedule, errors_fit_a_tiny_buffer)
{
    pl_schedule s;
    char err[8];
    cr_expect_eq(pl_schedule_parse("devices x", &s, err, sizeof err), -1);
    cr_expect_str_eq(err, "line 1,");
    cr_expect_eq(pl_schedule_parse("devices x", &s, NULL, 0), -1);
}

/* Arbitrary bytes must give an error or a schedule, never a crash (run under
 * ASan to make this test mean something). */
Test(schedule, arbitrary_bytes_never_crash)
{
    const char *good = "# pipelab schedule\ndevices 3\nmicrobatches 2\nchunks 1\n"
                       "d0: F0 F1 B0 B1\nd1: F0 F1 B0 B1\nd2: F0 B0 F1 B1\n";
    const char alphabet[] = "dFBIW0123456789.: \t\r\n#-xc";
    size_t n = strlen(good);
    char buf[256];
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, good, n + 1);
        for (int k = 0; k < 1 + round % 6; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            buf[at] = round % 3 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)]
                                : (char)(1 + (seed >> 8) % 255);
        }
        if (round % 7 == 0)
            buf[(seed >> 4) % n] = '\0';
        pl_schedule s;
        char err[128];
        if (pl_schedule_parse(buf, &s, err, sizeof err) == 0)
            pl_schedule_free(&s);
        else
            cr_assert_eq(strncmp(err, "line ", 5), 0, "%s", err);
    }
}

Test(schedule, load_names_the_file)
{
    pl_schedule s;
    char err[512];
    cr_expect_eq(pl_schedule_load("/nonexistent/x.sched", &s, err, sizeof err), -1);
    cr_expect_str_eq(err, "/nonexistent/x.sched: No such file or directory");

    char path[] = "/tmp/pl_test_schedule_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("devices 1\nmicrobatches 1\nchunks 1\nd0: F0 Q0\n", f);
    fclose(f);
    cr_expect_eq(pl_schedule_load(path, &s, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: line 4, column 8: expected an action: F, B, I or W and "
             "a micro-batch, found 'Q0'", path);
    cr_expect_str_eq(err, want);

    f = fopen(path, "w");
    fputs("devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0\n", f);
    fclose(f);
    cr_expect_eq(pl_schedule_load(path, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(pl_schedule_total(&s), 2);
    pl_schedule_free(&s);

    f = fopen(path, "wb");
    fwrite("devices 1\0x", 1, 11, f);
    fclose(f);
    cr_expect_eq(pl_schedule_load(path, &s, err, sizeof err), -1);
    cr_expect(strstr(err, "NUL byte at offset 9"), "%s", err);
    unlink(path);
}
