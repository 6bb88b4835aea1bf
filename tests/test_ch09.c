/*
 * test_ch09.c -- chapter 09: the same schedules with every device an MPI
 * process give the same weights, bit for bit, and on the virtual clock the
 * same trace, event for event, as device threads; a failure on any rank
 * stops every rank promptly, and is reported once.
 *
 * Each case starts `mpirun` (PL_MPIRUN, the flags the Makefile uses) on
 * build/pipelab-mpi as a child under `timeout`, so a hang fails the test
 * instead of stalling the suite.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "helpers.h"


/* Wall-clock limit for one mpirun: a loaded 2-core machine starts 4
 * processes in well under this. */
#define LIMIT_S 60

enum { OUT = 1 << 14 };

static void require_programs(void)
{
    cr_assert(access(PL_MPI_CLI, X_OK) == 0, "%s is not built (make mpi)", PL_MPI_CLI);
    cr_assert(access(PL_CLI, X_OK) == 0, "%s is not built (make)", PL_CLI);
}

/* A temporary file name, removed by the caller. */
static void temp_name(char *buf, size_t n, const char *what)
{
    snprintf(buf, n, "/tmp/pipelab-ch09-%ld-%s", (long)getpid(), what);
}

/* Read a whole (small) file into buf; returns its length, -1 if unreadable. */
static long slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
    return (long)got;
}

/* Run `cmd` with stdout into out and stderr into err; returns its status;
 * *seconds gets the wall time. `timeout` kills it at LIMIT_S (status 124). */
static int run(const char *cmd, char *out, size_t outn, char *err, size_t errn,
               double *seconds)
{
    char errfile[128], full[8192];
    temp_name(errfile, sizeof errfile, "stderr");
    snprintf(full, sizeof full, "timeout -k 5 %d %s 2>%s", LIMIT_S, cmd, errfile);
    int64_t t0 = pl_clock_host_ns();
    int rc = shell_capture(full, out, outn);
    if (seconds)
        *seconds = (double)(pl_clock_host_ns() - t0) / 1e9;
    if (slurp(errfile, err, errn) < 0)
        err[0] = '\0';
    unlink(errfile);
    return rc;
}

/* The JSON line of an MPI run as device threads would print it: the same
 * fields but the executor, and no comparison with threads. */
static void as_threads(char *json)
{
    char *e = strstr(json, "\"executor\":\"mpi\"");
    cr_assert(e, "no executor mpi in %s", json);
    memmove(e + strlen("\"executor\":\"threads\""), e + strlen("\"executor\":\"mpi\""),
            strlen(e + strlen("\"executor\":\"mpi\"")) + 1);
    memcpy(e, "\"executor\":\"threads\"", strlen("\"executor\":\"threads\""));
    char *t = strstr(json, ",\"threads_equal\":true");
    cr_assert(t, "the MPI run was not checked against threads: %s", json);
    memmove(t, t + strlen(",\"threads_equal\":true"),
            strlen(t + strlen(",\"threads_equal\":true")) + 1);
}

/* One configuration on device threads and on MPI processes: both succeed,
 * both are bitwise equal to the reference, the MPI run says its weights and
 * trace equal the threads', the JSON summaries agree field for field, and
 * the two Chrome traces -- every event of every step -- are the same bytes. */
