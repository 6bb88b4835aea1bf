/*
 * Chapter 04 -- 1F1B.
 *
 * Start each micro-batch's backward as soon as it can run: a warm-up of
 * forwards, then one forward and one backward in turn, then the remaining
 * backwards. Same bubble as GPipe; but device s never holds more than
 * min(p - s, m) micro-batches. We show both, and a device memory in which
 * GPipe runs out while 1F1B fits.
 */
#include "../lesson.h"

static void inflight(const char *name, const pl_experiment *x)
{
    printf("%-6s bubble %.4f (predicted %.4f)  peak in-flight:", name, x->bubble,
           x->predicted_bubble);
    for (int d = 0; d < x->result.trace.devices; d++)
        printf(" d%d=%d", d, x->result.trace.lanes[d].peak_inflight);
    printf("  peak bytes %zu\n", pl_experiment_peak_bytes(x));
}

int main(void)
{
    int p = 4, m = 8;
    pl_options o = lesson_options("gpipe", p, m);
    o.verify = 1;
    pl_experiment gp, fb;
    lesson_run(&o, &gp);
    o.schedule = "1f1b";
    lesson_run(&o, &fb);
    printf("p = %d, m = %d; formula: bubble %.4f, 1F1B holds min(p-s, m) on device s\n\n",
           p, m, fb.bubble_theory);
    inflight("gpipe", &gp);
    inflight("1f1b", &fb);
    printf("bitwise equal to the reference: gpipe %s, 1f1b %s\n\n",
           gp.bitwise_equal ? "yes" : "NO", fb.bitwise_equal ? "yes" : "NO");
    printf("1F1B timeline:\n");
    pl_timeline_print(&fb.result.trace, 0, 100, 0, stdout);

    /* A device memory just large enough for 1F1B's peak, everything counted:
     * its stages' parameters and gradients, and its activations. */
    o.device_memory = pl_experiment_peak_memory(&fb);
    o.verify = 0;
    pl_experiment_free(&gp);
    pl_experiment_free(&fb);
    printf("\nWith --device-memory %zu bytes:\n", o.device_memory);
    const char *names[] = {"gpipe", "1f1b"};
    for (int i = 0; i < 2; i++) {
        o.schedule = names[i];
        pl_experiment x;
        char err[1024];
        if (pl_experiment_run(&o, &x, err, sizeof err) == 0)
            printf("  %-6s fits: peak %zu bytes\n", names[i], pl_experiment_peak_memory(&x));
        else
            printf("  %-6s fails: %s\n", names[i], err);
        pl_experiment_free(&x);
    }
    return 0;
}
