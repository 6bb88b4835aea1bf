/*
 * job.c -- defaults for a run, and freeing what a run produced.
 */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pl_job_defaults(pl_job *j)
{
    memset(j, 0, sizeof *j);
    j->clock = PL_CLOCK_VIRTUAL;
    j->scale = 1.0;
    j->seed = 1;
    j->steps = 1;
    j->batch = 32;
    j->lr = 0.05f;
    j->fault_device = -1;
    j->fault_action = -1;
}

void pl_result_free(pl_result *r)
{
    pl_trace_free(&r->trace);
    free(r->loss);
    r->loss = NULL;
}

int64_t pl_stash_delta(const pl_job *job, int first, int count, int rows, char kind)
{
    const pl_model *m = job->model;
    int64_t full = (int64_t)pl_stage_stash_bytes(m, first, count, rows, 'F', 0);
    int64_t kept = (int64_t)pl_stage_stash_bytes(m, first, count, rows, 'F', job->recompute);
    int64_t split = (int64_t)pl_stage_stash_bytes(m, first, count, rows, 'I', 0);
    switch (kind) {
    case 'F': return kept;
    case 'R': return full - kept;
    case 'I': return split - full;
    case 'B': return -full;
    default: return -split; /* 'W' */
    }
}

// [region check-memory]
int pl_job_check_memory(const pl_job *job, int d, pl_action a, size_t held,
                        size_t need, char *err, size_t errlen)
{
    size_t cap = job->device_memory;
    if (cap == 0 || (held <= cap && need <= cap - held))
        return 0;
    char name[32];
    snprintf(err, errlen,
             "d%d out of memory at %s: needs %zu bytes of activations, "
             "%zu available of %zu",
             d, pl_action_format(job->schedule, a, name, sizeof name), need,
             held < cap ? cap - held : 0, cap);
    return -1;
}
// [endregion check-memory]
