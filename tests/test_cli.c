/*
 * test_cli.c -- bad command lines never crash and never hang: each one ends
 * with exit status 2 and exactly one line on stderr that names the option
 * (or argument) at fault and says what was expected (docs/design.md).
 */
#include "child.h"

#include "helpers.h"

/* Run a shell command line in which PIPELAB names the command under test. */
static int sh(const char *line, char *out, size_t n)
{
    char path[PATH_MAX], cmd[8192];
    pipelab_path(path, sizeof path);
    snprintf(cmd, sizeof cmd, "PIPELAB='%s'; %s", path, line);
    return shell_capture(cmd, out, n);
}

/* A temporary file holding `text`; its path goes into path. */
static void temp_file(char *path, size_t n, const char *text)
{
    snprintf(path, n, "/tmp/pipelab-test-cli-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* One bad invocation: the arguments, and what its message must name. */
typedef struct {
    const char *args[12];
    const char *names;
} bad_call;

#define BAD(needle, ...) {{__VA_ARGS__, NULL}, needle}

static const bad_call table[] = {
    /* out of range */
    BAD("--devices", "run", "--devices", "0"),
    BAD("--devices", "run", "--devices", "-3"),
    BAD("--devices", "run", "--devices", "2000"),
    BAD("--devices", "run", "--devices", "99999999999999999999999"),
    BAD("--microbatches", "run", "--microbatches", "0"),
    BAD("--layers", "run", "--layers", "0"),
    BAD("--width", "run", "--width", "4097"),
    BAD("--steps", "run", "--steps", "10001"),
    BAD("--seed", "run", "--seed", "-1"),
    BAD("--device-memory", "run", "--device-memory", "0"),
    BAD("--scale", "run", "--clock", "scaled", "--scale", "0"),
    BAD("--scale", "run", "--scale", "-2"),
    BAD("--scale", "run", "--scale", "1e7"),
    BAD("--scale", "run", "--scale", "inf"),
    BAD("--scale", "run", "--scale", "nan"),
    BAD("--flops", "run", "--cost", "flops", "--flops", "1e-30"),
    BAD("--watchdog", "run", "--watchdog", "0"),
    BAD("--watchdog", "run", "--watchdog", "-5"),
    BAD("--inject-fault", "run", "--inject-fault", "device=-1,action=0"),
    BAD("--inject-fault", "run", "--inject-fault", "device=99999999999,action=0"),
    BAD("--inject-fault", "run", "--inject-fault", "device=0,action=99999999999999999999"),
    /* not numbers, not names */
    BAD("--devices", "run", "--devices", "four"),
    BAD("--devices", "run", "--devices", "4x"),
    BAD("--microbatches", "run", "--microbatches", "1.5"),
    BAD("--batch", "run", "--batch", "0x20"),
    BAD("--watchdog", "run", "--watchdog", "soon"),
    BAD("--schedule", "run", "--schedule", "zigzag"),
    BAD("--cost", "run", "--cost", "cheap"),
    BAD("--clock", "run", "--clock", "wall"),
    BAD("--over", "sweep", "--over", "q"),
    BAD("--inject-fault", "run", "--inject-fault", "device=1"),
    BAD("--inject-fault", "run", "--inject-fault", "device=1,action=x"),
    BAD("--inject-fault", "run", "--inject-fault", "device= 1,action=2"),
    BAD("--inject-fault", "run", "--inject-fault", "device=1,action=2,"),
    /* empty */
    BAD("--devices", "run", "--devices", ""),
    BAD("--schedule", "run", "--schedule", ""),
    BAD("--schedule-file", "run", "--schedule-file", ""),
    BAD("--clock", "run", "--clock", ""),
    BAD("--inject-fault", "run", "--inject-fault", ""),
    BAD("--scale", "run", "--scale", ""),
    /* missing */
    BAD("--devices", "run", "--devices"),
    BAD("--watchdog", "run", "--steps", "2", "--watchdog"),
    /* duplicated */
    BAD("--devices", "run", "--devices", "4", "--devices", "5"),
    BAD("--json", "run", "--json", "--json"),
    BAD("--inject-fault", "run", "--inject-fault", "device=0,action=0", "--inject-fault",
        "device=1,action=0"),
    /* conflicting */
    BAD("--schedule-file", "run", "--schedule", "gpipe", "--schedule-file", "x.txt"),
    BAD("--verify", "run", "--simulate", "--verify"),
    BAD("--inject-fault", "run", "--simulate", "--inject-fault", "device=0,action=0"),
    BAD("--devices", "run", "--devices", "9"),                 /* 8 layers */
    BAD("--microbatches", "run", "--microbatches", "64"),      /* batch 32 */
    BAD("--inject-fault", "run", "--devices", "2", "--inject-fault", "device=2,action=0"),
    BAD("--microbatches", "run", "--schedule", "naive", "--microbatches", "4"),
    /* unknown */
    BAD("--frobnicate", "run", "--frobnicate"),
    BAD("'stray'", "run", "stray"),
    BAD("'-'", "run", "-"),
    BAD("'dance'", "dance"),
    BAD("'b.txt'", "check", "a.txt", "b.txt"),
    BAD("check", "check"),
    BAD("/no/such/dir/schedule.txt", "check", "/no/such/dir/schedule.txt"),
    BAD("--schedule", "show", "--schedule-file", "x.txt"),
    /* options that would be ignored are refused */
    BAD("--verify", "show", "--verify"),
    BAD("--json", "check", "x.txt", "--json"),
    BAD("--schedule-file", "compare", "--schedule-file", "x.txt"),
    BAD("--inject-fault", "compare", "--inject-fault", "device=0,action=0"),
    BAD("--flops", "run", "--flops", "1e12"),
    BAD("--scale", "run", "--scale", "5"),
    BAD("--clock", "run", "--simulate", "--clock", "real"),
    BAD("--chunks", "run", "--schedule", "1f1b", "--chunks", "2"),
    BAD("--chunks", "run", "--chunks", "0"),
    BAD("--microbatches", "show", "--schedule", "naive", "--microbatches", "3"),
    BAD("--trace", "run", "--trace", "same.out", "--svg", "same.out"),
    BAD("--steps", "sweep", "--steps", "2"),
    BAD("--inject-fault", "run", "--inject-fault", "device=1,action=2,stal"),
    BAD("--inject-fault", "run", "--inject-fault", "device=1,action=2,x,stall"),
    /* chapter 07: models, partitions, links, momentum */
    BAD("--widths", "run", "--widths", "32,,32"),
    BAD("--widths", "run", "--widths", "32,0,32"),
    BAD("--widths", "run", "--widths", "32,4097"),
    BAD("--widths", "run", "--widths", "32,32,"),
    BAD("--widths", "run", "--widths", ""),
    BAD("--widths", "run", "--widths", "32,32,32,32", "--layers", "8"),
    BAD("--widths", "run", "--widths", "32,32,32,32", "--model", "lm-like"),
    BAD("--width", "run", "--widths", "32,32,32,32", "--width", "16"),
    BAD("--model", "run", "--model", "gpt"),
    BAD("--partition", "run", "--partition", "uneven"),
    BAD("--partition", "run", "--partition", "3,3,x"),
    BAD("--partition", "run", "--partition", "3,3,2"),          /* 4 stages */
    BAD("--partition", "run", "--partition", "3,3,1,2"),        /* 9 layers, not 8 */
    BAD("--partition-by", "run", "--partition-by", "guess"),
    BAD("--partition-by", "run", "--partition", "even", "--partition-by", "measured"),
    BAD("--momentum", "run", "--momentum", "1"),
    BAD("--momentum", "run", "--momentum", "-0.5"),
    BAD("--link-latency", "run", "--link-latency", "-1"),
    BAD("--link-latency", "run", "--link-latency", "soon"),
    BAD("--link-bandwidth", "run", "--link-bandwidth", "0"),
    BAD("--warmup-extra", "run", "--warmup-extra", "-1"),
    BAD("--warmup-extra", "run", "--schedule", "gpipe", "--warmup-extra", "1"),
    BAD("--warmup-extra", "run", "--warmup-extra", "auto"),     /* free links */
    BAD("--warmup-extra", "show", "--warmup-extra", "auto"),
    BAD("--max-inflight", "run", "--max-inflight", "0"),
    BAD("--partition", "compare", "--partition", "memory"),
    BAD("--partition", "run", "--partition", "memory", "--recompute"),
    BAD("--partition", "run", "--partition", "memory", "--schedule", "interleaved"),
    BAD("--partition", "run", "--partition", "memory", "--schedule", "zb-h1"),
    BAD("--max-inflight", "run", "--schedule", "gpipe", "--max-inflight", "2"),
    BAD("--max-inflight", "compare", "--max-inflight", "2"),
    BAD("--blocking-send", "show", "--blocking-send"),
    BAD("--seed", "partition", "--seed", "2"),
    /* chapter 06: costs, the end of a step, clipping */
    BAD("--costs", "run", "--costs", "1,1"),
    BAD("--costs", "run", "--costs", "1,1,0"),
    BAD("--costs", "run", "--costs", "1,1,1,1"),
    BAD("--costs", "run", "--costs", "1,,1"),
    BAD("--costs", "run", "--costs", "a,b,c"),
    BAD("--costs", "run", "--costs", "1,1,2000"),
    BAD("--costs", "run", "--cost", "flops", "--costs", "1,1,1"),
    BAD("--costs", "run", "--cost", "measured", "--costs", "1,1,1"),
    BAD("--flops", "run", "--cost", "measured", "--flops", "1e9"),
    BAD("--costs", "show", "--costs", "1,1,1"),
    BAD("--step-sync", "run", "--step-sync", "sometimes"),
    BAD("--step-sync", "sweep", "--step-sync", "local"),
    BAD("--clip-grad-norm", "run", "--clip-grad-norm", "0"),
    BAD("--clip-grad-norm", "run", "--clip-grad-norm", "-1"),
    BAD("--clip-grad-norm", "run", "--clip-grad-norm", "inf"),
    BAD("--post-validation", "run", "--post-validation"),
    BAD("--show-steps", "run", "--show-steps", "some"),
    BAD("--show-steps", "sweep", "--show-steps", "all"),
};
enum { N_BAD = sizeof table / sizeof table[0] };

static void describe(const bad_call *b, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "pipelab");
    for (int i = 0; b->args[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, " '%s'", b->args[i]);
}

Test(cli, the_table_is_at_least_30_bad_invocations)
{
    cr_expect_geq(N_BAD, 30);
}

Test(cli, every_bad_invocation_exits_2_with_one_line_naming_the_option, .timeout = 120)
{
    for (int i = 0; i < N_BAD; i++) {
        char what[512];
        describe(&table[i], what, sizeof what);
        pl_child c = pipelab_run(table[i].args, 10.0);
        cr_expect(!c.hung, "%s: hung", what);
        cr_expect_eq(c.signal, 0, "%s: killed by signal %d", what, c.signal);
        cr_expect_eq(c.status, 2, "%s: exit %d, stderr: %s", what, c.status, c.err);
        cr_expect_eq(line_count(c.err), 1, "%s: %d lines on stderr:\n%s", what,
                     line_count(c.err), c.err);
        cr_expect(strstr(c.err, table[i].names) != NULL, "%s: the message does not name %s: %s",
                  what, table[i].names, c.err);
        cr_expect(strncmp(c.err, "pipelab: ", 9) == 0, "%s: %s", what, c.err);
    }
}

Test(cli, a_schedule_file_with_a_syntax_error_names_line_and_column, .timeout = 10)
{
    char path[] = "/tmp/pipelab-test-schedule-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char text[] = "devices 2\nmicrobatches 1\nchunks 1\nd0: F0 B0\nd1: F0 X0\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    const char *args[] = {"check", path, NULL};
    pl_child c = pipelab_run(args, 10.0);
    unlink(path);
    cr_expect_eq(c.status, 2, "%s", c.err);
    cr_expect_eq(line_count(c.err), 1, "%s", c.err);
    cr_expect(strstr(c.err, "line 5, column 8") != NULL, "%s", c.err);
}

Test(cli, no_arguments_prints_the_usage_and_exits_2, .timeout = 10)
{
    const char *args[] = {NULL};
    pl_child c = pipelab_run(args, 10.0);
    cr_expect_eq(c.status, 2);
    cr_expect(strstr(c.err, "usage: pipelab") != NULL, "%s", c.err);
}

Test(cli, good_invocations_still_succeed, .timeout = 30)
{
    const char *run[] = {"run", "--schedule", "gpipe", "--devices", "3", "--microbatches", "4",
                         "--inject-fault", "device=2,action=15", NULL};
    pl_child c = pipelab_run(run, 10.0);
    cr_expect_eq(c.status, 1, "a fault inside the run is not bad input: %s", c.err);
    const char *show[] = {"show", "--schedule", "1f1b", "--devices", "3", "--microbatches", "4",
                          NULL};
    c = pipelab_run(show, 10.0);
    cr_expect_eq(c.status, 0, "%s", c.err);
    cr_expect_str_eq(c.err, "");
}

Test(cli, a_schedule_file_must_agree_with_the_sizes_given, .timeout = 10)
{
    char path[64];
    temp_file(path, sizeof path, "devices 3\nmicrobatches 1\nchunks 1\nd0: F0 B0\nd1: F0 B0\n"
                                 "d2: F0 B0\n");
    const char *ok[] = {"run", "--schedule-file", path, "--devices", "3", NULL};
    pl_child c = pipelab_run(ok, 10.0);
    cr_expect_eq(c.status, 0, "%s", c.err);
    const char *bad[] = {"run", "--schedule-file", path, "--devices", "4", NULL};
    c = pipelab_run(bad, 10.0);
    cr_expect_eq(c.status, 2, "%s", c.err);
    cr_expect(strstr(c.err, "--devices 4, but") && strstr(c.err, "says 3"), "%s", c.err);
    unlink(path);
}

/* An output may not overwrite an input: the schedule file stays whole. */
Test(cli, an_output_never_overwrites_the_schedule_file, .timeout = 10)
{
    const char *text = "devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B0\n";
    char path[64], out[256];
    temp_file(path, sizeof path, text);
    for (int k = 0; k < 2; k++) {
        const char *args[] = {"run", "--schedule-file", path, k ? "--svg" : "--trace", path, NULL};
        pl_child c = pipelab_run(args, 10.0);
        cr_expect_eq(c.status, 2, "%s", c.err);
        cr_expect(strstr(c.err, "that is an input of this command"), "%s", c.err);
    }
    FILE *f = fopen(path, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    cr_expect_str_eq(out, text);
    unlink(path);
}

/* A run that fails leaves whatever was at an output path byte-identical, and
 * no temporary file behind. */
Test(cli, a_failed_run_leaves_existing_outputs_untouched, .timeout = 10)
{
    char path[64], out[256];
    temp_file(path, sizeof path, "precious\n");
    const char *args[] = {"run", "--inject-fault", "device=1,action=3", "--svg", path, NULL};
    pl_child c = pipelab_run(args, 10.0);
    cr_expect_eq(c.status, 1, "%s", c.err);
    FILE *f = fopen(path, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    cr_expect_str_eq(out, "precious\n");
    cr_expect_eq(sh("ls /tmp/.pipelab-test-cli-*.pipelab-* 2>/dev/null | wc -l", out, sizeof out), 0);
    cr_expect_eq(atoi(out), 0, "a temporary file was left behind");
    unlink(path);
}

Test(cli, pictures_say_what_they_wrote, .timeout = 10)
{
    char out[1024];
    int rc = sh("d=$(mktemp -d) && \"$PIPELAB\" run --svg $d/t.svg --trace $d/t.json 2>&1 >/dev/null"
                " && test -s $d/t.svg && test -s $d/t.json; s=$?; rm -rf $d; exit $s", out, sizeof out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "pipelab: wrote ") && strstr(out, "t.svg (SVG timeline of 1 run, "
                                                              "median step)"), "%s", out);
    cr_expect(strstr(out, "t.json (Chrome trace of 1 run)"), "%s", out);
}

Test(cli, output_that_cannot_be_written_is_a_failure, .timeout = 20)
{
    static const char *lines[] = {
        "\"$PIPELAB\" run --json",
        "\"$PIPELAB\" show",
        "\"$PIPELAB\" compare",
        "\"$PIPELAB\" sweep",
        "\"$PIPELAB\" --help",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char out[1024], cmd[256];
        snprintf(cmd, sizeof cmd, "%s 2>&1 >/dev/full", lines[i]);
        int rc = sh(cmd, out, sizeof out);
        cr_expect_eq(rc, 1, "%s: exit %d", lines[i], rc);
        cr_expect(strstr(out, "cannot write standard output"), "%s: %s", lines[i], out);
    }
}

Test(cli, json_from_the_simulator_has_null_losses_and_sweep_prints_json, .timeout = 30)
{
    static char out[1 << 16];
    cr_expect_eq(sh("\"$PIPELAB\" run --simulate --json", out, sizeof out), 0);
    cr_expect(strstr(out, "\"loss\":null"), "%s", out);
    cr_expect_eq(sh("\"$PIPELAB\" sweep --json --microbatches 4", out, sizeof out), 0);
    int lines = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"), lines++)
        cr_expect(l[0] == '{' && l[strlen(l) - 1] == '}', "not a JSON line: %s", l);
    cr_expect_geq(lines, 3 * 3 + 1, "every schedule at m = 1, 2, 4 (naive once)");
}

/* The real clock with more device threads than cores measures the host, not
 * the schedule, and the summary says so -- only then. */
Test(cli, the_real_clock_on_too_few_cores_says_its_bubble_is_the_hosts, .timeout = 60)
{
    static char out[1 << 14];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char line[256];
    snprintf(line, sizeof line, "\"$PIPELAB\" run --clock real --steps 1 --devices %ld "
             "--layers %ld --microbatches 2", cores + 1, cores + 1);
    cr_expect_eq(sh(line, out, sizeof out), 0, "%s", out);
    char note[128];
    snprintf(note, sizeof note, "note        %ld devices on %ld cores:", cores + 1, cores);
    cr_expect(strstr(out, note), "%s", out);
    cr_expect(strstr(out, "this bubble is the host's, not the schedule's"), "%s", out);
    cr_expect_eq(sh("\"$PIPELAB\" run --clock real --steps 1 --devices 1 --microbatches 2", out,
                    sizeof out), 0);
    cr_expect_null(strstr(out, "note        "), "%s", out);
    cr_expect_eq(sh("\"$PIPELAB\" run --steps 1 --devices 16 --layers 16", out, sizeof out), 0);
    cr_expect_null(strstr(out, "note        "), "the virtual clock: %s", out);
}

Test(cli, the_summary_names_the_step_its_figures_are_of, .timeout = 10)
{
    static char out[1 << 14];
    cr_expect_eq(sh("\"$PIPELAB\" run --steps 3 --microbatches 7", out, sizeof out), 0);
    cr_expect(strstr(out, "step 2 of 3 (the median makespan"), "%s", out);
    cr_expect(strstr(out, "measured    predicted      formula"), "%s", out);
    cr_expect(strstr(out, "(none: micro-batches are unequal: batch 32 is not a multiple of m = 7)"),
              "%s", out);
    cr_expect(strstr(out, "costs: 1 unit = 1 ms"), "%s", out);
}
