/*
 * pipelab-mpi -- `pipelab run` with every device an MPI process (chapter 09).
 *
 *   mpirun -np P build/pipelab-mpi run --schedule 1f1b --microbatches 8 ...
 *
 * Every rank reads the same command line and builds the same job; rank 0
 * also does what `pipelab run` does around the run (checks, summary,
 * pictures), with the MPI ranks as its executor. Only rank 0 prints.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "run.h"
#include "runtime_mpi.h"

static const char usage_text[] =
    "usage: mpirun -np P pipelab-mpi run [options]\n"
    "\n"
    "Runs one schedule with each of its P devices an MPI process (chapter 09),\n"
    "and reports what `pipelab run` reports. The options are those of\n"
    "`pipelab run` (see pipelab --help), except:\n"
    "  --devices P       taken from mpirun -np; if given, it must agree\n"
    "  --simulate        runs no process: use pipelab run --simulate\n"
    "  --watchdog, --inject-fault ...,stall   need the threads runtime's watchdog\n"
    "  --partition-by measured   each host would time its own: refused\n"
    "  --verify          also runs the same options on device threads and checks\n"
    "                    the same weights (and, on the virtual clock, the same trace)\n"
    "\n"
    "On one machine as root, with more processes than cores:\n"
    "  mpirun --allow-run-as-root --oversubscribe -q -np 4 build/pipelab-mpi run\n"
    "\n"
    "schedules:\n";

static int usage(FILE *out)
{
    fputs(usage_text, out);
    pl_cli_schedules(out);
    return 0;
}

/* What pipelab-mpi refuses beyond what `pipelab run` refuses. */
static int refuse(const pl_args *a, int size, char *err, size_t errlen)
{
    if (a->command != PL_CMD_RUN)
        snprintf(err, errlen, "pipelab-mpi runs one schedule (run); compare, show, check and "
                 "sweep are pipelab's");
    else if (pl_args_given(a, "--devices") && a->opt.devices != size)
        snprintf(err, errlen, "--devices %d, but mpirun started %d processes: one process per "
                 "device (mpirun -np %d)", a->opt.devices, size, a->opt.devices);
    else if (a->opt.simulate)
        snprintf(err, errlen, "--simulate runs no processes; use pipelab run --simulate");
    else if (a->opt.partition == PL_PARTITION_MEASURED)
        snprintf(err, errlen, "--partition-by measured times the layers on each host: the "
                 "ranks could split the model differently; use --partition-by model");
    else if (pl_args_given(a, "--watchdog") || a->opt.fault_stall)
        snprintf(err, errlen, "%s needs the threads runtime's watchdog; use pipelab run",
                 a->opt.fault_stall ? "--inject-fault ...,stall" : "--watchdog");
    else
        return 0;
    return -1;
}

/* Rank 0's executor: prepare, agree with the other ranks, run its device,
 * gather, then measure -- and with --verify, compare with device threads. */
typedef struct {
    int started; /* 1 once the other ranks were told to start (or not) */
} root_ctx;

static void compare_threads(pl_experiment *x)
{
    pl_experiment t;
    char err[1024];
    x->threads_checked = 1;
    x->threads_equal = pl_experiment_run(&x->opt, &t, err, sizeof err) == 0 &&
                       pl_model_equal(&x->model, &t.model, NULL) &&
                       (x->opt.clock != PL_CLOCK_VIRTUAL ||
                        pl_trace_equal(&x->result.trace, &t.result.trace));
    pl_experiment_free(&t);
}

static int run_root(void *ctx, const pl_options *o, pl_experiment *x, char *err,
                    size_t errlen)
{
    root_ctx *c = ctx;
    int who, prepared = pl_experiment_prepare(o, x, err, errlen);
    c->started = 1;
    if (pl_runtime_mpi_agree(prepared ? 1 : 0, &who)) {
        if (prepared == 0)
            snprintf(err, errlen, "rank %d could not prepare the run", who);
        return -1;
    }
    if (pl_runtime_mpi_run(&x->job, &x->result, err, errlen) ||
        pl_experiment_finish(x, err, errlen))
        return -1;
    if (o->verify)
        compare_threads(x);
    return 0;
}

/* Every other rank: the same job, its own device, nothing printed but a
 * failure to prepare that rank 0 did not share. */
static int run_other(pl_args *a, int rank)
{
    pl_experiment x;
    char err[1024];
    int who, prepared = pl_experiment_prepare(&a->opt, &x, err, sizeof err);
    int status = pl_runtime_mpi_agree(prepared ? 1 : 0, &who);
    if (status) {
        if (who == rank)
            fprintf(stderr, "pipelab: rank %d: %s\n", rank, err);
    } else {
        status = pl_runtime_mpi_run(&x.job, &x.result, err, sizeof err) ? 1 : 0;
    }
    pl_experiment_free(&x);
    return status;
}

static int program(int rank, int size, int argc, char **argv)
{
    char err[1024];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        if (rank == 0)
            usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : rank == 0 ? pl_cli_flushed(0) : 0;
    }
    pl_args a;
    memset(&a, 0, sizeof a);
    pl_options_defaults(&a.opt);
    a.opt.devices = size;
    int bad = pl_args_parse(&a, argc, argv, err, sizeof err);
    if (!bad && a.help) {
        if (rank == 0)
            usage(stdout);
        return rank == 0 ? pl_cli_flushed(0) : 0;
    }
    if (bad || refuse(&a, size, err, sizeof err))
        return rank == 0 ? pl_cli_fail(err) : 2; /* every rank agrees: bad input */
    if (rank != 0)
        return run_other(&a, rank);
    root_ctx c = {0};
    int rc = pl_cli_run(&a, run_root, &c);
    if (!c.started) { /* stopped before the run: the others must not wait */
        int who;
        pl_runtime_mpi_agree(rc ? rc : 1, &who);
    }
    return rc;
}

/* Under AddressSanitizer (make asan): Open MPI keeps what it allocates until
 * the process exits, in libraries built without frame pointers and in
 * components it unloads at the end. Unwinding fully, and keeping the
 * components loaded, lets tests/lsan.supp name the libraries. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PL_ASAN 1
#endif
#ifdef PL_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

int main(int argc, char **argv)
{
    int rank, size;
    /* A rank's stdout is mpirun's pseudo-terminal even when mpirun's own
     * output goes to a file: it cannot tell whether colour is wanted. */
    setenv("NO_COLOR", "1", 1);
#ifdef PL_ASAN
    setenv("OMPI_MCA_mca_base_component_disable_dlclose", "1", 0);
    setenv("PMIX_MCA_mca_base_component_disable_dlclose", "1", 0);
#endif
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = program(rank, size, argc, argv);
    MPI_Finalize();
    return rc;
}
