/*
 * Chapter 05 -- interleaved 1F1B and looped BFS.
 *
 * Give every device v chunks of the model instead of one (chunk c of device
 * d holds stage c*p + d), so each fill or drain step is a chunk, 1/v of a
 * stage. The bubble falls to (p-1)/(v*m+p-1). We measure it beside 1F1B,
 * with the two prices: more messages, and a little more memory (interleaved)
 * or all of it (looped BFS). Then a number of micro-batches that p does not
 * divide, which the peers refuse and we run.
 */
#include "../lesson.h"

/* One row: measured, predicted, formula, in flight, d0's bytes, messages. */
static void row(const char *name, int v, const pl_experiment *x)
{
    const pl_trace *t = &x->result.trace;
    char formula[16] = "-", inflight[64] = "";
    if (x->bubble_theory >= 0)
        snprintf(formula, sizeof formula, "%.4f", x->bubble_theory);
    for (int d = 0, n = 0; d < t->devices; d++)
        n += snprintf(inflight + n, sizeof inflight - (size_t)n, "%s%d", d ? " " : "",
                      t->lanes[d].peak_inflight);
    printf("%-12s %d  %8.4f  %9.4f  %7s  %-12s %8zu  %8ld  %s\n", name, v, x->bubble,
           x->predicted_bubble, formula, inflight, t->lanes[0].peak_bytes,
           pl_trace_messages(t, x->step), x->bitwise_equal ? "yes" : "NO");
}

/* Run `name` with v chunks (0: its own) on 16 layers and 4 rows per micro-batch. */
static void run(const char *name, int p, int m, int v)
{
    pl_options o = lesson_options(name, p, m);
    o.chunks = v;
    o.batch = 4 * m;
    o.layers = 16; /* whole layers for every chunk up to v = 4 */
    o.verify = 1;
    pl_experiment x;
    lesson_run(&o, &x);
    row(name, x.schedule.chunks, &x);
    if (x.theory_note[0])
        printf("%-12s    no formula: %s\n", "", x.theory_note);
    pl_experiment_free(&x);
}

static void header(int p, int m)
{
    printf("p = %d, m = %d, 16 layers, virtual clock\n", p, m);
    printf("schedule     v    bubble  predicted  formula  in flight    d0 bytes  messages  "
           "bitwise\n");
}

int main(void)
{
    header(4, 8);
    run("1f1b", 4, 8, 0);
    run("interleaved", 4, 8, 2);
    run("interleaved", 4, 8, 4);
    run("looped-bfs", 4, 8, 2);
    run("looped-bfs", 4, 8, 4);

    printf("\ninterleaved, v = 2:\n");
    pl_options o = lesson_options("interleaved", 4, 8);
    o.layers = 16;
    pl_experiment x;
    lesson_run(&o, &x);
    pl_timeline_print(&x.result.trace, x.step, 100, 0, stdout);
    pl_experiment_free(&x);

    printf("\nm = 6 is not a multiple of p = 4: a short last group\n");
    header(4, 6);
    run("1f1b", 4, 6, 0);
    run("interleaved", 4, 6, 2);
    run("looped-bfs", 4, 6, 2);
    return 0;
}
