/*
 * Chapter 06 -- zero bubble.
 *
 * Split the backward into I (the input gradient the stage before waits for)
 * and W (the weight gradient nobody waits for), and defer W into the bubble.
 * We measure each device's idle time for 1F1B and ZB-H1 under three cost
 * settings beside what the chapter derives; then ZB-H2 over several steps,
 * with and without a barrier between them; then what clipping the gradient
 * norm costs, waited for or validated after the step.
 */
#include "../lesson.h"

#include <math.h>

static int p = 4, m = 8;

/* Idle time of device 0 in the reported step, in ms. */
static double idle_ms(const pl_experiment *x)
{
    pl_metrics mt;
    if (pl_metrics_compute(&x->result.trace, x->step, &mt))
        return -1;
    double ms = (double)(mt.makespan - mt.busy[0]) * x->result.trace.info.ns_per_tick / 1e6;
    pl_metrics_free(&mt);
    return ms;
}

static void idle_table(void)
{
    static const double t[][3] = {{1, 1, 1}, {2, 2, 1}, {1, 1, 2}};
    printf("Idle time per device, ms (the same on every device), measured | derived:\n");
    printf("  t_F t_I t_W    1f1b | (p-1)(F+I+W)    zb-h1 | (p-1)max(F, I, F+I-W)\n");
    for (int k = 0; k < 3; k++) {
        pl_options o = lesson_options("1f1b", p, m);
        o.steps = 1;
        o.t_f = t[k][0], o.t_i = t[k][1], o.t_w = t[k][2];
        pl_experiment fb, zb;
        lesson_run(&o, &fb);
        o.schedule = "zb-h1";
        lesson_run(&o, &zb);
        double g = fmax(fmax(t[k][0], t[k][1]), t[k][0] + t[k][1] - t[k][2]);
        printf("  %3g %3g %3g  %6.1f | %-12.1f  %7.1f | %.1f\n", t[k][0], t[k][1], t[k][2],
               idle_ms(&fb), (p - 1) * (t[k][0] + t[k][1] + t[k][2]), idle_ms(&zb),
               (p - 1) * g);
        pl_experiment_free(&fb);
        pl_experiment_free(&zb);
    }
}

static void memory(void)
{
    static const char *const names[] = {"1f1b", "zb-h1", "zb-h2"};
    printf("\nPeak micro-batches in flight per device:\n");
    for (int i = 0; i < 3; i++) {
        pl_options o = lesson_options(names[i], p, m);
        o.steps = 1;
        pl_experiment x;
        lesson_run(&o, &x);
        printf("  %-6s", names[i]);
        for (int d = 0; d < p; d++)
            printf(" d%d=%d", d, x.result.trace.lanes[d].peak_inflight);
        printf("   (%s)\n", x.entry->peak_text);
        pl_experiment_free(&x);
    }
}

/* One row: a schedule over `steps` steps, how its steps end, what it costs. */
static void steps_row(const char *name, const char *how, pl_options o)
{
    pl_experiment x;
    o.verify = 1;
    lesson_run(&o, &x);
    int clipped = 0;
    for (int k = 0; x.clips && k < o.steps; k++)
        clipped += x.clips[k];
    printf("  %-6s %-28s %7d  %11.3f  %9.3f  %6.4f  %s\n", name, how, clipped,
           x.makespan_ns / 1e6, x.period_ns / 1e6, x.period_bubble,
           x.bitwise_equal ? "yes" : "NO");
    pl_experiment_free(&x);
}

static void steps_table(void)
{
    printf("\nFour steps, t_F = t_I = t_W = 1 unit (1 ms); the period is per step, steps 2-4:\n");
    printf("  %-6s %-28s %7s  %11s  %9s  %6s  %s\n", "", "how steps end", "clipped",
           "makespan ms", "period ms", "bubble", "bitwise");
    static const char *const names[] = {"zb-h1", "zb-h2"};
    for (int i = 0; i < 2; i++)
        for (int sync = 0; sync < 2; sync++) {
            pl_options o = lesson_options(names[i], p, m);
            o.steps = 4;
            o.step_sync = sync ? PL_SYNC_LOCAL : PL_SYNC_GLOBAL;
            steps_row(names[i], sync ? "no barrier" : "barrier", o);
        }
    /* Clipping: every device needs the global norm before its update. */
    static const double norms[] = {1000, 0.72};
    for (int k = 0; k < 2; k++)
        for (int post = 0; post < 2; post++) {
            pl_options o = lesson_options("zb-h2", p, m);
            o.steps = 4;
            o.step_sync = PL_SYNC_LOCAL;
            o.clip_norm = norms[k];
            o.post_validation = post;
            char how[64];
            snprintf(how, sizeof how, "no barrier, clip %g, %s", norms[k],
                     post ? "post" : "wait");
            steps_row("zb-h2", how, o);
        }
}

int main(void)
{
    printf("Chapter 06: zero bubble, p = %d, m = %d, virtual clock\n\n", p, m);
    idle_table();
    memory();
    steps_table();
    return 0;
}
