/*
 * handoff.c -- how long one message takes between two device threads.
 *
 * Two threads play ping-pong through two mailboxes (the threads transport's
 * building block); half a round trip is one hand-off. The median over many
 * rounds is what `make bench` reports: the fixed cost every pipeline message
 * pays on top of its compute.
 */
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "mailbox.h"

double pl_bench_handoff_ns(int rounds);

typedef struct {
    pl_mailbox *ping, *pong;
    int rounds;
    atomic_int stop;
} table;

static void *partner(void *arg)
{
    table *t = arg;
    pl_message msg;
    for (int i = 0; i < t->rounds; i++) {
        if (pl_mailbox_take(t->ping, 0, &t->stop, &msg))
            break;
        pl_mailbox_put(t->pong, 0, 0, msg.time, msg.t);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double pl_bench_handoff_ns(int rounds)
{
    pl_mailbox ping, pong;
    int64_t *half = malloc((size_t)rounds * sizeof *half);
    if (!half || pl_mailbox_init(&ping, 1) || pl_mailbox_init(&pong, 1)) {
        free(half);
        return -1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ping.spin_ns = pong.spin_ns = cores >= 2 ? PL_MAILBOX_POLL_NS : 0; /* as the transport */
    table t = {&ping, &pong, rounds, 0};
    pthread_t th;
    pthread_create(&th, NULL, partner, &t);
    pl_message msg;
    for (int i = 0; i < rounds; i++) {
        int64_t t0 = pl_clock_host_ns();
        pl_mailbox_put(&ping, 0, 0, t0, (pl_tensor){0, 0, NULL});
        pl_mailbox_take(&pong, 0, &t.stop, &msg);
        half[i] = (pl_clock_host_ns() - t0) / 2;
    }
    pthread_join(th, NULL);
    qsort(half, (size_t)rounds, sizeof *half, cmp);
    double median = (double)half[rounds / 2];
    free(half);
    pl_mailbox_destroy(&ping);
    pl_mailbox_destroy(&pong);
    return median;
}
