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
 * 100 ms of CPU time. After the table, what a table cannot show: signals in
 * the middle of a run, exact FLOP time, a sweep of extreme speeds and
 * scales, constant memory over many steps, the watchdog after the run.
 */
#include "child.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "args.h"
#include "helpers.h"
#include "json.h"
#include "jsoncheck.h"
#include "needs.h"
#include "summary.h"
#include "svg.h"
#include "validate.h"
#include "xmlcheck.h"

/* Sanitizers start slowly and run slower; the time bounds stretch for them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLOW 10.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLOW 10.0
#endif
#endif
#ifndef SLOW
#define SLOW 1.0
#endif

/* ------------------------------------------------------------ the fixture */

static const char schedule_text[] =
    "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B0 B1\nd1: F0 B0 F1 B1\n";

/* The files every case starts with: name, contents. A name with control
 * characters and bytes that are not UTF-8 stands for any name a user may
 * give; sparse.txt is larger than a schedule file may be (written sparse). */
static const struct {
    const char *code, *name, *text;
} files[] = {
    {"@S", "sched.txt", schedule_text},
    {"@T", "trace.json", "an old trace\n"},
    {"@V", "plot.svg", "an old picture\n"},
    {"@K", "keep.txt", "a bystander\n"},
    {"@O", "order.txt", /* valid, but d0 adds B1 before B0 */
     "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\nd1: F0 B0 F1 B1\n"},
    {"@B", "bad.txt", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B0 B1\nd1: F0 X0\n"},
    {"@L", "deadlock.txt", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\n"
                           "d1: F1 B1 F0 B0\n"},
    {"@M", "bom.txt", "\xef\xbb\xbf# with a byte-order mark and CRLF\r\ndevices 2\r\n"
                      "microbatches 2\r\nchunks 1\r\nd0: F0 F1 B0 B1\r\nd1: F0 B0 F1 B1\r\n"},
    {"@W", "s\x01\x1b[31m\xff\xfe<&>\"'.txt", schedule_text},
    {"@E", "empty.txt", ""},
};
enum { N_FILES = sizeof files / sizeof files[0] };

typedef struct {
    char dir[64];
    char path[N_FILES][512];
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

static void make_fixture(fixture *fx)
{
    snprintf(fx->dir, sizeof fx->dir, "/tmp/pipelab-reliability-XXXXXX");
    cr_assert_not_null(mkdtemp(fx->dir));
    for (int i = 0; i < N_FILES; i++) {
        snprintf(fx->path[i], sizeof fx->path[i], "%s/%s", fx->dir, files[i].name);
        write_file(fx->path[i], files[i].text);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/fifo", fx->dir);
    cr_assert_eq(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/sparse.txt", fx->dir);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(ftruncate(fileno(f), 300L << 20), 0); /* 300 MiB of holes */
    fclose(f);
    snprintf(p, sizeof p, "%s/subdir", fx->dir);
    cr_assert_eq(mkdir(p, 0700), 0);
}

static void remove_fixture(fixture *fx)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    cr_assert_eq(system(cmd), 0);
}

/* Read a whole file (NULL if it cannot be read); free it. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *more = realloc(buf, 2 * cap + 1);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* 1 if path holds exactly `text`. */
static int holds(const char *path, const char *text)
{
    size_t n;
    char *got = slurp(path, &n);
    int same = got && n == strlen(text) && memcmp(got, text, n) == 0;
    free(got);
    return same;
}

/* The names in dir that look like a temporary output ("...pipelab-XXXXXX"). */
static int temporaries(const char *dir, char *names, size_t n)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int count = 0;
    names[0] = '\0';
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strstr(e->d_name, ".pipelab-")) {
            count++;
            strncat(names, e->d_name, n - strlen(names) - 1);
        }
    closedir(d);
    return count;
}

/* An argument with a fixture code ("@S", or "@D" for the directory) at its
 * start, expanded: "@D/subdir/x.json" -> "/tmp/.../subdir/x.json". */
static void expand(const fixture *fx, const char *arg, char *out, size_t n)
{
    if (arg[0] == '@' && arg[1] == 'D') {
        snprintf(out, n, "%s%s", fx->dir, arg + 2);
        return;
    }
    for (int i = 0; arg[0] == '@' && i < N_FILES; i++)
        if (!strncmp(arg, files[i].code, 2)) {
            snprintf(out, n, "%s%s", fx->path[i], arg + 2);
            return;
        }
    snprintf(out, n, "%s", arg);
}

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

/* ------------------------------------------------------------------ time */

/* Under --cost flops a tick is one FLOP: nothing rounds, at any speed. The
 * default 1f1b (p = 4, m = 8, 8 layers of width 32, batch 32) has a stage
 * forward of 2 layers x 2 x 4 rows x 32 x 32 = 16384 FLOPs and a makespan of
 * (m + p - 1)(t_F + t_B) = 11 x 3 x 16384 = 540672 FLOPs. */
Test(reliability, flop_costs_are_exact_at_every_speed, .timeout = 60)
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
Test(reliability, extreme_speeds_and_scales_run_or_are_refused, .timeout = 600)
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
Test(reliability, memory_does_not_grow_with_steps, .timeout = 300)
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
Test(reliability, a_long_run_keeps_a_bounded_trace, .timeout = 60)
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
Test(reliability, peak_in_flight_counts_past_32767, .timeout = 60)
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
Test(reliability, needs_are_estimated_in_microseconds, .timeout = 60)
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
Test(reliability, a_tiny_watchdog_never_fires_after_the_run, .timeout = 300)
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
Test(reliability, any_name_makes_valid_svg_and_json)
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
Test(reliability, a_loss_that_is_not_a_number_is_null_with_a_warning, .timeout = 30)
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

Test(reliability, backwards_out_of_order_are_named)
{
    pl_schedule s;
    char err[512];
    cr_assert_eq(pl_schedule_parse(files[4].text, &s, err, sizeof err), 0, "%s", err);
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
