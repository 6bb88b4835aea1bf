/*
 * model.c -- the MLP: its layers, their initialisation, the loss, the SGD
 * step, and what a layer costs. The kernels a stage runs on a micro-batch
 * are in stage.c.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* ---------------------------------------------------------------- the model */

/* Weights are uniform in +-sqrt(gain / in), biases start at zero.
 * Before a ReLU, gain 6 (He-uniform): ReLU zeroes half the signal, so the
 * weights double its variance to keep it from fading layer after layer.
 * The first layer's gain is 3x larger because the inputs are uniform in
 * [-1, 1), variance 1/3, where He init assumes 1. The linear output layer
 * uses gain 1 (PyTorch's default bound 1/sqrt(in)), so an untrained model's
 * guesses start small instead of adding noise to the loss. */
static int layer_init(pl_layer *l, int in, int out, int relu, int first, pl_rng *r)
{
    l->in = in;
    l->out = out;
    l->relu = relu;
    l->w = pl_tensor_new(in, out);
    l->b = pl_tensor_new(1, out);
    l->dw = pl_tensor_new(in, out);
    l->db = pl_tensor_new(1, out);
    if (!l->w.data || !l->b.data || !l->dw.data || !l->db.data)
        return -1;
    float gain = (relu ? 6.0f : 1.0f) * (first ? 3.0f : 1.0f);
    float bound = sqrtf(gain / (float)in);
    for (int i = 0; i < in * out; i++)
        l->w.data[i] = pl_rng_uniform(r, -bound, bound);
    return 0;
}

int pl_model_build(pl_model *m, int n_layers, const int *widths, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    for (int l = 0; l < n_layers; l++)
        if (widths[l] < 1)
            return -1;
    if (n_layers < 1)
        return -1;
    m->layers = calloc((size_t)n_layers, sizeof *m->layers);
    if (!m->layers)
        return -1;
    m->n_layers = n_layers;
    m->width = widths[n_layers - 1];
    pl_rng r;
    pl_rng_seed(&r, seed);
    for (int l = 0; l < n_layers; l++) {
        int in = widths[l == 0 ? n_layers - 1 : l - 1];
        if (layer_init(&m->layers[l], in, widths[l], l < n_layers - 1, l == 0, &r)) {
            pl_model_free(m);
            return -1;
        }
    }
    return 0;
}

int pl_model_init(pl_model *m, int n_layers, int width, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (n_layers < 1 || width < 1)
        return -1;
    int *widths = malloc((size_t)n_layers * sizeof *widths);
    if (!widths)
        return -1;
    for (int l = 0; l < n_layers; l++)
        widths[l] = width;
    int rc = pl_model_build(m, n_layers, widths, seed);
    free(widths);
    return rc;
}

void pl_model_lm_like(int n_layers, int width, int *widths)
{
    for (int l = 0; l < n_layers; l++)
        widths[l] = l == n_layers - 1 ? PL_MODEL_WIDE * width : width;
}

void pl_model_free(pl_model *m)
{
    for (int l = 0; m->layers && l < m->n_layers; l++) {
        pl_tensor_free(&m->layers[l].w);
        pl_tensor_free(&m->layers[l].b);
        pl_tensor_free(&m->layers[l].dw);
        pl_tensor_free(&m->layers[l].db);
        pl_tensor_free(&m->layers[l].vw);
        pl_tensor_free(&m->layers[l].vb);
    }
    free(m->layers);
    memset(m, 0, sizeof *m);
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
        if (pl_tensor_dup(&d->w, &s->w) || pl_tensor_dup(&d->b, &s->b) ||
            pl_tensor_dup(&d->dw, &s->dw) || pl_tensor_dup(&d->db, &s->db) ||
            (s->vw.data && pl_tensor_dup(&d->vw, &s->vw)) ||
            (s->vb.data && pl_tensor_dup(&d->vb, &s->vb))) {
            pl_model_free(dst);
            return -1;
        }
    }
    return 0;
}

// [region loss]
float pl_model_loss_grad(pl_tensor *dy, const pl_tensor *y, const pl_tensor *target,
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

// [region sgd]
int pl_model_sgd(pl_model *m, int first, int count, float lr, float momentum)
{
    for (int k = first; k < first + count; k++) {
        pl_layer *l = &m->layers[k];
        if (momentum == 0.0f) { /* plain SGD: no state */
            pl_tensor_sgd(&l->w, &l->dw, lr);
            pl_tensor_sgd(&l->b, &l->db, lr);
            continue;
        }
        if (!l->vw.data) { /* the optimizer state, once: a velocity per parameter */
            l->vw = pl_tensor_new(l->in, l->out);
            l->vb = pl_tensor_new(1, l->out);
            if (!l->vw.data || !l->vb.data)
                return -1;
        }
        pl_tensor_sgd_momentum(&l->w, &l->dw, &l->vw, lr, momentum);
        pl_tensor_sgd_momentum(&l->b, &l->db, &l->vb, lr, momentum);
    }
    return 0;
}
// [endregion sgd]

/* Only the matmul: 2 FLOPs per multiply-add. The bias and ReLU add rows*out
 * each, too few to matter next to rows*in*out. */
int64_t pl_model_layer_flops(const pl_layer *l, int rows)
{
    return (int64_t)2 * rows * l->in * l->out;
}

size_t pl_model_layer_bytes(const pl_layer *l)
{
    return ((size_t)l->in * (size_t)l->out + (size_t)l->out) * sizeof(float);
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
