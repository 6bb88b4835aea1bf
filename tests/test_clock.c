/*
 * test_clock.c -- the three clocks, driven directly with a fake host: the
 * virtual clock's arithmetic, and the scaled clock's absolute deadlines, which
 * absorb late wake-ups instead of accumulating them.
 */
#include <criterion/criterion.h>

#include "clock.h"

/* A host whose every sleep wakes up `late` ns after its deadline. */
typedef struct {
    int64_t now, late;
    long sleeps;
} fake_host;

static int64_t fake_now(void *ctx)
{
    return ((fake_host *)ctx)->now;
}

static void fake_sleep_until(void *ctx, int64_t t)
{
    fake_host *h = ctx;
    h->sleeps++;
    if (t > h->now)
        h->now = t + h->late;
}

Test(clock, virtual_starts_at_the_later_of_device_and_message)
{
    pl_clock c = pl_clock_make(PL_CLOCK_VIRTUAL, 0, 1.0, 1.0);
    cr_expect_eq(pl_clock_begin(&c, 0), 0);
    cr_expect_eq(pl_clock_end(&c, 5), 5);
    cr_expect_eq(pl_clock_stamp(&c), 5);
    cr_expect_eq(pl_clock_begin(&c, 12), 12, "waits for a message stamped 12");
    cr_expect_eq(pl_clock_end(&c, 3), 15);
    cr_expect_eq(pl_clock_begin(&c, 7), 15, "a message already there: the device is later");
    cr_expect_eq(pl_clock_end(&c, 1), 16);
    pl_clock_advance(&c, 40);
    cr_expect_eq(pl_clock_stamp(&c), 40, "a barrier moves the clock on");
    pl_clock_advance(&c, 10);
    cr_expect_eq(pl_clock_stamp(&c), 40, "never back");
    cr_expect_float_eq(pl_clock_ns_per_tick(&c), 1.0, 0);
}

/* 100 actions of 1000 ticks back to back, each wake-up 300 ns late: the
 * scaled clock's deadlines are absolute on the modelled timeline, so the
 * last action ends 300 ns late, not 100 x 300. */
Test(clock, scaled_late_wake_ups_do_not_accumulate)
{
    fake_host h = {1000000, 300, 0};
    pl_host host = {fake_now, fake_sleep_until, &h};
    pl_clock c = pl_clock_make(PL_CLOCK_SCALED, h.now, 1.0, 1.0);
    pl_clock_use_host(&c, &host);
    int64_t end = 0;
    for (int k = 1; k <= 100; k++) {
        int64_t start = pl_clock_begin(&c, 0);
        end = pl_clock_end(&c, 1000);
        cr_assert_eq(end, k * 1000 + 300, "action %d ends at %lld", k, (long long)end);
        cr_assert_leq(end - start, 1000 + 300);
    }
    cr_expect_eq(pl_clock_stamp(&c), 100 * 1000, "messages carry the modelled time");
    cr_expect_float_eq(pl_clock_ns_per_tick(&c), 1.0, 0, "recorded times are host ns");
}

/* The modelled timeline is scaled: a tick of 2 ns at scale 5 sleeps 10 ns. */
Test(clock, scaled_deadlines_are_ticks_times_tick_length_times_scale)
{
    fake_host h = {0, 0, 0};
    pl_host host = {fake_now, fake_sleep_until, &h};
    pl_clock c = pl_clock_make(PL_CLOCK_SCALED, 0, 2.0, 5.0);
    pl_clock_use_host(&c, &host);
    pl_clock_begin(&c, 0);
    cr_expect_eq(pl_clock_end(&c, 100), 1000);
    /* A message stamped at modelled 300 ticks: the action starts there. */
    pl_clock_begin(&c, 300);
    cr_expect_eq(pl_clock_end(&c, 100), 4000);
}

/* A late message shifts what follows, but a late wake-up never does. */
Test(clock, scaled_follows_the_message_stamps)
{
    fake_host h = {0, 50, 0};
    pl_host host = {fake_now, fake_sleep_until, &h};
    pl_clock c = pl_clock_make(PL_CLOCK_SCALED, 0, 1.0, 1.0);
    pl_clock_use_host(&c, &host);
    pl_clock_begin(&c, 0);
    cr_expect_eq(pl_clock_end(&c, 100), 150);
    pl_clock_begin(&c, 500); /* the input was sent at modelled 500 */
    cr_expect_eq(pl_clock_end(&c, 100), 650);
    pl_clock_begin(&c, 0);
    cr_expect_eq(pl_clock_end(&c, 100), 750);
}

static int always(void *ctx)
{
    (void)ctx;
    return 1;
}

Test(clock, a_stopped_run_cuts_a_scaled_sleep_short, .timeout = 5)
{
    pl_clock c = pl_clock_make(PL_CLOCK_SCALED, pl_clock_host_ns(), 1.0, 1e6);
    pl_clock_on_stop(&c, always, NULL);
    int64_t t0 = pl_clock_host_ns();
    pl_clock_begin(&c, 0);
    pl_clock_end(&c, 1000000000000LL);
    cr_expect_lt(pl_clock_host_ns() - t0, 100000000LL, "a 1000 s sleep returned at once");
}

Test(clock, real_records_host_time)
{
    fake_host h = {500, 0, 0};
    pl_host host = {fake_now, fake_sleep_until, &h};
    pl_clock c = pl_clock_make(PL_CLOCK_REAL, 100, 1.0, 1.0);
    pl_clock_use_host(&c, &host);
    cr_expect_eq(pl_clock_begin(&c, 999999), 400, "the thread really waited for its input");
    h.now = 1234;
    cr_expect_eq(pl_clock_end(&c, 7), 1134, "the cost model does not matter");
    cr_expect_eq(h.sleeps, 0);
}

Test(clock, names_and_predictions)
{
    pl_clock_kind k;
    cr_expect_str_eq(pl_clock_name(PL_CLOCK_SCALED), "scaled");
    cr_expect(pl_clock_parse("real", &k) == 0 && k == PL_CLOCK_REAL);
    cr_expect_eq(pl_clock_parse("wall", &k), -1);
    cr_expect_float_eq(pl_clock_predict_ns(PL_CLOCK_VIRTUAL, 10, 2.0, 7.0), 20.0, 0);
    cr_expect_float_eq(pl_clock_predict_ns(PL_CLOCK_SCALED, 10, 2.0, 7.0), 140.0, 0);
    cr_expect_float_eq(pl_clock_predict_ns(PL_CLOCK_REAL, 10, 2.0, 7.0), 20.0, 0);
}
