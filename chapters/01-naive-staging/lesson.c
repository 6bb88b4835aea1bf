/*
 * Chapter 01 -- naive staging.
 *
 * Split the layers over p devices and push one batch through: forward down
 * the pipeline, backward up it. Only one device works at a time, so the
 * bubble is (p-1)/p. We measure it exactly on the virtual clock, then on the
 * scaled clock with real sleeping threads.
 */
#include "../lesson.h"

int main(void)
{
    printf("Naive staging: one batch, p devices, bubble = (p-1)/p\n\n");
    printf(" p   measured   predicted   formula   bitwise\n");
    for (int p = 1; p <= 8; p++) {
        pl_options o = lesson_options("naive", p, 1);
        o.verify = 1;
        pl_experiment x;
        lesson_run(&o, &x);
        printf("%2d   %8.4f   %9.4f   %7.4f   %s\n", p, x.bubble, x.predicted_bubble,
               x.bubble_theory, x.bitwise_equal ? "yes" : "NO");
        pl_experiment_free(&x);
    }

    pl_options o = lesson_options("naive", 4, 1);
    pl_experiment x;
    lesson_run(&o, &x);
    printf("\nThe timeline for p = 4 (virtual clock, 1 unit = 1 ms):\n");
    pl_timeline_print(&x.result.trace, 0, 100, 0, stdout);
    pl_experiment_free(&x);

    printf("\nThe same on the scaled clock: real threads, each action sleeping to its\n"
           "modelled length (x5), so the host's noise is small beside it.\n");
    printf(" p   measured   predicted   |diff|\n");
    for (int p = 4; p <= 8; p += 4) {
        o = lesson_options("naive", p, 1);
        lesson_scaled(&o, 5.0, 5);
        lesson_run(&o, &x);
        printf("%2d   %8.4f   %9.4f   %6.4f\n", p, x.bubble, x.predicted_bubble,
               x.bubble > x.predicted_bubble ? x.bubble - x.predicted_bubble
                                             : x.predicted_bubble - x.bubble);
        pl_experiment_free(&x);
    }
    return 0;
}
