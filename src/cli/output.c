/*
 * output.c -- writing picture files so that nothing is ever half-written
 * or lost.
 */
#include "output.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chrome_trace.h"
#include "svg.h"

/* The temporary files of the outputs still open, so that a signal that ends
 * the command can remove them: the command's one piece of global state (a
 * signal handler knows nothing else). Only the main thread changes it, and
 * only with the caught signals blocked (hold), at times when no device
 * thread runs: while the outputs open, before any run, and while they move
 * into place, after every run. So a handler never sees it half-changed, and
 * moving the outputs into place is all or nothing for a signal. */
enum { MAX_PENDING = 4 };
static pl_output *pending[MAX_PENDING];
static const int caught[] = {SIGINT, SIGTERM, SIGHUP};

/* Block (or, with `was`, restore) the caught signals in this thread. */
static void hold(sigset_t *was, int on)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        sigaddset(&set, caught[i]);
    if (on)
        pthread_sigmask(SIG_BLOCK, &set, was);
    else
        pthread_sigmask(SIG_SETMASK, was, NULL);
}

/* With the caught signals held: start or stop tracking o's temporary file. */
static void track(pl_output *o, int on)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (on ? pending[i] == NULL : pending[i] == o) {
            pending[i] = on ? o : NULL;
            break;
        }
}

/* Remove every pending temporary file, then end by the signal: the handler
 * was reset to the default on entry (SA_RESETHAND), and the signal raised
 * here is delivered as soon as the handler returns. unlink and raise are
 * async-signal-safe. */
static void on_signal(int sig)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i] && pending[i]->temp[0])
            unlink(pending[i]->temp);
    raise(sig);
}

int pl_output_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        sigaddset(&sa.sa_mask, caught[i]); /* one handler at a time */
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        if (sigaction(caught[i], &sa, NULL) != 0)
            return -1;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported like any other */
    return 0;
}

/* 1 if a and b are the same existing file (or the same path). */
static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    if (!strcmp(a, b))
        return 1;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int pl_output_open(pl_output *o, const char *option, const char *path,
                   const char *const *inputs, int n_inputs, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->option = option;
    o->path = path;
    if (!path)
        return 0;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] && same_file(path, inputs[i])) {
            snprintf(err, errlen, "%s %s: that is an input of this command; write the "
                     "output elsewhere", option, path);
            return -1;
        }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* /dev/stdout, a FIFO: directly */
        o->f = fopen(path, "wb");
    } else {
        const char *slash = strrchr(path, '/');
        int dir = slash ? (int)(slash - path + 1) : 0;
        if (snprintf(o->temp, sizeof o->temp, "%.*s.%s.pipelab-XXXXXX", dir, path,
                     path + dir) >= (int)sizeof o->temp) {
            snprintf(err, errlen, "%s %s: the path is too long", option, path);
            return -1;
        }
        sigset_t was;
        hold(&was, 1);
        int fd = mkstemp(o->temp);
        o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fd >= 0 && !o->f) {
            close(fd);
            unlink(o->temp);
        }
        if (o->f)
            track(o, 1);
        hold(&was, 0);
    }
    if (!o->f) {
        snprintf(err, errlen, "%s %s: cannot write: %s", option, path, strerror(errno));
        o->temp[0] = '\0';
        return -1;
    }
    return 0;
}

/* Flush and close o's file; 0, or an errno. */
static int finish(pl_output *o)
{
    errno = 0;
    int failed = fflush(o->f) != 0 || ferror(o->f), saved = errno;
    failed |= fclose(o->f) != 0;
    o->f = NULL;
    return !failed ? 0 : saved ? saved : errno ? errno : EIO;
}

/* With the caught signals held: move o's temporary file into place (ok) or
 * remove it; 0, or an errno. */
static int commit(pl_output *o, int ok)
{
    int failed = 0;
    if (ok && o->temp[0] && rename(o->temp, o->path) != 0)
        failed = errno;
    if (o->temp[0] && (failed || !ok))
        unlink(o->temp);
    track(o, 0);
    o->temp[0] = '\0';
    return failed;
}

