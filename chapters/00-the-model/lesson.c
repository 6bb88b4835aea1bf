/*
 * Chapter 00 -- the model.
 *
 * An MLP trained on one device: the sequential reference every later chapter
 * must match bit for bit. We train it, watch the loss fall, and print what the
 * cost model charges for each layer.
 */
#include <stdio.h>

#include "../lesson.h"
#include "cost.h"
#include "reference.h"
#include "stage.h"

int main(void)
{
    pl_options o;
    pl_options_defaults(&o);
    pl_model m;
    if (pl_model_init(&m, o.layers, o.width, o.seed) != 0)
        return 1;

    printf("An MLP of %d layers, width %d; batch %d in %d micro-batches.\n\n", o.layers,
           o.width, o.batch, o.microbatches);
    int rows = o.batch / o.microbatches;
    printf("layer  relu  forward FLOPs (micro-batch of %d)  output bytes\n", rows);
    for (int l = 0; l < m.n_layers; l++)
        printf("%5d  %4s  %30lld  %12zu\n", l, m.layers[l].relu ? "yes" : "no",
               (long long)pl_model_layer_flops(&m.layers[l], rows),
               (size_t)rows * (size_t)m.layers[l].out * sizeof(float));
    printf("A stage's forward stashes its input and every layer's output until its backward:\n"
           "all %d layers on one micro-batch hold %zu bytes.\n", m.n_layers,
           pl_stage_stash_bytes(&m, 0, m.n_layers, rows, PL_F, 0));

    enum { STEPS = 60 };
    float loss[STEPS];
    char err[256];
    o.steps = STEPS;
    if (pl_reference_train(&m, &o, loss, err, sizeof err) != 0) {
        fprintf(stderr, "lesson: %s\n", err);
        return 1;
    }
    printf("\nTraining on one device (the sequential reference):\n");
    for (int k = 0; k < STEPS; k += 10)
        printf("  step %3d   loss %.6f\n", k, (double)loss[k]);
    printf("  step %3d   loss %.6f   (%.0f%% of the first)\n", STEPS - 1,
           (double)loss[STEPS - 1], 100.0 * loss[STEPS - 1] / loss[0]);

    /* One device holds all L layers, so one unit is the forward of the whole
     * model on a micro-batch; a stage of k layers costs k/L of it. */
    pl_cost c = pl_cost_uniform(PL_COST_UNIT, PL_COST_UNIT, PL_COST_UNIT, o.layers, o.width, 1,
                                o.batch, o.microbatches);
    printf("\nUniform costs for one micro-batch on one device (1 unit = the forward of all %d "
           "layers):\n  t_F = %.3f ms, t_I = %.3f ms, t_W = %.3f ms, t_B = t_I + t_W = %.3f ms;"
           " one layer's forward %.3f ms\n", o.layers,
           pl_cost_action(&c, &m, 0, o.layers, rows, PL_F) / 1e6,
           pl_cost_action(&c, &m, 0, o.layers, rows, PL_I) / 1e6,
           pl_cost_action(&c, &m, 0, o.layers, rows, PL_W) / 1e6,
           pl_cost_action(&c, &m, 0, o.layers, rows, PL_B) / 1e6,
           pl_cost_action(&c, &m, 0, 1, rows, PL_F) / 1e6);
    pl_model_free(&m);
    return 0;
}
