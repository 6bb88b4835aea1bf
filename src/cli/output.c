/*
 * output.c -- opening, drawing into and closing the picture files.
 */
#include "output.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "chrome_trace.h"
#include "svg.h"

FILE *pl_output_open(const char *option, const char *path, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!path)
        return NULL;
    FILE *f = fopen(path, "wb");
    if (!f)
        snprintf(err, errlen, "%s %s: cannot write: %s", option, path, strerror(errno));
    return f;
}

int pl_output_close(FILE *f, const char *path, int ok, char *err, size_t errlen)
{
    if (!f)
        return 0;
    errno = 0;
    int failed = ferror(f);
    failed |= fclose(f) != 0;
    if (failed)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    struct stat st;
    if ((failed || !ok) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        remove(path); /* a half-written picture; never a device like /dev/stdout */
    return failed || !ok ? -1 : 0;
}

int pl_outputs_open(pl_outputs *o, const char *trace, const char *svg, char *err,
                    size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->trace_path = trace;
    o->svg_path = svg;
    o->trace = pl_output_open("--trace", trace, err, errlen);
    if (trace && !o->trace)
        return -1;
    o->svg = pl_output_open("--svg", svg, err, errlen);
    if (svg && !o->svg) {
        char ignored[8];
        pl_output_close(o->trace, trace, 0, ignored, sizeof ignored);
        return -1;
    }
    return 0;
}

/* Close one picture file; `drawn` says whether drawing into it succeeded. */
static int finish(FILE *f, const char *path, int ok, int drawn, char *err, size_t errlen)
{
    if (pl_output_close(f, path, ok && drawn, err, errlen) == 0)
        return 0;
    if (ok && !err[0])
        snprintf(err, errlen, "cannot draw %s: the run has no actions to show", path);
    return -1;
}

int pl_outputs_finish(pl_outputs *o, const pl_experiment *runs, int n, int ok, char *err,
                      size_t errlen)
{
    err[0] = '\0';
    int trace_ok = ok && o->trace && pl_chrome_trace_write(runs, n, o->trace) == 0;
    int svg_ok = ok && o->svg && pl_svg_timeline(runs, n, o->svg) == 0;
    int rc = finish(o->trace, o->trace_path, ok, trace_ok, err, errlen);
    if (finish(o->svg, o->svg_path, ok, svg_ok, err, errlen))
        rc = -1;
    memset(o, 0, sizeof *o);
    return rc;
}
