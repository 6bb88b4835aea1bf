/*
 * chrome_trace.c -- runs in the Trace Event Format (docs/design.md).
 *
 *   {"traceEvents":[
 *   {"name":"process_name","ph":"M","pid":1,"args":{"name":"1f1b p=4 m=8"}},
 *   {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"d0"}},
 *   {"name":"F0","cat":"F","ph":"X","pid":1,"tid":0,"ts":0.000,"dur":1000.000,...},
 *   {"name":"activation d0","ph":"C","pid":1,"tid":0,"ts":1000.000,"args":{"bytes":4096}},
 *   ...]}
 *
 * Times are integer ticks; with 1 ns ticks they print exactly as microseconds
 * with three decimals. Nothing here reads a clock, so equal traces give equal
 * files.
 */
#include "chrome_trace.h"

#include <stdint.h>

#include "json.h"

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

/* Ticks as microseconds: exactly ("12.345") when a tick is 1 ns. */
static void micros(const pl_trace *t, int64_t ticks, FILE *out)
{
    if (t->info.ns_per_tick == 1.0)
        fprintf(out, "%lld.%03lld", (long long)(ticks / 1000), (long long)(ticks % 1000));
    else
        fprintf(out, "%.6f", (double)ticks * t->info.ns_per_tick / 1000.0);
}

static int64_t first_start(const pl_trace *t)
{
    int64_t first = INT64_MAX;
    for (int d = 0; d < t->devices; d++)
        if (t->lanes[d].len > 0 && t->lanes[d].events[0].start < first)
            first = t->lanes[d].events[0].start;
    return first == INT64_MAX ? 0 : first;
}

static void names(const pl_trace *t, int pid, writer *w)
{
    char name[1024], chunks[32] = "";
    if (t->info.chunks > 1)
        snprintf(chunks, sizeof chunks, " v=%d", t->info.chunks);
    snprintf(name, sizeof name, "%s p=%d m=%d%s%s", t->info.name, t->info.devices,
             t->info.microbatches, chunks, t->info.recompute ? " recompute" : "");
    fprintf(next(w), "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":", pid);
    pl_json_string(name, w->out);
    fputs("}}", w->out);
    fprintf(next(w), "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,"
            "\"args\":{\"sort_index\":%d}}", pid, pid);
    for (int d = 0; d < t->devices; d++) {
        fprintf(next(w), "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"name\":\"d%d\"}}", pid, d, d);
        fprintf(next(w), "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"sort_index\":%d}}", pid, d, d);
    }
}

static void action(const pl_trace *t, const pl_event *e, int pid, int64_t t0, writer *w)
{
    char name[24], k = pl_action_letter((pl_kind)e->kind);
    pl_action a = {(pl_kind)e->kind, e->mb, e->chunk};
    fprintf(next(w), "{\"name\":\"%s\",\"cat\":\"%c\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,"
            "\"ts\":", pl_action_format(a, t->info.chunks, name, sizeof name), k, pid,
            (int)e->device);
    micros(t, e->start - t0, w->out);
    fputs(",\"dur\":", w->out);
    micros(t, e->end - e->start, w->out);
    fprintf(w->out, ",\"args\":{\"kind\":\"%c\",\"microbatch\":%d,\"stage\":%d,\"chunk\":%d,"
            "\"step\":%d}}", k, (int)e->mb, (int)e->stage, (int)e->chunk, (int)e->step);
}

static void counter(const pl_trace *t, int pid, int d, int64_t ts, int64_t bytes, writer *w)
{
    fprintf(next(w), "{\"name\":\"activation d%d\",\"ph\":\"C\",\"pid\":%d,\"tid\":%d,\"ts\":",
            d, pid, d);
    micros(t, ts, w->out);
    fprintf(w->out, ",\"args\":{\"bytes\":%lld}}", (long long)bytes);
}

static void run(const pl_trace *t, int pid, writer *w)
{
    int64_t t0 = first_start(t);
    names(t, pid, w);
    for (int d = 0; d < t->devices; d++) {
        const pl_lane *l = &t->lanes[d];
        int64_t held = 0;
        if (l->len > 0)
            counter(t, pid, d, l->events[0].start - t0, 0, w);
        for (long i = 0; i < l->len; i++) {
            const pl_event *e = &l->events[i];
            action(t, e, pid, t0, w);
            if (e->held != held)
                counter(t, pid, d, e->end - t0, e->held, w);
            held = e->held;
        }
    }
}

int pl_chrome_trace_write(const pl_trace *const *traces, int n, FILE *out)
{
    writer w = {out, 0};
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out);
    for (int i = 0; i < n; i++)
        run(traces[i], i + 1, &w);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}
