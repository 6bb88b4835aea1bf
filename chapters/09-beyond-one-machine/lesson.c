/*
 * Chapter 09 -- beyond one machine.
 *
 * The same 1F1B run twice: on four device threads in this process, then on
 * four MPI processes (mpirun -np 4 pipelab-mpi, started as a child). Same
 * timeline, same losses, same weights, and the same trace, byte for byte.
 * Then a fault on one rank: every rank stops, and the failure is told once.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lesson.h"
#include "chrome_trace.h"


/* Run a shell command; its output (stdout, or what `cmd` redirects) into
 * buf. Returns the exit status. */
static int capture(const char *cmd, char *buf, size_t n)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        perror("popen");
        exit(1);
    }
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A number after "key": in a JSON line, or -1. */
static double field(const char *json, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *at = strstr(json, k);
    return at ? atof(at + strlen(k) + (at[strlen(k)] == '[')) : -1;
}

/* 1 if the two files hold the same bytes. */
static int same_file(const char *a, const char *b, long *size)
{
    FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
    int same = f && g, x = 0;
    for (*size = 0; same && (x = fgetc(f)) != EOF; (*size)++)
        same = x == fgetc(g);
    same = same && g && fgetc(g) == EOF;
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return same;
}

int main(void)
{
    int p = 4, m = 8;
    char mine[64], theirs[64], cmd[1024], json[8192], err[4096];
    snprintf(mine, sizeof mine, "/tmp/pipelab-ch09-threads-%ld.json", (long)getpid());
    snprintf(theirs, sizeof theirs, "/tmp/pipelab-ch09-mpi-%ld.json", (long)getpid());

    pl_options o = lesson_options("1f1b", p, m);
    o.verify = 1;
    pl_experiment t;
    lesson_run(&o, &t);
    FILE *f = fopen(mine, "w");
    const pl_trace *traces[1] = {&t.result.trace};
    if (!f || pl_chrome_trace_write(traces, 1, f) || fclose(f)) {
        fprintf(stderr, "lesson: cannot write %s\n", mine);
        return 1;
    }

    snprintf(cmd, sizeof cmd, "%s -np %d %s run --schedule 1f1b --microbatches %d --verify "
             "--json --trace %s 2>/dev/null", PL_MPIRUN, p, PL_MPI_CLI, m, theirs);
    if (capture(cmd, json, sizeof json) != 0) {
        fprintf(stderr, "lesson: %s failed\n", cmd);
        return 1;
    }
    printf("1f1b, p = %d, m = %d, %d steps: %d device threads, then %d MPI processes "
           "(mpirun -np %d)\n\n", p, m, o.steps, p, p, p);
    printf("%-14s %10s %10s %10s %10s\n", "", "threads", "MPI", "predicted", "formula");
    printf("%-14s %10.3f %10.3f %10.3f %10s\n", "makespan ms", t.makespan_ns / 1e6,
           field(json, "makespan_ns") / 1e6, t.predicted_makespan_ns / 1e6, "-");
    printf("%-14s %10.4f %10.4f %10.4f %10.4f\n", "bubble", t.bubble, field(json, "bubble"),
           t.predicted_bubble, t.bubble_theory);
    printf("%-14s %10.6f %10.6f\n", "loss, step 1", (double)t.result.loss[0],
           field(json, "loss"));
    printf("\nweights bitwise equal to the sequential reference: threads %s, MPI %s\n",
           t.bitwise_equal ? "yes" : "NO", strstr(json, "\"bitwise_equal\":true") ? "yes" : "NO");
    long size;
    int same = same_file(mine, theirs, &size);
    printf("the MPI ranks' merged trace is the threads' trace: %s (%ld bytes of Chrome trace, "
           "%ld events per device and step)\n", same ? "byte for byte" : "NO, it differs",
           size, t.result.trace.lanes[0].len / o.steps);
    unlink(mine);
    unlink(theirs);
    pl_experiment_free(&t);

    printf("\nA fault on rank 2, at its 6th action:\n");
    snprintf(cmd, sizeof cmd, "%s -np %d %s run --schedule 1f1b --microbatches %d "
             "--inject-fault device=2,action=5 2>&1 >/dev/null", PL_MPIRUN, p, PL_MPI_CLI, m);
    int status = capture(cmd, err, sizeof err);
    /* pipelab's lines only: mpirun's event library may add a warning of its
     * own while it tears the aborted ranks down. */
    for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "pipelab:", 8))
            printf("  %s\n", line);
    printf("  mpirun's exit status: %d\n", status);
    return 0;
}