/* Finish outputs o[0..n) (n <= 2) together: close each that is open; if
 * every one was written, move them all into place with the caught signals
 * held -- a signal then finds none or all of them in place -- else remove
 * them all. 0, or -1 (with "cannot write PATH: REASON" in err if a write
 * failed). */
static int close_all(pl_output *const *o, int n, int ok, char *err, size_t errlen)
{
    int why[2] = {0, 0};
    for (int i = 0; i < n; i++)
        if (o[i]->f && (why[i] = finish(o[i])) != 0)
            ok = 0;
    sigset_t was;
    hold(&was, 1);
    for (int i = 0; i < n; i++)
        if (o[i]->temp[0]) {
            int e = commit(o[i], ok);
            why[i] = why[i] ? why[i] : e;
        }
    hold(&was, 0);
    for (int i = 0; i < n; i++)
        if (why[i]) {
            snprintf(err, errlen, "cannot write %s: %s", o[i]->path, strerror(why[i]));
            return -1;
        }
    return ok ? 0 : -1;
}

int pl_output_close(pl_output *o, int ok, const char *what, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!o->f && !o->temp[0])
        return 0;
    if (close_all(&o, 1, ok, err, errlen))
        return -1;
    if (what)
        fprintf(stderr, "pipelab: wrote %s (%s)\n", o->path, what);
    return 0;
}

int pl_outputs_open(pl_outputs *o, const char *trace, const char *svg,
                    const char *schedule_file, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (trace && svg && same_file(trace, svg)) {
        snprintf(err, errlen, "--trace %s and --svg %s are the same file; give two names",
                 trace, svg);
        return -1;
    }
    if (pl_output_open(&o->trace, "--trace", trace, &schedule_file, 1, err, errlen))
        return -1;
    if (pl_output_open(&o->svg, "--svg", svg, &schedule_file, 1, err, errlen)) {
        char ignored[8];
        pl_output_close(&o->trace, 0, NULL, ignored, sizeof ignored);
        return -1;
    }
    return 0;
}

int pl_outputs_finish(pl_outputs *o, const pl_trace *const *traces, int n, int ok, char *err,
                      size_t errlen)
{
    err[0] = '\0';
    int drawn = ok && (!o->trace.f || pl_chrome_trace_write(traces, n, o->trace.f) == 0) &&
                (!o->svg.f || pl_svg_timeline(traces, n, o->svg.f) == 0);
    pl_output *both[2] = {&o->trace, &o->svg};
    if (close_all(both, 2, drawn, err, errlen)) {
        if (ok && !err[0])
            snprintf(err, errlen, "cannot draw the pictures: the run has no events to show "
                     "(a totals-only simulation?)");
        return -1;
    }
    if (ok && o->trace.path)
        fprintf(stderr, "pipelab: wrote %s (Chrome trace of %d run%s)\n", o->trace.path, n,
                n == 1 ? "" : "s");
    if (ok && o->svg.path)
        fprintf(stderr, "pipelab: wrote %s (SVG timeline%s of %d run%s, %s)\n", o->svg.path,
                n == 1 ? "" : "s", n, n == 1 ? "" : "s",
                n > 0 && traces[0]->info.shown_steps > 1 ? "every step" : "median step");
    return 0;
}

int pl_output_stdout(char *err, size_t errlen)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    snprintf(err, errlen, "cannot write standard output: %s", strerror(errno ? errno : EIO));
    return -1;
}

const char *pl_output_printable(const char *s, int keep_newlines, char *buf, size_t n)
{
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c && used + 5 < n; c++) {
        if ((*c >= 0x20 && *c != 0x7f) || (*c == '\n' && keep_newlines))
            buf[used++] = (char)*c;
        else
            used += (size_t)snprintf(buf + used, n - used, *c == '\n' ? "\\n"
                                     : *c == '\t' ? "\\t" : "\\x%02x", *c);
    }
    buf[used < n ? used : n - 1] = '\0';
    return buf;
}
