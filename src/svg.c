/*
 * svg.c -- timelines to scale, as SVG (docs/design.md).
 *
 *   1f1b  p = 4, m = 8
 *   d0 [F0][F1][F2][F3][B0  ][F4][B1  ] ...
 *   d1 ....[F0][F1][F2][B0  ][F3] ...
 *      0    5    10   15   20 ms
 *   bubble 0.2727 (theory 0.2727) - peak activation memory 12.0 KiB (d0)
 *
 * A panel per run; every panel uses the same ns-to-pixel scale, set by the
 * longest makespan, so the pictures of several schedules compare by length.
 *
 * When messages spend time on links (chapter 07), a thin lane under device d
 * shows its link to d+1: a bar per message from its send to its arrival,
 * activations (down) in the upper half, gradients (up) in the lower.
 */
#include "svg.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

enum {
    WIDTH = 960,     /* the whole picture */
    LEFT = 48,       /* lane labels */
    RIGHT = 44,      /* room for the unit after the last tick */
    LANE = 24,       /* height of one device's lane */
    GAP = 6,         /* between lanes */
    HEADER = 30,     /* the panel's title */
    AXIS = 30,       /* ticks and their labels */
    CAPTION = 26,
    LEGEND = 36,
    LINK = 10        /* a link's lane */
};

void pl_svg_begin(FILE *out, int width, int height)
{
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
            "<style>\n"
            "text { font-family: Helvetica, Arial, sans-serif; font-size: 13px; fill: #222; }\n"
            ".title { font-size: 15px; font-weight: bold; }\n"
            ".small { font-size: 11px; fill: #555; }\n"
            "text.mb { font-size: 11px; text-anchor: middle; fill: #fff; }\n"
            "text.mb.R { fill: #222; }\n"
            ".idle { fill: #e8eaed; }\n"
            ".F { fill: #2e9e4f; } .B { fill: #1f6fd1; } .I { fill: #17a2a2; }\n"
            ".W { fill: #8e44ad; } .R { fill: #f2a900; }\n"
            ".act { stroke: #fff; stroke-width: 1; }\n"
            "/* chunks (chapter 05): the kind's colour, lighter for chunks 1 and 3 */\n"
            ".c1 { fill-opacity: 0.5; } .c2 { fill-opacity: 0.8; } .c3 { fill-opacity: 0.3; }\n"
            "text.mb.c1, text.mb.c3 { fill: #222; fill-opacity: 1; }\n"
            "text.mb.c2 { fill-opacity: 1; }\n"
            ".axis { stroke: #444; stroke-width: 1; fill: none; }\n"
            ".grid { stroke: #bbb; stroke-width: 1; stroke-dasharray: 2,3; }\n"
            "</style>\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
            width, height, width, height, width, height);
}

void pl_svg_text(const char *str, FILE *out)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        int n = pl_utf8_length(s);
        /* XML 1.0 forbids control characters (but tab, newline and return)
         * and U+FFFE, U+FFFF even as references: they become U+FFFD, as
         * bytes that are not UTF-8 do. */
        int bad = n == 0 || (*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') ||
                  (n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe);
        if (bad)
            fputs("\xef\xbf\xbd", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fwrite(s, 1, (size_t)n, out);
        s += bad ? (n ? n : 1) : n;
    }
}

/* The step a panel draws, its metrics, and where it sits. */
typedef struct {
    const pl_trace *t;
    int step, count; /* steps [step, step + count) */
    pl_metrics m;
    int top;   /* y of the panel */
    int links; /* 1 if messages of the step spent time on links */
} panel;

/* 1 if transfer x is drawn in the link lane under device d: a link to the
 * next device, or under the last device, a link between non-neighbours. */
static int in_lane(const pl_transfer *x, int d, int devices)
{
    int lo = x->from < x->to ? x->from : x->to, hi = x->from + x->to - lo;
    return hi - lo == 1 ? lo == d && d < devices - 1 : d == devices - 1;
}

