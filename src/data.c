/*
 * data.c -- deterministic synthetic data and micro-batch ranges.
 */
#include "data.h"

#include "model.h"
#include "rng.h"
#include "stage.h"

/* Constants that keep the three streams (model weights, teacher weights,
 * inputs) apart even when a run uses the same number for every seed. */
#define TEACHER_SALT 0x7eac4e7eac4e7eaULL
#define GOLDEN 0x9e3779b97f4a7c15ULL
#define TEACHER_LAYERS 2

int pl_data_batch(pl_batch *out, uint64_t seed, int step, int batch, int width)
{
    out->x = (pl_tensor){0, 0, NULL};
    out->y = (pl_tensor){0, 0, NULL};
    if (batch < 1 || width < 1 || step < 0)
        return -1;
    /* The teacher is rebuilt from its seed on every call: a few KB of
     * weights, and no state outlives the call. */
    pl_model teacher;
    if (pl_model_init(&teacher, TEACHER_LAYERS, width, seed ^ TEACHER_SALT))
        return -1;
    /* Random teacher biases give every target feature its own offset: the
     * first thing a student learns, so the loss visibly falls early. */
    pl_rng tr;
    pl_rng_seed(&tr, pl_rng_mix(seed ^ TEACHER_SALT));
    for (int l = 0; l < TEACHER_LAYERS; l++)
        for (int j = 0; j < width; j++)
            teacher.layers[l].b.data[j] = pl_rng_uniform(&tr, -1.0f, 1.0f);
    out->x = pl_tensor_new(batch, width);
    out->y = pl_tensor_new(batch, width);
    pl_stash st = {0, 0, 0, NULL, NULL, NULL};
    int rc = -1;
    if (out->x.data && out->y.data) {
        pl_rng r;
        pl_rng_seed(&r, pl_rng_mix(seed) ^ pl_rng_mix((uint64_t)step * GOLDEN + 1));
        size_t n = (size_t)batch * (size_t)width;
        for (size_t i = 0; i < n; i++)
            out->x.data[i] = pl_rng_uniform(&r, -1.0f, 1.0f);
        rc = pl_stage_forward(&teacher, 0, TEACHER_LAYERS, &out->x, &st, 0);
        if (rc == 0)
            pl_tensor_copy(&out->y, &st.act[TEACHER_LAYERS]);
    }
    pl_stage_free(&st);
    pl_model_free(&teacher);
    if (rc)
        pl_data_batch_free(out);
    return rc;
}

void pl_data_batch_free(pl_batch *b)
{
    pl_tensor_free(&b->x);
    pl_tensor_free(&b->y);
}

// [region microbatch-range]
/* Sizes differ by at most one: every micro-batch gets batch/m rows, and the
 * first batch%m get one more. Micro-batch j starts after the j earlier ones,
 * min(j, extra) of which were the larger kind. */
void pl_data_microbatch_range(int batch, int m, int j, int *start, int *rows)
{
    int base = batch / m, extra = batch % m;
    *start = j * base + (j < extra ? j : extra);
    *rows = base + (j < extra ? 1 : 0);
}
// [endregion microbatch-range]
