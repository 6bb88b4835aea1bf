/*
 * check.h -- how an exercise is graded: named checks, run in order, each in
 * its own process with a deadline, each failure reported with what was
 * expected, what was measured, and a hint that names the likely mistake.
 *
 * An exercise's grader (tests/exercises/chNN.c) is a list of checks and a
 * main that calls ex_main. A check measures something -- a run, a schedule,
 * a formula against the runs it predicts -- and, when the learner's code
 * gets it wrong, calls ex_fail with a one-line hint, the expected figure
 * and the measured one, written in full. A check may first test the
 * measurement against the typical mistakes (a reversed order, a missing
 * term) and pick the hint that names the one it sees.
 *
 * ex_main prints the failures first, in the order of the checks, so the
 * first line of the report is the first failed check and its hint; then the
 * checks that passed, then one summary line. Exit status: 0 if every check
 * passed, 1 otherwise. A check that crashes, exits, or runs past its
 * deadline fails with a hint of its own. What the learner's code prints goes
 * to $PL_EXERCISE_LOG (default /dev/null), never into the report.
 */
#ifndef PL_EXERCISE_CHECK_H
#define PL_EXERCISE_CHECK_H

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "experiment.h"
#include "runs.h"

/** One check: a name, a function that returns only if it passes, a deadline. */
typedef struct {
    const char *name;    /**< "deadlock-names-every-device" */
    void (*run)(void);   /**< calls ex_fail, or returns: passed */
    int seconds;         /**< deadline */
    const char *hang;    /**< hint if it runs past the deadline (NULL: a default) */
} ex_check;

/* The report a failed check hands its parent: four NUL-terminated fields. */
static int ex_pipe = -1;
static char ex_case_text[1024];

/** Say which case is being measured now ("p = 4, m = 6"); a failure names it. */
static inline void ex_case(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex_case_text, sizeof ex_case_text, fmt, ap);
    va_end(ap);
}

/** printf into a fresh buffer (the check's process ends soon; never freed). */
static inline char *ex_str(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!s)
        _exit(2);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static inline void ex_write(const char *s)
{
    size_t n = strlen(s) + 1;
    while (n > 0) {
        ssize_t k = write(ex_pipe, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/** Fail the running check: the mistake it points to, what was expected, what was measured. */
static inline _Noreturn void ex_fail(const char *hint, const char *expected, const char *measured)
{
    ex_write(hint);
    ex_write(ex_case_text);
    ex_write(expected);
    ex_write(measured);
    _exit(1);
}

/** Run o and fail the check if the run does not complete. */
static inline void ex_run(const pl_options *o, pl_experiment *x)
{
    char err[1024] = "";
    if (pl_experiment_run(o, x, err, sizeof err))
        ex_fail("the run failed: read its message", "a run that completes",
                ex_str("pipelab: %s", err));
}

/* One check's outcome, read back by the parent. */
typedef struct {
    int passed;
    char *field[4]; /* hint, case, expected, measured */
} ex_outcome;

static inline void ex_run_one(const ex_check *c, const char *log, ex_outcome *out)
{
    int fd[2];
    memset(out, 0, sizeof *out);
    fflush(stdout);
    if (pipe(fd)) {
        out->field[0] = ex_str("the grader could not start this check (pipe)");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        ex_pipe = fd[1];
        int sink = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (sink >= 0) {
            dup2(sink, 1);
            dup2(sink, 2);
        }
        alarm((unsigned)c->seconds);
        c->run();
        _exit(0);
    }
    close(fd[1]);
    size_t cap = 1 << 12, len = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = read(fd[0], buf + len, cap - len - 1)) > 0)
        if ((len += (size_t)k) + 1 == cap)
            buf = realloc(buf, cap *= 2);
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (buf)
        buf[len] = '\0';
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && len == 0) {
        out->passed = 1;
        free(buf);
        return;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 1 && buf && len > 0) {
        char *p = buf;
        for (int i = 0; i < 4 && p < buf + len; i++, p += strlen(p) + 1)
            out->field[i] = p;
        return;
    }
    free(buf);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        out->field[0] = ex_str("%s", c->hang ? c->hang
                                             : "it did not finish: does a loop of yours never end?");
    else if (WIFSIGNALED(st))
        out->field[0] = ex_str("your code crashed (%s): look for an index out of range or a "
                               "pointer used after free", strsignal(WTERMSIG(st)));
    else
        out->field[0] = ex_str("the check ended early (exit status %d): does your code call "
                               "exit()?", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    out->field[2] = ex_str("the check to finish within %d s", c->seconds);
    out->field[3] = ex_str(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "still running"
                                                                       : "it stopped");
}

/** Run every check in order and print the report. Returns the exit status. */
static inline int ex_main(const ex_check *checks, int n, const char *label)
{
    const char *log = getenv("PL_EXERCISE_LOG");
    if (!label)
        label = "exercise";
    if (!log || !*log)
        log = "/dev/null";
    ex_outcome *o = calloc((size_t)n, sizeof *o);
    if (!o)
        return 2;
    int passed = 0;
    for (int i = 0; i < n; i++) {
        ex_run_one(&checks[i], log, &o[i]);
        passed += o[i].passed;
    }
    for (int i = 0; i < n; i++) {
        if (o[i].passed)
            continue;
        printf("FAIL %s: %s\n", checks[i].name, o[i].field[0]);
        const char *label_of[4] = {NULL, "case", "expected", "measured"};
        for (int f = 1; f < 4; f++)
            if (o[i].field[f] && *o[i].field[f]) {
                /* multi-line figures stay aligned under their label */
                printf("       %-9s ", label_of[f]);
                for (const char *p = o[i].field[f]; *p; p++) {
                    putchar(*p);
                    if (*p == '\n' && p[1])
                        printf("       %-9s ", "");
                }
                if (o[i].field[f][strlen(o[i].field[f]) - 1] != '\n')
                    putchar('\n');
            }
    }
    for (int i = 0; i < n; i++)
        if (o[i].passed)
            printf("PASS %s\n", checks[i].name);
    struct stat printed;
    int said = strcmp(log, "/dev/null") && stat(log, &printed) == 0 && printed.st_size > 0;
    printf("%s: %d of %d checks pass%s\n", label, passed, n,
           said ? ex_str(" (what your code printed: %s)", log) : "");
    return passed == n ? 0 : 1;
}

#endif
