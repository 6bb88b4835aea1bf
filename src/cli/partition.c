/*
 * partition.c -- `pipelab partition`: how each method splits the model's
 * layers into stages, and what each stage costs (chapter 07).
 *
 *   even      stage  device  layers  F ms   B ms   params KiB  stash/mb KiB
 *             0      d0      0-1     2.500  5.000      16.6        4.5
 *             ...
 *             slowest stage 7.500 ms (F + B); 1f1b: step 73.500 ms, peak memory ...
 *
 * Each method's step is the simulator's, on the same schedule and costs.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "experiment.h"
#include "summary.h"

static const char *const method_names[] = {"even", "balanced", "measured", "explicit",
                                           "memory"};

/* One stage of a run: its layers, costs and what it holds. */
static void stage_row(const pl_experiment *x, int st, int rows)
{
    const pl_partition *pt = &x->partition;
    const pl_job *j = &x->job;
    int first = pt->first[st], count = pt->count[st], d, c;
    pl_route_home(x->schedule.placement, x->schedule.devices, st, &d, &c);
    pl_memory_bill b = {0, 0, 0, 0, 0};
    pl_memory_add_stage(&b, &x->model, first, count, 0);
    char layers[32];
    snprintf(layers, sizeof layers, count == 1 ? "%d" : "%d-%d", first, first + count - 1);
    printf("          %5d  d%-5d %-7s %7.3f %7.3f %11.1f %13.1f\n", st, d, layers,
           pl_cost_ns(&j->cost, pl_cost_action(&j->cost, &x->model, first, count, rows, PL_F)) / 1e6,
           pl_cost_ns(&j->cost, pl_cost_action(&j->cost, &x->model, first, count, rows, PL_B)) / 1e6,
           (double)b.params / 1024.0,
           (double)pl_memory_stash_delta(&x->model, first, count, rows, PL_F, 0) / 1024.0);
}

/* One method: every stage, the slowest, and the step the simulator predicts. */
static int method(const pl_args *a, pl_partition_kind kind, int first)
{
    pl_options o = a->opt;
    o.partition = kind;
    o.simulate = 1;
    o.totals_only = 1;
    o.steps = 1;
    pl_experiment x;
    char err[1024];
    int rc = pl_experiment_run(&o, &x, err, sizeof err);
    if (rc) {
        fprintf(stderr, "pipelab: partition %s: %s\n", method_names[kind], err);
        pl_experiment_free(&x);
        return rc == PL_EXPERIMENT_REFUSED ? 2 : 1;
    }
    int rows = o.batch / x.schedule.microbatches;
    if (first) {
        char unit[256];
        printf("%s: %d layers, p = %d, m = %d micro-batches of %d rows\ncosts: %s\n\n",
               o.widths ? "--widths" : o.model == PL_MODEL_LM_LIKE ? "lm-like" : "mlp",
               o.layers, x.schedule.devices, x.schedule.microbatches, rows,
               pl_summary_unit(&x, unit, sizeof unit));
        printf("%-9s %5s  %-6s %-7s %7s %7s %11s %13s\n", "method", "stage", "device",
               "layers", "F ms", "B ms", "params KiB", "stash/mb KiB");
    }
    printf("%s\n", method_names[kind]);
    int64_t slowest = 0;
    for (int st = 0; st < x.partition.stages; st++) {
        stage_row(&x, st, rows);
        int64_t t = pl_cost_action(&x.job.cost, &x.model, x.partition.first[st],
                                   x.partition.count[st], rows, PL_F) +
                    pl_cost_action(&x.job.cost, &x.model, x.partition.first[st],
                                   x.partition.count[st], rows, PL_B);
        slowest = t > slowest ? t : slowest;
    }
    if (x.layer_ns) {
        printf("          measured on this host, F + I + W per stage (us):");
        for (int st = 0; st < x.partition.stages; st++) {
            int64_t ns = 0;
            for (int l = x.partition.first[st]; l < x.partition.first[st] + x.partition.count[st]; l++)
                ns += x.layer_ns[l];
            printf(" %.1f", (double)ns / 1e3);
        }
        printf("\n");
    }
    printf("          slowest stage %.3f ms (F + B); %s: step %.3f ms, peak memory",
           pl_cost_ns(&x.job.cost, slowest) / 1e6, x.name, x.makespan_ns / 1e6);
    for (int d = 0; d < x.schedule.devices; d++) {
        pl_memory_bill b = pl_experiment_memory(&x, d);
        printf(" d%d %.1f", d, (double)pl_memory_total(&b) / 1024.0);
    }
    printf(" KiB\n");
    pl_experiment_free(&x);
    return 0;
}

int pl_cmd_partition(pl_args *a)
{
    int rc = method(a, PL_PARTITION_EVEN, 1);
    if (rc == 0)
        rc = method(a, PL_PARTITION_BALANCED, 0);
    if (rc == 0 && a->opt.partition == PL_PARTITION_EXPLICIT)
        rc = method(a, PL_PARTITION_EXPLICIT, 0);
    if (rc == 0 && a->opt.partition == PL_PARTITION_MEASURED)
        rc = method(a, PL_PARTITION_MEASURED, 0);
    if (rc == 0 && a->opt.partition == PL_PARTITION_MEMORY)
        rc = method(a, PL_PARTITION_MEMORY, 0);
    return rc;
}
