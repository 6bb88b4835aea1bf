/**
 * @file runtime.h
 * @brief The pipeline on real threads: one pthread per simulated device.
 *
 * Each device thread owns the layers of its stages, walks its action list,
 * receives activations and gradients through mailboxes, runs the real
 * kernels on real tensors, accounts the activation memory it holds, and keeps
 * time by its clock (clock.h). Chapter 01 builds it. Any device that fails --
 * out of memory, an injected fault, an allocation error -- stops every device
 * promptly, and the run returns the first failure.
 *
 * Invariant: the runtime only runs schedules the validator accepts, so it
 * cannot deadlock; a watchdog guards against everything else.
 */
#ifndef PL_RUNTIME_H
#define PL_RUNTIME_H

#include <stddef.h>

#include "job.h"

/**
 * Run job->steps training steps of job->schedule, training job->model in
 * place. Fills out->trace (every step) and out->loss. Returns 0, or -1 with a
 * one-line message naming the failing device and action.
 */
int pl_runtime_run(const pl_job *job, pl_result *out, char *err, size_t errlen);

/** Median time (ns) for handing one message between two device threads. */
double pl_runtime_handoff_ns(int rounds);

#endif