static void same_as_threads(const char *schedule, int p, int m, int v, const char *extra)
{
    static char tout[OUT], mout[OUT], terr[OUT], merr[OUT], ttrace[1 << 20], mtrace[1 << 20];
    char args[512], cmd[4096], tfile[128], mfile[128], chunks[32] = "", steps[32] = "";
    if (v)
        snprintf(chunks, sizeof chunks, " --chunks %d", v);
    if (!strstr(extra, "--steps"))
        snprintf(steps, sizeof steps, " --steps %d", extra[0] ? 4 : 2);
    int layers = p * (v ? v : 1) * 2;
    snprintf(args, sizeof args, "run --schedule %s --microbatches %d%s --layers %d --width 8 "
             "--batch %d%s --seed 3 --verify --json %s", schedule, m, chunks, layers,
             2 * m + 1, steps, extra);
    temp_name(tfile, sizeof tfile, "threads.json");
    temp_name(mfile, sizeof mfile, "mpi.json");

    snprintf(cmd, sizeof cmd, "%s %s --devices %d --trace %s", PL_CLI, args, p, tfile);
    int rc = run(cmd, tout, OUT, terr, OUT, NULL);
    cr_assert_eq(rc, 0, "threads: %s\n%s", cmd, terr);
    snprintf(cmd, sizeof cmd, "%s -np %d %s %s --trace %s", PL_MPIRUN, p, PL_MPI_CLI, args,
             mfile);
    rc = run(cmd, mout, OUT, merr, OUT, NULL);
    cr_assert_eq(rc, 0, "mpi: %s\n%s", cmd, merr);

    cr_expect(strstr(tout, "\"bitwise_equal\":true"), "threads %s p=%d m=%d v=%d: %s",
              schedule, p, m, v, tout);
    cr_expect(strstr(mout, "\"bitwise_equal\":true"), "mpi %s p=%d m=%d v=%d: %s",
              schedule, p, m, v, mout);
    as_threads(mout);
    cr_expect_str_eq(mout, tout, "%s p=%d m=%d v=%d: the summaries differ", schedule, p, m, v);
    long tn = slurp(tfile, ttrace, sizeof ttrace), mn = slurp(mfile, mtrace, sizeof mtrace);
    cr_assert(tn > 0 && tn < (long)sizeof ttrace - 1, "threads trace %s", tfile);
    cr_expect(mn == tn && memcmp(ttrace, mtrace, (size_t)tn) == 0,
              "%s p=%d m=%d v=%d: the merged MPI trace differs from the threads' trace",
              schedule, p, m, v);
    cr_expect(steps[0] == 0 || strstr(mtrace, "\"step\":1}"), "the trace holds both steps");
    unlink(tfile);
    unlink(mfile);
}

/* 1 if the registry can make `name` for (p, m, v). */
static int generates(const pl_registry_entry *e, int p, int m, int v)
{
    char err[256];
    pl_schedule s;
    pl_shape shape = pl_registry_shape(e, p, m, v);
    if (pl_registry_generate(e, &shape, &s, err, sizeof err))
        return 0;
    pl_schedule_free(&s);
    return 1;
}

/* Every registered schedule on p processes: several m, and v = 1..3 where
 * the schedule takes chunks. */
static void every_schedule(int p)
{
    require_programs();
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    const int ms[] = {1, p + 1, 2 * p};
    for (int i = 0; i < n; i++) {
        const pl_registry_entry *e = &all[i];
        int ran = 0;
        for (int k = 0; k < 3; k++) {
            int m = e->microbatches ? e->microbatches : ms[k];
            if (e->microbatches && k > 0)
                break;
            for (int v = e->chunks ? 0 : 1; v <= (e->chunks ? 0 : 3); v++)
                if (generates(e, p, m, v)) {
                    same_as_threads(e->name, p, m, v, "");
                    ran++;
                }
        }
        cr_expect(ran > 0, "%s: no configuration ran on %d processes", e->name, p);
    }
}

Test(ch09, every_schedule_on_2_processes_equals_threads, .timeout = 600)
{
    every_schedule(2);
}

Test(ch09, every_schedule_on_3_processes_equals_threads, .timeout = 600)
{
    every_schedule(3);
}

Test(ch09, every_schedule_on_4_processes_equals_threads, .timeout = 600)
{
    every_schedule(4);
}

/* Chapters 06 and 07 on processes: steps without a barrier, gradient
 * clipping (an all-reduce every device waits for), post-validation (an
 * all-reduce left open while the next step runs, and rollbacks), links,
 * uneven partitions, momentum -- for every schedule. */
Test(ch09, options_of_chapters_06_and_07_equal_threads, .timeout = 600)
{
    require_programs();
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    const char *modes[] = {
        "--clip-grad-norm 0.5",
        "--step-sync local --clip-grad-norm 0.5 --post-validation",
        "--step-sync local",
        "--link-latency 0.5 --link-bandwidth 1e6 --partition balanced --momentum 0.9",
        "--blocking-send --link-latency 0.25 --model lm-like --clip-grad-norm 0.5",
    };
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) {
            int p = 2 + (i + k) % 3, m = all[i].microbatches ? all[i].microbatches : p + 2;
            same_as_threads(all[i].name, p, m, all[i].chunks ? 0 : 2, modes[k]);
        }
}

/* A run longer than a trace keeps (PL_TRACE_KEPT_STEPS): each rank sends
 * only its window of per-step totals, and the merged trace is the threads'
 * window. */
