/*
 * Chapter 02 -- micro-batching.
 *
 * Split the batch into m micro-batches and accumulate their gradients. Each
 * device now holds the activations of one micro-batch instead of the whole
 * batch: memory falls by m. But one micro-batch still travels the pipeline
 * alone, so the bubble stays at (p-1)/p. This lesson measures both.
 */
#include "../lesson.h"

int main(void)
{
    int p = 4;
    pl_options o = lesson_options("naive", p, 1);
    pl_experiment naive;
    lesson_run(&o, &naive);
    size_t full = pl_experiment_peak_bytes(&naive);

    printf("Micro-batching on p = %d devices, batch %d\n\n", p, o.batch);
    printf(" m   bubble   predicted   formula   peak act. bytes   naive/m   in-flight   bitwise\n");
    printf(" -   %6.4f   %9.4f   %7.4f   %15zu   %7s   %9d   (naive)\n", naive.bubble,
           naive.predicted_bubble, naive.bubble_theory, full, "-",
           naive.result.trace.lanes[0].peak_inflight);
    for (int m = 1; m <= 16; m *= 2) {
        o = lesson_options("microbatch", p, m);
        o.verify = 1;
        pl_experiment x;
        lesson_run(&o, &x);
        printf("%2d   %6.4f   %9.4f   %7.4f   %15zu   %7zu   %9d   %s\n", m, x.bubble,
               x.predicted_bubble, x.bubble_theory, pl_experiment_peak_bytes(&x), full / (size_t)m,
               x.result.trace.lanes[0].peak_inflight, x.bitwise_equal ? "yes" : "NO");
        pl_experiment_free(&x);
    }
    pl_experiment_free(&naive);

    o = lesson_options("microbatch", p, 4);
    pl_experiment x;
    lesson_run(&o, &x);
    printf("\nm = 4: still one device busy at a time.\n");
    pl_timeline_print(&x.result.trace, 0, 100, 0, stdout);
    pl_experiment_free(&x);

    printf("\nScaled clock (x5), m = 4:\n p   measured   predicted\n");
    for (int q = 4; q <= 8; q += 4) {
        o = lesson_options("microbatch", q, 4);
        lesson_scaled(&o, 5.0, 3);
        lesson_run(&o, &x);
        printf("%2d   %8.4f   %9.4f\n", q, x.bubble, x.predicted_bubble);
        pl_experiment_free(&x);
    }
    return 0;
}
