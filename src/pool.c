/*
 * pool.c -- spare tensor buffers by size (issue 14).
 *
 * A handful of sizes recur (a stage's layer widths, times at most two
 * micro-batch sizes), so a short list of sizes, each with a stack of spare
 * buffers, is all it takes: finding a size is a scan of a few entries.
 */
#include "pool.h"

#include <stdlib.h>

/* The entry for buffers of n floats, made if missing; NULL if out of memory. */
static pl_pool_size *size_of(pl_pool *p, size_t n, int make)
{
    for (int i = 0; i < p->n; i++)
        if (p->sizes[i].floats == n)
            return &p->sizes[i];
    if (!make)
        return NULL;
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        pl_pool_size *grown = realloc(p->sizes, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL;
        p->sizes = grown;
        p->cap = cap;
    }
    p->sizes[p->n] = (pl_pool_size){n, NULL, 0, 0};
    return &p->sizes[p->n++];
}

pl_tensor pl_pool_take(pl_pool *p, int rows, int cols)
{
    if (!p || rows <= 0 || cols <= 0)
        return pl_tensor_new(rows, cols);
    pl_pool_size *s = size_of(p, (size_t)rows * (size_t)cols, 0);
    if (!s || s->n == 0) {
        pl_tensor t = {0, 0, malloc((size_t)rows * (size_t)cols * sizeof(float))};
        if (t.data)
            t.rows = rows, t.cols = cols;
        return t;
    }
    return (pl_tensor){rows, cols, s->spare[--s->n]};
}

void pl_pool_give(pl_pool *p, pl_tensor *t)
{
    pl_pool_size *s = p && t->data ? size_of(p, (size_t)t->rows * (size_t)t->cols, 1) : NULL;
    if (s && s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        float **grown = realloc(s->spare, (size_t)cap * sizeof *grown);
        if (grown) {
            s->spare = grown;
            s->cap = cap;
        }
    }
    if (s && s->n < s->cap) {
        s->spare[s->n++] = t->data;
        *t = (pl_tensor){0, 0, NULL};
        return;
    }
    pl_tensor_free(t);
}

void pl_pool_free(pl_pool *p)
{
    for (int i = 0; i < p->n; i++) {
        for (int k = 0; k < p->sizes[i].n; k++)
            free(p->sizes[i].spare[k]);
        free(p->sizes[i].spare);
    }
    free(p->sizes);
    *p = (pl_pool){NULL, 0, 0};
}