/* 1 if device d of p's panel has a link lane under it. */
static int has_lane(const panel *p, int d)
{
    const pl_trace *t = p->t;
    if (!p->links)
        return 0;
    if (d < t->devices - 1)
        return 1;
    for (int k = 0; k < t->devices; k++)
        for (long i = 0; i < t->lanes[k].nsends; i++)
            if (in_lane(&t->lanes[k].sends[i], d, t->devices) &&
                t->lanes[k].sends[i].end > t->lanes[k].sends[i].start)
                return 1;
    return 0;
}

/* y of device d's lane, from the panel's top. */
static int lane_y(const panel *p, int d)
{
    int y = p->top + HEADER;
    for (int k = 0; k < d; k++)
        y += LANE + GAP + (has_lane(p, k) ? LINK + GAP : 0);
    return y;
}

/* Pixels per ns shared by all panels, and a tick spacing of 1, 2 or 5 x 10^k ns
 * (times are converted from each trace's ticks to ns first). */
typedef struct {
    double px_per_ns;
    int64_t tick;
    int64_t span;
} scale;

static int panel_height(const panel *p)
{
    return lane_y(p, p->t->devices) - p->top + AXIS + CAPTION;
}

/* A panel's time in ns from its step's start. */
static int64_t ns_of(const panel *p, int64_t ticks)
{
    return (int64_t)((double)(ticks - p->m.first_start) * p->t->info.ns_per_tick + 0.5);
}

static scale make_scale(const panel *ps, int n)
{
    scale s = {0, 1, 1};
    for (int i = 0; i < n; i++)
        if (ns_of(&ps[i], ps[i].m.first_start + ps[i].m.makespan) > s.span)
            s.span = ns_of(&ps[i], ps[i].m.first_start + ps[i].m.makespan);
    s.px_per_ns = (double)(WIDTH - LEFT - RIGHT) / (double)s.span;
    int64_t mag = 1;
    while (mag * 10 <= s.span / 8)
        mag *= 10;
    s.tick = mag;
    for (int k = 0; k < 3 && s.span / s.tick > 12; k++)
        s.tick = mag * (k == 0 ? 2 : k == 1 ? 5 : 10);
    return s;
}

static double px(const scale *s, int64_t ns)
{
    return LEFT + (double)ns * s->px_per_ns;
}

/* One action: its box, its tooltip, and its micro-batch if it fits. */
static void box(const panel *p, const scale *s, const pl_event *e, int y, FILE *out)
{
    int64_t a = ns_of(p, e->start), b = ns_of(p, e->end);
    double x0 = px(s, a), x1 = px(s, b);
    char label[32], k = pl_action_letter((pl_kind)e->kind);
    if (p->t->info.chunks > 1)
        snprintf(label, sizeof label, "%d.%d", (int)e->mb, (int)e->chunk);
    else
        snprintf(label, sizeof label, "%d", (int)e->mb);
    fprintf(out, "<rect class=\"act %c c%d\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\">"
            "<title>%c%s on d%d, stage %d: %.3f to %.3f ms</title></rect>\n",
            k, (int)e->chunk, x0, y, x1 - x0, LANE, k, label, (int)e->device, (int)e->stage,
            (double)a / 1e6, (double)b / 1e6);
    if (x1 - x0 >= 7.0 * (double)strlen(label) + 2.0)
        fprintf(out, "<text class=\"mb %c c%d\" x=\"%.2f\" y=\"%d\">%s</text>\n", k,
                (int)e->chunk, (x0 + x1) / 2, y + LANE / 2 + 4, label);
}

/* Vertical grid lines at the ticks, over the idle lanes, under the boxes. */
static void grid(const panel *p, const scale *s, FILE *out)
{
    int top = p->top + HEADER, bottom = lane_y(p, p->t->devices);
    for (int64_t t = 0; t <= s->span; t += s->tick)
        fprintf(out, "<line class=\"grid\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>\n",
                px(s, t), top, px(s, t), bottom);
}

