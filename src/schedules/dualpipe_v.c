/*
 * dualpipe_v.c -- chapter 08: DualPipeV, DeepSeek's DualPipe cut in half.
 *
 * DualPipe feeds micro-batches into both ends of the pipeline at once; cut
 * in half and folded, it becomes a V placement (route.h) in which device d
 * holds stage d (chunk 0) and stage 2p-1-d (chunk 1). Its steady state pairs
 * a forward of one chunk with a backward of the other -- F.0 with B.1, then
 * F.1 with B.0 -- which DeepSeek computes overlapped, so that one micro-
 * batch's communication hides behind the other's computation. Device d runs
 * eight phases (n micro-batches):
 *
 *   1  2(p-d-1) forwards on chunk 0;
 *   2  d+1 pairs F.0 F.1;
 *   3  p-d-1 times I.1, W (the oldest owed), F.1: the zero-bubble trick;
 *   4  n-2p+d+1 times F.0 B.1, F.1 B.0: the overlapped pairs;
 *   5  p-d-1 times B.1, F.1 B.0;
 *   6  2(d+1) backwards B.1 B.0 B.1 ...: the first half whole (B), the
 *      second half split (I, the W deferred);
 *   7  p-d-1 times W, I.0;
 *   8  the d+1 Ws still owed.
 *
 * W always takes the oldest I still owed its weight gradient (DeepSeek's
 * WeightGradStore is a queue). This is the order of DeepSeek's DualPipeV
 * (deepseek-ai/DualPipe, dualpipev.py) and of PyTorch's ScheduleDualPipeV,
 * written from their rule, with each overlapped pair written as its two
 * actions, forward first -- the order DeepSeek runs them in when it does not
 * overlap. Here a device runs them back to back: sends never block, so the
 * pair's messages already travel while the device computes, which is all
 * the overlap buys once there is no all-to-all inside a stage (chapter 08).
 *
 * Both peers need n >= 2p. With m < 2p this is the schedule for 2p with the
 * missing micro-batches' actions left out, as ZB-V does below its own
 * bound. Each chunk's backwards run whole (B) before any splits, and Ws in
 * the order of their Is, so weight gradients accumulate in micro-batch order.
 */
#include <stdlib.h>

#include "schedule.h"

pl_generator pl_schedule_dualpipe_v;

// [region dualpipe-v]
/* One device's list being written: the next forward and backward of each
 * chunk, and the Is whose W is owed, oldest first. */
typedef struct {
    pl_schedule *s;
    int d, failed;
    int f[2], b[2], w[2];   /* next F, backward (B or I) and W per chunk */
    int *owed, head, tail;  /* chunks of the Is still owed their W */
} device;

static void push(device *x, pl_kind kind, int c, int *count)
{
    x->failed |= pl_schedule_keep(x->s, x->d, (pl_action){kind, (*count)++, c});
}

static void forward(device *x, int c)
{
    push(x, PL_F, c, &x->f[c]);
}

/* The next backward of chunk c: whole (B), or split (I now, W owed). */
static void backward(device *x, int c, int split)
{
    if (split)
        x->owed[x->tail++] = c;
    else
        x->w[c]++; /* B accumulates the weight gradient itself */
    push(x, split ? PL_I : PL_B, c, &x->b[c]);
}

/* The W of the oldest I still owed one, if any. */
static void weight(device *x)
{
    if (x->head < x->tail) {
        int c = x->owed[x->head++];
        push(x, PL_W, c, &x->w[c]);
    }
}

static void phases(device *x, int p, int n)
{
    int d = x->d;
    for (int k = 0; k < 2 * (p - d - 1); k++) /* 1 */
        forward(x, 0);
    for (int k = 0; k < d + 1; k++) { /* 2 */
        forward(x, 0);
        forward(x, 1);
    }
    for (int k = 0; k < p - d - 1; k++) { /* 3 */
        backward(x, 1, 1);
        weight(x);
        forward(x, 1);
    }
    for (int k = 0; k < n - 2 * p + d + 1; k++) { /* 4: F.0 with B.1, F.1 with B.0 */
        forward(x, 0);
        backward(x, 1, 0);
        forward(x, 1);
        backward(x, 0, 0);
    }
    for (int k = 0; k < p - d - 1; k++) { /* 5 */
        backward(x, 1, 0);
        forward(x, 1);
        backward(x, 0, 0);
    }
    for (int k = 0; k < 2 * (d + 1); k++) /* 6 */
        backward(x, k % 2 ? 0 : 1, k >= d + 1);
    for (int k = 0; k < p - d - 1; k++) { /* 7 */
        weight(x);
        backward(x, 0, 1);
    }
    for (int k = 0; k < d + 1; k++) /* 8 */
        weight(x);
}
// [endregion dualpipe-v]

int pl_schedule_dualpipe_v(pl_schedule *s, const pl_shape *shape, char *err, size_t errlen)
{
    if (pl_schedule_begin(s, "dualpipe-v", shape, 2, err, errlen))
        return -1;
    s->placement = PL_PLACE_V;
    int p = shape->devices, m = shape->microbatches, failed = 0;
    int n = m > 2 * p ? m : 2 * p; /* fewer: the missing ones left out */
    int *owed = malloc((size_t)(2 * p) * sizeof *owed); /* at most 2p-1 Is per device */
    for (int d = 0; d < p && owed; d++) {
        device x = {s, d, 0, {0, 0}, {0, 0}, {0, 0}, owed, 0, 0};
        phases(&x, p, n);
        failed |= x.failed;
    }
    free(owed);
    return pl_schedule_end(s, "dualpipe-v", failed || !owed, err, errlen);
}
