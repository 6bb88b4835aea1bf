/*
 * test_pictures.c -- the Chrome trace, the SVG timelines and the sweep plot
 * (docs/design.md): valid documents, one mark per executed action, and the same
 * bytes every time on the virtual clock.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chrome_trace.h"
#include "helpers.h"
#include "jsoncheck.h"
#include "plot.h"
#include "svg.h"
#include "xmlcheck.h"

#ifndef PL_CLI
#define PL_CLI "build/pipelab"
#endif

/* Options for schedule `name` at p = 4, m = 8 (naive runs m = 1). */
static pl_options opts(const char *name, int steps)
{
    const pl_registry_entry *e = pl_registry_find(name);
    pl_options o = small_run(name, 4, e->microbatches ? e->microbatches : 8);
    o.layers = 4 * pl_registry_shape(e, 4, 8, 0).chunks;
    o.steps = steps;
    return o;
}

static long count(const char *text, const char *needle)
{
    long n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static long events(const pl_trace *t, int step)
{
    long n = 0;
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].len; i++)
            n += step < 0 || t->lanes[d].events[i].step == step;
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, out);
    fclose(out);
    fclose(f);
    return buf;
}

Test(checkers, reject_what_a_strict_parser_rejects)
{
    cr_expect_eq(json_check("{\"a\":[1,-2.5e3,true,null,\"x\\u00e9\"]}"), 0);
    const char *bad_json[] = {"{\"a\":1,}", "[1,]", "{'a':1}", "[01]", "[1.]", "[NaN]",
                              "{\"a\" 1}", "[\"tab\there\"]", "[1] [2]", "[\"\\q\"]", ""};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++)
        cr_expect_neq(json_check(bad_json[i]), 0, "accepted %s", bad_json[i]);
    cr_expect_eq(xml_check("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g><t>x &amp; y</t></g>"
                           "<r b='2'/><!-- c --></svg>\n"), 0);
    const char *bad_xml[] = {"<svg><g></svg>", "<svg></svg><svg/>", "<svg a=1/>",
                             "<svg a=\"1\" a=\"2\"/>", "<svg>a & b</svg>", "<svg>&nbsp;</svg>",
                             "<svg a=\"<\"/>", "<svg><g></g>", "text<svg/>", "<svg/"};
    for (size_t i = 0; i < sizeof bad_xml / sizeof bad_xml[0]; i++)
        cr_expect_neq(xml_check(bad_xml[i]), 0, "accepted %s", bad_xml[i]);
}

/* Every schedule: valid JSON, one X event per executed action (both steps),
 * one named thread per device, one named process. */
Test(chrome_trace, one_event_per_action_for_every_schedule, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int i = 0; i < n; i++) {
        pl_options o = opts(all[i].name, 2);
        pl_experiment x;
        run_ok(&o, &x);
        char *json = draw(pl_chrome_trace_write, &x, 1);
        cr_expect_eq(json_check(json), 0, "%s: invalid JSON at offset %ld", all[i].name,
                     json_check(json));
        cr_expect_eq(count(json, "\"ph\":\"X\""), events(&x.result.trace, -1), "%s", all[i].name);
        cr_expect_eq(count(json, "\"name\":\"thread_name\""), 4, "%s", all[i].name);
        cr_expect_eq(count(json, "\"name\":\"process_name\""), 1, "%s", all[i].name);
        for (int d = 0; d < 4; d++) {
            char name[96];
            snprintf(name, sizeof name, "\"tid\":%d,\"args\":{\"name\":\"d%d\"}", d, d);
            cr_expect_eq(count(json, name), 1, "%s: thread d%d", all[i].name, d);
        }
        free(json);
        pl_experiment_free(&x);
    }
}

