/*
 * test_reliability.c -- nothing lost, nothing silently wrong, nothing
 * unbounded (docs/design.md, "Reliability").
 *
 * A table of command lines an adversarial user might type, each run as a
 * child process in a fresh directory that already holds a schedule file, an
 * old trace, an old picture and a bystander file. Every case asserts its
 * exit status (0 success, 1 the run failed, 2 bad input), what stderr says,
 * and, whatever happened: no hang, no crash, every pre-existing file byte
 * for byte as it was (unless the case succeeds and writes it, valid), and
 * no temporary file left behind. Cases marked FAST must be refused within
 * 100 ms of CPU time. After the table, what a table cannot show: a signal
 * in the middle of a run. test_bounds.c holds the rest: exact FLOP time,
 * extreme speeds and scales, memory over many steps, the estimates.
 */
#include "child.h"

#include "fixture.h"
#include "helpers.h"
#include "jsoncheck.h"
#include "xmlcheck.h"

/* ---------------------------------------------------------------- the table */

enum {
    FULL = 1,   /* stdout is /dev/full */
    JSON = 2,   /* every line of stdout is valid JSON */
    TRACE = 4,  /* on success @T is replaced by a valid Chrome trace */
    SVG = 8,    /* on success @V is replaced by a well-formed SVG */
    FAST = 16,  /* refused within 100 ms of CPU time */
    LINE = 32   /* exactly one line on stderr */
};

/* What each case shows (the findings of the issue this suite came from). */
typedef enum { LOSS, CORRUPT, TIME, WATCH, BOUNDS, STATUS, IGNORED, NUMBERS, KINDS } finding;

typedef struct {
    finding what;
    int status;          /* expected exit status */
    const char *says;    /* stderr contains this (NULL: anything) */
    const char *prints;  /* stdout contains this (NULL: anything) */
    unsigned flags;
    const char *args[24];
} rcase;

#define C(what, status, says, prints, flags, ...) \
    {what, status, says, prints, flags, {__VA_ARGS__, NULL}}

