/*
 * runtime_mpi.c -- one device per MPI process (chapter 09): start the
 * device on this rank, let it run, end the run the same way everywhere.
 */
#include "runtime_mpi.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "runtime.h"
#include "transport.h"

int pl_runtime_mpi_agree(int status, int *who)
{
    int p;
    MPI_Comm_size(MPI_COMM_WORLD, &p);
    int *all = calloc((size_t)p, sizeof *all);
    if (!all)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Allgather(&status, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    int first = 0;
    for (int r = p - 1; r >= 0; r--)
        if (all[r]) {
            first = all[r];
            *who = r;
        }
    free(all);
    return first;
}

// [region mpi-run]
int pl_runtime_mpi_run(const pl_job *job, pl_result *out, char *err, size_t errlen)
{
    const pl_options *o = job->opt;
    int rank, p;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &p);
    memset(out, 0, sizeof *out);
    if (p != job->schedule->devices) {
        snprintf(err, errlen, "the schedule has %d devices but mpirun started %d processes: "
                 "one process per device", job->schedule->devices, p);
        return -1;
    }
    if (pl_runtime_check(job, err, errlen)) /* the same verdict on every rank */
        return -1;
    int root = rank == 0, ready = 1;
    if (root) {
        out->loss = calloc((size_t)o->steps, sizeof *out->loss);
        ready = out->loss && pl_trace_init(&out->trace, p, o->steps, !o->totals_only) == 0;
    }
    pl_transport *net = pl_transport_mpi_new(job, root ? &out->trace : NULL,
                                             root ? out->loss : NULL, err, errlen);
    if (!net) { /* the same verdict on every rank: the tags do not fit */
        pl_result_free(out);
        return -1;
    }
    MPI_Barrier(MPI_COMM_WORLD); /* time zero, as nearly together as MPI can */
    pl_device dv;
    memset(&dv, 0, sizeof dv);
    if (ready && pl_device_init(&dv, job, net, rank, pl_clock_host_ns()) == 0)
        pl_device_run(&dv);
    else
        pl_transport_abort(net, rank, "out of host memory for the device");
    int rc = pl_transport_mpi_settle(net); /* every rank stopped, or every rank succeeded */
    if (rc) {
        const char *why = pl_transport_error(net);
        snprintf(err, errlen, "%s", why ? why : "the run stopped");
    } else if (root) {
        pl_job_describe(job, &out->trace.info);
        out->trace.info.executor = "mpi";
        out->trace.info.ns_per_tick = pl_clock_ns_per_tick(&dv.clock);
        out->steps = o->steps;
    }
    pl_device_free(&dv);
    pl_transport_free(net);
    if (rc || !root)
        pl_result_free(out);
    return rc;
}
// [endregion mpi-run]