Test(chrome_trace, recomputed_forwards_are_actions_too, .timeout = 30)
{
    pl_options o = opts("gpipe", 1);
    o.recompute = 1;
    pl_experiment x;
    run_ok(&o, &x);
    char *json = draw(pl_chrome_trace_write, &x, 1);
    cr_expect_eq(json_check(json), 0);
    cr_expect_eq(count(json, "\"ph\":\"X\""), events(&x.result.trace, -1));
    cr_expect_eq(count(json, "\"cat\":\"R\""), 4 * 8, "one recomputation per backward");
    free(json);
    pl_experiment_free(&x);
}

/* Microseconds, exactly: uniform costs make the first forward 1 ms long. */
Test(chrome_trace, times_in_microseconds)
{
    pl_options o = opts("1f1b", 1);
    pl_experiment x;
    run_ok(&o, &x);
    char *json = draw(pl_chrome_trace_write, &x, 1);
    cr_expect_not_null(strstr(json, "{\"name\":\"F0\",\"cat\":\"F\",\"ph\":\"X\",\"pid\":1,"
                                    "\"tid\":0,\"ts\":0.000,\"dur\":1000.000,\"args\":{"
                                    "\"kind\":\"F\",\"microbatch\":0,\"stage\":0,\"chunk\":0,"
                                    "\"step\":0}}"));
    free(json);
    pl_experiment_free(&x);
}

/* The memory track peaks where the runtime measured the peak. */
Test(chrome_trace, memory_counter_peaks_at_the_measured_peak, .timeout = 30)
{
    const char *names[] = {"gpipe", "1f1b"};
    for (int r = 0; r < 4; r++) {
        pl_options o = opts(names[r % 2], 1);
        o.recompute = r / 2;
        pl_experiment x;
        run_ok(&o, &x);
        char *json = draw(pl_chrome_trace_write, &x, 1);
        size_t peak[4] = {0};
        for (char *line = strtok(json, "\n"); line; line = strtok(NULL, "\n")) {
            int d;
            size_t bytes;
            const char *b = strstr(line, "\"bytes\":");
            if (sscanf(line, "{\"name\":\"activation d%d\"", &d) == 1 && b &&
                sscanf(b, "\"bytes\":%zu", &bytes) == 1 && d >= 0 && d < 4 && bytes > peak[d])
                peak[d] = bytes;
        }
        for (int d = 0; d < 4; d++)
            cr_expect_eq(peak[d], x.result.trace.lanes[d].peak_bytes, "%s%s d%d", names[r % 2],
                         r / 2 ? " recompute" : "", d);
        free(json);
        pl_experiment_free(&x);
    }
}

/* Every schedule: well-formed SVG, one box per action of the step drawn. */
Test(svg, one_box_per_action_for_every_schedule, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int i = 0; i < n; i++)
        for (int recompute = 0; recompute <= 1; recompute++) {
            pl_options o = opts(all[i].name, 2);
            o.recompute = recompute;
            pl_experiment x;
            run_ok(&o, &x);
            char *svg = draw(pl_svg_timeline, &x, 1);
            cr_expect_eq(xml_check(svg), 0, "%s: not well-formed at offset %ld", all[i].name,
                         xml_check(svg));
            cr_expect_eq(count(svg, "<rect class=\"act "), events(&x.result.trace, 1),
                         "%s%s", all[i].name, recompute ? " recompute" : "");
            cr_expect_eq(count(svg, "<rect class=\"act R "),
                         recompute ? 4 * x.schedule.microbatches * x.schedule.chunks : 0);
            cr_expect_not_null(strstr(svg, "bubble "));
            cr_expect_not_null(strstr(svg, "peak activation memory"));
            free(svg);
            pl_experiment_free(&x);
        }
}

