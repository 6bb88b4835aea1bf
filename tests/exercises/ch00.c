/*
 * ch00.c -- grades exercise 00: the forward and input-grad kernels, each one
 * strided matrix product (pl_gemm) that starts its sums in the right place.
 *
 * Measured against the definitions, written here as plain loops that add
 * their terms in the order chapter 00 fixes: on small hand-checked cases,
 * on shapes that are multiples of no block, on every instruction-set path
 * this CPU has, a row alone against the same row in a batch, and a few
 * training steps against the losses the reference implementation prints.
 */
#include <math.h>

#include "check.h"
#include "tensor.h"

/* A tensor of rows x cols with values from seed, small and varied. */
static pl_tensor random_tensor(int rows, int cols, unsigned seed)
{
    pl_tensor t = pl_tensor_new(rows, cols);
    if (!t.data)
        ex_fail("out of memory in the grader", "memory", "none");
    for (int i = 0; i < rows * cols; i++) {
        seed = seed * 1103515245u + 12345u;
        t.data[i] = (float)((int)(seed >> 16) % 2001 - 1000) / 997.0f;
    }
    return t;
}

/* The definitions, term by term in chapter 00's order. */
static float forward_at(const pl_tensor *x, const pl_tensor *w, const pl_tensor *b, int i, int j)
{
    float s = b->data[j];
    for (int k = 0; k < x->cols; k++)
        s = fmaf(x->data[i * x->cols + k], w->data[k * w->cols + j], s);
    return s;
}

static float input_grad_at(const pl_tensor *dy, const pl_tensor *w, int i, int k)
{
    float s = 0.0f;
    for (int j = 0; j < dy->cols; j++)
        s = fmaf(dy->data[i * dy->cols + j], w->data[k * w->cols + j], s);
    return s;
}

/* The first element where got differs from want(i, j), bit for bit; -1 if none. */
typedef float (*expected_fn)(int i, int j, const void *ctx);

static int first_difference(const pl_tensor *got, expected_fn want, const void *ctx)
{
    for (int i = 0; i < got->rows; i++)
        for (int j = 0; j < got->cols; j++) {
            float a = got->data[i * got->cols + j], e = want(i, j, ctx);
            if (memcmp(&a, &e, sizeof a))
                return i * got->cols + j;
        }
    return -1;
}

typedef struct {
    const pl_tensor *x, *w, *b, *dy;
    float before; /* what dx held before the call */
} operands;

static float want_forward(int i, int j, const void *c)
{
    const operands *o = c;
    return forward_at(o->x, o->w, o->b, i, j);
}

static float want_forward_no_bias(int i, int j, const void *c)
{
    const operands *o = c;
    float s = 0.0f;
    for (int k = 0; k < o->x->cols; k++)
        s = fmaf(o->x->data[i * o->x->cols + k], o->w->data[k * o->w->cols + j], s);
    return s;
}

static float want_forward_bias_last(int i, int j, const void *c)
{
    const operands *o = c;
    return want_forward_no_bias(i, j, c) + o->b->data[j];
}

static float want_input_grad(int i, int k, const void *c)
{
    const operands *o = c;
    return input_grad_at(o->dy, o->w, i, k);
}

static float want_input_grad_kept(int i, int k, const void *c)
{
    const operands *o = c;
    float s = o->before;
    for (int j = 0; j < o->dy->cols; j++)
        s = fmaf(o->dy->data[i * o->dy->cols + j], o->w->data[k * o->w->cols + j], s);
    return s;
}

/* dy times w read as if it were (out, in) row-major: strides swapped. */
static float want_input_grad_untransposed(int i, int k, const void *c)
{
    const operands *o = c;
    int in = o->w->rows;
    float s = 0.0f;
    for (int j = 0; j < o->dy->cols; j++)
        s = fmaf(o->dy->data[i * o->dy->cols + j], o->w->data[j * in + k], s);
    return s;
}

/* What a wrong y points to. */
static const char *forward_mistake(const pl_tensor *y, const operands *o)
{
    if (first_difference(y, want_forward_no_bias, o) < 0)
        return "y has no bias: every row of y starts at b before the product adds x w";
    if (first_difference(y, want_forward_bias_last, o) < 0)
        return "b is added after the sum: each y[i][j] must start at b[j] and then add "
               "x[i][k] w[k][j] for k = 0, 1, ... -- adding b last rounds differently";
    return "y[i][j] = b[j] + x[i][0] w[0][j] + x[i][1] w[1][j] + ..., one fused "
           "multiply-add per term: check the strides of x and w in your pl_gemm";
}

