/*
 * ch08.c -- grades exercise 08: the V placement's routing rule,
 * pl_route_home -- which device and chunk hold a stage -- the inverse of
 * pl_route_stage, for the loop and the V placements and any number of
 * chunks. Every message of every run is routed by it.
 *
 * Called directly against pl_route_stage first; then the V schedules run:
 * valid, the turn of the V free of messages, measured as predicted, and
 * trained bitwise like the reference.
 */
#include "check.h"
#include "validate.h"

/* What a wrong pl_route_home does with the V, over every p <= 8, v <= 4:
 * treats an odd chunk as the loop does, or reverses an even one. */
static const char *v_mistake(void)
{
    int odd_as_loop = 1, even_reversed = 0;
    for (int p = 2; p <= 8; p++)
        for (int s = p; s < 4 * p; s++) {
            int d, c, r = s % p;
            pl_route_home(PL_PLACE_V, p, s, &d, &c);
            if ((s / p) & 1)
                odd_as_loop &= d == r;
            else
                even_reversed |= d == p - 1 - r && r != p - 1 - r;
        }
    if (even_reversed)
        return "an even chunk reversed: in the V only the odd chunks run back up the devices";
    if (odd_as_loop)
        return "that is the loop placement's answer: in the V, odd chunks run the other way -- "
               "chunk 1 of device d holds stage 2p-1-d";
    return "chunk c of device d holds pl_route_stage(pl, p, d, c): find the (d, c) whose "
           "stage this is";
}

static void inverts_stage(void)
{
    for (int pl = 0; pl <= PL_PLACE_V; pl++)
        for (int p = 1; p <= 8; p++)
            for (int v = 1; v <= 4; v++)
                for (int s = 0; s < p * v; s++) {
                    int d = -1, c = -1;
                    pl_route_home((pl_placement)pl, p, s, &d, &c);
                    ex_case("placement %s, p = %d, v = %d: stage %d",
                            pl_route_placement_name((pl_placement)pl), p, v, s);
                    if (d < 0 || d >= p || c < 0 || c >= v)
                        ex_fail("a device is 0 .. p-1 and a chunk 0 .. v-1: count from 0, and "
                                "mind the last device of a reversed chunk",
                                ex_str("a device in 0..%d and a chunk in 0..%d", p - 1, v - 1),
                                ex_str("device %d, chunk %d", d, c));
                    int back = pl_route_stage((pl_placement)pl, p, d, c);
                    if (back != s)
                        ex_fail(pl == PL_PLACE_V ? v_mistake()
                                                 : "in the loop placement chunk c of device d "
                                                   "holds stage c*p + d",
                                ex_str("the (device, chunk) that holds stage %d", s),
                                ex_str("device %d, chunk %d, which hold stage %d", d, c, back));
                }
}

/* With the V, stage p-1 hands its activation to stage p on the same device:
 * no message. So a step sends 2m(2p-2) messages between devices, not
 * 2m(2p-1) as the loop placement's interleaved schedule does. */
static void the_turn_is_free(void)
{
    for (int p = 2; p <= 5; p++) {
        pl_options o = small_run("zb-v", p, 2 * p);
        o.layers = 2 * p;
        ex_case("pipelab run --schedule zb-v --devices %d --microbatches %d --layers %d", p, 2 * p,
                2 * p);
        pl_experiment x;
        ex_run(&o, &x);
        long want = 2L * (2 * p) * (2 * p - 2), got = pl_trace_messages(&x.result.trace, x.step);
        if (got != want)
            ex_fail(got > want ? "messages cross between devices where the V turns on one "
                                 "device: stages p-1 and p must both sit on device p-1"
                               : "fewer messages than the V sends: every stage boundary but "
                                 "the turn is between two devices",
                    ex_str("%ld messages per step between devices", want),
                    ex_str("%ld", got));
        pl_experiment_free(&x);
    }
}

static void v_schedules_train_bitwise(void)
{
    static const char *const names[] = {"zb-v", "dualpipe-v", "interleaved", "looped-bfs"};
    for (int g = 0; g < 4; g++)
        for (int p = 2; p <= 4; p++) {
            pl_options o = small_run(names[g], p, 2 * p);
            o.layers = 2 * p * (g < 2 ? 1 : 2);
            o.chunks = g < 2 ? 2 : 3;
            o.batch = 4 * p + 1; /* uneven micro-batches */
            o.steps = 2;
            o.verify = 1;
            ex_case("pipelab run --schedule %s --devices %d --microbatches %d --layers %d "
                    "--batch %d --steps 2 --verify", names[g], p, 2 * p, o.layers, o.batch);
            pl_experiment x;
            ex_run(&o, &x);
            if (x.makespan_ns != x.predicted_makespan_ns)
                ex_fail("the threads and the simulator disagree: both route by pl_route_home",
                        ex_str("%.0f ns, predicted", x.predicted_makespan_ns),
                        ex_str("%.0f ns, measured", x.makespan_ns));
            if (!x.bitwise_equal)
                ex_fail("the weights differ from the reference's: a message went to the wrong "
                        "stage", "bitwise equal", ex_str("max |diff| %g", x.max_abs_diff));
            pl_experiment_free(&x);
        }
}

static const ex_check checks[] = {
    {"home-is-the-inverse-of-stage", inverts_stage, 10, NULL},
    {"the-turn-of-the-v-sends-nothing", the_turn_is_free, 30,
     "the run hung: a message went to a device that never receives it"},
    {"v-and-loop-schedules-train-bitwise", v_schedules_train_bitwise, 60,
     "the run hung: a message went to a device that never receives it"},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
