/*
 * test_bounds.c -- what the reliability table (test_reliability.c) cannot
 * show in one command line each: FLOP time exact at every speed, every
 * extreme speed and scale run or refused (under UBSan in make asan), peak
 * memory flat over many steps, a long run's trace bounded, in-flight counts
 * past 16 bits, the needs estimated in microseconds, a tiny watchdog silent
 * after the run, any name valid in SVG and JSON, a loss that is not a
 * number, and backwards out of micro-batch order named.
 */
#include "child.h"

#include <math.h>

#include "args.h"
#include "helpers.h"
#include "json.h"
#include "jsoncheck.h"
#include "needs.h"
#include "summary.h"
#include "svg.h"
#include "validate.h"
#include "xmlcheck.h"

/* ------------------------------------------------------------------ time */

/* Under --cost flops a tick is one FLOP: nothing rounds, at any speed. The
 * default 1f1b (p = 4, m = 8, 8 layers of width 32, batch 32) has a stage
 * forward of 2 layers x 2 x 4 rows x 32 x 32 = 16384 FLOPs and a makespan of
 * (m + p - 1)(t_F + t_B) = 11 x 3 x 16384 = 540672 FLOPs. */
Test(bounds, flop_costs_are_exact_at_every_speed, .timeout = 60)
{
    const double speeds[] = {1e6, 3.3e9, 1e13, 5e13, 7.7e14, 1e18};
    for (int i = 0; i < 6; i++) {
        pl_options o;
        pl_options_defaults(&o);
        o.cost = PL_COST_FLOPS;
        o.flops_per_s = speeds[i];
        pl_experiment x;
        run_ok(&o, &x);
        double exact = 540672.0 / speeds[i] * 1e9;
        cr_expect_lt(fabs(x.makespan_ns - exact) / exact, 1e-6, "%g FLOP/s: %.9g ns, exactly %.9g",
                     speeds[i], x.makespan_ns, exact);
        cr_expect_lt(fabs(x.makespan_ns - x.predicted_makespan_ns) / exact, 1e-6,
                     "%g FLOP/s: measured %.9g, predicted %.9g", speeds[i], x.makespan_ns,
                     x.predicted_makespan_ns);
        cr_expect_lt(fabs(x.bubble - 3.0 / 11.0), 1e-12, "%g FLOP/s: bubble %.6f", speeds[i],
                     x.bubble);
        pl_experiment_free(&x);
    }
}

/* Every pairing of extreme speeds, scales and sizes either runs or is
 * refused in one line; none overflows (make asan runs this under UBSan, in
 * the test and in the command). Those that would run for long on the
 * scaled clock are only checked, not run. */
Test(bounds, extreme_speeds_and_scales_run_or_are_refused, .timeout = 600)
{
    const char *flops[] = {"1e6", "1.5e6", "7.7e11", "5e13", "1e18"};
    const char *scales[] = {NULL, "1e-300", "1e-9", "1", "1e6"};
    const char *small[] = {"--devices", "2", "--microbatches", "2", "--layers", "2", "--width",
                           "4", "--batch", "2", "--steps", "1", NULL};
    const char *huge[] = {"--width", "4096", "--batch", "1048576", "--layers", "4096", NULL};
    const char *const *sizes[2] = {small, huge};
    int ran = 0, refused = 0;
    for (int f = 0; f < 5; f++)
        for (int k = 0; k < 5; k++)
            for (int z = 0; z < 2; z++) {
                const char *args[32] = {"run", "--cost", "flops", "--flops", flops[f]};
                int n = 5;
                if (scales[k]) {
                    args[n++] = "--clock";
                    args[n++] = "scaled";
                    args[n++] = "--scale";
                    args[n++] = scales[k];
                }
                for (int i = 0; sizes[z][i]; i++)
                    args[n++] = sizes[z][i];
                args[n] = NULL;
                /* the small run's busiest device works 192 FLOPs */
                double host = scales[k] ? 192.0 / atof(flops[f]) * atof(scales[k]) : 0;
                pl_args a;
                char err[1024];
                memset(&a, 0, sizeof a);
                pl_options_defaults(&a.opt);
                char *argv[34] = {"pipelab"};
                for (int i = 0; i < n; i++)
                    argv[i + 1] = (char *)args[i];
                cr_assert_eq(pl_args_parse(&a, n + 1, argv, err, sizeof err), 0, "%s", err);
                int checked = pl_experiment_check(&a.opt, err, sizeof err);
                cr_expect(checked == 0 || checked == PL_EXPERIMENT_REFUSED, "%s", err);
                if (z == 0 && host > 1.0) { /* would run for minutes: checked only */
                    cr_expect_eq(checked, host > PL_NEEDS_HOST_SECONDS ? PL_EXPERIMENT_REFUSED
                                 : 0, "flops %s scale %s: %s", flops[f], scales[k], err);
                    continue;
                }
                pl_child c = pipelab_run(args, 60.0 * SLOW);
                cr_expect(!c.hung && c.signal == 0, "flops %s scale %s size %d: hung or killed "
                          "by %d: %s", flops[f], scales[k] ? scales[k] : "-", z, c.signal,
                          c.err);
                cr_expect(c.status == 0 || (c.status == 2 && line_count(c.err) == 1),
                          "flops %s scale %s size %d: exit %d: %s", flops[f],
                          scales[k] ? scales[k] : "-", z, c.status, c.err);
                cr_expect_eq(c.status == 2, checked != 0, "the command and the check disagree: "
                             "%s", c.err);
                ran += c.status == 0;
                refused += c.status == 2;
            }
    cr_expect_gt(ran, 10);
    cr_expect_gt(refused, 10);
}

