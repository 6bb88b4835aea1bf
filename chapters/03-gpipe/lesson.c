/*
 * Chapter 03 -- GPipe.
 *
 * Let micro-batches overlap: every forward, then every backward (fill, then
 * drain). The bubble falls to (p-1)/(m+p-1) -- but each device now holds the
 * activations of all m micro-batches at once. Recomputation keeps only each
 * stage's input and pays for it with one more forward.
 */
#include "../lesson.h"

int main(void)
{
    int p = 4;
    printf("GPipe on p = %d devices: bubble against m (virtual clock)\n\n", p);
    printf(" m   measured   predicted   formula (p-1)/(m+p-1)   peak in-flight (d0)   bitwise\n");
    for (int m = 1; m <= 32; m *= 2) {
        pl_options o = lesson_options("gpipe", p, m);
        o.verify = 1;
        pl_experiment x;
        lesson_run(&o, &x);
        printf("%2d   %8.4f   %9.4f   %21.4f   %19d   %s\n", m, x.bubble, x.predicted_bubble,
               x.bubble_theory, x.result.trace.lanes[0].peak_inflight,
               x.bitwise_equal ? "yes" : "NO");
        pl_experiment_free(&x);
    }

    pl_options o = lesson_options("gpipe", p, 8);
    pl_experiment plain, re;
    lesson_run(&o, &plain);
    o.recompute = 1;
    o.verify = 1;
    lesson_run(&o, &re);
    printf("\nm = 8, without recomputation:\n");
    pl_timeline_print(&plain.result.trace, 0, 100, 0, stdout);
    printf("\nwith recomputation (R = the recomputed forward):\n");
    pl_timeline_print(&re.result.trace, 0, 100, 0, stdout);
    printf("\n                 peak activation bytes (d0)   makespan\n");
    printf("plain            %26zu   %6.1f ms\n", plain.result.trace.lanes[0].peak_bytes,
           plain.makespan_ns / 1e6);
    printf("recompute        %26zu   %6.1f ms   bitwise: %s\n",
           re.result.trace.lanes[0].peak_bytes, re.makespan_ns / 1e6,
           re.bitwise_equal ? "yes" : "NO");
    pl_experiment_free(&plain);
    pl_experiment_free(&re);

    printf("\nScaled clock (x5): real sleeping threads\n p   m   measured   predicted   formula\n");
    int ps[] = {4, 8}, ms[] = {8, 16};
    for (int i = 0; i < 2; i++) {
        o = lesson_options("gpipe", ps[i], ms[i]);
        lesson_scaled(&o, 5.0, 3);
        pl_experiment x;
        lesson_run(&o, &x);
        printf("%2d  %2d   %8.4f   %9.4f   %7.4f\n", ps[i], ms[i], x.bubble, x.predicted_bubble,
               x.bubble_theory);
        pl_experiment_free(&x);
    }
    return 0;
}