Test(ch09, a_run_longer_than_the_trace_keeps_equals_threads, .timeout = 300)
{
    require_programs();
    same_as_threads("1f1b", 2, 4, 0, "--steps 20");
    same_as_threads("interleaved", 3, 6, 2, "--steps 17");
}

/* How each rank ended, from a wrapper that outlives pipelab-mpi: mpirun is
 * told not to kill the other ranks when one exits non-zero, so each rank
 * reports its own exit status and time. */
typedef struct {
    int seen, status;
    double at;
} rank_end;

static void ends_of(const char *err, rank_end *ends, int p)
{
    memset(ends, 0, (size_t)p * sizeof *ends);
    for (const char *s = strstr(err, "RANK-END "); s; s = strstr(s + 1, "RANK-END ")) {
        int r, st;
        double at;
        if (sscanf(s, "RANK-END %d %d %lf", &r, &st, &at) == 3 && r >= 0 && r < p) {
            ends[r].seen++;
            ends[r].status = st;
            ends[r].at = at;
        }
    }
}

/* Remove from stderr the warning Open MPI's event library sometimes prints
 * while mpirun tears down ranks that aborted ("[warn] Epoll MOD(1) on fd 27
 * failed ... Bad file descriptor"): mpirun's line, not pipelab's, and one
 * that would count as a second failure. */
static void strip_mpi_noise(char *s)
{
    for (char *q = strstr(s, "[warn] Epoll "); q; q = strstr(q, "[warn] Epoll ")) {
        if (q != s && q[-1] != '\n') {
            q++;
            continue;
        }
        char *end = strchr(q, '\n'), *next = end ? end + 1 : q + strlen(q);
        memmove(q, next, strlen(next) + 1);
    }
}

