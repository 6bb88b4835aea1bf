/**
 * @file gather_mpi.h
 * @brief The end of an MPI run: every rank's report gathered to rank 0
 *        (chapter 09; built only by `make mpi`).
 *
 * What the threads back end's collect does by moving lanes in shared memory,
 * the MPI back end (transport_mpi.c) does with gathers: each rank's lane
 * (events, per-step totals, peaks), the losses of the rank holding the last
 * stage, and each rank's trained layers, into rank 0's trace, losses and
 * model.
 *
 * Invariant: called by every rank of `comm` once, when no rank can fail any
 * more (the transport has agreed on that first).
 */
#ifndef PL_GATHER_MPI_H
#define PL_GATHER_MPI_H

#include <mpi.h>

#include "job.h"
#include "transport.h"

/**
 * Gather report `r` of every rank to rank 0: lanes into `trace` (moved, for
 * rank 0's own), losses into `loss` (steps floats), trained layers into
 * job->model; other ranks pass NULL for trace and loss. Collective over
 * `comm`. Out of host memory ends the run with MPI_Abort: there is no one
 * left to tell.
 */
void pl_gather_mpi(MPI_Comm comm, const pl_job *job, pl_report *r, pl_trace *trace,
                   float *loss);

#endif
