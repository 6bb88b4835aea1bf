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

int main(void)
{
    pl_options o;
    pl_options_defaults(&o);
    pl_model m;
    if (pl_model_init(&m, o.layers, o.width, o.seed) != 0)
        return 1;

    printf("An MLP of %d layers, width %d; batch %d in %d micro-batches.\n\n", o.layers,
           o.width, o.batch, o.microbatches);
    printf("layer  relu  forward FLOPs (micro-batch of %d)  stashed bytes\n",
           o.batch / o.microbatches);
    for (int l = 0; l < m.n_layers; l++)
        printf("%5d  %4s  %30lld  %13zu\n", l, m.layers[l].relu ? "yes" : "no",
               (long long)pl_layer_flops(&m.layers[l], o.batch / o.microbatches),
               pl_stage_stash_bytes(&m, l, 1, o.batch / o.microbatches, 'F', 0));

    enum { STEPS = 60 };
    float loss[STEPS];
    char err[256];
    pl_train_config cfg = {o.seed, STEPS, o.batch, o.microbatches, 0.05f};
    if (pl_reference_train(&m, &cfg, loss, err, sizeof err) != 0) {
        fprintf(stderr, "lesson: %s\n", err);
        return 1;
    }
    printf("\nTraining on one device (the sequential reference):\n");
    for (int k = 0; k < STEPS; k += 10)
        printf("  step %3d   loss %.6f\n", k, (double)loss[k]);
    printf("  step %3d   loss %.6f   (%.0f%% of the first)\n", STEPS - 1,
           (double)loss[STEPS - 1], 100.0 * loss[STEPS - 1] / loss[0]);

    pl_cost c = pl_cost_uniform(o.batch, o.microbatches);
    printf("\nUniform costs for one micro-batch: t_F = %.1f ms, t_I = %.1f ms, t_W = %.1f ms,"
           " t_B = t_I + t_W = %.1f ms\n",
           pl_cost_action(&c, &m, 0, 1, o.batch / o.microbatches, 'F') / 1e6,
           pl_cost_action(&c, &m, 0, 1, o.batch / o.microbatches, 'I') / 1e6,
           pl_cost_action(&c, &m, 0, 1, o.batch / o.microbatches, 'W') / 1e6,
           pl_cost_action(&c, &m, 0, 1, o.batch / o.microbatches, 'B') / 1e6);
    pl_model_free(&m);
    return 0;
}
