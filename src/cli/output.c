/*
 * output.c -- writing picture files so that nothing is ever half-written
 * or lost.
 */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chrome_trace.h"
#include "svg.h"

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
        int fd = mkstemp(o->temp);
        o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fd >= 0 && !o->f) {
            close(fd);
            unlink(o->temp);
        }
    }
    if (!o->f) {
        snprintf(err, errlen, "%s %s: cannot write: %s", option, path, strerror(errno));
        o->temp[0] = '\0';
        return -1;
    }
    return 0;
}

int pl_output_close(pl_output *o, int ok, const char *what, char *err, size_t errlen)
{
    if (!o->f)
        return 0;
    errno = 0;
    int failed = fflush(o->f) != 0 || ferror(o->f);
    int saved = errno;
    failed |= fclose(o->f) != 0;
    o->f = NULL;
    if (failed && !saved)
        saved = errno ? errno : EIO;
    if (ok && !failed && o->temp[0] && rename(o->temp, o->path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (o->temp[0] && (failed || !ok))
        unlink(o->temp);
    o->temp[0] = '\0';
    if (failed) {
        snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(saved));
        return -1;
    }
    if (ok && what)
        fprintf(stderr, "pipelab: wrote %s (%s)\n", o->path, what);
    return ok ? 0 : -1;
}

int pl_outputs_open(pl_outputs *o, const char *trace, const char *svg,
                    const char *schedule_file, char *err, size_t errlen)
{
    const char *inputs[2] = {schedule_file, svg};
    memset(o, 0, sizeof *o);
    if (pl_output_open(&o->trace, "--trace", trace, inputs, 2, err, errlen))
        return -1;
    inputs[1] = trace;
    if (pl_output_open(&o->svg, "--svg", svg, inputs, 2, err, errlen)) {
        char ignored[8];
        pl_output_close(&o->trace, 0, NULL, ignored, sizeof ignored);
        return -1;
    }
    return 0;
}

int pl_outputs_finish(pl_outputs *o, const pl_trace *const *traces, int n, int ok, char *err,
                      size_t errlen)
{
    char what[64];
    err[0] = '\0';
    snprintf(what, sizeof what, "%s of %d run%s", "Chrome trace", n, n == 1 ? "" : "s");
    int trace_ok = ok && o->trace.f && pl_chrome_trace_write(traces, n, o->trace.f) == 0;
    int rc = pl_output_close(&o->trace, trace_ok, what, err, errlen);
    if (ok && o->trace.path && !trace_ok && rc == 0)
        rc = -1;
    snprintf(what, sizeof what, "SVG timeline%s of %d run%s, %s", n == 1 ? "" : "s", n,
             n == 1 ? "" : "s", n > 0 && traces[0]->info.shown_steps > 1 ? "every step"
                                                                          : "median step");
    int svg_ok = ok && o->svg.f && pl_svg_timeline(traces, n, o->svg.f) == 0;
    char err2[512] = "";
    if (pl_output_close(&o->svg, svg_ok, what, err2, sizeof err2) && o->svg.path) {
        if (rc == 0 && err2[0])
            snprintf(err, errlen, "%s", err2);
        rc = -1;
    }
    if (rc && ok && !err[0])
        snprintf(err, errlen, "cannot draw the pictures: the run has no events to show "
                 "(a totals-only simulation?)");
    return rc;
}

int pl_output_stdout(char *err, size_t errlen)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    snprintf(err, errlen, "cannot write standard output: %s", strerror(errno ? errno : EIO));
    return -1;
}
