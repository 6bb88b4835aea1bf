/*
 * ch07.c -- grades exercise 07: the partition by memory, the contiguous split
 * whose fullest stage holds as little as any split's (pl_partition_memory).
 *
 * Called directly on random models against brute force (every split tried),
 * then end to end: the split --partition memory makes must be, on the
 * fullest device the runs measure, the least any split of the model holds.
 * A wrong split is compared with what the usual shortcuts give -- a greedy
 * as the balanced partition uses, the stage input forgotten -- and the
 * report names the one it equals.
 */
#include "check.h"
#include "holds.h"
#include "partition.h"

enum { MAXL = 9 };

typedef struct {
    int L, S;
    int64_t fixed[MAXL], in[MAXL], out[MAXL];
    int k[MAXL];
} problem;

/* A model of L layers over S stages, from a seed: chained widths, and the
 * micro-batches each stage holds (1F1B's, GPipe's, or anything). */
static problem random_problem(unsigned seed, int L, int S)
{
    problem q = {L, S, {0}, {0}, {0}, {0}};
    int64_t w = 1 + (seed * 7919u) % 64;
    for (int l = 0; l < L; l++) {
        seed = seed * 1103515245u + 12345u;
        q.in[l] = w;
        w = 1 + (seed >> 16) % 64;
        q.out[l] = w;
        q.fixed[l] = q.in[l] * q.out[l] / 4 + (seed >> 8) % 50;
    }
    for (int s = 0; s < S; s++) {
        seed = seed * 1103515245u + 12345u;
        q.k[s] = seed % 3 == 0 ? S - s : seed % 3 == 1 ? 2 : 1 + (int)((seed >> 16) % 6);
    }
    return q;
}

static int64_t most_of(const problem *q, const pl_partition *p, const int64_t *in)
{
    int64_t most = 0;
    for (int s = 0; s < q->S; s++) {
        int64_t h = stage_holds(q->fixed, in, q->out, q->k[s], p->first[s], p->first[s] + p->count[s]);
        most = h > most ? h : most;
    }
    return most;
}

/* The split a greedy makes at the least bound it can fit: each stage takes
 * layers while it holds at most the bound (the balanced partition's way). */
static int greedy_split(const problem *q, const int64_t *in, int *end)
{
    for (int64_t bound = 0;; bound++) {
        int a = 0, s = 0;
        while (a < q->L && s < q->S) {
            int b = a;
            while (b < q->L - (q->S - s - 1) &&
                   stage_holds(q->fixed, in, q->out, q->k[s], a, b + 1) <= bound)
                b++;
            if (b == a)
                break;
            end[s++] = a = b;
        }
        if (a == q->L && s == q->S)
            return 0;
        if (bound > 1 << 24)
            return -1;
    }
}

static char *show(const pl_partition *p)
{
    char *s = ex_str("layers per stage");
    for (int st = 0; st < p->stages; st++)
        s = ex_str("%s%s%d-%d", s, st ? ", " : " ", p->first[st], p->first[st] + p->count[st] - 1);
    return s;
}

/* The hint for a split that holds more than the least. */
static const char *mistake(const problem *q, const pl_partition *got)
{
    int end[MAXL];
    int64_t no_input[MAXL] = {0};
    if (greedy_split(q, q->in, end) == 0) {
        int same = 1;
        for (int s = 0; s < q->S; s++)
            same &= got->first[s] + got->count[s] == end[s];
        if (same)
            return "that is what a greedy gives -- each stage taking layers while it fits, as "
                   "the balanced partition does; but here a layer costs more in a stage that "
                   "holds more micro-batches, and the greedy can leave a cheap layer in an "
                   "expensive stage";
    }
    int64_t least_wo = least_most(q->fixed, no_input, q->out, q->k, 0, q->L, 0, q->S);
    if (most_of(q, got, no_input) == least_wo)
        return "your split is the best one if a stage's stash had no input: each stash holds "
               "its stage's input as well as every layer's output (chapter 02)";
    return "another split holds less: the least of the most any stage holds is what a "
           "bisection on the bound finds, if each bound is checked exactly";
}

