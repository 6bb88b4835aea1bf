/*
 * gather_mpi.c -- the end of an MPI run (chapter 09): every rank's lane,
 *
 * EXERCISE 09: every rank's trained layers, gathered to rank 0 (search for
 * TODO). `make exercise-ch09` grades this file.
 * losses and trained layers, gathered to rank 0, where the threads runtime
 * would have found them in shared memory.
 */
#include "gather_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run, as the gathers see it. */
typedef struct {
    MPI_Comm comm;
    int rank, p;
    const pl_job *job;
    pl_trace *trace; /* rank 0 */
    float *loss;     /* rank 0 */
} gather;

static void gather_failed(gather *n)
{
    fprintf(stderr, "pipelab: rank %d: out of host memory while gathering the results\n",
            n->rank);
    MPI_Abort(n->comm, 1);
}

/* Gather `bytes` bytes at `mine` from every rank to rank 0. There it returns
 * them end to end (free it), with rank d's at at[d], len[d] bytes long (p
 * ints each, free them); elsewhere NULL. */
static char *gather_bytes(gather *n, const void *mine, long bytes, int **at, int **len)
{
    int root = n->rank == 0, count = (int)bytes;
    char *all = NULL;
    *at = root ? calloc((size_t)n->p, sizeof **at) : NULL;
    *len = root ? calloc((size_t)n->p, sizeof **len) : NULL;
    if (bytes > 2147483647L || (root && (!*at || !*len)))
        gather_failed(n);
    MPI_Gather(&count, 1, MPI_INT, *len, 1, MPI_INT, 0, n->comm);
    long total = 0;
    for (int d = 0; root && d < n->p; d++) {
        if (total + (*len)[d] > 2147483647L)
            gather_failed(n);
        (*at)[d] = (int)total;
        total += (*len)[d];
    }
    if (root && !(all = malloc((size_t)total + 1)))
        gather_failed(n);
    MPI_Gatherv(mine, count, MPI_BYTE, all, *len, *at, MPI_BYTE, 0, n->comm);
    return all;
}

/* A copy of n bytes at src (NULL if n is 0). */
static void *copy_of(gather *g, const char *src, int n)
{
    void *p = n ? malloc((size_t)n) : NULL;
    if (n && !p)
        gather_failed(g);
    if (n)
        memcpy(p, src, (size_t)n);
    return p;
}

/* Every rank's lane into rank 0's trace: the lane itself (its counts and
 * peaks, whatever fields it has), then its events, per-step totals and
 * messages sent. */
static void gather_lanes(gather *n, pl_report *r)
{
    pl_lane *l = &r->lane;
    int *at[4], *len[4];
    char *part[4];
    part[0] = gather_bytes(n, l, (long)sizeof *l, &at[0], &len[0]);
    part[1] = gather_bytes(n, l->events, l->events ? l->len * (long)sizeof(pl_event) : 0,
                           &at[1], &len[1]);
    part[2] = gather_bytes(n, l->totals, (long)l->kept * (long)sizeof(pl_step_total), &at[2],
                           &len[2]);
    part[3] = gather_bytes(n, l->sends, l->sends ? l->nsends * (long)sizeof(pl_transfer) : 0,
                           &at[3], &len[3]);
    for (int d = 0; n->rank == 0 && d < n->p; d++) {
        pl_lane *dst = &n->trace->lanes[d];
        pl_lane_free(dst);
        if (d == 0) { /* rank 0's own lane moves into place */
            *dst = *l;
            memset(l, 0, sizeof *l);
            continue;
        }
        memcpy(dst, part[0] + at[0][d], sizeof *dst); /* its pointers mean nothing here */
        dst->events = copy_of(n, part[1] + at[1][d], len[1][d]);
        dst->cap = dst->events ? dst->len : 0;
        dst->totals = copy_of(n, part[2] + at[2][d], len[2][d]);
        dst->sends = copy_of(n, part[3] + at[3][d], len[3][d]);
        dst->sends_cap = dst->sends ? dst->nsends : 0;
    }
    for (int k = 0; k < 4; k++) {
        free(part[k]);
        free(at[k]);
        free(len[k]);
    }
}

/* The loss of every step, from the rank holding the last stage. */
static void gather_loss(gather *n, pl_report *r)
{
    int steps = n->job->opt->steps, *at, *len;
    char *all = gather_bytes(n, r->loss, r->loss ? steps * (long)sizeof(float) : 0, &at, &len);
    for (int d = 0; n->rank == 0 && d < n->p; d++)
        if (len[d])
            memcpy(n->loss, all + at[d], (size_t)len[d]);
    free(all);
    free(at);
    free(len);
}

/* TODO(ch09): gather_layers -- after the run, rank 0's model must hold every
 * rank's trained layers (weights w and biases b), so that rank 0 can compare
 * them with the sequential reference (--verify). Each rank has trained only
 * the layers of the stages its chunks hold (job->partition, job->schedule);
 * the rest of its model is as it started. gather_bytes() above gathers a
 * buffer of each rank's to rank 0. */
static void gather_layers(gather *n)
{
    (void)n;
}

void pl_gather_mpi(MPI_Comm comm, const pl_job *job, pl_report *r, pl_trace *trace,
                   float *loss)
{
    gather g = {comm, 0, 0, job, trace, loss};
    MPI_Comm_rank(comm, &g.rank);
    MPI_Comm_size(comm, &g.p);
    gather_lanes(&g, r);
    gather_loss(&g, r);
    gather_layers(&g);
}