/* compare --svg: every schedule stacked, one panel and one box per action each. */
Test(svg, stacked_runs_share_one_picture, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    pl_experiment x[16];
    long boxes = 0;
    cr_assert(n <= 16);
    for (int i = 0; i < n; i++) {
        pl_options o = opts(all[i].name, 1);
        run_ok(&o, &x[i]);
        boxes += events(&x[i].result.trace, 0);
    }
    char *svg = draw(pl_svg_timeline, x, n);
    cr_expect_eq(xml_check(svg), 0);
    cr_expect_eq(count(svg, "<rect class=\"act "), boxes);
    cr_expect_eq(count(svg, "<text class=\"title\""), n);
    cr_expect_eq(count(svg, "<svg "), 1);
    free(svg);
    for (int i = 0; i < n; i++)
        pl_experiment_free(&x[i]);
}

Test(svg, same_run_same_bytes, .timeout = 30)
{
    char *pics[2];
    for (int k = 0; k < 2; k++) {
        pl_options o = opts("1f1b", 1);
        pl_experiment x;
        run_ok(&o, &x);
        pics[k] = draw(pl_svg_timeline, &x, 1);
        pl_experiment_free(&x);
    }
    cr_expect_str_eq(pics[0], pics[1]);
    free(pics[0]);
    free(pics[1]);
}

Test(svg, nothing_to_draw_is_an_error)
{
    const pl_trace *none = NULL;
    cr_expect_eq(pl_svg_timeline(&none, 0, stdout), -1);
    pl_sweep s;
    memset(&s, 0, sizeof s);
    cr_expect_eq(pl_plot_sweep(&s, stdout), -1);
}

