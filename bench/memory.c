/*
 * memory.c -- a long run holds what a short one holds (make bench, part 7).
 *
 * `pipelab run --batch 65536 --steps N` for growing N, each in its own
 * process, its peak resident memory read by a helper process whose only
 * child it is (getrusage(RUSAGE_CHILDREN) then reports that child alone).
 * Each step's data is made when the step starts and a trace keeps the
 * events of its last 16 steps, so the peak must not grow with N.
 * PL_BENCH_STEPS sets the longest run (default 200; 10000 takes tens of
 * minutes). The allocator's arenas make a peak vary by a few MiB from run
 * to run, so the target is 10 %; making every step's data up front, as
 * pipelab once did, would add 16 MiB a step.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

/* $(BUILD)/pipelab, from /proc/self/exe = $(BUILD)/bench/bench. */
static int pipelab_path(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", buf, n - sizeof "/pipelab");
    if (k <= 0)
        return -1;
    buf[k] = '\0';
    for (int cut = 0; cut < 2; cut++) {
        char *slash = strrchr(buf, '/');
        if (!slash)
            return -1;
        *slash = '\0';
    }
    strcat(buf, "/pipelab");
    return access(buf, X_OK);
}

/* Peak RSS in KiB of `pipelab run --batch 65536 --steps steps`, and the
 * seconds it took; -1 if it failed. */
static long peak_kib(const char *pipelab, int steps, double *seconds)
{
    char n[16];
    snprintf(n, sizeof n, "%d", steps);
    char *argv[] = {(char *)pipelab, "run", "--batch", "65536", "--steps", n, "--json", NULL};
    int fd[2];
    if (pipe(fd))
        return -1;
    int64_t t0 = pl_clock_host_ns();
    pid_t helper = fork();
    if (helper == 0) {
        close(fd[0]);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        long kib = -1;
        int st;
        if (posix_spawn(&pid, pipelab, &fa, NULL, argv, environ) == 0 &&
            waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            struct rusage ru;
            getrusage(RUSAGE_CHILDREN, &ru);
            kib = ru.ru_maxrss;
        }
        _exit(write(fd[1], &kib, sizeof kib) == sizeof kib ? 0 : 1);
    }
    close(fd[1]);
    long kib = -1;
    if (helper < 0 || read(fd[0], &kib, sizeof kib) != sizeof kib)
        kib = -1;
    close(fd[0]);
    if (helper > 0)
        waitpid(helper, NULL, 0);
    *seconds = (double)(pl_clock_host_ns() - t0) / 1e9;
    return kib;
}

void pl_bench_memory(void)
{
    char pipelab[4096];
    const char *env = getenv("PL_BENCH_STEPS");
    int longest = env && atoi(env) > 10 ? atoi(env) : 200;
    if (pipelab_path(pipelab, sizeof pipelab)) {
        printf("7. constant memory: cannot find the pipelab command (make all)\n");
        return;
    }
    int steps[3] = {10, longest / 10 > 10 ? longest / 10 : 11, longest};
    long kib[3];
    double s[3];
    printf("7. constant memory      pipelab run --batch 65536 --steps N: peak resident memory\n");
    for (int i = 0; i < 3; i++) {
        kib[i] = peak_kib(pipelab, steps[i], &s[i]);
        if (kib[i] < 0) {
            printf("   --steps %d failed\n", steps[i]);
            return;
        }
        printf("   --steps %-6d %8.1f MiB  (%.1f s, %.3f s per step)\n", steps[i],
               (double)kib[i] / 1024, s[i], s[i] / steps[i]);
    }
    double growth = (double)(kib[2] - kib[0]) / (double)kib[0];
    printf("   %d steps hold %+.1f %% beside 10 (target: within 10 %%)  %s; "
           "PL_BENCH_STEPS=10000 runs the issue's case\n", steps[2], 100 * growth,
           growth <= 0.10 ? "PASS" : "MISS");
}
