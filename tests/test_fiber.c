/*
 * test_fiber.c -- fibers: every one runs to its end, on fewer kernel threads
 * than fibers, and waits and wakes through pl_cond exactly as a kernel
 * thread would -- across workers, and with kernel threads on the other side.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "fiber.h"

/* ---- every fiber runs, yielding on the way ---------------------------- */

typedef struct {
    int yields;
    int ran[300];
} counting;

static void count_main(void *ctx, int i)
{
    counting *c = ctx;
    for (int k = 0; k < c->yields; k++) {
        c->ran[i]++;
        pl_fiber_yield();
    }
}

Test(fiber, every_fiber_runs_to_its_end_on_fewer_workers, .timeout = 30)
{
    static counting c = {.yields = 50};
    for (int workers = 1; workers <= 3; workers++) {
        memset(c.ran, 0, sizeof c.ran);
        pl_fibers *fs = pl_fibers_start(300, workers, 64 * 1024, count_main, &c);
        cr_assert(fs, "%d workers did not start", workers);
        pl_fibers_join(fs);
        for (int i = 0; i < 300; i++)
            cr_expect_eq(c.ran[i], 50, "%d workers: fiber %d ran %d times", workers, i,
                         c.ran[i]);
    }
}

Test(fiber, more_workers_than_fibers_is_one_each, .timeout = 30)
{
    static counting c = {.yields = 3};
    memset(c.ran, 0, sizeof c.ran);
    pl_fibers *fs = pl_fibers_start(2, 16, 64 * 1024, count_main, &c);
    cr_assert(fs);
    pl_fibers_join(fs);
    cr_expect_eq(c.ran[0], 3);
    cr_expect_eq(c.ran[1], 3);
}

Test(fiber, no_fibers_or_no_workers_start_nothing, .timeout = 30)
{
    static counting c;
    cr_expect_null(pl_fibers_start(0, 2, 64 * 1024, count_main, &c));
    cr_expect_null(pl_fibers_start(4, 0, 64 * 1024, count_main, &c));
}

/* ---- a token around a ring: one waiter per condition, across workers --- */

enum { RING = 64, LAPS = 200 };

typedef struct {
    pthread_mutex_t mu;
    pl_cond turn[RING]; /* fiber i waits on turn[i] */
    int holder;         /* who has the token */
    long passes;        /* how often it moved */
    int order_broken;   /* 1 if a fiber ran out of turn */
} ring;

static void ring_main(void *ctx, int i)
{
    ring *r = ctx;
    for (int lap = 0; lap < LAPS; lap++) {
        pthread_mutex_lock(&r->mu);
        while (r->holder != i)
            pl_cond_wait(&r->turn[i], &r->mu);
        r->order_broken |= r->passes % RING != i;
        r->passes++;
        r->holder = (i + 1) % RING;
        pl_wakeup next = pl_cond_take(&r->turn[r->holder], 0);
        pthread_mutex_unlock(&r->mu);
        pl_cond_wake(next);
    }
}

Test(fiber, a_token_goes_round_a_ring_of_fibers_in_order, .timeout = 60)
{
    for (int workers = 1; workers <= 4; workers *= 2) {
        static ring r;
        memset(&r, 0, sizeof r);
        pthread_mutex_init(&r.mu, NULL);
        for (int i = 0; i < RING; i++)
            pl_cond_init(&r.turn[i]);
        pl_fibers *fs = pl_fibers_start(RING, workers, 64 * 1024, ring_main, &r);
        cr_assert(fs);
        pl_fibers_join(fs);
        cr_expect_eq(r.passes, (long)RING * LAPS, "%d workers: %ld passes", workers, r.passes);
        cr_expect_not(r.order_broken, "%d workers: a fiber ran out of turn", workers);
        for (int i = 0; i < RING; i++)
            pl_cond_destroy(&r.turn[i]);
        pthread_mutex_destroy(&r.mu);
    }
}

/* ---- kernel threads and fibers on one condition ------------------------ */

typedef struct {
    pthread_mutex_t mu;
    pl_cond go;       /* the fibers wait for `open` */
    pl_cond arrived;  /* the kernel thread waits for `waiting` to reach n */
    int open, waiting, released, n;
} gate;

static void gate_main(void *ctx, int i)
{
    gate *g = ctx;
    (void)i;
    pthread_mutex_lock(&g->mu);
    g->waiting++;
    pl_wakeup w = pl_cond_take(&g->arrived, 1);
    pthread_mutex_unlock(&g->mu);
    pl_cond_wake(w);
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pl_cond_wait(&g->go, &g->mu);
    g->released++;
    pthread_mutex_unlock(&g->mu);
}

Test(fiber, a_kernel_thread_and_fibers_wait_on_each_other, .timeout = 30)
{
    static gate g;
    memset(&g, 0, sizeof g);
    g.n = 40;
    pthread_mutex_init(&g.mu, NULL);
    pl_cond_init(&g.go);
    pl_cond_init(&g.arrived);
    pl_fibers *fs = pl_fibers_start(g.n, 2, 64 * 1024, gate_main, &g);
    cr_assert(fs);
    /* This (kernel) thread waits for the fibers on a pl_cond ... */
    pthread_mutex_lock(&g.mu);
    while (g.waiting < g.n)
        pl_cond_wait(&g.arrived, &g.mu);
    cr_expect_eq(g.released, 0, "a fiber passed a closed gate");
    /* ... then wakes them all from outside any worker. */
    g.open = 1;
    pl_wakeup all = pl_cond_take(&g.go, 1);
    pthread_mutex_unlock(&g.mu);
    pl_cond_wake(all);
    pl_fibers_join(fs);
    cr_expect_eq(g.released, g.n);
    pl_cond_destroy(&g.go);
    pl_cond_destroy(&g.arrived);
    pthread_mutex_destroy(&g.mu);
}