/* Occurrences of `needle` in s. */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *q = strstr(s, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

/* A fault injected on rank d at its action k: every rank exits non-zero,
 * the last within 2 s of the first, the failure is reported exactly once,
 * naming d, and mpirun itself ends non-zero (no hang: timeout would say 124). */
static void fault(int p, int d, long k, const char *schedule, const char *extra)
{
    static char out[OUT], err[OUT];
    char args[256], cmd[4096], who[32];
    snprintf(args, sizeof args, "run --schedule %s --microbatches 6 --steps 3 "
             "--inject-fault device=%d,action=%ld %s", schedule, d, k, extra);

    snprintf(cmd, sizeof cmd, "%s --mca orte_abort_on_non_zero_status 0 -np %d sh -c "
             "'%s \"$@\"; s=$?; echo \"RANK-END $OMPI_COMM_WORLD_RANK $s $(date +%%s.%%N)\" >&2; "
             "exit $s' sh %s", PL_MPIRUN, p, PL_MPI_CLI, args);
    double took;
    int rc = run(cmd, out, OUT, err, OUT, &took);
    cr_assert_neq(rc, 124, "hung: %s", cmd);
    strip_mpi_noise(err);
    rank_end ends[8];
    ends_of(err, ends, p);
    double first = 1e30, last = 0;
    for (int r = 0; r < p; r++) {
        cr_expect_eq(ends[r].seen, 1, "rank %d of %d (fault on %d at %ld) did not end on its "
                     "own:\n%s", r, p, d, k, err);
        cr_expect_neq(ends[r].status, 0, "rank %d exited 0 (fault on %d at %ld)", r, d, k);
        if (ends[r].at < first)
            first = ends[r].at;
        if (ends[r].at > last)
            last = ends[r].at;
    }
    cr_expect(last - first <= 2.0, "fault on %d at %ld: the ranks ended %.3f s apart", d, k,
              last - first);
    snprintf(who, sizeof who, "d%d failed at", d);
    cr_expect_eq(count(err, "injected fault"), 1, "fault on %d at %ld:\n%s", d, k, err);
    cr_expect_eq(count(err, who), 1, "fault on %d at %ld:\n%s", d, k, err);
    cr_expect_eq(count(err, "failed"), 1, "only the failing rank is named:\n%s", err);

    /* As a user runs it: mpirun's own status says the run failed. */
    snprintf(cmd, sizeof cmd, "%s -np %d %s %s", PL_MPIRUN, p, PL_MPI_CLI, args);
    rc = run(cmd, out, OUT, err, OUT, &took);
    strip_mpi_noise(err);
    cr_expect(rc != 0 && rc != 124, "mpirun exited %d for a fault on %d at %ld", rc, d, k);
    cr_expect_eq(count(err, who), 1, "%s", err);
    cr_expect_eq(line_count(err), 1, "one line on stderr:\n%s", err);
}

/* On every rank: at its first action, in the middle of the second step
 * (while others wait at the barrier of the first or in a receive), and at
 * its very last action, when every other rank waits at the last barrier. */
static void faults_on_every_rank(int p, const char *schedule, const char *extra)
{
    require_programs();
    pl_schedule s;
    registry_schedule(schedule, &s, p, 6, 0);
    for (int d = 0; d < p; d++) {
        long len = s.len[d];
        long at[3] = {0, len + len / 2, 3 * len - 1};
        for (int i = 0; i < 3; i++)
            fault(p, d, at[i], schedule, extra);
    }
    pl_schedule_free(&s);
}

Test(ch09, a_fault_on_any_of_2_ranks_stops_every_rank, .timeout = 300)
{
    faults_on_every_rank(2, "gpipe", "");
}

Test(ch09, a_fault_on_any_of_4_ranks_stops_every_rank, .timeout = 300)
{
    faults_on_every_rank(4, "1f1b", "");
}

/* With post-validation a rank may be in two collectives at once (the
 * reduction it left open, and the next): a stop must still end both. */
Test(ch09, a_fault_while_reductions_are_open_stops_every_rank, .timeout = 300)
{
    faults_on_every_rank(3, "zb-h1", "--step-sync local --clip-grad-norm 0.5 --post-validation");
    faults_on_every_rank(3, "zb-h2", "--clip-grad-norm 0.5 --post-validation");
}

Test(ch09, refuses_what_does_not_fit_processes, .timeout = 120)
{
    require_programs();
    static char out[OUT], err[OUT];
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"run --devices 3", "--devices 3, but mpirun started 2 processes"},
        {"run --simulate", "--simulate runs no processes"},
        {"run --watchdog 5", "--watchdog needs the threads runtime's watchdog"},
        {"compare", "pipelab-mpi runs one schedule (run)"},
        {"run --partition balanced --partition-by measured", "--partition-by measured times"},
        {"run --cost measured", "--cost measured times the layers on each host"},
        {"run --microbatches 0", "--microbatches expects a whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s -np 2 %s %s", PL_MPIRUN, PL_MPI_CLI, bad[i].args);
        int rc = run(cmd, out, OUT, err, OUT, NULL);
        strip_mpi_noise(err);
        cr_expect(rc != 0 && rc != 124, "%s: exit %d", bad[i].args, rc);
        cr_expect(strstr(err, bad[i].says), "%s:\n%s", bad[i].args, err);
        cr_expect_eq(line_count(err), 1, "said once, by rank 0:\n%s", err);
    }
}

/* The real and scaled clocks on processes: the same weights as the
 * reference (timing is the host's, so only loose bounds on time). */
Test(ch09, real_and_scaled_clocks_run_on_processes, .timeout = 300)
{
    require_programs();
    static char out[OUT], err[OUT];
    const char *clocks[] = {"real", "scaled --scale 2"};
    for (int i = 0; i < 2; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s -np 2 %s run --schedule 1f1b --microbatches 4 --steps 2 "
                 "--clock %s --verify --json", PL_MPIRUN, PL_MPI_CLI, clocks[i]);
        int rc = run(cmd, out, OUT, err, OUT, NULL);
        cr_assert_eq(rc, 0, "%s\n%s", cmd, err);
        cr_expect(strstr(out, "\"bitwise_equal\":true"), "%s", out);
        cr_expect(strstr(out, "\"threads_equal\":true"), "%s", out);
        double measured = 0, predicted = 0;
        const char *ms = strstr(out, "\"makespan_ns\":"), *ps = strstr(out,
                                                                       "\"makespan_predicted_ns\":");
        cr_assert(ms && ps, "%s", out);
        sscanf(ms + strlen("\"makespan_ns\":"), "%lf", &measured);
        sscanf(ps + strlen("\"makespan_predicted_ns\":"), "%lf", &predicted);
        cr_expect(measured > 0, "%s", out);
        if (i == 1) /* scaled: the modelled 10 units x 2; sleeps end late, never early */
            cr_expect(measured >= 0.95 * predicted && measured <= 3 * predicted,
                      "scaled: measured %.0f ns, modelled %.0f ns", measured, predicted);
    }
}
