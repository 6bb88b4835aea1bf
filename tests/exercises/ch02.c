/*
 * ch02.c -- grades exercise 02: the sequential reference's micro-batches and
 * their accumulated gradients, with micro-batches of uneven sizes.
 *
 * The truth is the pipeline: the microbatch schedule on one device thread
 * runs forward, loss and backward through the runtime's own code
 * (device_action.c), not through reference.c. Your reference must give its
 * weights and losses bit for bit, whatever m; and since these kernels sum
 * rows in order, also the weights of the whole batch at once (chapter 00).
 * When it does not, the grader trains the typical mistakes itself -- the
 * micro-batches in reverse, each divided by its own size, the remainder's
 * rows dropped -- and names the one your weights equal.
 */
#include "check.h"
#include "data.h"
#include "model.h"
#include "reference.h"
#include "stage.h"

enum { LAYERS = 4, WIDTH = 12, STEPS = 3 };

static pl_options config(int batch, int m)
{
    pl_options o = train_config(7, STEPS, batch, m, 0.05f);
    o.layers = LAYERS;
    o.width = WIDTH;
    return o;
}

/* Your reference, on a fresh model. */
static void train_yours(const pl_options *o, pl_model *m, float *loss)
{
    char err[512];
    if (pl_model_init(m, o->layers, o->width, o->seed))
        ex_fail("out of memory in the grader", "a model", "none");
    if (pl_reference_train(m, o, loss, err, sizeof err))
        ex_fail("your reference failed", "training that completes", err);
}

/* The pipeline: the microbatch schedule on device threads. */
static void train_pipeline(const pl_options *o, pl_experiment *x)
{
    pl_options q = *o;
    q.schedule = "microbatch";
    q.devices = 1;
    ex_run(&q, x);
}

/* The typical mistakes, trained here: what a wrong reference computes. */
enum { REVERSED, OWN_SIZE, REMAINDER_DROPPED, N_MISTAKES };

static const char *const mistake_hint[N_MISTAKES] = {
    "weights differ in their last bits: the micro-batches' gradients must be added in "
    "increasing micro-batch order, as every stage of a pipeline adds them",
    "each micro-batch's gradient is divided by its own size: the loss gradient divides by "
    "the whole batch (pl_model_loss_grad's last argument), so that the micro-batches add up "
    "to the batch's mean",
    "rows are lost: every row belongs to one micro-batch, and sizes differ by one when m "
    "does not divide the batch (pl_data_microbatch_range)",
};

static void train_mistake(const pl_options *o, int mistake, pl_model *m)
{
    pl_model_init(m, o->layers, o->width, o->seed);
    int L = m->n_layers, mbs = o->microbatches;
    for (int step = 0; step < o->steps; step++) {
        pl_batch b;
        pl_data_batch(&b, o->seed, step, o->batch, m->width);
        for (int k = 0; k < mbs; k++) {
            int j = mistake == REVERSED ? mbs - 1 - k : k, start, rows;
            pl_data_microbatch_range(o->batch, mbs, j, &start, &rows);
            if (mistake == REMAINDER_DROPPED)
                start = j * (o->batch / mbs), rows = o->batch / mbs;
            pl_tensor x = pl_tensor_rows(&b.x, start, rows), y = pl_tensor_rows(&b.y, start, rows);
            pl_tensor dy = pl_tensor_new(rows, m->width);
            pl_stash st = {0, 0, 0, NULL, NULL, NULL};
            pl_stage_forward(m, 0, L, &x, &st, 0);
            pl_model_loss_grad(&dy, &st.act[L], &y, mistake == OWN_SIZE ? rows : o->batch);
            pl_stage_backward_input(m, &st, &dy, NULL);
            pl_stage_backward_weight(m, &st);
            pl_stage_free(&st);
            pl_tensor_free(&dy);
        }
        pl_data_batch_free(&b);
        pl_model_sgd(m, 0, L, o->lr, o->momentum);
    }
}

/* The hint for weights `got` that should have been `want`. */
static const char *weights_mistake(const pl_options *o, const pl_model *got)
{
    double diff;
    for (int k = 0; k < N_MISTAKES; k++) {
        pl_model wrong;
        train_mistake(o, k, &wrong);
        int same = pl_model_equal(got, &wrong, &diff);
        pl_model_free(&wrong);
        if (same)
            return mistake_hint[k];
    }
    pl_model init;
    pl_model_init(&init, o->layers, o->width, o->seed);
    if (pl_model_equal(got, &init, &diff))
        return "the weights never changed: every micro-batch must run forward, loss and "
               "backward, and add its weight gradient before the step's SGD update";
    return "the weights differ: each micro-batch runs forward through every layer, the loss "
           "gradient, backward-input, then backward-weight, which adds into the accumulators";
}

/* The first layer whose weights differ, for the report. */
static char *where_different(const pl_model *a, const pl_model *b)
{
    for (int l = 0; l < a->n_layers; l++) {
        const pl_tensor *x = &a->layers[l].w, *y = &b->layers[l].w;
        for (int i = 0; i < x->rows * x->cols; i++)
            if (memcmp(&x->data[i], &y->data[i], sizeof(float)))
                return ex_str("layer %d w[%d][%d] = %.9g", l, i / x->cols, i % x->cols,
                              (double)x->data[i]);
    }
    return ex_str("the biases differ");
}

