/*
 * bench_mpi -- chapter 09 on this machine: the real-clock speedup of two MPI
 * processes over one.
 *
 * One process runs the whole model (the microbatch schedule on one device:
 * the same kernels on the same micro-batches, nothing else); two processes
 * run 1F1B and GPipe, each device a process of its own. Runs are A/B pairs
 * alternated, because the machine may be shared: an unpaired figure swings
 * with the neighbours' load. Each run is `mpirun ... pipelab-mpi run --json`
 * (PL_MPIRUN and PL_MPI_CLI from the Makefile), and its figure is the
 * makespan of its median step, as pipelab reports it. Nothing here is
 * asserted by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PL_MPIRUN
#define PL_MPIRUN "mpirun --allow-run-as-root --oversubscribe -q"
#endif
#ifndef PL_MPI_CLI
#define PL_MPI_CLI "build/pipelab-mpi"
#endif

enum { PAIRS = 7, P = 2, M = 16 };

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median-step makespan in seconds of `schedule` on p processes, or -1. */
static double real_step(const char *schedule, int p)
{
    char cmd[1024], line[8192];
    snprintf(cmd, sizeof cmd, "%s -np %d %s run --schedule %s --microbatches %d --layers 8 "
             "--width 384 --batch 256 --steps 3 --clock real --json", PL_MPIRUN, p, PL_MPI_CLI,
             schedule, M);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t got = fread(line, 1, sizeof line - 1, f);
    line[got] = '\0';
    int rc = pclose(f);
    const char *at = strstr(line, "\"makespan_ns\":");
    if (rc != 0 || !at) {
        fprintf(stderr, "bench-mpi: %s failed (status %d)\n", cmd, rc);
        return -1;
    }
    return atof(at + strlen("\"makespan_ns\":")) / 1e9;
}

int main(void)
{
    const char *names[] = {"1f1b", "gpipe"};
    double bound = (double)P * M / (M + P - 1); /* p m / (m + p - 1): the bubble's limit */
    printf("7. MPI real clock       p=%d processes, m=%d, 8 layers of width 384, batch 256; "
           "%d pairs alternated with one process\n", P, M, PAIRS);
    for (int n = 0; n < 2; n++) {
        double ratio[PAIRS];
        for (int i = 0; i < PAIRS; i++) {
            double one = real_step("microbatch", 1), two = real_step(names[n], P);
            if (one < 0 || two < 0)
                return 1;
            ratio[i] = one / two;
        }
        qsort(ratio, PAIRS, sizeof *ratio, by_value);
        double median = ratio[PAIRS / 2];
        printf("   %-6s speedup %.2f / %.2f / %.2f x  (uniform-cost bound p m/(m+p-1) = %.2f x: "
               "median at %.0f %%)   target >= 90 %% of the bound  %s\n", names[n], ratio[0],
               median, ratio[PAIRS - 1], bound, 100 * median / bound,
               median >= 0.9 * bound ? "PASS" : "MISS");
    }
    return 0;
}
