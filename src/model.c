/*
 * model.c -- the MLP and the four per-stage kernels: forward (F), the
 * recomputed forward, backward-input (I) and backward-weight (W).
 *
 * A stage is any contiguous run of layers. The reference runs one stage that
 * holds every layer; a pipeline runs several. Both go layer by layer through
 * the same tensor kernels, and the tensors handed between stages are exact
 * copies, so the bits cannot tell the two apart.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

/* ---------------------------------------------------------------- the model */

/* Weights are uniform in +-sqrt(gain / in), biases start at zero.
 * Before a ReLU, gain 6 (He-uniform): ReLU zeroes half the signal, so the
 * weights double its variance to keep it from fading layer after layer.
 * The first layer's gain is 3x larger because the inputs are uniform in
 * [-1, 1), variance 1/3, where He init assumes 1. The linear output layer
 * uses gain 1 (PyTorch's default bound 1/sqrt(in)), so an untrained model's
 * guesses start small instead of adding noise to the loss. */
static int layer_init(pl_layer *l, int width, int relu, int first, pl_rng *r)
{
    l->in = l->out = width;
    l->relu = relu;
    l->w = pl_tensor_new(width, width);
    l->b = pl_tensor_new(1, width);
    l->dw = pl_tensor_new(width, width);
    l->db = pl_tensor_new(1, width);
    if (!l->w.data || !l->b.data || !l->dw.data || !l->db.data)
        return -1;
    float gain = (relu ? 6.0f : 1.0f) * (first ? 3.0f : 1.0f);
    float bound = sqrtf(gain / (float)width);
    for (int i = 0; i < width * width; i++)
        l->w.data[i] = pl_rng_uniform(r, -bound, bound);
    return 0;
}

int pl_model_init(pl_model *m, int n_layers, int width, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (n_layers < 1 || width < 1)
        return -1;
    m->layers = calloc((size_t)n_layers, sizeof *m->layers);
    if (!m->layers)
        return -1;
    m->n_layers = n_layers;
    m->width = width;
    pl_rng r;
    pl_rng_seed(&r, seed);
    for (int l = 0; l < n_layers; l++)
        if (layer_init(&m->layers[l], width, l < n_layers - 1, l == 0, &r)) {
            pl_model_free(m);
            return -1;
        }
    return 0;
}

void pl_model_free(pl_model *m)
{
    for (int l = 0; m->layers && l < m->n_layers; l++) {
        pl_tensor_free(&m->layers[l].w);
        pl_tensor_free(&m->layers[l].b);
        pl_tensor_free(&m->layers[l].dw);
        pl_tensor_free(&m->layers[l].db);
    }
    free(m->layers);
    memset(m, 0, sizeof *m);
}

static int tensor_dup(pl_tensor *dst, const pl_tensor *src)
{
    *dst = pl_tensor_new(src->rows, src->cols);
    if (!dst->data)
        return -1;
    pl_tensor_copy(dst, src);
    return 0;
}

