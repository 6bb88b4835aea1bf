/*
 * chrome_trace.c -- runs in the Trace Event Format (DESIGN 3.3).
 *
 *   {"traceEvents":[
 *   {"name":"process_name","ph":"M","pid":1,"args":{"name":"1f1b p=4 m=8"}},
 *   {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"d0"}},
 *   {"name":"F0","cat":"F","ph":"X","pid":1,"tid":0,"ts":0.000,"dur":1000.000,...},
 *   {"name":"activation d0","ph":"C","pid":1,"tid":0,"ts":1000.000,"args":{"bytes":4096}},
 *   ...]}
 *
 * Times are integer nanoseconds, so they print exactly as microseconds with
 * three decimals; nothing here reads a clock, so equal traces give equal files.
 */
#include "chrome_trace.h"

#include <stdint.h>

#include "data.h"

/* Where the events go; `count` lets each event but the first open with a comma. */
typedef struct {
    FILE *out;
    long count;
} writer;

static FILE *next(writer *w)
{
    if (w->count++ > 0)
        fputs(",\n", w->out);
    return w->out;
}

/* ns as microseconds, exactly: "12.345". */
static void micros(int64_t ns, FILE *out)
{
    fprintf(out, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static int64_t first_start(const pl_trace *t)
{
    int64_t first = INT64_MAX;
    for (int d = 0; d < t->devices; d++)
        if (t->lanes[d].len > 0 && t->lanes[d].events[0].start < first)
            first = t->lanes[d].events[0].start;
    return first == INT64_MAX ? 0 : first;
}

static void names(const pl_experiment *x, int pid, writer *w)
{
    char name[1024];
    snprintf(name, sizeof name, "%s p=%d m=%d%s", x->name, x->schedule.devices,
             x->schedule.microbatches, x->opt.recompute ? " recompute" : "");
    fprintf(next(w), "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":", pid);
    pl_json_string(name, w->out);
    fputs("}}", w->out);
    fprintf(next(w), "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,"
            "\"args\":{\"sort_index\":%d}}", pid, pid);
    for (int d = 0; d < x->result.trace.devices; d++) {
        fprintf(next(w), "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"name\":\"d%d\"}}", pid, d, d);
        fprintf(next(w), "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"sort_index\":%d}}", pid, d, d);
    }
}

static void action(const pl_event *e, int pid, int64_t t0, writer *w)
{
    fprintf(next(w), "{\"name\":\"%c%d\",\"cat\":\"%c\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,"
            "\"ts\":", e->kind, (int)e->mb, e->kind, pid, (int)e->device);
    micros(e->start - t0, w->out);
    fputs(",\"dur\":", w->out);
    micros(e->end - e->start, w->out);
    fprintf(w->out, ",\"args\":{\"kind\":\"%c\",\"microbatch\":%d,\"stage\":%d,\"chunk\":%d,"
            "\"step\":%d}}", e->kind, (int)e->mb, (int)e->stage, (int)e->chunk, (int)e->step);
}

static void counter(int pid, int d, int64_t ts, size_t bytes, writer *w)
{
    fprintf(next(w), "{\"name\":\"activation d%d\",\"ph\":\"C\",\"pid\":%d,\"tid\":%d,\"ts\":",
            d, pid, d);
    micros(ts, w->out);
    fprintf(w->out, ",\"args\":{\"bytes\":%zu}}", bytes);
}

/* Activation bytes held by the device after event e, given what it held
 * before: pl_stash_delta, the rule the runtime and the simulator follow. */
static size_t held_after(const pl_experiment *x, const pl_event *e, size_t held)
{
    const pl_job *j = &x->job;
    int first = j->partition->first[e->stage], count = j->partition->count[e->stage];
    int start, rows;
    pl_microbatch_range(j->batch, x->schedule.microbatches, e->mb, &start, &rows);
    return (size_t)((int64_t)held + pl_stash_delta(j, first, count, rows, e->kind));
}

static void run(const pl_experiment *x, int pid, writer *w)
{
    const pl_trace *t = &x->result.trace;
    int64_t t0 = first_start(t);
    names(x, pid, w);
    for (int d = 0; d < t->devices; d++) {
        const pl_lane *l = &t->lanes[d];
        size_t held = 0;
        if (l->len > 0)
            counter(pid, d, l->events[0].start - t0, 0, w);
        for (long i = 0; i < l->len; i++) {
            const pl_event *e = &l->events[i];
            action(e, pid, t0, w);
            size_t after = held_after(x, e, held);
            if (after != held)
                counter(pid, d, e->end - t0, after, w);
            held = after;
        }
    }
}

int pl_chrome_trace_write(const pl_experiment *runs, int n, FILE *out)
{
    writer w = {out, 0};
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out);
    for (int i = 0; i < n; i++)
        run(&runs[i], i + 1, &w);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}