Test(plot, points_curves_axes_and_legend)
{
    pl_sweep s;
    memset(&s, 0, sizeof s);
    s.fixed = 4;
    cr_assert_eq(pl_sweep_add(&s, "naive", 1, 1, 0.75), 0);
    for (int m = 1; m <= 32; m *= 2) {
        cr_assert_eq(pl_sweep_add(&s, "gpipe", 1, m, 3.0 / (m + 3)), 0);
        cr_assert_eq(pl_sweep_add(&s, "1f1b", 1, m, 3.0 / (m + 3)), 0);
    }
    cr_expect_eq(s.count, 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(pl_plot_sweep(&s, out), 0);
    fclose(out);
    cr_expect_eq(xml_check(buf), 0, "not well-formed at offset %ld", xml_check(buf));
    cr_expect_eq(count(buf, "stroke-dasharray=\"") - count(buf, "<line x1"), 2,
                 "a curve for each schedule with more than one point");
    cr_expect_eq(count(buf, ">naive</text>") + count(buf, ">gpipe</text>") +
                 count(buf, ">1f1b</text>"), 3, "a legend entry each");
    cr_expect_not_null(strstr(buf, ">32</text>"), "an m tick at 32");
    cr_expect_not_null(strstr(buf, "bubble</text>"), "a y axis label");
    free(buf);
}

/* Run the CLI with the shell; returns its exit status, stderr in err. */
static int cli(const char *args, char *err, size_t errlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", PL_CLI, args);
    return shell_capture(cmd, err, errlen);
}

Test(cli, run_trace_and_svg_files, .timeout = 60)
{
    char dir[] = "/tmp/pl_pictures_XXXXXX", args[512], err[4096];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --schedule 1f1b --devices 4 --microbatches 8 "
             "--trace %s/t.json --svg %s/t.svg", dir, dir);
    cr_assert_eq(cli(args, err, sizeof err), 0, "%s", err);
    char path[256];
    snprintf(path, sizeof path, "%s/t.json", dir);
    char *json = slurp(path);
    cr_expect_eq(json_check(json), 0);
    cr_expect_eq(count(json, "\"ph\":\"X\""), 2 * 4 * 16, "two steps of 64 actions");
    cr_expect_eq(count(json, "\"name\":\"thread_name\""), 4);
    snprintf(path, sizeof path, "%s/t.svg", dir);
    char *svg = slurp(path);
    cr_expect_eq(xml_check(svg), 0);
    cr_expect_eq(count(svg, "<rect class=\"act "), 4 * 16, "the last step's 64 actions");
    free(json);
    free(svg);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* An output that cannot be written: one line naming the file, exit 2, no run. */
Test(cli, unwritable_output_is_one_line_naming_the_file, .timeout = 30)
{
    const char *cases[] = {"run --trace /nonexistent/dir/t.json", "run --svg /nonexistent/dir/t.svg",
                           "compare --svg /nonexistent/dir/t.svg",
                           "sweep --svg /nonexistent/dir/t.svg"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[4096];
        cr_expect_eq(cli(cases[i], err, sizeof err), 2, "%s: %s", cases[i], err);
        cr_expect_not_null(strstr(err, "/nonexistent/dir/t."), "%s: %s", cases[i], err);
        cr_expect_eq(count(err, "\n"), 1, "%s: %s", cases[i], err);
    }
}

/* What `make figures` does, twice: byte-identical files. */
Test(cli, figures_are_deterministic, .timeout = 120)
{
    char dir[] = "/tmp/pl_figures_XXXXXX", args[512], err[4096];
    cr_assert_not_null(mkdtemp(dir));
    const char *cmds[] = {"compare --devices 4 --microbatches 8 --steps 1",
                          "sweep --devices 4 --microbatches 8",
                          "run --schedule gpipe --recompute --steps 1"};
    for (int c = 0; c < 3; c++) {
        char *pics[2];
        for (int k = 0; k < 2; k++) {
            snprintf(args, sizeof args, "%s --svg %s/%d.svg", cmds[c], dir, k);
            cr_assert_eq(cli(args, err, sizeof err), 0, "%s: %s", args, err);
            snprintf(args, sizeof args, "%s/%d.svg", dir, k);
            pics[k] = slurp(args);
        }
        cr_expect_eq(xml_check(pics[0]), 0, "%s", cmds[c]);
        cr_expect_str_eq(pics[0], pics[1], "%s", cmds[c]);
        free(pics[0]);
        free(pics[1]);
    }
    snprintf(args, sizeof args, "rm -rf %s", dir);
    cr_expect_eq(system(args), 0);
}

/* A coarse timeline never draws an action in a column where it did not run:
 * every drawn column of a device overlaps one of its actions, and every
 * action shows in at least one column. */
Test(timeline, columns_show_only_what_ran_there, .timeout = 60)
{
    static const char *names[] = {"gpipe", "1f1b", "microbatch"};
    for (int k = 0; k < 24; k++) {
        pl_options o = small_run(names[k % 3], 2 + k % 4, 3 + 5 * (k % 7));
        o.batch = o.microbatches * 2 + k % 5; /* uneven micro-batches: odd times */
        o.layers = o.devices + k % 3;         /* unequal stages */
        o.recompute = k % 2;
        pl_experiment x;
        run_ok(&o, &x);
        const pl_trace *t = &x.result.trace;
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        pl_timeline_print(t, 0, 80, 0, out);
        fclose(out);
        int64_t npc = pl_timeline_ticks_per_column(t, 0, 80), first = INT64_MAX;
        for (int d = 0; d < t->devices; d++)
            if (t->lanes[d].len && t->lanes[d].events[0].start < first)
                first = t->lanes[d].events[0].start;
        char *line = strtok(buf, "\n");
        for (int d = 0; d < t->devices && line; d++, line = strtok(NULL, "\n")) {
            const char *row = strchr(line, '|');
            cr_assert_not_null(row, "%s", line);
            row++;
            for (int c = 0; row[c]; c++) {
                if (row[c] == '.')
                    continue;
                int64_t lo = first + c * npc, hi = lo + npc;
                int ran = 0;
                for (long i = 0; i < t->lanes[d].len && !ran; i++)
                    ran = t->lanes[d].events[i].start < hi && t->lanes[d].events[i].end > lo;
                cr_expect(ran, "%s p=%d m=%d: d%d column %d drawn, but nothing ran there",
                          x.name, o.devices, o.microbatches, d, c);
            }
        }
        free(buf);
        pl_experiment_free(&x);
    }
}
