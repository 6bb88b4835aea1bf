/*
 * criterion.h -- a stand-in for Criterion, used only by `make tsan`.
 *
 * Criterion cannot start under ThreadSanitizer: its inheritable arena is an
 * identity mapping that collides with TSan's shadow memory, and the runner
 * aborts with "Could not initialize inheritable arena" (upstream issue
 * Snaipe/Criterion#274, open). So `make tsan` compiles the same test files
 * against this header instead: the subset of Criterion the suites use --
 * Test() with .timeout, cr_assert* and cr_expect* -- each test in its own
 * forked process with an alarm for its timeout, and Criterion's closing
 * "Synthesis" line, which scripts/run-tests.sh reads.
 *
 * The parent never starts a thread, so fork() is safe under TSan; every
 * device thread runs, and is checked, inside a test's child.
 */
#ifndef PL_TSAN_CRITERION_H
#define PL_TSAN_CRITERION_H

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct pl_shim_opts {
    int sentinel_;
    double timeout;
    void (*init)(void);
    void (*fini)(void);
};

struct pl_shim_test {
    const char *suite, *name;
    void (*fn)(void);
    struct pl_shim_opts opts;
};

enum { PL_SHIM_MAX = 512 };
static struct pl_shim_test pl_shim_tests[PL_SHIM_MAX], pl_shim_suites[64];
static int pl_shim_count, pl_shim_nsuites, pl_shim_failed;

static inline void pl_shim_register(const char *suite, const char *name, void (*fn)(void),
                             const struct pl_shim_opts *o)
{
    if (pl_shim_count < PL_SHIM_MAX)
        pl_shim_tests[pl_shim_count++] = (struct pl_shim_test){suite, name, fn, *o};
}

static inline void pl_shim_register_suite(const char *suite, const struct pl_shim_opts *o)
{
    if (pl_shim_nsuites < 64)
        pl_shim_suites[pl_shim_nsuites++] = (struct pl_shim_test){suite, "", NULL, *o};
}

/* A test's options, with its suite's filling what the test leaves unset. */
static inline struct pl_shim_opts pl_shim_options(const struct pl_shim_test *t)
{
    struct pl_shim_opts o = t->opts;
    for (int i = 0; i < pl_shim_nsuites; i++)
        if (!strcmp(pl_shim_suites[i].suite, t->suite)) {
            const struct pl_shim_opts *s = &pl_shim_suites[i].opts;
            if (o.timeout <= 0)
                o.timeout = s->timeout;
            if (!o.init)
                o.init = s->init;
            if (!o.fini)
                o.fini = s->fini;
        }
    return o;
}

#define PL_SHIM_SUITE(suite, ...)                                                         \
    __attribute__((constructor)) static void suite##_suite_reg(void)                      \
    {                                                                                     \
        static const struct pl_shim_opts o = {__VA_ARGS__};                               \
        pl_shim_register_suite(#suite, &o);                                               \
    }                                                                                     \
    struct pl_shim_opts
#define TestSuite(...) PL_SHIM_SUITE(__VA_ARGS__, .sentinel_ = 0)

/* A skipped test counts as passed (run-tests.sh reads only pass and fail). */
#define cr_skip_test(...) (fprintf(stderr, "[SKIP] " __VA_ARGS__), fputc('\n', stderr), \
                           fflush(NULL), _exit(0))