/* What a wrong dx points to. */
static const char *input_grad_mistake(const pl_tensor *dx, const operands *o)
{
    if (first_difference(dx, want_input_grad_kept, o) < 0)
        return "dx kept what it held before: input-grad starts every sum at 0 (only "
               "weight-grad accumulates)";
    if (o->w->rows == o->w->cols && first_difference(dx, want_input_grad_untransposed, o) < 0)
        return "dx = dy w, not dy w^T: w is (in, out), so w^T[j][k] = w[k][j] sits at "
               "w->data[k*out + j] -- swap b's strides";
    if (first_difference(dx, want_input_grad_untransposed, o) < 0)
        return "w read as if it were (out, in): w is (in, out), so w^T[j][k] = w[k][j] sits "
               "at w->data[k*out + j] -- b's stride between terms is 1";
    return "dx[i][k] = dy[i][0] w[k][0] + dy[i][1] w[k][1] + ..., from 0, one fused "
           "multiply-add per term: check the strides in your pl_gemm";
}

static char *show(const pl_tensor *t)
{
    char *s = ex_str("(%d x %d)", t->rows, t->cols);
    for (int i = 0; i < t->rows && i < 4; i++) {
        s = ex_str("%s\n[", s);
        for (int j = 0; j < t->cols && j < 8; j++)
            s = ex_str("%s%s%.9g", s, j ? ", " : "", (double)t->data[i * t->cols + j]);
        s = ex_str("%s%s]", s, t->cols > 8 ? ", ..." : "");
    }
    return t->rows > 4 ? ex_str("%s\n...", s) : s;
}

/* Run the forward on every path and compare; n, in, out the shape. */
static void forward_case(int n, int in, int out, unsigned seed)
{
    pl_tensor x = random_tensor(n, in, seed), w = random_tensor(in, out, seed + 1);
    pl_tensor b = random_tensor(1, out, seed + 2), y = random_tensor(n, out, seed + 3);
    operands o = {&x, &w, &b, NULL, 0.0f};
    for (int isa = 0; isa < PL_ISA_COUNT; isa++) {
        if (!pl_isa_supported((pl_isa)isa))
            continue;
        ex_case("y = x w + b with x (%d x %d), w (%d x %d), on the %s path", n, in, in, out,
                pl_isa_name((pl_isa)isa));
        for (int i = 0; i < n * out; i++)
            y.data[i] = 7.0f; /* whatever y held before must not matter */
        pl_tensor_forward_isa((pl_isa)isa, &y, &x, &w, &b);
        int at = first_difference(&y, want_forward, &o);
        if (at < 0)
            continue;
        int i = at / out, j = at % out;
        const char *hint = forward_mistake(&y, &o);
        ex_fail(hint, ex_str("y[%d][%d] = %.9g (%a)", i, j, (double)want_forward(i, j, &o),
                             (double)want_forward(i, j, &o)),
                ex_str("y[%d][%d] = %.9g (%a)", i, j, (double)y.data[at], (double)y.data[at]));
    }
    pl_tensor_free(&x), pl_tensor_free(&w), pl_tensor_free(&b), pl_tensor_free(&y);
}

static void input_grad_case(int n, int in, int out, unsigned seed)
{
    pl_tensor dy = random_tensor(n, out, seed), w = random_tensor(in, out, seed + 1);
    pl_tensor dx = pl_tensor_new(n, in);
    operands o = {NULL, &w, NULL, &dy, 5.0f};
    for (int isa = 0; isa < PL_ISA_COUNT; isa++) {
        if (!pl_isa_supported((pl_isa)isa))
            continue;
        ex_case("dx = dy w^T with dy (%d x %d), w (%d x %d), on the %s path", n, out, in, out,
                pl_isa_name((pl_isa)isa));
        for (int i = 0; i < n * in; i++)
            dx.data[i] = o.before; /* left over from an earlier micro-batch */
        pl_tensor_input_grad_isa((pl_isa)isa, &dx, &dy, &w);
        int at = first_difference(&dx, want_input_grad, &o);
        if (at < 0)
            continue;
        int i = at / in, k = at % in;
        const char *hint = input_grad_mistake(&dx, &o);
        ex_fail(hint, ex_str("dx[%d][%d] = %.9g (%a)", i, k, (double)want_input_grad(i, k, &o),
                             (double)want_input_grad(i, k, &o)),
                ex_str("dx[%d][%d] = %.9g (%a)", i, k, (double)dx.data[at], (double)dx.data[at]));
    }
    pl_tensor_free(&dy), pl_tensor_free(&w), pl_tensor_free(&dx);
}

/* Small whole numbers: every figure exact, easy to check by hand. */
static void forward_by_hand(void)
{
    float xv[] = {1, 2, 3, 4, 5, 6}, wv[] = {1, 0, 0, 1, 1, 1}, bv[] = {10, 20}, yv[4];
    pl_tensor x = {2, 3, xv}, w = {3, 2, wv}, b = {1, 2, bv}, y = {2, 2, yv};
    ex_case("x = [[1 2 3] [4 5 6]], w = [[1 0] [0 1] [1 1]], b = [10 20]");
    pl_tensor_forward(&y, &x, &w, &b);
    float want[] = {14, 25, 20, 31};
    operands o = {&x, &w, &b, NULL, 0.0f};
    if (memcmp(yv, want, sizeof want))
        ex_fail(forward_mistake(&y, &o), "y = [[14 25] [20 31]]", show(&y));
}