static void check_problem(const problem *q, const char *what)
{
    pl_partition p;
    char err[256] = "";
    ex_case("%s: %d layers over %d stages holding %d..%d micro-batches", what, q->L, q->S,
            q->k[0], q->k[q->S - 1]);
    if (pl_partition_memory(&p, q->fixed, q->in, q->out, q->k, q->L, q->S, err, sizeof err))
        ex_fail("pl_partition_memory failed where a split exists", "0, and a split",
                ex_str("-1: %s", err));
    int next = 0;
    for (int s = 0; s < q->S; s++) {
        if (p.stages != q->S || p.first[s] != next || p.count[s] < 1)
            ex_fail("a split is S stages in order, each of one layer or more, covering every "
                    "layer", ex_str("%d stages from layer 0 to %d", q->S, q->L - 1), show(&p));
        next += p.count[s];
    }
    if (next != q->L)
        ex_fail("a split covers every layer", ex_str("%d layers", q->L), show(&p));
    int64_t least = least_most(q->fixed, q->in, q->out, q->k, 0, q->L, 0, q->S);
    int64_t most = most_of(q, &p, q->in);
    if (most != least)
        ex_fail(mistake(q, &p), ex_str("the fullest stage holds %lld bytes", (long long)least),
                ex_str("%s: the fullest holds %lld", show(&p), (long long)most));
    pl_partition_free(&p);
}

static void small_cases(void)
{
    for (int L = 1; L <= 5; L++)
        for (int S = 1; S <= L; S++)
            for (unsigned t = 0; t < 6; t++) {
                problem q = random_problem(100u * (unsigned)L + 10u * (unsigned)S + t, L, S);
                check_problem(&q, "small");
            }
}

static void every_case(void)
{
    for (int L = 6; L <= MAXL; L++)
        for (int S = 2; S <= L; S++)
            for (unsigned t = 0; t < 12; t++) {
                problem q = random_problem(1000u * (unsigned)L + 37u * (unsigned)S + t, L, S);
                check_problem(&q, "random");
            }
}

/* End to end: what the runs measure. */
static size_t fullest(const pl_options *o)
{
    pl_experiment x;
    ex_run(o, &x);
    size_t most = pl_experiment_peak_memory(&x);
    pl_experiment_free(&x);
    return most;
}

static void runs_measure_the_least(void)
{
    static const int widths[][8] = {{32, 32, 32, 32, 32, 32, 32, 32},
                                    {48, 16, 64, 8, 40, 24, 96, 32}};
    static const char *const names[] = {"1f1b", "gpipe"};
    for (int w = 0; w < 2; w++)
        for (int r = 0; r < 2; r++) {
            pl_options o = small_run(names[r], 4, 8);
            o.layers = 8;
            o.widths = widths[w];
            o.batch = 16;
            o.momentum = 0.9f;
            o.simulate = 1;
            o.partition = PL_PARTITION_MEMORY;
            ex_case("pipelab run --schedule %s --widths %s --batch 16 --momentum 0.9 "
                    "--partition memory", names[r], w ? "48,16,64,8,40,24,96,32" : "32 x 8");
            size_t chosen = fullest(&o), least = SIZE_MAX;
            o.partition = PL_PARTITION_EXPLICIT;
            int counts[4];
            o.stage_layers = counts;
            o.stages_given = 4;
            for (int a = 1; a <= 5; a++)
                for (int b = a + 1; b <= 6; b++)
                    for (int c = b + 1; c <= 7; c++) {
                        counts[0] = a, counts[1] = b - a, counts[2] = c - b, counts[3] = 8 - c;
                        size_t f = fullest(&o);
                        least = f < least ? f : least;
                    }
            if (chosen != least)
                ex_fail("the runs measure more on the fullest device than the best split holds",
                        ex_str("%zu bytes on the fullest device", least),
                        ex_str("%zu bytes", chosen));
        }
}

static const ex_check checks[] = {
    {"small-models-against-every-split", small_cases, 30, NULL},
    {"larger-models-against-every-split", every_case, 60, NULL},
    {"runs-measure-the-least-any-split-holds", runs_measure_the_least, 120, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
