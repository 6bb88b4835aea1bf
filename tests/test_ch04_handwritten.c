/*
 * test_ch04_handwritten.c -- the grader of exercise 04's hand-written
 * schedule: p = 3 devices, m = 4 micro-batches, GPipe's bubble 2/6 with at
 * most 3 micro-batches in flight on any device, trained bit for bit like the
 * sequential reference.
 *
 * The schedule comes from the file named by PL_SCHEDULE_FILE (make
 * exercise-ch04 points it at exercises/04-1f1b/schedule.txt). Without it the
 * suite grades the reference answer, `pipelab show --schedule 1f1b
 * --devices 3 --microbatches 4`, made in process, so `make test` proves the
 * target is reachable.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"
#include "validate.h"

enum { P = 3, M = 4 };

/* Fill path with the schedule under test: the learner's file, or the
 * reference written to a temporary file. */
static void schedule_path(char *path, size_t n)
{
    const char *env = getenv("PL_SCHEDULE_FILE");
    if (env && *env) {
        snprintf(path, n, "%s", env);
        return;
    }
    pl_schedule s;
    registry_schedule("1f1b", &s, P, M, 1);
    snprintf(path, n, "/tmp/pipelab-ch04-reference-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "cannot make a temporary file");
    FILE *f = fdopen(fd, "w");
    cr_assert(f, "cannot write %s", path);
    pl_schedule_write(&s, f);
    fclose(f);
    pl_schedule_free(&s);
}

/* Remove the reference's temporary file; the learner's file stays. */
static void done_with(const char *path)
{
    const char *env = getenv("PL_SCHEDULE_FILE");
    if (!(env && *env))
        unlink(path);
}

static void load(pl_schedule *s, char *path, size_t n)
{
    char err[1024];
    schedule_path(path, n);
    int rc = pl_schedule_load(path, s, err, sizeof err);
    done_with(path);
    cr_assert_eq(rc, 0, "%s", err);
}

Test(ch04_handwritten, the_file_parses)
{
    char path[512];
    pl_schedule s;
    load(&s, path, sizeof path);
    pl_schedule_free(&s);
}

Test(ch04_handwritten, it_is_for_3_devices_and_4_microbatches)
{
    char path[512];
    pl_schedule s;
    load(&s, path, sizeof path);
    cr_expect_eq(s.devices, P, "devices %d, the task asks for %d", s.devices, P);
    cr_expect_eq(s.microbatches, M, "microbatches %d, the task asks for %d", s.microbatches, M);
    cr_expect_eq(s.chunks, 1, "chunks %d, the task asks for 1", s.chunks);
    pl_schedule_free(&s);
}

Test(ch04_handwritten, the_validator_accepts_it)
{
    char path[512], err[4096];
    pl_schedule s;
    load(&s, path, sizeof path);
    cr_expect_eq(pl_validate(&s, NULL, err, sizeof err), 0, "%s", err);
    pl_schedule_free(&s);
}

Test(ch04_handwritten, at_most_3_microbatches_in_flight_on_every_device)
{
    char path[512], err[4096];
    pl_schedule s;
    pl_validation v;
    load(&s, path, sizeof path);
    cr_assert_eq(pl_validate(&s, &v, err, sizeof err), 0, "%s", err);
    for (int d = 0; d < s.devices; d++)
        cr_expect_leq(v.peak_inflight[d], 3, "d%d holds %d micro-batches at once (GPipe's 4?)",
                      d, v.peak_inflight[d]);
    pl_validation_free(&v);
    pl_schedule_free(&s);
}

/* Run the file on the virtual clock under uniform costs. */
static void run_file(pl_experiment *x, int verify)
{
    char path[512];
    schedule_path(path, sizeof path);
    pl_options o = small_run(NULL, P, M);
    o.schedule_file = path;
    o.verify = verify;
    o.steps = verify ? 2 : 1;
    char err[1024] = "";
    int rc = pl_experiment_run(&o, x, err, sizeof err);
    done_with(path);
    cr_assert_eq(rc, 0, "%s", err);
}

Test(ch04_handwritten, the_bubble_is_2_over_6, .timeout = 30)
{
    pl_experiment x;
    run_file(&x, 0);
    double target = (double)(P - 1) / (M + P - 1);
    cr_expect(fabs(x.bubble - target) < 1e-12, "bubble %.4f, the target is %.4f", x.bubble,
              target);
    pl_experiment_free(&x);
}

Test(ch04_handwritten, it_trains_bitwise_like_the_reference, .timeout = 30)
{
    pl_experiment x;
    run_file(&x, 1);
    cr_expect(x.bitwise_equal, "weights differ by up to %g: run every device's backwards "
              "in increasing micro-batch order", x.max_abs_diff);
    pl_experiment_free(&x);
}