/* ---------------------------------------------------------------- memory */

/* Peak resident memory of a pipelab run, in KiB: measured by a helper
 * process whose only child it is. */
static long peak_rss_kib(const char *const *args)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t helper = fork();
    cr_assert(helper >= 0);
    if (helper == 0) {
        close(fd[0]);
        int errfd = stderr_file();
        pid_t pid = pipelab_start(args, "/dev/null", errfd);
        int st;
        waitpid(pid, &st, 0);
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        long kib = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ru.ru_maxrss : -1;
        ssize_t w = write(fd[1], &kib, sizeof kib);
        _exit(w == sizeof kib ? 0 : 1);
    }
    close(fd[1]);
    long kib = -1;
    ssize_t r = read(fd[0], &kib, sizeof kib);
    close(fd[0]);
    waitpid(helper, NULL, 0);
    cr_assert_eq(r, (ssize_t)sizeof kib);
    return kib;
}

/* Each step's data is made when the step starts, and a trace keeps the
 * events of a bounded number of steps: 32 times the steps, the same peak
 * (within a few MiB of allocator noise). A run that made every step's data
 * up front would hold 1 MiB more per step here. */
Test(bounds, memory_does_not_grow_with_steps, .timeout = 300)
{
    const char *few[] = {"run", "--batch", "8192", "--width", "16", "--steps", "2", "--json",
                         NULL};
    const char *many[] = {"run", "--batch", "8192", "--width", "16", "--steps", "64", "--json",
                          NULL};
    /* AddressSanitizer holds freed blocks in a quarantine of 256 MiB before
     * reusing them: a long run would fill it. Keep it small here. */
    char asan[512];
    const char *was = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "%s%squarantine_size_mb=4", was ? was : "", was ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    long a = peak_rss_kib(few), b = peak_rss_kib(many);
    cr_assert(a > 0 && b > 0, "a run failed");
    cr_expect_lt(b - a, 8 * 1024, "2 steps: %ld KiB, 64 steps: %ld KiB", a, b);
}

/* A long run keeps every step's loss, and the events and totals of its
 * last PL_TRACE_KEPT_STEPS steps; the step it reports is one of those. */
Test(bounds, a_long_run_keeps_a_bounded_trace, .timeout = 60)
{
    pl_options o = small_run("1f1b", 4, 8);
    o.steps = 40;
    pl_experiment x;
    run_ok(&o, &x);
    const pl_trace *t = &x.result.trace;
    int first = 40 - PL_TRACE_KEPT_STEPS;
    cr_expect_eq(pl_trace_first_kept(t), first);
    cr_expect(x.step >= first && x.step < 40, "reports step %d", x.step);
    cr_expect(pl_trace_has_events(t, x.step));
    cr_expect_eq(x.result.steps, 40);
    for (int d = 0; d < 4; d++) {
        cr_expect_eq(t->lanes[d].len, (long)PL_TRACE_KEPT_STEPS * x.schedule.len[d]);
        cr_expect_eq(t->lanes[d].events[0].step, first);
    }
    pl_metrics m;
    cr_expect_eq(pl_metrics_compute(t, first - 1, &m), -1, "a dropped step has no metrics");
    pl_options short_run = o;
    short_run.steps = 3;
    pl_experiment y;
    run_ok(&short_run, &y);
    cr_expect_eq(x.makespan_ns, y.makespan_ns, "every step of the virtual clock is the same");
    cr_expect_eq(x.bubble, y.bubble);
    pl_experiment_free(&y);
    pl_experiment_free(&x);
}

/* In flight counts up to m * v, far past what 16 bits hold. */
Test(bounds, peak_in_flight_counts_past_32767, .timeout = 60)
{
    for (int simulate = 0; simulate < 2; simulate++) {
        pl_options o = small_run("gpipe", 1, 40000);
        o.batch = 40000;
        o.layers = 1;
        o.width = 1;
        o.simulate = simulate;
        pl_experiment x;
        run_ok(&o, &x);
        cr_expect_eq(x.result.trace.lanes[0].peak_inflight, 40000, "%s",
                     simulate ? "simulator" : "threads");
        pl_experiment_free(&x);
    }
}