/* The messages on the link lane under device d, at height y. */
static void transfers(const panel *p, const scale *s, int d, int y, FILE *out)
{
    const pl_trace *t = p->t;
    for (int k = 0; k < t->devices; k++)
        for (long i = 0; i < t->lanes[k].nsends; i++) {
            const pl_transfer *x = &t->lanes[k].sends[i];
            if (x->step < p->step || x->step >= p->step + p->count || x->end <= x->start ||
                !in_lane(x, d, t->devices))
                continue;
            int down = x->flow == PL_ACTIVATION;
            double x0 = px(s, ns_of(p, x->start)), x1 = px(s, ns_of(p, x->end));
            fprintf(out, "<rect class=\"link\" fill=\"%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
                    "height=\"%d\"><title>%s %d, d%d to d%d: %.3f to %.3f ms, %lld bytes"
                    "</title></rect>\n", down ? "#2e9e4f" : "#1f6fd1", x0, y + (down ? 0 : LINK / 2),
                    x1 - x0, LINK / 2, down ? "activation" : "gradient", (int)x->mb,
                    (int)x->from, (int)x->to, (double)ns_of(p, x->start) / 1e6,
                    (double)ns_of(p, x->end) / 1e6, (long long)x->bytes);
        }
}

static void lanes(const panel *p, const scale *s, FILE *out)
{
    const pl_trace *t = p->t;
    double end = px(s, ns_of(p, p->m.first_start + p->m.makespan));
    for (int d = 0; d < t->devices; d++) {
        int y = lane_y(p, d);
        fprintf(out, "<text x=\"%d\" y=\"%d\">d%d</text>\n", 12, y + LANE / 2 + 5, d);
        fprintf(out, "<rect class=\"idle\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\"/>\n",
                LEFT, y, end - LEFT, LANE);
    }
    grid(p, s, out);
    for (int d = 0; d < t->devices; d++) {
        int y = lane_y(p, d);
        for (long i = 0; i < t->lanes[d].len; i++)
            if (t->lanes[d].events[i].step >= p->step &&
                t->lanes[d].events[i].step < p->step + p->count)
                box(p, s, &t->lanes[d].events[i], y, out);
        if (has_lane(p, d))
            transfers(p, s, d, y + LANE + GAP, out);
    }
}

static void axis(const panel *p, const scale *s, FILE *out)
{
    int y = lane_y(p, p->t->devices);
    fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>\n", LEFT, y,
            px(s, s->span), y);
    for (int64_t t = 0; t <= s->span; t += s->tick) {
        double x = px(s, t);
        fprintf(out, "<line class=\"axis\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>\n", x, y,
                x, y + 4);
        fprintf(out, "<text class=\"small\" x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                x, y + 16, (double)t / 1e6);
    }
    fprintf(out, "<text class=\"small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">ms</text>\n",
            WIDTH - 4, y + 16);
}

static void caption(const panel *p, FILE *out)
{
    const pl_trace *t = p->t;
    int peak_d = 0;
    for (int d = 1; d < t->devices; d++)
        if (t->lanes[d].peak_bytes > t->lanes[peak_d].peak_bytes)
            peak_d = d;
    int y = p->top + panel_height(p) - 8;
    fprintf(out, "<text x=\"%d\" y=\"%d\">bubble %.4f", LEFT, y, p->m.bubble);
    if (t->info.formula >= 0 && p->count == 1)
        fprintf(out, " (theory %.4f)", t->info.formula);
    fprintf(out, " \xc2\xb7 %s %.3f ms \xc2\xb7 peak activation memory %.1f KiB (d%d)"
            "</text>\n", p->count == 1 ? "makespan" : "span",
            (double)p->m.makespan * t->info.ns_per_tick / 1e6,
            (double)t->lanes[peak_d].peak_bytes / 1024.0, peak_d);
}

static void header(const panel *p, FILE *out)
{
    const pl_trace_info *i = &p->t->info;
    char chunks[32] = "";
    if (i->chunks > 1)
        snprintf(chunks, sizeof chunks, ", v = %d", i->chunks);
    fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\">", 12, p->top + 20);
    pl_svg_text(i->name, out);
    fprintf(out, "</text>\n<text x=\"%d\" y=\"%d\">p = %d, m = %d%s%s, %s clock%s%s", 180,
            p->top + 20, i->devices, i->microbatches, chunks, i->recompute ? ", recompute" : "",
            i->clock, strcmp(i->executor, "simulator") == 0 ? ", simulator" : "",
            i->setup[0] ? ", " : "");
    pl_svg_text(i->setup, out);
    fputs("</text>\n", out);
    if (p->count > 1)
        fprintf(out, "<text class=\"small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">"
                "steps %d to %d of %d</text>\n", WIDTH - 4, p->top + 20, p->step + 1,
                p->step + p->count, p->t->steps);
    else if (p->t->steps > 1)
        fprintf(out, "<text class=\"small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">"
                "step %d of %d (median)</text>\n", WIDTH - 4, p->top + 20, p->step + 1,
                p->t->steps);
}

