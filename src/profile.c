/*
 * profile.c -- what each layer costs: by the model, or timed on this host
 * (chapter 07).
 */
#include "profile.h"

#include <stdlib.h>

#include "clock.h"
#include "stage.h"

enum { TRIALS = 7 }; /* the best of these: a busy host only ever slows a trial */

/* The three kernels of one layer, on one (rows, in) input. */
typedef struct {
    pl_model *m;     /* a copy: the weight gradients land in its accumulators */
    int l;
    pl_tensor x, dy, dx;
    pl_stash s;
} bench;

/* One trial of kind k (0 forward, 1 input-grad, 2 weight-grad), `reps`
 * times; host ns. The backward kernels run on the stash of the last forward. */
static int64_t trial(bench *b, int k, int reps, int *failed)
{
    int64_t t0 = pl_clock_host_ns();
    for (int r = 0; r < reps && !*failed; r++) {
        if (k == 0)
            *failed = pl_stage_forward(b->m, b->l, 1, &b->x, &b->s, 0);
        else if (k == 1)
            *failed = pl_stage_backward_input(b->m, &b->s, &b->dy, &b->dx);
        else
            pl_stage_backward_weight(b->m, &b->s);
    }
    return pl_clock_host_ns() - t0;
}

/* Layer l's best time of each kind over TRIALS, each long enough to read
 * on a clock: ns[0..2]. */
static int time_layer(pl_model *m, int l, int rows, int64_t *ns)
{
    const pl_layer *ly = &m->layers[l];
    bench b = {m, l, pl_tensor_new(rows, ly->in), pl_tensor_new(rows, ly->out),
               pl_tensor_new(rows, ly->in), {0, 0, 0, NULL, NULL, NULL}};
    int failed = !b.x.data || !b.dy.data || !b.dx.data;
    for (int i = 0; !failed && i < rows * ly->in; i++)
        b.x.data[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; !failed && i < rows * ly->out; i++)
        b.dy.data[i] = 1e-3f * (float)(i % 5);
    int64_t work = (int64_t)rows * ly->in * ly->out;
    int reps = work >= (1 << 18) ? 1 : (int)((1 << 18) / work);
    for (int k = 0; k < 3; k++) { /* the forwards leave the stash the backwards need */
        ns[k] = INT64_MAX;
        for (int t = 0; t < TRIALS && !failed; t++) {
            int64_t took = trial(&b, k, reps, &failed);
            if (took < ns[k])
                ns[k] = took;
        }
        ns[k] = failed ? 0 : ns[k] / reps;
    }
    pl_stage_free(&b.s);
    pl_tensor_free(&b.x), pl_tensor_free(&b.dy), pl_tensor_free(&b.dx);
    return failed ? -1 : 0;
}

int pl_profile_kinds(const pl_model *m, int rows, int64_t *ns)
{
    pl_model copy;
    if (pl_model_clone(&copy, m))
        return -1;
    int rc = 0;
    for (int l = 0; l < m->n_layers && rc == 0; l++)
        rc = time_layer(&copy, l, rows, &ns[3 * l]);
    pl_model_free(&copy);
    return rc;
}

int pl_profile_layers(const pl_model *m, pl_partition_kind kind, int rows, int64_t *cost)
{
    if (kind != PL_PARTITION_MEASURED) {
        for (int l = 0; l < m->n_layers; l++)
            cost[l] = pl_model_layer_flops(&m->layers[l], 1);
        return 0;
    }
    int64_t *ns = malloc(3 * (size_t)m->n_layers * sizeof *ns);
    int rc = ns ? pl_profile_kinds(m, rows, ns) : -1;
    for (int l = 0; rc == 0 && l < m->n_layers; l++)
        cost[l] = ns[3 * l] + ns[3 * l + 1] + ns[3 * l + 2];
    free(ns);
    return rc;
}