static const rcase table[] = {
    /* Data loss: an output over an input, or over another output, is refused
     * before anything is written; a failed run touches nothing. */
    C(LOSS, 2, "that is an input", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--trace", "@S"),
    C(LOSS, 2, "that is an input", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--svg", "@S"),
    C(LOSS, 2, "that is an input", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--trace",
      "@D/./sched.txt"),
    C(LOSS, 2, "same file", NULL, FAST | LINE, "run", "--trace", "@T", "--svg", "@T"),
    C(LOSS, 2, "same file", NULL, FAST | LINE, "run", "--trace", "@T", "--svg",
      "@D/./trace.json"),
    C(LOSS, 2, "same file", NULL, FAST | LINE, "compare", "--trace", "@V", "--svg", "@V"),
    C(LOSS, 1, "d0 failed", NULL, LINE, "run", "--inject-fault", "device=0,action=1", "--trace",
      "@T", "--svg", "@V"),
    C(LOSS, 2, "line 5, column 8", NULL, FAST | LINE, "run", "--schedule-file", "@B", "--trace",
      "@T", "--svg", "@V"),
    C(LOSS, 2, "cannot write", NULL, FAST | LINE, "run", "--trace", "@D/no/such/dir/t.json"),
    C(LOSS, 2, "cannot write", NULL, FAST | LINE, "run", "--svg", "@D/subdir"),
    C(LOSS, 1, "standard output", NULL, FULL | LINE, "run", "--trace", "@T", "--svg", "@V"),
    C(LOSS, 0, "wrote", NULL, TRACE | SVG, "run", "--schedule-file", "@S", "--trace", "@T",
      "--svg", "@V"),
    C(LOSS, 0, "wrote", NULL, TRACE | SVG, "compare", "--trace", "@T", "--svg", "@V"),
    C(LOSS, 0, "wrote", NULL, SVG, "sweep", "--over", "p", "--devices", "4", "--svg", "@V"),
    /* Silently corrupt or lost output. */
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "run", "--json"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "run"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "show"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "check", "@S"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "compare"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "sweep"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "list"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "--help"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "partition"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "plan", "--microbatches",
      "4", "--chunks", "2"),
    C(CORRUPT, 1, "cannot write standard output", NULL, FULL | LINE, "run", "--help"),
    C(CORRUPT, 1, "cannot write /dev/full", NULL, LINE, "run", "--trace", "/dev/full"),
    C(CORRUPT, 1, "cannot write /dev/full", NULL, LINE, "run", "--svg", "/dev/full"),
    C(CORRUPT, 0, NULL, "\"schedule\":", JSON | TRACE | SVG, "run", "--schedule-file", "@W",
      "--json", "--trace", "@T", "--svg", "@V"),
    C(CORRUPT, 0, NULL, "\"cost_unit_ns\":null", JSON, "run", "--cost", "flops", "--json"),
    C(CORRUPT, 0, NULL, "\"bitwise_equal\":true", JSON, "run", "--schedule-file", "@M", "--verify",
      "--json"),
    C(CORRUPT, 0, NULL, "\"schedule\":\"gpipe\"", JSON, "compare", "--json", "--simulate"),
    C(CORRUPT, 0, NULL, "\"schedule\":\"1f1b\"", JSON, "sweep", "--json", "--over", "p",
      "--devices", "2"),
    /* Silently wrong figures. */
    C(TIME, 0, NULL, "\"makespan_ns\":10.81344,", JSON, "run", "--cost", "flops", "--flops", "5e13",
      "--json"),
    C(TIME, 0, NULL, "makespan ms     1.08e-05     1.08e-05", 0, "run", "--cost", "flops",
      "--flops", "5e13"), /* not 0.000 */
    C(TIME, 0, NULL, "\"makespan_ns\":54.0672,", JSON, "run", "--cost", "flops", "--flops", "1e13",
      "--json"),
    C(TIME, 0, NULL, "\"makespan_ns\":0.540672,", JSON, "run", "--cost", "flops", "--flops", "1e15",
      "--json", "--simulate"),
    C(TIME, 2, "host time", NULL, FAST | LINE, "run", "--clock", "scaled", "--scale", "1e6"),
    C(TIME, 2, "64-bit nanoseconds", NULL, FAST | LINE, "run", "--clock", "scaled", "--scale",
      "1e6", "--cost", "flops", "--flops", "1e6", "--width", "4096", "--batch", "1048576",
      "--layers", "64", "--ignore-limits"),
    C(TIME, 2, "64-bit clock", NULL, FAST | LINE, "run", "--batch", "1048576", "--width", "4096",
      "--layers", "4096", "--steps", "10000", "--cost", "flops", "--ignore-limits"),
    C(TIME, 2, "--steps 100", NULL, FAST | LINE, "run", "--batch", "1048576", "--width", "4096",
      "--layers", "4096", "--steps", "100", "--cost", "flops", "--flops", "1e6",
      "--ignore-limits"),
    C(TIME, 2, "--link-latency 1e+09 ms", NULL, FAST | LINE, "run", "--cost", "flops", "--flops",
      "1e18", "--link-latency", "1e9"),
    C(TIME, 2, "--link-bandwidth 1e-300", NULL, FAST | LINE, "run", "--link-bandwidth", "1e-300",
      "--simulate"),
    C(TIME, 2, "host time", NULL, FAST | LINE, "run", "--link-latency", "1000000", "--clock",
      "scaled"),
    C(TIME, 2, "64-bit clock", NULL, FAST | LINE, "run", "--costs", "1000,1000,1000", "--steps",
      "10000", "--simulate", "--devices", "1024", "--layers", "4096", "--microbatches", "65536",
      "--batch", "1048576", "--width", "1", "--ignore-limits"),
    C(TIME, 0, NULL, "\"makespan_ns\":", JSON, "run", "--link-latency", "0.5", "--blocking-send",
      "--clock", "scaled", "--scale", "0.1", "--json"),
    /* False failures: the watchdog. */
    C(WATCH, 0, "", NULL, 0, "run", "--watchdog", "1e-9", "--devices", "2", "--microbatches", "2"),
    C(WATCH, 0, "", NULL, 0, "run", "--clock", "real", "--devices", "1", "--layers", "1",
      "--width", "700", "--batch", "700", "--microbatches", "1", "--steps", "1", "--watchdog",
      "0.01"),
    C(WATCH, 1, "no device progressed for 0.05 s", NULL, LINE, "run", "--inject-fault",
      "device=0,action=1,stall", "--watchdog", "0.05", "--trace", "@T", "--svg", "@V"),
    /* Unbounded resources: refused up front, with the estimate and the option. */
    C(BOUNDS, 2, "--batch 1048576", NULL, FAST | LINE, "run", "--batch", "1048576", "--width",
      "4096", "--layers", "4096", "--trace", "@T", "--svg", "@V"),
    C(BOUNDS, 2, "TiB of activations", NULL, FAST | LINE, "run", "--batch", "1048576", "--width",
      "4096", "--layers", "512", "--schedule", "gpipe"),
    C(BOUNDS, 2, "of model, from --layers 4096 and --width 4096", NULL, FAST | LINE, "run",
      "--simulate", "--layers", "4096", "--width", "4096"),
    C(BOUNDS, 2, "--microbatches 65536", NULL, FAST | LINE, "run", "--schedule", "gpipe",
      "--devices", "1024", "--microbatches", "65536", "--batch", "1048576", "--layers", "1024",
      "--width", "1", "--steps", "16"),
    C(BOUNDS, 2, "host memory", NULL, FAST | LINE, "compare", "--batch", "1048576", "--width",
      "4096", "--layers", "4096", "--trace", "@T"),
    C(BOUNDS, 2, "host memory", NULL, FAST | LINE, "sweep", "--batch", "1048576", "--width",
      "4096", "--layers", "4096", "--svg", "@V"),
    C(BOUNDS, 2, "of data", NULL, FAST | LINE, "run", "--model", "lm-like", "--width", "4096",
      "--layers", "4096", "--batch", "1048576", "--schedule", "1f1b"),
    C(BOUNDS, 2, "host memory", NULL, FAST | LINE, "partition", "--batch", "1048576", "--width",
      "4096", "--layers", "4096"),
    C(BOUNDS, 2, "host memory", NULL, FAST | LINE, "run", "--schedule", "interleaved",
      "--devices", "1024", "--chunks", "4", "--layers", "4096", "--microbatches", "65536",
      "--batch", "1048576", "--width", "64", "--steps", "16"),
    C(BOUNDS, 2, "not a regular file", NULL, FAST | LINE, "check", "@D/fifo"),
    C(BOUNDS, 2, "not a regular file", NULL, FAST | LINE, "run", "--schedule-file", "@D/fifo"),
    C(BOUNDS, 2, "not a regular file", NULL, FAST | LINE, "check", "/dev/zero"),
    C(BOUNDS, 2, "not a regular file", NULL, FAST | LINE, "check", "@D/subdir"),
    C(BOUNDS, 2, "more than the", NULL, FAST | LINE, "check", "@D/sparse.txt"),
    /* One exit-status contract: 2 for what is refused before it runs. */
    C(STATUS, 2, "cannot inject a fault at action 1000", NULL, FAST | LINE, "run",
      "--inject-fault", "device=0,action=1000", "--trace", "@T"),
    C(STATUS, 2, "--inject-fault device=5", NULL, FAST | LINE, "run", "--schedule-file", "@S",
      "--inject-fault", "device=5,action=0"),
    C(STATUS, 2, "--layers is 1", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--layers",
      "1"),
    C(STATUS, 2, "--batch is 1", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--batch",
      "1"),
    C(STATUS, 2, "--devices", NULL, FAST | LINE, "sweep", "--devices", "2000"),
    C(STATUS, 2, "--batch is 24", NULL, FAST | LINE, "sweep", "--batch", "24", "--svg", "@V"),
    C(STATUS, 2, "--layers is 3", NULL, FAST | LINE, "compare", "--layers", "3"),
    C(STATUS, 2, "deadlock", NULL, FAST, "run", "--schedule-file", "@L"),
    C(STATUS, 1, "invalid", NULL, FAST, "check", "@L"),
    C(STATUS, 2, "line 5, column 8", NULL, FAST | LINE, "check", "@B"),
    C(STATUS, 2, "expected", NULL, FAST | LINE, "check", "@E"),
    C(STATUS, 0, "warning", "valid", LINE, "check", "@O"),
    C(STATUS, 1, "refused (--strict)", NULL, LINE, "check", "--strict", "@O"),
    C(STATUS, 0, "", "valid", 0, "check", "--strict", "@S"),
    C(STATUS, 1, "weights differ", "DIFFERS", LINE, "run", "--schedule-file", "@O", "--verify",
      "--trace", "@T"),
    C(STATUS, 0, "", "valid", 0, "check", "@M"),
    /* Options that would be ignored are refused. */
    C(IGNORED, 2, "--cost flops", NULL, FAST | LINE, "run", "--flops", "1e12"),
    C(IGNORED, 2, "--clock scaled", NULL, FAST | LINE, "run", "--scale", "2"),
    C(IGNORED, 2, "--schedule-file", NULL, FAST | LINE, "compare", "--schedule-file", "@S"),
    C(IGNORED, 2, "--json", NULL, FAST | LINE, "check", "@S", "--json"),
    C(IGNORED, 2, "--microbatches", NULL, FAST | LINE, "show", "--schedule", "naive",
      "--microbatches", "3"),
    C(IGNORED, 2, "--seed", NULL, FAST | LINE, "run", "--simulate", "--seed", "5"),
    C(IGNORED, 2, "--watchdog", NULL, FAST | LINE, "run", "--simulate", "--watchdog", "1"),
    C(IGNORED, 2, "--watchdog", NULL, FAST | LINE, "compare", "--simulate", "--watchdog", "4"),
    C(IGNORED, 2, "--blocking-send", NULL, FAST | LINE, "run", "--blocking-send"),
    C(IGNORED, 2, "--show-steps", NULL, FAST | LINE, "run", "--json", "--show-steps", "all"),
    C(IGNORED, 2, "--partition balanced", NULL, FAST | LINE, "run", "--partition-by", "model"),
    C(IGNORED, 2, "--layers is 3", NULL, FAST | LINE, "sweep", "--layers", "3", "--over", "p"),
    C(IGNORED, 2, "--steps 1", NULL, FAST | LINE, "run", "--step-sync", "local", "--steps", "1"),
    C(IGNORED, 2, "--clip-grad-norm", NULL, FAST | LINE, "run", "--post-validation"),
    C(IGNORED, 2, "--cost uniform", NULL, FAST | LINE, "run", "--cost", "flops", "--costs",
      "1,1,1"),
    C(IGNORED, 2, "--steps", NULL, FAST | LINE, "sweep", "--steps", "2"),
    C(IGNORED, 2, "--strict", NULL, FAST | LINE, "run", "--strict"),
    C(IGNORED, 2, "--ignore-limits", NULL, FAST | LINE, "show", "--ignore-limits"),
    C(IGNORED, 2, "--devices", NULL, FAST | LINE, "list", "--devices", "3"),
    C(IGNORED, 2, "--json", NULL, FAST | LINE, "show", "--json"),
    C(IGNORED, 2, "--trace", NULL, FAST | LINE, "plan", "--trace", "@T"),
    /* Numbers: decimal digits, the whole string, nothing else. */
    C(NUMBERS, 2, "--batch", NULL, FAST | LINE, "run", "--batch", "0x20"),
    C(NUMBERS, 2, "--flops", NULL, FAST | LINE, "run", "--cost", "flops", "--flops", "0x1p30"),
    C(NUMBERS, 2, "--flops", NULL, FAST | LINE, "run", "--cost", "flops", "--flops", " 1e9"),
    C(NUMBERS, 2, "--flops", NULL, FAST | LINE, "run", "--cost", "flops", "--flops", "1e9 "),
    C(NUMBERS, 2, "--watchdog", NULL, FAST | LINE, "run", "--watchdog", " 1"),
    C(NUMBERS, 2, "--devices", NULL, FAST | LINE, "run", "--devices", " 4"),
    C(NUMBERS, 2, "--devices", NULL, FAST | LINE, "run", "--devices", "4\n"),
    C(NUMBERS, 2, "--scale", NULL, FAST | LINE, "run", "--clock", "scaled", "--scale", "1e-400"),
    C(NUMBERS, 2, "--seed", NULL, FAST | LINE, "run", "--seed", "18446744073709551615"),
    C(NUMBERS, 2, "--devices", NULL, FAST | LINE, "run", "--devices", "\xef\xbb\xbf" "4"),
    C(NUMBERS, 0, "", NULL, 0, "run", "--cost", "flops", "--flops", "1e6", "--devices", "2"),
    /* Every failure kind, with outputs that must stay as they were. */
    C(KINDS, 1, "out of memory", NULL, LINE, "run", "--device-memory", "1000", "--trace", "@T",
      "--svg", "@V"),
    C(KINDS, 1, "out of memory", NULL, LINE, "compare", "--device-memory", "1000", "--trace",
      "@T", "--svg", "@V"),
    C(KINDS, 1, "standard output", NULL, FULL | LINE, "compare", "--trace", "@T", "--svg", "@V"),
    C(KINDS, 1, "standard output", NULL, FULL | LINE, "sweep", "--svg", "@V"),
    C(KINDS, 1, "injected fault", NULL, LINE, "run", "--schedule-file", "@S", "--inject-fault",
      "device=1,action=3", "--trace", "@T", "--svg", "@V"),
    C(KINDS, 2, "host memory", NULL, FAST | LINE, "run", "--schedule-file", "@S", "--batch",
      "1048576", "--width", "4096", "--layers", "4096", "--trace", "@T", "--svg", "@V"),
};
enum { N_CASES = sizeof table / sizeof table[0] };

static void describe(const rcase *c, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "pipelab");
    for (int i = 0; c->args[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, " %s", c->args[i]);
}

/* Every line of text is a valid JSON value. */
static void expect_json_lines(const char *what, char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long at = json_check(line);
        cr_expect_eq(at, 0, "%s: stdout is not valid JSON at offset %ld: %.200s", what, at,
                     line);
    }
}

