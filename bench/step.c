/*
 * step -- one training step of pipelab, timed, for bench/torch_step.py.
 *
 * The model of the PyTorch comparison: L Linear(D) layers with a ReLU
 * between them, MSE loss, plain SGD, a batch of B rows on one device (one
 * thread, the real clock). One step is what the sequential reference does
 * for one micro-batch holding the whole batch: forward through every layer,
 * the loss gradient, backward-input, backward-weight, one SGD update -- the
 * same library calls (model.h, stage.h), on a batch drawn once before
 * timing starts, as the PyTorch side draws its tensors once.
 *
 *   build/bench/step [layers width batch]     default 8 512 256
 *
 * It prints one line describing the model, then reads numbers from stdin:
 * for each N it runs N steps and prints their times in nanoseconds on one
 * line. The driver alternates these bursts with PyTorch's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "data.h"
#include "isa.h"
#include "model.h"
#include "stage.h"

/* One step on batch b; returns 0, or -1 on allocation failure. */
static int step(pl_model *m, const pl_batch *b, pl_tensor *dy, float lr)
{
    int L = m->n_layers;
    pl_stash st = {0, 0, 0, NULL, NULL};
    int rc = pl_stage_forward(m, 0, L, &b->x, &st, 0);
    if (rc == 0) {
        pl_model_loss_grad(dy, &st.act[L], &b->y, b->x.rows);
        rc = pl_stage_backward_input(m, &st, dy, NULL); /* the data needs no gradient */
    }
    if (rc == 0) {
        pl_stage_backward_weight(m, &st);
        pl_model_sgd(m, 0, L, lr, 0.0f);
    }
    pl_stage_free(&st);
    return rc;
}

int main(int argc, char **argv)
{
    int layers = 8, width = 512, batch = 256;
    if (argc == 4)
        layers = atoi(argv[1]), width = atoi(argv[2]), batch = atoi(argv[3]);
    if (argc != 1 && argc != 4) {
        fprintf(stderr, "usage: step [layers width batch]\n");
        return 2;
    }
    pl_model m;
    pl_batch b;
    if (pl_model_init(&m, layers, width, 1)) {
        fprintf(stderr, "step: bad sizes or out of memory\n");
        return 1;
    }
    pl_tensor dy = pl_tensor_new(batch, width);
    if (pl_data_batch(&b, 1, 0, batch, width) || !dy.data) {
        fprintf(stderr, "step: out of memory\n");
        return 1;
    }
    printf("pipelab %d x Linear(%d), ReLU between, MSE, SGD; batch %d; path %s\n",
           layers, width, batch, pl_isa_name(pl_isa_active()));
    fflush(stdout);
    int n, rc = 0;
    while (rc == 0 && scanf("%d", &n) == 1) {
        for (int i = 0; i < n && rc == 0; i++) {
            int64_t t0 = pl_clock_host_ns();
            rc = step(&m, &b, &dy, 0.01f);
            printf("%s%lld", i ? " " : "", (long long)(pl_clock_host_ns() - t0));
        }
        printf("\n");
        fflush(stdout);
    }
    pl_tensor_free(&dy);
    pl_data_batch_free(&b);
    pl_model_free(&m);
    if (rc)
        fprintf(stderr, "step: out of memory\n");
    return rc ? 1 : 0;
}
