/*
 * clip.c -- gradient clipping by the global norm, summed in the pipeline's
 * order (chapter 06).
 */
#include "clip.h"

#include <math.h>

static double squares(const pl_tensor *t)
{
    double s = 0.0;
    size_t n = (size_t)t->rows * (size_t)t->cols;
    for (size_t i = 0; i < n; i++)
        s += (double)t->data[i] * (double)t->data[i];
    return s;
}

double pl_clip_sqnorm(const pl_model *m, int first, int count)
{
    double s = 0.0;
    for (int k = first; k < first + count; k++) {
        s += squares(&m->layers[k].dw);
        s += squares(&m->layers[k].db);
    }
    return s;
}

// [region clip-order]
double pl_clip_device_sqnorm(const pl_model *m, const pl_partition *part, const pl_schedule *s,
                             int d)
{
    double sum = 0.0;
    for (int c = 0; c < s->chunks; c++) {
        int stage = pl_schedule_stage(s, d, c);
        sum += pl_clip_sqnorm(m, part->first[stage], part->count[stage]);
    }
    return sum;
}
// [endregion clip-order]

float pl_clip_factor(double sqnorm, double max_norm)
{
    double norm = sqrt(sqnorm);
    return norm <= max_norm ? 1.0f : (float)(max_norm / norm);
}

void pl_clip_scale(pl_model *m, int first, int count, float factor)
{
    if (factor == 1.0f)
        return;
    for (int k = first; k < first + count; k++) {
        pl_tensor *g[2] = {&m->layers[k].dw, &m->layers[k].db};
        for (int j = 0; j < 2; j++) {
            size_t n = (size_t)g[j]->rows * (size_t)g[j]->cols;
            for (size_t i = 0; i < n; i++)
                g[j]->data[i] *= factor;
        }
    }
}
