/*
 * gather_mpi.c -- the end of an MPI run (chapter 09): every rank's lane,
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

/* What rank 0 learns of each lane before its events. */
typedef struct {
    int64_t len, peak_bytes;
    int32_t peak_inflight, has_loss;
} lane_head;

/* The floats of this rank's trained layers (w, then b, layer after layer,
 * chunk after chunk), or their count if buf is NULL. */
static long layers_of(const gather *n, int device, float *buf, int store)
{
    const pl_job *job = n->job;
    long k = 0;
    for (int c = 0; c < job->schedule->chunks; c++) {
        int stage = pl_schedule_stage(job->schedule, device, c);
        for (int i = 0; i < job->partition->count[stage]; i++) {
            pl_layer *l = &job->model->layers[job->partition->first[stage] + i];
            pl_tensor *part[2] = {&l->w, &l->b};
            for (int j = 0; j < 2; j++) {
                size_t len = (size_t)part[j]->rows * (size_t)part[j]->cols;
                if (buf && store)
                    memcpy(part[j]->data, buf + k, len * sizeof(float));
                else if (buf)
                    memcpy(buf + k, part[j]->data, len * sizeof(float));
                k += (long)len;
            }
        }
    }
    return k;
}

/* Rank 0 only: count and place of every rank's part of a gather. */
static int *spread(const gather *n, const long *len, int **displs)
{
    int *count = calloc((size_t)n->p, sizeof *count);
    *displs = calloc((size_t)n->p, sizeof **displs);
    long at = 0;
    for (int d = 0; count && *displs && d < n->p; d++) {
        if (len[d] > 2147483647L - at)
            return NULL;
        count[d] = (int)len[d];
        (*displs)[d] = (int)at;
        at += len[d];
    }
    return count;
}

static void gather_failed(gather *n)
{
    fprintf(stderr, "pipelab: rank %d: out of host memory while gathering the results\n",
            n->rank);
    MPI_Abort(n->comm, 1);
}

/* Every rank's lane (its events, totals and peaks) into rank 0's trace. */
static void gather_lanes(gather *n, pl_report *r, lane_head *heads)
{
    pl_lane *l = &r->lane;
    int steps = n->job->opt->steps, root = n->rank == 0, keep = l->keep_events;
    long ev_bytes = l->events ? l->len * (long)sizeof(pl_event) : 0;
    int tot_bytes = steps * (int)sizeof(pl_step_total);
    pl_step_total *totals = root ? malloc((size_t)n->p * (size_t)tot_bytes) : NULL;
    long *lens = root ? calloc((size_t)n->p, sizeof *lens) : NULL;
    int *displs = NULL, *counts = NULL;
    if (root && (!totals || !lens))
        gather_failed(n);
    MPI_Gather(l->totals, tot_bytes, MPI_BYTE, totals, tot_bytes, MPI_BYTE, 0, n->comm);
    for (int d = 0; root && d < n->p; d++)
        lens[d] = heads[d].len * (keep ? (long)sizeof(pl_event) : 0);
    char *events = NULL;
    if (root) {
        counts = spread(n, lens, &displs);
        events = counts ? malloc((size_t)displs[n->p - 1] + (size_t)counts[n->p - 1] + 1) : NULL;
        if (!events)
            gather_failed(n);
    }
    MPI_Gatherv(l->events, (int)ev_bytes, MPI_BYTE, events, counts, displs, MPI_BYTE, 0,
                n->comm);
    for (int d = 0; root && d < n->p; d++) {
        pl_lane *dst = &n->trace->lanes[d];
        pl_lane_free(dst);
        if (d == 0) { /* rank 0's own lane moves into place */
            *dst = *l;
            memset(l, 0, sizeof *l);
            continue;
        }
        if (pl_lane_init(dst, steps, keep) ||
            pl_lane_reserve(dst, heads[d].len))
            gather_failed(n);
        if (counts[d])
            memcpy(dst->events, events + displs[d], (size_t)counts[d]);
        memcpy(dst->totals, (char *)totals + (size_t)d * (size_t)tot_bytes, (size_t)tot_bytes);
        dst->len = heads[d].len;
        dst->peak_inflight = heads[d].peak_inflight;
        dst->peak_bytes = (size_t)heads[d].peak_bytes;
    }
    free(events);
    free(counts);
    free(displs);
    free(lens);
    free(totals);
}

/* The loss of every step, from the rank holding the last stage. */
static void gather_loss(gather *n, pl_report *r, const lane_head *heads)
{
    int steps = n->job->opt->steps, root = n->rank == 0;
    float *mine = r->loss ? r->loss : calloc((size_t)steps, sizeof *mine);
    float *all = root ? malloc((size_t)n->p * (size_t)steps * sizeof *all) : NULL;
    if (!mine || (root && !all))
        gather_failed(n);
    MPI_Gather(mine, steps, MPI_FLOAT, all, steps, MPI_FLOAT, 0, n->comm);
    for (int d = 0; root && d < n->p; d++)
        if (heads[d].has_loss)
            memcpy(n->loss, all + (size_t)d * (size_t)steps, (size_t)steps * sizeof *all);
    if (mine != r->loss)
        free(mine);
    free(all);
}

/* Every rank's trained layers into rank 0's model. */
static void gather_layers(gather *n)
{
    int root = n->rank == 0;
    long mine = layers_of(n, n->rank, NULL, 0);
    float *buf = malloc((size_t)(mine ? mine : 1) * sizeof *buf);
    long *lens = root ? calloc((size_t)n->p, sizeof *lens) : NULL;
    if (!buf || (root && !lens))
        gather_failed(n);
    layers_of(n, n->rank, buf, 0);
    int *counts = NULL, *displs = NULL;
    float *all = NULL;
    if (root) {
        for (int d = 0; d < n->p; d++)
            lens[d] = layers_of(n, d, NULL, 0);
        counts = spread(n, lens, &displs);
        all = counts ? malloc(((size_t)displs[n->p - 1] + (size_t)counts[n->p - 1] + 1) *
                              sizeof *all) : NULL;
        if (!all)
            gather_failed(n);
    }
    MPI_Gatherv(buf, (int)mine, MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, n->comm);
    for (int d = 1; root && d < n->p; d++)
        layers_of(n, d, all + displs[d], 1);
    free(all);
    free(counts);
    free(displs);
    free(lens);
    free(buf);
}

void pl_gather_mpi(MPI_Comm comm, const pl_job *job, pl_report *r, pl_trace *trace,
                   float *loss)
{
    gather g = {comm, 0, 0, job, trace, loss};
    MPI_Comm_rank(comm, &g.rank);
    MPI_Comm_size(comm, &g.p);
    lane_head mine = {r->lane.len, (int64_t)r->lane.peak_bytes, r->lane.peak_inflight,
                      r->loss != NULL};
    lane_head *heads = g.rank == 0 ? calloc((size_t)g.p, sizeof *heads) : NULL;
    if (g.rank == 0 && !heads)
        gather_failed(&g);
    MPI_Gather(&mine, sizeof mine, MPI_BYTE, heads, sizeof mine, MPI_BYTE, 0, comm);
    gather_lanes(&g, r, heads);
    gather_loss(&g, r, heads);
    gather_layers(&g);
    free(heads);
}
