/**
 * @file runtime.h
 * @brief The pipeline on real threads: one thread per simulated device.
 *
 * The runtime starts one thread per device, each running the device loop
 * (device.h) over the threads transport (transport.h), watches them, and
 * gathers what they measured. On the scaled and real clocks a device's
 * thread is a kernel thread (a pthread); on the virtual clock it is a fiber
 * (fiber.h), many of them to a kernel thread per core, unless
 * opt->kernel_threads asks for pthreads there too -- the figures are the
 * same to the nanosecond, only the host's cost differs. Each device owns the layers of its stages,
 * receives activations and gradients as real tensors, runs the real kernels,
 * accounts the activation memory it holds, and keeps time by its clock
 * (clock.h). Chapter 01 builds it. Any device that fails -- out of memory, an
 * injected fault, an allocation error -- stops every device promptly, and the
 * run returns the first failure.
 *
 * Invariant: the runtime only runs schedules the validator accepts, so it
 * cannot deadlock; a watchdog guards against everything else.
 */
#ifndef PL_RUNTIME_H
#define PL_RUNTIME_H

#include <stddef.h>

#include "job.h"

/**
 * The stack of a device thread, kernel thread or fiber. A device needs
 * about 38 KiB of it (the packed panel of the matrix kernels, 32 KiB, and
 * the frames above it; 45 KiB under ThreadSanitizer, 65 KiB under
 * AddressSanitizer, measured by painting the stack): 256 KiB leaves room,
 * where the default (8 MiB each) would reserve 8 GiB of address space for
 * 1024 devices.
 */
#define PL_RUNTIME_STACK_BYTES (256 * 1024)

/** The automatic watchdog's limit: seconds with no action completed and no
 *  device computing, i.e. every device waiting for another. */
#define PL_WATCHDOG_AUTO_S 5.0

/**
 * Check that a job can run: the partition matches the schedule, the batch
 * has a row for every micro-batch, the schedule is valid, an injected fault
 * can fire. Returns 0, or -1 with a one-line message. Every executor calls it.
 */
int pl_runtime_check(const pl_job *job, char *err, size_t errlen);

/**
 * Run job->opt->steps training steps of job->schedule on device threads,
 * training job->model in place. Fills out->trace (every step) and out->loss.
 * Returns 0, or -1 with a one-line message naming the failing device and
 * action.
 */
int pl_runtime_run(const pl_job *job, pl_result *out, char *err, size_t errlen);

#endif