/* The output at `path`: replaced by valid content if `written`, else as it was. */
static void expect_output(const char *what, const char *path, const char *old, int written,
                          int svg)
{
    char *got = slurp(path, NULL);
    cr_expect_not_null(got, "%s: %s is gone", what, path);
    if (!got)
        return;
    if (!written)
        cr_expect(holds(path, old), "%s: %s changed: %.80s", what, path, got);
    else if (svg)
        cr_expect_eq(xml_check(got), 0, "%s: %s is not well-formed XML", what, path);
    else
        cr_expect_eq(json_check(got), 0, "%s: %s is not valid JSON", what, path);
    free(got);
}

static void run_case(const rcase *c)
{
    fixture fx;
    make_fixture(&fx);
    char what[1024], argv_buf[24][600], out[128], names[1024];
    const char *argv[24];
    describe(c, what, sizeof what);
    int n = 0;
    for (; c->args[n]; n++) {
        expand(&fx, c->args[n], argv_buf[n], sizeof argv_buf[n]);
        argv[n] = argv_buf[n];
    }
    argv[n] = NULL;
    snprintf(out, sizeof out, "%s/stdout", fx.dir);
    pl_child ch = pipelab_run_to(argv, 30.0 * SLOW, c->flags & FULL ? "/dev/full" : out);
    cr_expect(!ch.hung, "%s: hung", what);
    cr_expect_eq(ch.signal, 0, "%s: killed by signal %d: %s", what, ch.signal, ch.err);
    cr_expect_eq(ch.status, c->status, "%s: exit %d, want %d; stderr: %s", what, ch.status,
                 c->status, ch.err);
    if (c->says && !c->says[0])
        cr_expect_str_eq(ch.err, "", "%s: stderr: %s", what, ch.err);
    else if (c->says)
        cr_expect(strstr(ch.err, c->says) != NULL, "%s: stderr does not say '%s': %s", what,
                  c->says, ch.err);
    if (c->flags & LINE)
        cr_expect_eq(line_count(ch.err), 1, "%s: %d lines on stderr: %s", what,
                     line_count(ch.err), ch.err);
    if (c->status != 0)
        cr_expect(strncmp(ch.err, "pipelab: ", 9) == 0, "%s: %s", what, ch.err);
    if (c->flags & FAST)
        cr_expect_lt(ch.cpu, 0.1 * SLOW, "%s: refused after %.3f s of CPU time", what, ch.cpu);
    if (!(c->flags & FULL)) {
        char *text = slurp(out, NULL);
        cr_expect_not_null(text, "%s: no stdout", what);
        if (text && c->prints)
            cr_expect(strstr(text, c->prints) != NULL, "%s: stdout does not show '%s': %.300s",
                      what, c->prints, text);
        if (text && (c->flags & JSON))
            expect_json_lines(what, text);
        free(text);
    }
    int ok = ch.status == 0;
    for (int i = 0; i < N_FILES; i++) {
        int is_trace = !strcmp(files[i].code, "@T"), is_svg = !strcmp(files[i].code, "@V");
        int written = ok && ((is_trace && (c->flags & TRACE)) || (is_svg && (c->flags & SVG)));
        if (is_trace || is_svg)
            expect_output(what, fx.path[i], files[i].text, written, is_svg);
        else
            cr_expect(holds(fx.path[i], files[i].text), "%s: %s changed", what, files[i].name);
    }
    cr_expect_eq(temporaries(fx.dir, names, sizeof names), 0, "%s: left behind: %s", what,
                 names);
    remove_fixture(&fx);
}

