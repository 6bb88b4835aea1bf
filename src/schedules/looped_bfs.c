/*
 * looped_bfs.c -- chapter 05: looped breadth-first, GPipe over v chunks.
 *
 * Each device holds v model chunks in the loop placement (chunk c of device
 * d holds stage c*p + d). Breadth first: every micro-batch through chunk 0,
 * then every micro-batch through chunk 1, ..., and the backwards the same
 * way from the last chunk down:
 *
 *     d: F0.0 ... F(m-1).0   F0.1 ... F(m-1).1   ...   (every chunk's forwards)
 *        B0.(v-1) ... B(m-1).(v-1)   ...   B0.0 ... B(m-1).0   (backwards, last chunk first)
 *
 * It is GPipe with the pipeline looped v times (with v = 1 it is GPipe), as
 * PyTorch's ScheduleLoopedBFS runs it: the same bubble as interleaved 1F1B,
 * (p-1)/(v*m+p-1) once m >= p, and GPipe's memory -- every chunk-activation
 * of every micro-batch is held until the backwards begin.
 *
 * PyTorch runs each chunk's backwards from the last micro-batch down. Here
 * they run in increasing micro-batch order, as in every schedule of the
 * course, so each chunk accumulates its weight gradients in the sequential
 * reference's order; with equal micro-batches the timing is the same either
 * way.
 */
#include <stdio.h>

#include "schedule.h"

pl_generator pl_schedule_looped_bfs;

int pl_schedule_looped_bfs(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "looped-bfs", shape, 0, err, errlen))
        return -1;
    int failed = 0, p = shape->devices, m = shape->microbatches, v = shape->chunks;
    // [region looped-bfs]
    for (int d = 0; d < p; d++) {
        for (int c = 0; c < v; c++) /* fill, chunk by chunk */
            for (int mb = 0; mb < m; mb++)
                failed |= pl_schedule_push(s, d, PL_F, mb, c);
        for (int c = v - 1; c >= 0; c--) /* drain, from the last chunk down */
            for (int mb = 0; mb < m; mb++)
                failed |= pl_schedule_push(s, d, PL_B, mb, c);
    }
    // [endregion looped-bfs]
    return pl_schedule_end(s, "looped-bfs", failed, err, errlen);
}
