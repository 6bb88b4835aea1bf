/*
 * ch09.c -- grades exercise 09: the gather of every rank's trained layers to
 * rank 0 at the end of an MPI run (gather_mpi.c), by running pipelab-mpi with
 * it under mpirun and asking rank 0 whether its model is the sequential
 * reference's, bit for bit (--verify).
 *
 * One chunk per device first, then the loop placement's chunks, then the V:
 * a gather that forgets a rank's second chunk, or finds its stages by the
 * loop's rule, fails the later ones only, and the report says which.
 */
#include "check.h"

/* Run `pipelab-mpi run ARGS --verify --json` on p processes; 1 if rank 0
 * reports bitwise equal weights, 0 if not; the check fails if it does not
 * run at all. */
static int verifies(int p, const char *args)
{
    const char *mpirun = getenv("MPIRUN"), *dir = getenv("PL_EXERCISE_BUILD");
    if (!mpirun || !*mpirun || !dir)
        ex_fail("the grader needs MPIRUN and PL_EXERCISE_BUILD (make exercise-ch09 sets them)",
                "mpirun", "not set");
    char *cmd = ex_str("%s -np %d %s/pipelab-mpi run --devices %d %s --verify --json 2>&1",
                       mpirun, p, dir, p, args);
    ex_case("mpirun -np %d build/exercise-ch09/pipelab-mpi run --devices %d %s --verify", p, p,
            args);
    FILE *f = popen(cmd, "r");
    char out[1 << 16];
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        pclose(f); /* a run that does not verify exits 1: its JSON says why */
    if (!strstr(out, "\"bitwise_equal\":"))
        ex_fail("the run failed: read its message", "a run that completes", out);
    return strstr(out, "\"bitwise_equal\":true") != NULL;
}

static const char *const any_hint =
    "rank 0's model is not the reference's: it must hold every rank's trained layers -- each "
    "rank's stages, unpacked into the same layers";

static void one_chunk(void)
{
    static const char *const runs[] = {"--schedule gpipe --microbatches 6",
                                       "--schedule 1f1b --microbatches 8 --layers 12",
                                       "--schedule zb-h1 --microbatches 6 --batch 18"};
    for (int r = 0; r < 3; r++)
        for (int p = 2; p <= 4; p++)
            if (!verifies(p, runs[r]))
                ex_fail(any_hint,
                        "bitwise equal to the sequential reference", "different weights");
}

static void loop_chunks(void)
{
    int one_chunk_right = verifies(2, "--schedule gpipe --microbatches 6");
    for (int p = 2; p <= 4; p++)
        if (!verifies(p, "--schedule interleaved --chunks 2 --layers 16 --microbatches 8"))
            ex_fail(one_chunk_right ? "one chunk per device gathers right, two do not: a rank "
                                      "trains one stage per chunk -- gather every chunk's layers"
                                    : any_hint,
                    "bitwise equal to the sequential reference", "different weights");
}

static void v_chunks(void)
{
    int loop_right = verifies(2, "--schedule interleaved --chunks 2 --layers 8 --microbatches 4");
    static const char *const runs[] = {"--schedule zb-v --microbatches 8",
                                       "--schedule dualpipe-v --microbatches 8 --layers 16"};
    for (int r = 0; r < 2; r++)
        for (int p = 2; p <= 4; p += 2)
            if (!verifies(p, runs[r]))
                ex_fail(loop_right ? "the loop placement's chunks gather right, the V's do not: "
                                     "which stage a chunk holds is the placement's to say "
                                     "(pl_schedule_stage), not c*p + d"
                                   : any_hint,
                        "bitwise equal to the sequential reference", "different weights");
}

static const ex_check checks[] = {
    {"one-chunk-per-device", one_chunk, 120, NULL},
    {"chunks-in-the-loop-placement", loop_chunks, 60, NULL},
    {"chunks-in-the-v", v_chunks, 60, NULL},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