/* Swatches for the kinds that appear, then idle. */
static void legend(const panel *ps, int n, int y, FILE *out)
{
    int x = LEFT;
    for (int k = 0; k < PL_KINDS; k++) {
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            for (int d = 0; d < ps[i].t->devices && !seen; d++)
                for (long j = 0; j < ps[i].t->lanes[d].len && !seen; j++)
                    seen = ps[i].t->lanes[d].events[j].kind == k;
        if (!seen)
            continue;
        char letter = pl_action_letter((pl_kind)k);
        fprintf(out, "<rect class=\"%c\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\"/>"
                "<text x=\"%d\" y=\"%d\">%c %s</text>\n", letter, x, y, x + 20, y + 12,
                letter, pl_action_name((pl_kind)k));
        x += 40 + 8 * (int)strlen(pl_action_name((pl_kind)k));
    }
    fprintf(out, "<rect class=\"idle\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\"/>"
            "<text x=\"%d\" y=\"%d\">idle (the bubble)</text>\n", x, y, x + 20, y + 12);
    x += 150;
    int chunks = 1; /* with chunks, a forward swatch for each of the first four */
    for (int i = 0; i < n; i++)
        chunks = ps[i].t->info.chunks > chunks ? ps[i].t->info.chunks : chunks;
    for (int c = 0; chunks > 1 && c < chunks && c < 4; c++, x += 76)
        fprintf(out, "<rect class=\"F c%d\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\"/>"
                "<text x=\"%d\" y=\"%d\">chunk %d</text>\n", c, x, y, x + 20, y + 12, c);
    int links = 0;
    for (int i = 0; i < n; i++)
        links |= ps[i].links;
    if (links)
        fprintf(out, "<rect fill=\"#2e9e4f\" x=\"%d\" y=\"%d\" width=\"14\" height=\"7\"/>"
                "<rect fill=\"#1f6fd1\" x=\"%d\" y=\"%d\" width=\"14\" height=\"7\"/>"
                "<text x=\"%d\" y=\"%d\">on a link: activation, gradient</text>\n", x, y, x,
                y + 7, x + 20, y + 12);
}

int pl_svg_timeline(const pl_trace *const *traces, int n, FILE *out)
{
    panel ps[32];
    if (n < 1 || n > 32)
        return -1;
    int height = 8, ok = 1;
    for (int i = 0; i < n; i++) {
        ps[i].t = traces[i];
        ps[i].step = traces[i]->info.shown_step;
        ps[i].count = traces[i]->info.shown_steps > 1 ? traces[i]->info.shown_steps : 1;
        ps[i].top = height;
        ps[i].links = 0;
        for (int k = 0; k < ps[i].count; k++)
            ps[i].links |= pl_trace_has_transfers(traces[i], ps[i].step + k);
        ok = pl_trace_has_events(traces[i], ps[i].step) &&
             pl_metrics_steps(traces[i], ps[i].step, ps[i].count, &ps[i].m) == 0;
        height += panel_height(&ps[i]) + 10;
        if (!ok) {
            n = i;
            break;
        }
    }
    if (ok) {
        scale s = make_scale(ps, n);
        pl_svg_begin(out, WIDTH, height + LEGEND);
        for (int i = 0; i < n; i++) {
            header(&ps[i], out);
            lanes(&ps[i], &s, out);
            axis(&ps[i], &s, out);
            caption(&ps[i], out);
        }
        legend(ps, n, height + 4, out);
        fputs("</svg>\n", out);
    }
    for (int i = 0; i < n; i++)
        pl_metrics_free(&ps[i].m);
    return ok && !ferror(out) ? 0 : -1;
}
