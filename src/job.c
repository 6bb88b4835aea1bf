/*
 * job.c -- what every executor asks of a job.
 */
#include "job.h"

#include <stdlib.h>

#include "clock.h"
#include "data.h"

void pl_result_free(pl_result *r)
{
    pl_trace_free(&r->trace);
    free(r->loss);
    r->loss = NULL;
}

int pl_job_rows(const pl_job *job, int mb)
{
    int start, rows;
    pl_data_microbatch_range(job->opt->batch, job->schedule->microbatches, mb, &start, &rows);
    return rows;
}

void pl_job_describe(const pl_job *job, pl_trace_info *info)
{
    const pl_schedule *s = job->schedule;
    info->devices = s->devices;
    info->microbatches = s->microbatches;
    info->chunks = s->chunks;
    info->placement = s->placement;
    info->clock = pl_clock_name(job->opt->clock);
    info->recompute = job->opt->recompute;
}
