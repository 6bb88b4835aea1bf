/*
 * reference.c -- the sequential reference of chapter 00.
 *
 * One device, one stage holding every layer. Each micro-batch runs forward,
 * loss, backward-input and backward-weight before the next begins; the
 * weight gradients pile up in increasing micro-batch order, exactly as on
 * every stage of a pipeline, and one SGD step ends the training step.
 */
#include "reference.h"

#include <stdio.h>

#include "clip.h"
#include "data.h"
#include "stage.h"

static int check_config(const pl_options *c, char *err, size_t errlen)
{
    if (c->steps < 1) {
        snprintf(err, errlen, "steps must be at least 1, got %d", c->steps);
        return -1;
    }
    if (c->batch < 1) {
        snprintf(err, errlen, "batch must be at least 1, got %d", c->batch);
        return -1;
    }
    if (c->microbatches < 1 || c->microbatches > c->batch) {
        snprintf(err, errlen,
                 "microbatches must be between 1 and the batch size %d, got %d",
                 c->batch, c->microbatches);
        return -1;
    }
    return 0;
}

// [region reference-microbatch]
/* Forward, loss, backward of micro-batch j; its weight gradient is added to
 * the model's accumulators. Sets *share to its part of the batch loss. */
static int run_microbatch(pl_model *m, const pl_batch *b, int batch, int mbs,
                          int j, float *share)
{
    int start, rows, L = m->n_layers;
    // [region reference-rows]
    pl_data_microbatch_range(batch, mbs, j, &start, &rows);
    // [endregion reference-rows]
    pl_tensor x = pl_tensor_rows(&b->x, start, rows);
    pl_tensor target = pl_tensor_rows(&b->y, start, rows);
    pl_stash st = {0, 0, 0, NULL, NULL, NULL};
    pl_tensor dy = pl_tensor_new(rows, m->width);
    int rc = -1;
    if (dy.data && pl_stage_forward(m, 0, L, &x, &st, 0) == 0) {
        // [region reference-loss]
        *share = pl_model_loss_grad(&dy, &st.act[L], &target, batch);
        // [endregion reference-loss]
        rc = pl_stage_backward_input(m, &st, &dy, NULL);
        if (rc == 0)
            pl_stage_backward_weight(m, &st);
    }
    pl_stage_free(&st);
    pl_tensor_free(&dy);
    return rc;
}
// [endregion reference-microbatch]

/* The optimizer step, after clipping the gradients to the global norm if
 * asked: the norm summed as pipeline s adds it (clip.h), or layer by layer.
 * Returns 1 if it clipped, 0 if not, -1 if the optimizer's state (momentum)
 * cannot be allocated. */
static int optimizer_step(pl_model *m, const pl_options *cfg, const pl_partition *part,
                          const pl_schedule *s)
{
    float factor = 1.0f;
    if (cfg->clip_norm > 0) {
        double sq = 0.0;
        if (part && s)
            for (int d = 0; d < s->devices; d++)
                sq += pl_clip_device_sqnorm(m, part, s, d);
        else
            sq = pl_clip_sqnorm(m, 0, m->n_layers);
        factor = pl_clip_factor(sq, cfg->clip_norm);
        pl_clip_scale(m, 0, m->n_layers, factor);
    }
    if (pl_model_sgd(m, 0, m->n_layers, cfg->lr, cfg->momentum))
        return -1;
    return factor != 1.0f;
}

int pl_reference_train(pl_model *m, const pl_options *cfg, float *loss, char *err,
                       size_t errlen)
{
    return pl_reference_train_as(m, cfg, NULL, NULL, loss, NULL, err, errlen);
}

int pl_reference_train_as(pl_model *m, const pl_options *cfg, const pl_partition *part,
                          const pl_schedule *s, float *loss, unsigned char *clipped, char *err,
                          size_t errlen)
{
    if (check_config(cfg, err, errlen))
        return -1;
    for (int step = 0; step < cfg->steps; step++) {
        pl_batch b;
        if (pl_data_batch(&b, cfg->seed, step, cfg->batch, m->width)) {
            snprintf(err, errlen, "cannot make the batch of step %d (out of memory?)", step);
            return -1;
        }
        float total = 0.0f; /* summed in micro-batch order, as the runtime does */
        // [region reference-accumulate]
        // [region reference-order]
        for (int j = 0; j < cfg->microbatches; j++) {
        // [endregion reference-order]
            float share = 0.0f;
            if (run_microbatch(m, &b, cfg->batch, cfg->microbatches, j, &share)) {
                pl_data_batch_free(&b);
                snprintf(err, errlen, "out of memory in step %d, micro-batch %d", step, j);
                return -1;
            }
            total += share;
        }
        // [endregion reference-accumulate]
        pl_data_batch_free(&b);
        if (loss)
            loss[step] = total;
        int c = optimizer_step(m, cfg, part, s);
        if (c < 0) {
            snprintf(err, errlen, "out of memory for the optimizer state in step %d", step);
            return -1;
        }
        if (clipped)
            clipped[step] = (unsigned char)c;
    }
    return 0;
}