static void run_cases(finding what)
{
    int ran = 0;
    for (int i = 0; i < N_CASES; i++)
        if (table[i].what == what) {
            run_case(&table[i]);
            ran++;
        }
    cr_expect_gt(ran, 0);
}

Test(reliability, the_table_holds_at_least_60_cases)
{
    cr_expect_geq(N_CASES, 60, "%d cases", N_CASES);
}

Test(reliability, outputs_are_never_lost, .timeout = 300) { run_cases(LOSS); }
Test(reliability, outputs_are_never_silently_corrupt, .timeout = 300) { run_cases(CORRUPT); }
Test(reliability, figures_are_exact_or_refused, .timeout = 300) { run_cases(TIME); }
Test(reliability, the_watchdog_fires_only_on_a_stall, .timeout = 300) { run_cases(WATCH); }
Test(reliability, resources_are_bounded_up_front, .timeout = 300) { run_cases(BOUNDS); }
Test(reliability, exit_status_0_1_2_everywhere, .timeout = 300) { run_cases(STATUS); }
Test(reliability, no_option_is_silently_ignored, .timeout = 300) { run_cases(IGNORED); }
Test(reliability, numbers_are_decimal_and_whole, .timeout = 300) { run_cases(NUMBERS); }
Test(reliability, every_failure_kind_leaves_the_files_as_they_were, .timeout = 300)
{
    run_cases(KINDS);
}

