/**
 * @file runtime_mpi.h
 * @brief The pipeline on MPI processes: one rank per device (chapter 09).
 *
 * The MPI counterpart of runtime.h. Every rank builds the same job (the
 * options, the model, the schedule are deterministic), runs its own device
 * -- the very loop a device thread runs -- over the MPI transport
 * (transport_mpi.c), and hands its report to rank 0, which measures,
 * predicts and verifies as the threads runtime does. Built only by
 * `make mpi`: the library itself does not need MPI.
 *
 * Invariant: every function here is collective -- every rank of
 * MPI_COMM_WORLD calls it, in the same order -- and MPI is initialised.
 */
#ifndef PL_RUNTIME_MPI_H
#define PL_RUNTIME_MPI_H

#include <stddef.h>

#include "job.h"

/**
 * Agree to start: each rank brings its status (0 ready, else the exit
 * status it would give). Returns 0 if every rank is ready, else the status
 * of the lowest rank that is not, whose rank goes to *who.
 */
int pl_runtime_mpi_agree(int status, int *who);

/**
 * Run job->opt->steps steps of job->schedule with this rank as device
 * `rank`, training job->model in place. On rank 0, out receives the trace of
 * every device, the losses and every device's trained layers (in
 * job->model); on other ranks out is left empty. Returns 0, or -1 on every
 * rank with the run's first failure in err (the same message everywhere)
 * once every rank has stopped.
 */
int pl_runtime_mpi_run(const pl_job *job, pl_result *out, char *err, size_t errlen);

#endif
