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
 * Every message between devices is a flow arrow ("ph":"s" on the sending
 * action, "ph":"f" on the receiving one). When messages spend time on links
 * (chapter 07), each pair of devices also gets a link track, "d0->d1", with
 * one slice per message from its send to its arrival.
 *
 * Times are integer ticks; with 1 ns ticks they print exactly as microseconds
 * with three decimals. Nothing here reads a clock, so equal traces give equal
 * files.
 */
#include "chrome_trace.h"

#include <stdint.h>
#include <stdlib.h>

#include "json.h"

/* Where the events go; `count` lets each event but the first open with a comma. */
typedef struct {
    FILE *out;
    long count;
    long flows; /* flow arrows so far: their ids are unique in the file */
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

/* Where the action that consumes or produces a message is: an index into
 * [step][stage][mb][backward?] giving lane * 2^32 + event, or -1. */
typedef struct {
    int64_t *at; /* 64 bits wherever long has 32 (WebAssembly, Windows) */
    int stages, m;
} index;

static int64_t *slot(const index *ix, int step, int stage, int mb, int backward)
{
    return &ix->at[(((size_t)step * ix->stages + stage) * ix->m + mb) * 2 + backward];
}

static int index_build(const pl_trace *t, index *ix)
{
    ix->stages = t->info.devices * t->info.chunks;
    ix->m = t->info.microbatches;
    size_t n = (size_t)t->steps * ix->stages * ix->m * 2;
    ix->at = malloc(n * sizeof *ix->at);
    if (!ix->at)
        return -1;
    for (size_t i = 0; i < n; i++)
        ix->at[i] = -1;
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].len; i++) {
            const pl_event *e = &t->lanes[d].events[i];
            if (e->kind == PL_F || pl_action_is_backward((pl_kind)e->kind))
                *slot(ix, e->step, e->stage, e->mb, e->kind != PL_F) = ((int64_t)d << 32) | i;
        }
    return 0;
}

static const pl_event *event_at(const pl_trace *t, int64_t at)
{
    return at < 0 ? NULL : &t->lanes[at >> 32].events[at & 0xffffffff];
}

/* The link tracks' thread id for messages from `from` to `to`. */
static int link_tid(const pl_trace *t, int from, int to)
{
    return t->devices + from * t->devices + to;
}

/* Every message: an arrow from its sender's action to its receiver's, and
 * a slice on its link's track if it spent time there. */
static void messages(const pl_trace *t, int pid, int64_t t0, writer *w)
{
    index ix;
    if (index_build(t, &ix))
        return;
    char *named = calloc((size_t)t->devices * t->devices, 1);
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].nsends; i++) {
            const pl_transfer *x = &t->lanes[d].sends[i];
            int back = x->flow == PL_GRADIENT;
            const pl_event *src = event_at(t, *slot(&ix, x->step, x->stage + (back ? 1 : -1),
                                                    x->mb, back));
            const pl_event *dst = event_at(t, *slot(&ix, x->step, x->stage, x->mb, back));
            const char *what = back ? "gradient" : "activation";
            if (x->end > x->start) {
                int tid = link_tid(t, x->from, x->to);
                if (named && !named[x->from * t->devices + x->to]++) {
                    fprintf(next(w), "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,"
                            "\"tid\":%d,\"args\":{\"name\":\"link d%d->d%d\"}}", pid, tid,
                            (int)x->from, (int)x->to);
                    fprintf(next(w), "{\"name\":\"thread_sort_index\",\"ph\":\"M\","
                            "\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}", pid, tid,
                            tid);
                }
                fprintf(next(w), "{\"name\":\"%s %d\",\"cat\":\"link\",\"ph\":\"X\","
                        "\"pid\":%d,\"tid\":%d,\"ts\":", what, (int)x->mb, pid, tid);
                micros(t, x->start - t0, w->out);
                fputs(",\"dur\":", w->out);
                micros(t, x->end - x->start, w->out);
                fprintf(w->out, ",\"args\":{\"bytes\":%lld,\"step\":%d}}",
                        (long long)x->bytes, (int)x->step);
            }
            if (!src || !dst)
                continue;
            fprintf(next(w), "{\"name\":\"%s\",\"cat\":\"message\",\"ph\":\"s\","
                    "\"id\":%ld,\"pid\":%d,\"tid\":%d,\"ts\":", what, w->flows, pid,
                    (int)x->from);
            micros(t, src->start - t0, w->out);
            fputc('}', w->out);
            fprintf(next(w), "{\"name\":\"%s\",\"cat\":\"message\",\"ph\":\"f\","
                    "\"bp\":\"e\",\"id\":%ld,\"pid\":%d,\"tid\":%d,\"ts\":", what,
                    w->flows++, pid, (int)x->to);
            micros(t, dst->start - t0, w->out);
            fputc('}', w->out);
        }
    free(named);
    free(ix.at);
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
    messages(t, pid, t0, w);
}

int pl_chrome_trace_write(const pl_trace *const *traces, int n, FILE *out)
{
    writer w = {out, 0, 0};
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out);
    for (int i = 0; i < n; i++)
        run(traces[i], i + 1, &w);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}
