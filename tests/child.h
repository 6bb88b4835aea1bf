/*
 * child.h -- run the pipelab command as a child process, with a deadline.
 *
 * The command under test is $(BUILD)/pipelab, found next to the test binary
 * ($(BUILD)/tests/test_x), so `make asan` tests the sanitized command.
 * stdout goes to /dev/null; stderr is captured. A child still running at the
 * deadline is killed and reported as hung.
 */
#ifndef PL_TEST_CHILD_H
#define PL_TEST_CHILD_H

#include <spawn.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "helpers.h"

extern char **environ;

/* Sanitizers start slowly and run slower; the time bounds stretch for them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLOW 10.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLOW 10.0
#endif
#endif
#ifndef SLOW
#define SLOW 1.0
#endif

/** How a child ended. */
typedef struct {
    int exited;      /* 1 if it exited normally */
    int status;      /* its exit status, if it exited */
    int signal;      /* the signal that ended it, if any */
    int hung;        /* 1 if it was killed at the deadline */
    double seconds;  /* wall time it ran */
    double cpu;      /* its user + system time */
    char err[4096];  /* what it wrote to stderr */
} pl_child;

/* $(BUILD)/pipelab, from /proc/self/exe = $(BUILD)/tests/test_x. */
static inline void pipelab_path(char *buf, size_t n)
{
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert(k > 0, "cannot find the test binary");
    exe[k] = '\0';
    for (int cut = 0; cut < 2; cut++)
        *strrchr(exe, '/') = '\0';
    cr_assert(strlen(exe) + sizeof "/pipelab" <= n);
    memcpy(buf, exe, strlen(exe));
    memcpy(buf + strlen(exe), "/pipelab", sizeof "/pipelab");
    cr_assert(access(buf, X_OK) == 0, "%s is not built (make all)", buf);
}

/* Run `pipelab ARGS` through the shell (ARGS may redirect its streams);
 * what it prints on stdout goes into out. Returns its exit status. */
static inline int pipelab_sh(const char *args, char *out, size_t n)
{
    char path[PATH_MAX], cmd[PATH_MAX + 2048];
    pipelab_path(path, sizeof path);
    snprintf(cmd, sizeof cmd, "'%s' %s", path, args);
    return shell_capture(cmd, out, n);
}

/* Start pipelab with argv[1..] (NULL-terminated), stdout to `out` (a path,
 * opened for writing and truncated) and stderr to errfd. Returns its pid. */
static inline pid_t pipelab_start(const char *const *args, const char *out, int errfd)
{
    char path[PATH_MAX];
    pipelab_path(path, sizeof path);
    char *argv[64];
    int n = 0;
    argv[n++] = path;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, errfd, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start %s", path);
    return pid;
}

/* Wait for the child started at host time t0, killing it after `limit` s;
 * its stderr is read back from errfd (which is closed). */
static inline pl_child pipelab_wait(pid_t pid, int64_t t0, double limit, int errfd)
{
    pl_child c;
    memset(&c, 0, sizeof c);
    int st = 0;
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if ((double)(pl_clock_host_ns() - t0) / 1e9 > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            c.hung = 1;
            break;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    c.seconds = (double)(pl_clock_host_ns() - t0) / 1e9;
    getrusage(RUSAGE_CHILDREN, &after); /* times add up over children: the difference is its */
    c.cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec +
                     after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
            (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec +
                     after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
    c.exited = WIFEXITED(st) && !c.hung;
    c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    c.signal = WIFSIGNALED(st) && !c.hung ? WTERMSIG(st) : 0;
    ssize_t got = pread(errfd, c.err, sizeof c.err - 1, 0);
    c.err[got > 0 ? got : 0] = '\0';
    close(errfd);
    return c;
}

/* An unlinked temporary file for a child's stderr. */
static inline int stderr_file(void)
{
    char errname[] = "/tmp/pipelab-test-stderr-XXXXXX";
    int errfd = mkstemp(errname);
    cr_assert(errfd >= 0);
    unlink(errname);
    return errfd;
}

/* Run pipelab with argv[1..] (NULL-terminated), stdout to the file `out`,
 * killing it after `limit` s. */
static inline pl_child pipelab_run_to(const char *const *args, double limit, const char *out)
{
    int errfd = stderr_file();
    int64_t t0 = pl_clock_host_ns();
    pid_t pid = pipelab_start(args, out, errfd);
    return pipelab_wait(pid, t0, limit, errfd);
}

/* Run pipelab with argv[1..] (NULL-terminated), killing it after `limit` s. */
static inline pl_child pipelab_run(const char *const *args, double limit)
{
    return pipelab_run_to(args, limit, "/dev/null");
}

/* Number of lines in s (a last line without '\n' counts). */
static inline int line_count(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\n' || (p[1] == '\0');
    return n;
}

#endif
