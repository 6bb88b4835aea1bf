/*
 * Chapter 07 -- real costs.
 *
 * Layers that differ, links that take time, and memory that holds more than
 * activations. Four measurements, each beside what the chapter derives:
 * an lm-like model split evenly and balanced; GPipe and 1F1B over slow
 * links, and the deeper warm-up that wins 1F1B's loss back; pipeline against
 * tensor-parallel traffic; and the whole memory bill of every device.
 */
#include <math.h>

#include "../lesson.h"

/* The model of the chapter: 8 layers of width 32 over 4 devices, the first
 * and last 4 x wider -- an embedding and a head around a uniform middle. */
static pl_options lm_like(const char *schedule)
{
    pl_options o = lesson_options(schedule, 4, 8);
    o.model = PL_MODEL_LM_LIKE;
    o.verify = 1;
    return o;
}

/* sum (t_F + t_B) + (m - 1) max (t_F + t_B): the slowest stage sets the pace. */
static double paced(const pl_experiment *x)
{
    int64_t sum = 0, slowest = 0;
    for (int st = 0; st < x->partition.stages; st++) {
        int first = x->partition.first[st], count = x->partition.count[st];
        int64_t t = pl_cost_action(&x->job.cost, &x->model, first, count, 4, PL_F) +
                    pl_cost_action(&x->job.cost, &x->model, first, count, 4, PL_B);
        sum += t;
        slowest = t > slowest ? t : slowest;
    }
    return (double)(sum + (x->schedule.microbatches - 1) * slowest) / 1e6;
}

static void imbalance(void)
{
    printf("1. Imbalance: lm-like, p = 4, m = 8, 1f1b\n\n"
           "   partition  layers/stage  slowest F+B ms  step ms  predicted  paced by slowest"
           "  bitwise\n");
    pl_partition_kind kinds[] = {PL_PARTITION_EVEN, PL_PARTITION_BALANCED};
    for (int k = 0; k < 2; k++) {
        pl_options o = lm_like("1f1b");
        o.partition = kinds[k];
        pl_experiment x;
        lesson_run(&o, &x);
        char counts[32];
        int n = 0;
        int64_t slowest = 0;
        for (int st = 0; st < 4; st++) {
            int first = x.partition.first[st], count = x.partition.count[st];
            int64_t t = pl_cost_action(&x.job.cost, &x.model, first, count, 4, PL_F) +
                        pl_cost_action(&x.job.cost, &x.model, first, count, 4, PL_B);
            slowest = t > slowest ? t : slowest;
            n += snprintf(counts + n, sizeof counts - (size_t)n, "%s%d", st ? "," : "", count);
        }
        printf("   %-9s  %-12s  %14.3f  %7.3f  %9.3f  %16.3f  %s\n",
               k ? "balanced" : "even", counts, (double)slowest / 1e6, x.makespan_ns / 1e6,
               x.predicted_makespan_ns / 1e6, paced(&x), x.bitwise_equal ? "yes" : "NO");
        pl_experiment_free(&x);
    }
}

/* The step of `schedule` on uniform stages with links of latency d. */
static pl_experiment linked(const char *schedule, double d, int extra, int blocking)
{
    pl_options o = lesson_options(schedule, 4, 8);
    o.link_latency_ms = d;
    o.warmup_extra = extra;
    o.blocking_send = blocking;
    pl_experiment x;
    lesson_run(&o, &x);
    return x;
}

static void links(void)
{
    int p = 4, m = 8;
    printf("\n2. Links: p = %d, m = %d, t_F = 1, t_B = 2 units; every message takes d ms;"
           " free links: 33 ms\n\n"
           "   d ms   gpipe   derived   1f1b    derived   1f1b, warm-up auto   d0 holds\n", p, m);
    double ds[] = {0.25, 1};
    for (int i = 0; i < 2; i++) {
        double d = ds[i];
        pl_experiment g = linked("gpipe", d, 0, 0), f = linked("1f1b", d, 0, 0);
        pl_experiment a = linked("1f1b", d, PL_WARMUP_AUTO, 0);
        double crossings = 2 * ceil((double)(p - 1) * (m + p - 2) / p);
        printf("   %-5g  %6.3f  %+7.3f   %6.3f  %+7.3f   %6.3f (K = %d)        %d, not %d\n", d,
               g.makespan_ns / 1e6, 2 * (p - 1) * d, f.makespan_ns / 1e6, crossings * d,
               a.makespan_ns / 1e6, a.warmup_extra, a.result.trace.lanes[0].peak_inflight,
               f.result.trace.lanes[0].peak_inflight);
        pl_experiment_free(&g);
        pl_experiment_free(&f);
        pl_experiment_free(&a);
    }
    printf("   derived: gpipe +2(p-1)d, 1f1b +2d ceil((p-1)(m+p-2)/p)\n");
    pl_experiment nb = linked("gpipe", 1, 0, 0), b = linked("gpipe", 1, 0, 1);
    printf("\n   gpipe, d = 1: non-blocking sends %.3f ms, blocking %.3f ms: %+.3f = 2(m-1)d\n",
           nb.makespan_ns / 1e6, b.makespan_ns / 1e6, (b.makespan_ns - nb.makespan_ns) / 1e6);
    pl_experiment_free(&nb);
    pl_experiment_free(&b);
}

/* What Megatron-style tensor parallelism over the same p devices would move:
 * each pair of layers (column-split, then row-split) all-reduces its output
 * in the forward and its input gradient in the backward; a ring all-reduce
 * of n bytes sends 2 (p-1)/p n from every device. */
static double tensor_parallel_bytes(const pl_options *o, int p)
{
    double n = (double)o->batch * o->width * sizeof(float);
    return (double)p * (o->layers / 2) * 2 * 2.0 * (p - 1) / p * n;
}

static void traffic(void)
{
    pl_options o = lesson_options("1f1b", 4, 8);
    pl_experiment x;
    lesson_run(&o, &x);
    double pp = 0;
    for (int d = 0; d < 4; d++)
        pp += (double)pl_trace_bytes_sent(&x.result.trace, d, x.step);
    printf("\n3. Traffic per step, %d layers of width %d, batch %d, p = 4:\n"
           "   pipeline (measured):  %6.1f KiB = 2 (p-1) batch D 4 bytes, between neighbours\n"
           "   tensor parallel:      %6.1f KiB = 2 L (p-1) batch D 4 bytes, all-reduces among all"
           "\n", o.layers, o.width, o.batch, pp / 1024, tensor_parallel_bytes(&o, 4) / 1024);
    pl_experiment_free(&x);
}

static void bill(void)
{
    pl_options o = lm_like("1f1b");
    o.partition = PL_PARTITION_BALANCED;
    o.momentum = 0.9f;
    pl_experiment x;
    lesson_run(&o, &x);
    printf("\n4. The memory bill: lm-like, balanced, 1f1b, SGD with momentum (bytes)\n\n"
           "   device  parameters  gradients  optimizer  activations  messages     total\n");
    for (int d = 0; d < 4; d++) {
        pl_memory_bill b = pl_experiment_memory(&x, d);
        printf("   d%-5d  %10zu  %9zu  %9zu  %11zu  %8zu  %8zu\n", d, b.params, b.grads,
               b.optimizer, b.activations, b.messages, pl_memory_total(&b));
    }
    printf("   bitwise equal to the reference with momentum: %s\n", x.bitwise_equal ? "yes" : "NO");
    pl_experiment_free(&x);
}

int main(void)
{
    imbalance();
    links();
    traffic();
    bill();
    return 0;
}
