/*
 * stage.c -- the four per-stage kernels: forward (F), the recomputed
 * forward, backward-input (I) and backward-weight (W), and the stash that
 * carries a micro-batch from its forward to its backward (chapters 00-03).
 *
 * A stage is any contiguous run of layers. The reference runs one stage that
 * holds every layer; a pipeline runs several. Both go layer by layer through
 * the same tensor kernels, and the tensors handed between stages are exact
 * copies, so the bits cannot tell the two apart. A stash's tensors come from
 * its pool (pool.h) when it has one, and go back to it.
 */
#include "stage.h"

#include <stdlib.h>
#include <string.h>

/* Give t[from..to) back to the stash's pool (or free them). */
static void give_back(pl_stash *s, pl_tensor *t, int from, int to)
{
    for (int k = from; t && k < to; k++)
        pl_pool_give(s->pool, &t[k]);
}

/* The bytes of a stash's arrays: act (count + 1) and grad (count), one block. */
static size_t arrays_bytes(int count)
{
    return (2 * (size_t)count + 1) * sizeof(pl_tensor);
}

void pl_stage_free(pl_stash *s)
{
    pl_pool *pool = s->pool;
    give_back(s, s->act, 0, s->count + 1);
    give_back(s, s->grad, 0, s->count);
    if (s->act)
        pl_pool_give_block(pool, s->act, arrays_bytes(s->count));
    memset(s, 0, sizeof *s);
    s->pool = pool;
}

/* Empty arrays for `count` layers, from the pool: a stash is filled and
 * emptied micro-batch after micro-batch, so a device allocates no more of
 * them than it ever holds at once. 0, or -1 out of host memory. */
static int arrays(pl_stash *s, int count)
{
    size_t bytes = arrays_bytes(count);
    s->act = pl_pool_take_block(s->pool, bytes);
    if (!s->act)
        return -1;
    memset(s->act, 0, bytes);
    s->grad = s->act + count + 1;
    s->count = count;
    return 0;
}

void pl_stage_keep_input(pl_stash *s)
{
    give_back(s, s->act, 1, s->count + 1);
}

size_t pl_stage_held(const pl_stash *s)
{
    size_t n = 0;
    for (int k = 0; s->act && k <= s->count; k++)
        n += pl_tensor_bytes(&s->act[k]);
    for (int k = 0; s->grad && k < s->count; k++)
        n += pl_tensor_bytes(&s->grad[k]);
    return n;
}

// [region stash-bytes]
size_t pl_stage_stash_bytes(const pl_model *m, int first, int count, int rows,
                            pl_kind after, int recompute)
{
    size_t input = (size_t)rows * (size_t)m->layers[first].in;
    size_t outputs = 0; /* act[1..count], and as many floats again in grad[] */
    for (int k = first; k < first + count; k++)
        outputs += (size_t)rows * (size_t)m->layers[k].out;
    if (after == PL_F) /* recomputation keeps the stage input only */
        return (recompute ? input : input + outputs) * sizeof(float);
    if (after == PL_I) /* acts (recomputed if need be) and grads */
        return (input + 2 * outputs) * sizeof(float);
    return 0; /* after B or W the caller frees the stash */
}
// [endregion stash-bytes]

/* --------------------------------------------------------- stage kernels */

// [region stage-forward]
/* act[k+1] = layer(first+k)(act[k]) for every layer of the stage. */
static int forward_layers(const pl_model *m, pl_stash *s)
{
    for (int k = 0; k < s->count; k++) {
        const pl_layer *l = &m->layers[s->first + k];
        pl_pool_give(s->pool, &s->act[k + 1]);
        s->act[k + 1] = pl_pool_take(s->pool, s->rows, l->out);
        if (!s->act[k + 1].data)
            return -1;
        pl_tensor_forward(&s->act[k + 1], &s->act[k], &l->w, &l->b);
        if (l->relu)
            pl_tensor_relu(&s->act[k + 1]);
    }
    return 0;
}

/* act[0] is a copy of x: x may be a view of the batch or a message that the
 * caller frees as soon as the forward returns. */
static int copy_input(pl_stash *s, const pl_tensor *x)
{
    s->act[0] = pl_pool_take(s->pool, x->rows, x->cols);
    if (!s->act[0].data)
        return -1;
    pl_tensor_copy(&s->act[0], x);
    return 0;
}

int pl_stage_forward(const pl_model *m, int first, int count,
                     const pl_tensor *x, pl_stash *s, int keep_input_only)
{
    /* A stash is reused micro-batch after micro-batch: drop what is left. */
    pl_stage_free(s);
    if (count < 1 || first < 0 || first + count > m->n_layers ||
        x->cols != m->layers[first].in)
        return -1;
    s->first = first;
    s->rows = x->rows;
    if (arrays(s, count) || copy_input(s, x) || forward_layers(m, s)) {
        pl_stage_free(s);
        return -1;
    }
    if (keep_input_only)
        pl_stage_keep_input(s);
    return 0;
}
// [endregion stage-forward]

int pl_stage_recompute(const pl_model *m, pl_stash *s)
{
    if (!s->act || !s->act[0].data)
        return -1;
    return forward_layers(m, s);
}

// [region stage-backward]
/* Walk the stage's layers from last to first. grad[k] is the gradient at the
 * pre-activation output of layer k: the incoming gradient, zeroed wherever
 * the ReLU was off. Passing it back through W gives the gradient at the
 * layer's input, which is the previous layer's incoming gradient. */
int pl_stage_backward_input(const pl_model *m, pl_stash *s,
                            const pl_tensor *dy, pl_tensor *dx)
{
    int c = s->count;
    if (!s->act || !s->grad || !s->act[c].data)
        return -1; /* no forward, or recomputation still owed */
    give_back(s, s->grad, 0, c);
    for (int k = c - 1; k >= 0; k--) {
        const pl_layer *l = &m->layers[s->first + k];
        s->grad[k] = pl_pool_take(s->pool, s->rows, l->out);
        if (!s->grad[k].data)
            return -1;
        if (k == c - 1)
            pl_tensor_copy(&s->grad[k], dy);
        else
            pl_tensor_input_grad(&s->grad[k], &s->grad[k + 1],
                                 &m->layers[s->first + k + 1].w);
        if (l->relu)
            pl_tensor_relu_backward(&s->grad[k], &s->act[k + 1]);
    }
    /* The first stage's input is data: nobody needs its gradient. */
    if (dx)
        pl_tensor_input_grad(dx, &s->grad[0], &m->layers[s->first].w);
    return 0;
}

void pl_stage_backward_weight(pl_model *m, const pl_stash *s)
{
    for (int k = 0; k < s->count; k++) {
        pl_layer *l = &m->layers[s->first + k];
        pl_tensor_weight_grad(&l->dw, &l->db, &s->act[k], &s->grad[k]);
    }
}
// [endregion stage-backward]

