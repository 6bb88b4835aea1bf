/**
 * @file chrome_trace.h
 * @brief A run as a Chrome trace, to open in Perfetto or chrome://tracing.
 *
 * The terminal timeline (trace.h) shows one step at a glance; a Chrome trace
 * lets a learner zoom into every action of every step. The file follows the
 * Trace Event Format (`{"traceEvents":[...]}`): each run is a named process,
 * each device a named thread, each executed action -- recomputed forwards
 * (R) included -- one complete event (`"ph":"X"`, `ts` and `dur` in
 * microseconds) carrying its kind, micro-batch, stage, chunk and step, and
 * each device's activation memory a counter track drawn from the bytes every
 * event carries. Chapter 03 uses the memory track to show what
 * recomputation buys.
 *
 * Invariant: the output depends only on the traces, so a run on the virtual
 * clock gives a byte-identical file every time.
 */
#ifndef PL_CHROME_TRACE_H
#define PL_CHROME_TRACE_H

#include <stdio.h>

#include "trace.h"

/**
 * Write traces[0..n) as one Chrome trace to `out`: trace i is process i+1,
 * named after its schedule, devices and micro-batches; times are relative to
 * each trace's first action. Returns 0, or -1 if writing to `out` failed (the
 * caller names the file).
 */
int pl_chrome_trace_write(const pl_trace *const *traces, int n, FILE *out);

#endif
