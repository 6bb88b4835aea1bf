/*
 * profile.c -- what each layer costs: by the model, or timed on this host
 * (chapter 07).
 */
#include "profile.h"

#include "clock.h"
#include "stage.h"

enum { TRIALS = 7 }; /* the best of these: a busy host only ever slows a trial */

/* One trial of layer l on x (rows, in): forward, input-grad, weight-grad,
 * `reps` times; host ns. The weight gradient lands in m's accumulators,
 * which is why the caller hands us a copy. */
static int64_t trial(pl_model *m, int l, const pl_tensor *x, pl_tensor *dy, pl_tensor *dx,
                     int reps, int *failed)
{
    pl_stash s = {0, 0, 0, NULL, NULL};
    int64_t t0 = pl_clock_host_ns();
    for (int r = 0; r < reps && !*failed; r++) {
        *failed = pl_stage_forward(m, l, 1, x, &s, 0) ||
                  pl_stage_backward_input(m, &s, dy, dx);
        if (!*failed)
            pl_stage_backward_weight(m, &s);
    }
    int64_t t = pl_clock_host_ns() - t0;
    pl_stage_free(&s);
    return t;
}

/* Layer l's best time over TRIALS, each long enough to read on a clock. */
static int time_layer(pl_model *m, int l, int rows, int64_t *ns)
{
    const pl_layer *ly = &m->layers[l];
    pl_tensor x = pl_tensor_new(rows, ly->in), dy = pl_tensor_new(rows, ly->out);
    pl_tensor dx = pl_tensor_new(rows, ly->in);
    int failed = !x.data || !dy.data || !dx.data;
    for (int i = 0; i < rows * ly->in; i++)
        x.data[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < rows * ly->out; i++)
        dy.data[i] = 1e-3f * (float)(i % 5);
    int64_t work = (int64_t)rows * ly->in * ly->out;
    int reps = work >= (1 << 18) ? 1 : (int)((1 << 18) / work);
    *ns = INT64_MAX;
    for (int k = 0; k < TRIALS && !failed; k++) {
        int64_t t = trial(m, l, &x, &dy, &dx, reps, &failed);
        if (t < *ns)
            *ns = t;
    }
    *ns = failed ? 0 : *ns / reps;
    pl_tensor_free(&x), pl_tensor_free(&dy), pl_tensor_free(&dx);
    return failed ? -1 : 0;
}

int pl_profile_layers(const pl_model *m, pl_partition_kind kind, int rows, int64_t *cost)
{
    if (kind != PL_PARTITION_MEASURED) {
        for (int l = 0; l < m->n_layers; l++)
            cost[l] = pl_model_layer_flops(&m->layers[l], 1);
        return 0;
    }
    pl_model copy;
    if (pl_model_clone(&copy, m))
        return -1;
    int rc = 0;
    for (int l = 0; l < m->n_layers && rc == 0; l++)
        rc = time_layer(&copy, l, rows, &cost[l]);
    pl_model_free(&copy);
    return rc;
}