static void input_grad_by_hand(void)
{
    float dyv[] = {1, 2, 3, 4}, wv[] = {1, 0, 0, 1, 1, 1}, dxv[6] = {9, 9, 9, 9, 9, 9};
    pl_tensor dy = {2, 2, dyv}, w = {3, 2, wv}, dx = {2, 3, dxv};
    ex_case("dy = [[1 2] [3 4]], w = [[1 0] [0 1] [1 1]] (3 x 2), dx held 9s before");
    pl_tensor_input_grad(&dx, &dy, &w);
    float want[] = {1, 2, 3, 3, 4, 7};
    operands o = {NULL, &w, NULL, &dy, 9.0f};
    if (memcmp(dxv, want, sizeof want))
        ex_fail(input_grad_mistake(&dx, &o), "dx = [[1 2 3] [3 4 7]]", show(&dx));
}

static const int shapes[][3] = {{1, 1, 1}, {3, 7, 5}, {17, 33, 8}, {33, 17, 100},
                                {100, 64, 64}, {7, 100, 257}, {257, 3, 33}};
enum { N_SHAPES = sizeof shapes / sizeof shapes[0] };

static void forward_every_shape(void)
{
    for (int s = 0; s < N_SHAPES; s++)
        forward_case(shapes[s][0], shapes[s][1], shapes[s][2], 11u * (unsigned)s + 1);
}

static void input_grad_every_shape(void)
{
    for (int s = 0; s < N_SHAPES; s++)
        input_grad_case(shapes[s][0], shapes[s][1], shapes[s][2], 13u * (unsigned)s + 3);
    input_grad_case(9, 16, 16, 99); /* square: a w used untransposed shows */
}

/* A row computed alone has the bits it has inside a batch. */
static void rows_alone(void)
{
    int n = 37, in = 50, out = 41;
    pl_tensor x = random_tensor(n, in, 5), w = random_tensor(in, out, 6), b = random_tensor(1, out, 7);
    pl_tensor y = pl_tensor_new(n, out), one = pl_tensor_new(1, out);
    pl_tensor_forward(&y, &x, &w, &b);
    for (int i = 0; i < n; i++) {
        ex_case("row %d of x (37 x 50) through w (50 x 41), alone and in the batch", i);
        pl_tensor xi = pl_tensor_rows(&x, i, 1);
        pl_tensor_forward(&one, &xi, &w, &b);
        if (memcmp(one.data, y.data + i * out, (size_t)out * sizeof(float)))
            ex_fail("a row's result depends on the other rows: row i of y must read row i "
                    "of x only", "the same bits alone and in the batch", "different bits");
    }
}

/* The losses the reference implementation prints (chapter 00): with your
 * kernels in it, the whole training run must give them bit for bit. */
static void trains_like_the_reference(void)
{
    static const struct {
        const char *schedule;
        int p, m, batch, width;
        float loss[3];
    } runs[] = {
        {"microbatch", 1, 1, 32, 32, {0x1.60ba8cp-1f, 0x1.6c2e82p-1f, 0x1.49d3c8p-1f}},
        {"1f1b", 4, 5, 17, 20, {0x1.ea7378p-1f, 0x1.96022ep-1f, 0x1.97e578p-1f}},
    };
    for (int r = 0; r < 2; r++) {
        pl_options o;
        pl_options_defaults(&o);
        o.schedule = runs[r].schedule;
        o.devices = runs[r].p;
        o.microbatches = runs[r].m;
        o.batch = runs[r].batch;
        o.width = runs[r].width;
        o.steps = 3;
        ex_case("pipelab run --schedule %s --devices %d --microbatches %d --batch %d --width %d "
                "--steps 3", o.schedule, o.devices, o.microbatches, o.batch, o.width);
        pl_experiment x;
        ex_run(&o, &x);
        for (int s = 0; s < 3; s++)
            if (memcmp(&x.result.loss[s], &runs[r].loss[s], sizeof(float)))
                ex_fail("training with your kernels does not give the reference's losses "
                        "(if the checks above pass, look at a view of rows, pl_tensor_rows, "
                        "or a tensor of one row)",
                        ex_str("loss of step %d: %.9g", s, (double)runs[r].loss[s]),
                        ex_str("loss of step %d: %.9g", s, (double)x.result.loss[s]));
        pl_experiment_free(&x);
    }
}

static const ex_check checks[] = {
    {"forward-by-hand", forward_by_hand, 10, NULL},
    {"input-grad-by-hand", input_grad_by_hand, 10, NULL},
    {"forward-every-shape-and-path", forward_every_shape, 60, NULL},
    {"input-grad-every-shape-and-path", input_grad_every_shape, 60, NULL},
    {"a-row-alone-equals-it-in-a-batch", rows_alone, 30, NULL},
    {"training-gives-the-reference-losses", trains_like_the_reference, 60, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