static void expect_weights(const pl_options *o, const pl_model *yours, const pl_model *truth,
                           const char *truth_name)
{
    double diff;
    if (!pl_model_equal(yours, truth, &diff))
        ex_fail(weights_mistake(o, yours),
                ex_str("the weights of %s, bit for bit (%s)", truth_name, where_different(truth, yours)),
                ex_str("%s; largest difference %.3g", where_different(yours, truth), diff));
}

/* m = 1 first: the plainest case, where the pipeline is the whole batch. */
static void one_micro_batch(void)
{
    pl_options o = config(16, 1);
    ex_case("batch 16, m = 1, %d layers of width %d, %d steps", LAYERS, WIDTH, STEPS);
    pl_model yours;
    float loss[STEPS];
    train_yours(&o, &yours, loss);
    pl_experiment x;
    train_pipeline(&o, &x);
    expect_weights(&o, &yours, &x.model, "the pipeline");
    pl_experiment_free(&x);
    pl_model_free(&yours);
}

/* Uneven micro-batches: 13 rows in m = 2, 3, 5, 8, 13 pieces. */
static void uneven_micro_batches(void)
{
    static const int ms[] = {2, 3, 5, 8, 13, 4};
    for (int i = 0; i < 6; i++) {
        pl_options o = config(13, ms[i]);
        ex_case("batch 13 in m = %d micro-batches (sizes %d and %d), %d steps", ms[i],
                13 / ms[i] + (13 % ms[i] > 0), 13 / ms[i], STEPS);
        pl_model yours;
        float loss[STEPS];
        train_yours(&o, &yours, loss);
        pl_experiment x;
        train_pipeline(&o, &x);
        expect_weights(&o, &yours, &x.model, "the pipeline with the same m");
        pl_experiment_free(&x);
        pl_model_free(&yours);
    }
}

/* Chapter 00's finding: with these kernels, every m trains the weights of m = 1. */
static void every_m_is_the_whole_batch(void)
{
    pl_options one = config(13, 1);
    pl_model whole;
    float loss[STEPS];
    train_yours(&one, &whole, loss);
    for (int m = 2; m <= 13; m++) {
        pl_options o = config(13, m);
        ex_case("batch 13: m = %d against m = 1, %d steps", m, STEPS);
        pl_model yours;
        train_yours(&o, &yours, loss);
        expect_weights(&o, &yours, &whole, "the whole batch at once (m = 1)");
        pl_model_free(&yours);
    }
    pl_model_free(&whole);
}

/* The reported loss: the micro-batches' shares, added in order. */
static void the_loss(void)
{
    static const int ms[] = {1, 3, 5, 13};
    for (int i = 0; i < 4; i++) {
        pl_options o = config(13, ms[i]);
        ex_case("batch 13, m = %d, the loss of each of %d steps", ms[i], STEPS);
        pl_model yours;
        float loss[STEPS];
        train_yours(&o, &yours, loss);
        pl_experiment x;
        train_pipeline(&o, &x);
        for (int s = 0; s < STEPS; s++)
            if (memcmp(&loss[s], &x.result.loss[s], sizeof(float)))
                ex_fail(loss[s] == 0.0f
                            ? "the loss is 0: add each micro-batch's share (what "
                              "pl_model_loss_grad returns) to the step's total"
                            : "the loss differs from the pipeline's: add the micro-batches' "
                              "shares from 0, in increasing micro-batch order",
                        ex_str("step %d: %.9g, as the pipeline reports it", s,
                               (double)x.result.loss[s]),
                        ex_str("step %d: %.9g", s, (double)loss[s]));
        pl_experiment_free(&x);
        pl_model_free(&yours);
    }
}

/* What every later chapter relies on: pipelines train your reference's weights. */
static void pipelines_verify(void)
{
    static const char *const names[] = {"gpipe", "1f1b", "zb-h1", "interleaved"};
    for (int g = 0; g < 4; g++) {
        pl_options o = small_run(names[g], 3, 5);
        o.batch = 13;
        o.layers = 6;
        o.steps = 2;
        o.verify = 1;
        ex_case("pipelab run --schedule %s --devices 3 --microbatches 5 --batch 13 --layers 6 "
                "--steps 2 --verify", names[g]);
        pl_experiment x;
        ex_run(&o, &x);
        if (!x.bitwise_equal)
            ex_fail("a pipeline's weights differ from your reference's: the checks above say why",
                    "verify: bitwise equal to the sequential reference",
                    ex_str("largest difference %.3g", x.max_abs_diff));
        pl_experiment_free(&x);
    }
}

static const ex_check checks[] = {
    {"one-micro-batch", one_micro_batch, 30, NULL},
    {"uneven-micro-batches-train-like-the-pipeline", uneven_micro_batches, 60, NULL},
    {"every-m-trains-like-the-whole-batch", every_m_is_the_whole_batch, 60, NULL},
    {"the-loss-is-the-pipelines", the_loss, 60, NULL},
    {"pipelines-verify-against-your-reference", pipelines_verify, 60, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
