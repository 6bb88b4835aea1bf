/*
 * pool.c -- spare tensor buffers by size (issue 14).
 *
 * A handful of sizes recur (a stage's layer widths, times at most two
 * micro-batch sizes, and a stash's arrays), so a short list of sizes, each
 * with a stack of spare blocks, is all it takes: finding a size is a scan
 * of a few entries.
 */
#include "pool.h"

#include <stdlib.h>

/* The entry for blocks of `bytes`, made if missing; NULL if out of memory. */
static pl_pool_size *size_of(pl_pool *p, size_t bytes, int make)
{
    for (int i = 0; i < p->n; i++)
        if (p->sizes[i].bytes == bytes)
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
    p->sizes[p->n] = (pl_pool_size){bytes, NULL, 0, 0};
    return &p->sizes[p->n++];
}

void *pl_pool_take_block(pl_pool *p, size_t bytes)
{
    pl_pool_size *s = p ? size_of(p, bytes, 0) : NULL;
    return s && s->n > 0 ? s->spare[--s->n] : malloc(bytes);
}

void pl_pool_give_block(pl_pool *p, void *block, size_t bytes)
{
    pl_pool_size *s = p && block ? size_of(p, bytes, 1) : NULL;
    if (s && s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        void **grown = realloc(s->spare, (size_t)cap * sizeof *grown);
        if (grown) {
            s->spare = grown;
            s->cap = cap;
        }
    }
    if (s && s->n < s->cap)
        s->spare[s->n++] = block;
    else
        free(block);
}

pl_tensor pl_pool_take(pl_pool *p, int rows, int cols)
{
    if (!p || rows <= 0 || cols <= 0)
        return pl_tensor_new(rows, cols);
    pl_tensor t = {rows, cols, pl_pool_take_block(p, (size_t)rows * (size_t)cols * sizeof(float))};
    if (!t.data)
        t.rows = t.cols = 0;
    return t;
}

void pl_pool_give(pl_pool *p, pl_tensor *t)
{
    pl_pool_give_block(p, t->data, pl_tensor_bytes(t));
    *t = (pl_tensor){0, 0, NULL};
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
