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

pl_memory_bill pl_job_static_memory(const pl_job *job, int d)
{
    pl_memory_bill b = {0, 0, 0, 0, 0};
    const pl_schedule *s = job->schedule;
    for (int c = 0; c < s->chunks; c++) {
        int stage = pl_schedule_stage(s, d, c);
        pl_memory_add_stage(&b, job->model, job->partition->first[stage],
                            job->partition->count[stage], job->opt->momentum != 0.0f);
    }
    return b;
}

int pl_job_check_memory(const pl_job *job, char *err, size_t errlen)
{
    for (int d = 0; d < job->schedule->devices; d++) {
        pl_memory_bill b = pl_job_static_memory(job, d);
        if (pl_memory_check_static(job->opt->device_memory, d, &b, err, errlen))
            return -1;
    }
    return 0;
}