#define PL_SHIM_TEST(suite, name, ...)                                                    \
    static void suite##_##name##_fn(void);                                                \
    __attribute__((constructor)) static void suite##_##name##_reg(void)                   \
    {                                                                                     \
        static const struct pl_shim_opts o = {__VA_ARGS__};                               \
        pl_shim_register(#suite, #name, suite##_##name##_fn, &o);                         \
    }                                                                                     \
    static void suite##_##name##_fn(void)
#define Test(...) PL_SHIM_TEST(__VA_ARGS__, .sentinel_ = 0)

/* A failed check prints "file:line: expr: message"; a fatal one ends the test. */
static inline void pl_shim_report(int fatal, int ok, const char *expr, const char *file, int line,
                           const char *fmt, ...)
{
    if (ok)
        return;
    fprintf(stderr, "[----] %s:%d: Assertion Failed: %s\n[----]   ", file, line, expr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pl_shim_failed = 1;
    if (fatal)
        exit(1);
}

#define PL_SHIM_CHECK(fatal, cond, ...) \
    pl_shim_report(fatal, !!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)
#define PL_SHIM_CMP(fatal, a, op, b, ...) \
    pl_shim_report(fatal, (a) op (b), #a " " #op " " #b, __FILE__, __LINE__, __VA_ARGS__)
#define PL_SHIM_STR(fatal, a, b, ...) \
    pl_shim_report(fatal, strcmp((a), (b)) == 0, #a " == " #b, __FILE__, __LINE__, __VA_ARGS__)
#define PL_SHIM_FLOAT(fatal, a, b, eps, ...) \
    pl_shim_report(fatal, fabs((double)(a) - (double)(b)) <= (eps), #a " ~ " #b, __FILE__, \
                   __LINE__, __VA_ARGS__)

#define cr_assert(...) PL_SHIM_CHECK(1, __VA_ARGS__, "")
#define cr_expect(...) PL_SHIM_CHECK(0, __VA_ARGS__, "")
#define PL_SHIM_NOT(fatal, c, ...) PL_SHIM_CHECK(fatal, !(c), __VA_ARGS__)
#define PL_SHIM_NULL(fatal, p, ...) PL_SHIM_CHECK(fatal, (p) == NULL, __VA_ARGS__)
#define PL_SHIM_NONNULL(fatal, p, ...) PL_SHIM_CHECK(fatal, (p) != NULL, __VA_ARGS__)
#define cr_expect_not(...) PL_SHIM_NOT(0, __VA_ARGS__, "")
#define cr_assert_null(...) PL_SHIM_NULL(1, __VA_ARGS__, "")
#define cr_expect_null(...) PL_SHIM_NULL(0, __VA_ARGS__, "")
#define cr_assert_not_null(...) PL_SHIM_NONNULL(1, __VA_ARGS__, "")
#define cr_expect_not_null(...) PL_SHIM_NONNULL(0, __VA_ARGS__, "")
#define cr_assert_eq(a, ...) PL_SHIM_CMP(1, a, ==, __VA_ARGS__, "")
#define cr_expect_eq(a, ...) PL_SHIM_CMP(0, a, ==, __VA_ARGS__, "")
#define cr_assert_neq(a, ...) PL_SHIM_CMP(1, a, !=, __VA_ARGS__, "")
#define cr_expect_neq(a, ...) PL_SHIM_CMP(0, a, !=, __VA_ARGS__, "")
#define cr_assert_lt(a, ...) PL_SHIM_CMP(1, a, <, __VA_ARGS__, "")
#define cr_expect_lt(a, ...) PL_SHIM_CMP(0, a, <, __VA_ARGS__, "")
#define cr_assert_leq(a, ...) PL_SHIM_CMP(1, a, <=, __VA_ARGS__, "")
#define cr_expect_leq(a, ...) PL_SHIM_CMP(0, a, <=, __VA_ARGS__, "")
#define cr_assert_gt(a, ...) PL_SHIM_CMP(1, a, >, __VA_ARGS__, "")
#define cr_expect_gt(a, ...) PL_SHIM_CMP(0, a, >, __VA_ARGS__, "")
#define cr_assert_geq(a, ...) PL_SHIM_CMP(1, a, >=, __VA_ARGS__, "")
#define cr_expect_geq(a, ...) PL_SHIM_CMP(0, a, >=, __VA_ARGS__, "")
#define cr_assert_str_eq(a, ...) PL_SHIM_STR(1, a, __VA_ARGS__, "")
#define cr_expect_str_eq(a, ...) PL_SHIM_STR(0, a, __VA_ARGS__, "")
#define cr_assert_float_eq(...) PL_SHIM_FLOAT(1, __VA_ARGS__, "")
#define cr_expect_float_eq(...) PL_SHIM_FLOAT(0, __VA_ARGS__, "")

/* Run one test in a child; 0 passed, 1 failed, 2 crashed or timed out. */
static inline int pl_shim_run(const struct pl_shim_test *t)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct pl_shim_opts o = pl_shim_options(t);
        alarm((unsigned)(o.timeout > 0 ? o.timeout + 0.999 : 600));
        if (o.init)
            o.init();
        t->fn();
        if (o.fini)
            o.fini();
        fflush(NULL);
        _exit(pl_shim_failed ? 1 : 0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 2;
    if (WIFEXITED(st))
        return WEXITSTATUS(st) == 0 ? 0 : WEXITSTATUS(st) == 1 ? 1 : 2;
    fprintf(stderr, "[----] %s::%s: %s\n", t->suite, t->name,
            WTERMSIG(st) == SIGALRM ? "Timed out" : "CRASH (killed by a signal)");
    return 2;
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv; /* --jobs and the like: one test at a time */
    int n[3] = {0, 0, 0};
    for (int i = 0; i < pl_shim_count; i++) {
        int r = pl_shim_run(&pl_shim_tests[i]);
        n[r]++;
        if (r)
            fprintf(stderr, "[FAIL] %s::%s\n", pl_shim_tests[i].suite, pl_shim_tests[i].name);
    }
    fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d \n",
            pl_shim_count, n[0], n[1], n[2]);
    return n[1] + n[2] ? 1 : 0;
}

#endif