/* ------------------------------------------------------------ interrupted */

/* Wait until dir holds at least n temporary outputs; 1 if it did in time. */
static int wait_for_temporaries(const char *dir, int n, double limit)
{
    char names[1024];
    int64_t t0 = pl_clock_host_ns();
    while ((double)(pl_clock_host_ns() - t0) / 1e9 < limit) {
        if (temporaries(dir, names, sizeof names) >= n)
            return 1;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* ThreadSanitizer delivers a signal late, at the receiving thread's next
 * call into the C library, and one that arrives while a command starts its
 * device threads is sometimes never delivered: under it (make tsan), about
 * one run in ten ended normally. Its builds send the signal 50 ms into the
 * run instead of the moment the outputs open; every other build, the kernel
 * delivering the signal, sends it at once. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* Start a command with `outputs` outputs, wait until they are open, send
 * `sig`: the command dies of it, and every file is as it was. */
static void interrupt(int sig, int outputs, const char *const *args)
{
    fixture fx;
    make_fixture(&fx);
    char buf[24][600], out[128], names[1024], what[256];
    const char *argv[24];
    int n = 0;
    for (; args[n]; n++) {
        expand(&fx, args[n], buf[n], sizeof buf[n]);
        argv[n] = buf[n];
    }
    argv[n] = NULL;
    snprintf(what, sizeof what, "%s, signal %d", args[0], sig);
    snprintf(out, sizeof out, "%s/stdout", fx.dir);
    int errfd = stderr_file();
    int64_t t0 = pl_clock_host_ns();
    pid_t pid = pipelab_start(argv, out, errfd);
    int opened = wait_for_temporaries(fx.dir, outputs, 10 * SLOW);
    if (UNDER_TSAN) {
        struct timespec into_the_run = {0, 50 * 1000 * 1000};
        nanosleep(&into_the_run, NULL);
    }
    kill(pid, sig);
    pl_child c = pipelab_wait(pid, t0, 10 * SLOW, errfd);
    cr_expect(opened, "%s: the outputs never opened", what);
    cr_expect(!c.hung, "%s: hung after the signal", what);
    cr_expect_eq(c.signal, sig, "%s: ended with exit %d / signal %d: %s", what, c.status,
                 c.signal, c.err);
    for (int i = 0; i < N_FILES; i++)
        cr_expect(holds(fx.path[i], files[i].text), "%s: %s changed", what, files[i].name);
    cr_expect_eq(temporaries(fx.dir, names, sizeof names), 0, "%s: left behind: %s", what,
                 names);
    remove_fixture(&fx);
}

Test(reliability, an_interrupted_command_leaves_every_file_as_it_was, .timeout = 120)
{
    const char *run[] = {"run", "--schedule-file", "@S", "--clock", "scaled", "--scale", "50",
                         "--trace", "@T", "--svg", "@V", NULL};
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++)
        interrupt(sigs[i], 2, run);
    const char *compare[] = {"compare", "--clock", "scaled", "--scale", "50", "--trace", "@T",
                             "--svg", "@V", NULL};
    interrupt(SIGINT, 2, compare);
    const char *sweep[] = {"sweep", "--microbatches", "4096", "--svg", "@V", NULL};
    interrupt(SIGTERM, 1, sweep);
}