int pl_model_clone(pl_model *dst, const pl_model *src)
{
    memset(dst, 0, sizeof *dst);
    dst->layers = calloc((size_t)src->n_layers, sizeof *dst->layers);
    if (!dst->layers)
        return -1;
    dst->n_layers = src->n_layers;
    dst->width = src->width;
    for (int l = 0; l < src->n_layers; l++) {
        const pl_layer *s = &src->layers[l];
        pl_layer *d = &dst->layers[l];
        d->in = s->in;
        d->out = s->out;
        d->relu = s->relu;
        if (tensor_dup(&d->w, &s->w) || tensor_dup(&d->b, &s->b) ||
            tensor_dup(&d->dw, &s->dw) || tensor_dup(&d->db, &s->db)) {
            pl_model_free(dst);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the stash */

static void free_range(pl_tensor *t, int from, int to)
{
    for (int k = from; t && k < to; k++)
        pl_tensor_free(&t[k]);
}

void pl_stash_free(pl_stash *s)
{
    free_range(s->act, 0, s->count + 1);
    free_range(s->grad, 0, s->count);
    free(s->act);
    free(s->grad);
    memset(s, 0, sizeof *s);
}

size_t pl_stash_bytes(const pl_stash *s)
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
                            char after_kind, int recompute)
{
    size_t input = (size_t)rows * (size_t)m->layers[first].in;
    size_t outputs = 0; /* act[1..count], and as many floats again in grad[] */
    for (int k = first; k < first + count; k++)
        outputs += (size_t)rows * (size_t)m->layers[k].out;
    if (after_kind == 'F') /* recomputation keeps the stage input only */
        return (recompute ? input : input + outputs) * sizeof(float);
    if (after_kind == 'I') /* acts (recomputed if need be) and grads */
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
        pl_tensor_free(&s->act[k + 1]);
        s->act[k + 1] = pl_tensor_new(s->rows, l->out);
        if (!s->act[k + 1].data)
            return -1;
        pl_matmul_forward(&s->act[k + 1], &s->act[k], &l->w, &l->b);
        if (l->relu)
            pl_relu(&s->act[k + 1]);
    }
    return 0;
}

int pl_stage_forward(const pl_model *m, int first, int count,
                     const pl_tensor *x, pl_stash *s, int keep_input_only)
{
    /* A stash is reused micro-batch after micro-batch: drop what is left. */
    pl_stash_free(s);
    if (count < 1 || first < 0 || first + count > m->n_layers ||
        x->cols != m->layers[first].in)
        return -1;
    s->first = first;
    s->count = count;
    s->rows = x->rows;
    s->act = calloc((size_t)count + 1, sizeof *s->act);
    s->grad = calloc((size_t)count, sizeof *s->grad);
    /* act[0] is a copy: x may be a view of the batch or a message that the
     * caller frees as soon as this returns. */
    if (!s->act || !s->grad || tensor_dup(&s->act[0], x) || forward_layers(m, s)) {
        pl_stash_free(s);
        return -1;
    }
    if (keep_input_only)
        free_range(s->act, 1, count + 1);
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
    free_range(s->grad, 0, c);
    for (int k = c - 1; k >= 0; k--) {
        const pl_layer *l = &m->layers[s->first + k];
        s->grad[k] = pl_tensor_new(s->rows, l->out);
        if (!s->grad[k].data)
            return -1;
        if (k == c - 1)
            pl_tensor_copy(&s->grad[k], dy);
        else
            pl_matmul_input_grad(&s->grad[k], &s->grad[k + 1],
                                 &m->layers[s->first + k + 1].w);
        if (l->relu)
            pl_relu_backward(&s->grad[k], &s->act[k + 1]);
    }
    /* The first stage's input is data: nobody needs its gradient. */
    if (dx)
        pl_matmul_input_grad(dx, &s->grad[0], &m->layers[s->first].w);
    return 0;
}

void pl_stage_backward_weight(pl_model *m, const pl_stash *s)
{
    for (int k = 0; k < s->count; k++) {
        pl_layer *l = &m->layers[s->first + k];
        pl_matmul_weight_grad(&l->dw, &l->db, &s->act[k], &s->grad[k]);
    }
}
// [endregion stage-backward]

// [region loss]
float pl_loss_grad(pl_tensor *dy, const pl_tensor *y, const pl_tensor *target,
                   int batch)
{
    size_t n = (size_t)y->rows * (size_t)y->cols;
    /* Divide by the whole batch, not this micro-batch, so that summing the
     * micro-batches' gradients gives exactly the full batch's mean. */
    float denom = (float)batch * (float)y->cols;
    double sse = 0.0; /* double: the sum of many small squares loses less */
    for (size_t i = 0; i < n; i++) {
        float d = y->data[i] - target->data[i];
        dy->data[i] = (2.0f * d) / denom;
        sse += (double)d * (double)d;
    }
    return (float)(sse / (double)denom);
}
// [endregion loss]

void pl_model_sgd(pl_model *m, int first, int count, float lr)
{
    for (int k = first; k < first + count; k++) {
        pl_layer *l = &m->layers[k];
        pl_tensor_sgd(&l->w, &l->dw, lr);
        pl_tensor_sgd(&l->b, &l->db, lr);
    }
}

/* Only the matmul: 2 FLOPs per multiply-add. The bias and ReLU add rows*out
 * each, too few to matter next to rows*in*out. */
int64_t pl_layer_flops(const pl_layer *l, int rows)
{
    return (int64_t)2 * rows * l->in * l->out;
}

/* Largest |a - b| over two same-shaped tensors. */
static double max_diff(const pl_tensor *a, const pl_tensor *b, double d)
{
    size_t n = (size_t)a->rows * (size_t)a->cols;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a->data[i] - (double)b->data[i]);
        if (isnan(x)) /* a NaN is the largest difference there is */
            return INFINITY;
        if (x > d)
            d = x;
    }
    return d;
}

int pl_model_equal(const pl_model *a, const pl_model *b, double *max_abs_diff)
{
    int same = a->n_layers == b->n_layers && a->width == b->width;
    for (int l = 0; same && l < a->n_layers; l++)
        same = a->layers[l].in == b->layers[l].in &&
               a->layers[l].out == b->layers[l].out;
    if (!same) {
        if (max_abs_diff)
            *max_abs_diff = INFINITY;
        return 0;
    }
    int equal = 1;
    double d = 0.0;
    for (int l = 0; l < a->n_layers; l++) {
        const pl_layer *x = &a->layers[l], *y = &b->layers[l];
        equal &= memcmp(x->w.data, y->w.data, pl_tensor_bytes(&x->w)) == 0 &&
                 memcmp(x->b.data, y->b.data, pl_tensor_bytes(&x->b)) == 0;
        d = max_diff(&x->w, &y->w, max_diff(&x->b, &y->b, d));
    }
    if (max_abs_diff)
        *max_abs_diff = d;
    return equal;
}