/* What each figure needs grows with the options that drive it, and the
 * check takes microseconds even for the largest. */
Test(bounds, needs_are_estimated_in_microseconds, .timeout = 60)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = "gpipe";
    o.devices = 1024;
    o.microbatches = 65536;
    o.batch = 1 << 20;
    o.layers = 4096;
    o.width = 4096;
    o.steps = 10000;
    char err[1024];
    int64_t t0 = pl_clock_host_ns();
    int rc = pl_experiment_check(&o, err, sizeof err);
    double s = (double)(pl_clock_host_ns() - t0) / 1e9;
    cr_expect_eq(rc, PL_EXPERIMENT_REFUSED);
    cr_expect(strstr(err, "host memory") && strstr(err, "--ignore-limits"), "%s", err);
    cr_expect_lt(s, 0.1 * SLOW, "took %.3f s", s);
    o.ignore_limits = 1;
    o.cost = PL_COST_FLOPS;
    o.flops_per_s = 1e6;
    rc = pl_experiment_check(&o, err, sizeof err);
    cr_expect_eq(rc, PL_EXPERIMENT_REFUSED, "--ignore-limits does not skip overflow");
    cr_expect(strstr(err, "64-bit") != NULL, "%s", err);
}

/* ------------------------------------------------------ the watchdog, again */

/* A limit far shorter than any bookkeeping never fires after every device
 * finished: 40 runs through the command, each must succeed. */
Test(bounds, a_tiny_watchdog_never_fires_after_the_run, .timeout = 300)
{
    const char *args[] = {"run", "--devices", "4", "--microbatches", "4", "--watchdog", "1e-9",
                          "--json", NULL};
    for (int i = 0; i < 40; i++) {
        pl_child c = pipelab_run(args, 30.0 * SLOW);
        cr_assert_eq(c.status, 0, "run %d: %s", i, c.err);
    }
}

/* ------------------------------------------------------------ text escaping */

static const char *const names[] = {
    "plain", "\x01\x02\x1b[31m\x7f", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xef\xbf\xbe",
    "<&>\"'", "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x99\x82", "\xf4\x90\x80\x80", "cut \xe4\xb8",
    "\t\r\n", "]]>",
};

/* Any name a user may give makes well-formed SVG and valid JSON. */
Test(bounds, any_name_makes_valid_svg_and_json)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        fputs("<svg><text>", f);
        pl_svg_text(names[i], f);
        fputs("</text></svg>", f);
        fclose(f);
        cr_expect_eq(xml_check(text), 0, "name %zu: %s", i, text);
        free(text);
        f = open_memstream(&text, &len);
        pl_json_string(names[i], f);
        fclose(f);
        cr_expect_eq(json_check(text), 0, "name %zu: %s", i, text);
        free(text);
    }
}

/* A loss that is not a number is null in JSON, and the command says so. */
Test(bounds, a_loss_that_is_not_a_number_is_null_with_a_warning, .timeout = 30)
{
    pl_options o = small_run("1f1b", 2, 2);
    o.steps = 2;
    pl_experiment x;
    run_ok(&o, &x);
    x.result.loss[1] = NAN;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    pl_experiment_json(&x, f);
    fclose(f);
    cr_expect_eq(json_check(text), 0, "%s", text);
    cr_expect(strstr(text, ",null]") != NULL, "%s", text);
    free(text);
    f = open_memstream(&text, &len);
    cr_expect_eq(pl_summary_warnings(&x, f), 1);
    fclose(f);
    cr_expect(strstr(text, "step 2") && strstr(text, "null"), "%s", text);
    free(text);
    pl_experiment_free(&x);
}

/* ------------------------------------------------------------ bitwise order */

/* Valid, but d0 adds B1 before B0. */
static const char order_text[] =
    "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\nd1: F0 B0 F1 B1\n";

Test(bounds, backwards_out_of_order_are_named)
{
    pl_schedule s;
    char err[512];
    cr_assert_eq(pl_schedule_parse(order_text, &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "valid: %s", err);
    cr_expect_eq(pl_validate_bitwise(&s, err, sizeof err), -1);
    cr_expect(strstr(err, "d0 position 3 (B0)") && strstr(err, "bitwise"), "%s", err);
    pl_schedule_free(&s);
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 5; p++)
            FOR_EACH_M(&all[g], m, 6) FOR_EACH_V(&all[g], v, 3) {
                registry_schedule(all[g].name, &s, p, m, v);
                cr_expect_eq(pl_validate_bitwise(&s, err, sizeof err), 0, "%s: %s",
                             all[g].name, err);
                pl_schedule_free(&s);
            }
}
