/*
 * plot.c -- the sweep plot (docs/design.md): bubble against m, measured points
 * on the chapters' curves.
 *
 *   1 |o..
 *     |   `o..         o measured    -- theory
 *     |       `o...o
 *   0 +---+---+---+---  m (log2)
 *     1   2   4   8
 */
#include "plot.h"

#include <math.h>
#include <string.h>

#include "registry.h"
#include "svg.h"

enum { WIDTH = 720, HEIGHT = 440, LEFT = 70, RIGHT = 190, TOP = 46, BOTTOM = 56 };

static const char *const colours[] = {"#d1495b", "#edae49", "#2e9e4f", "#1f6fd1",
                                      "#8e44ad", "#17a2a2", "#444444", "#e07b39"};

int pl_sweep_add(pl_sweep *s, const char *name, int v, int x, double bubble)
{
    int i = 0;
    while (i < s->count && strcmp(s->series[i].name, name) != 0)
        i++;
    if (i == s->count) {
        if (s->count == PL_SWEEP_SERIES)
            return -1;
        memset(&s->series[i], 0, sizeof s->series[i]);
        s->series[i].name = name;
        s->series[i].v = v;
        s->count++;
    }
    pl_sweep_series *r = &s->series[i];
    if (r->n == PL_SWEEP_POINTS)
        return -1;
    r->x[r->n] = x;
    r->bubble[r->n++] = bubble;
    return 0;
}

/* The plot's frame: x from 1 to xmax on a log2 scale, y from 0 to 1. */
typedef struct {
    int xmax;
} frame;

static double fx(const frame *f, double x)
{
    double span = f->xmax > 1 ? log2((double)f->xmax) : 1.0;
    return LEFT + log2(x) / span * (WIDTH - LEFT - RIGHT);
}

static double fy(double b)
{
    return TOP + (1.0 - b) * (HEIGHT - TOP - BOTTOM);
}

static void axes(const pl_sweep *s, const frame *f, FILE *out)
{
    int x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM;
    for (int k = 0; k <= 10; k += 2) {
        double y = fy(k / 10.0);
        fprintf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\"/>\n"
                "<text class=\"small\" x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%.1f</text>\n",
                x0, y, x1, y, x0 - 8, y + 4, k / 10.0);
    }
    /* ticks at powers of two; v, which a sweep steps by one, gets every value */
    for (int x = 1; x <= f->xmax; x = s->over_v ? x + 1 : 2 * x) {
        double px = fx(f, x);
        fprintf(out, "<line class=\"axis\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>\n"
                "<text class=\"small\" x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                px, y0, px, y0 + 5, px, y0 + 18, x);
        if (!s->over_v && x > f->xmax / 2)
            break;
    }
    fprintf(out, "<polyline class=\"axis\" points=\"%d,%d %d,%d %d,%d\"/>\n", x0, TOP, x0, y0,
            x1, y0);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            (x0 + x1) / 2, y0 + 40, s->over_p ? "p, devices (log scale)"
                                  : s->over_v ? "v, chunks per device (log scale)"
                                              : "m, micro-batches per step (log scale)");
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">"
            "bubble</text>\n", 22, (TOP + y0) / 2, 22, (TOP + y0) / 2);
    if (s->over_v)
        fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\">Bubble against v (p = %d, "
                "m = %d): measured points, analytic curves</text>\n", x0, 26, s->fixed,
                s->fixed2);
    else
        fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\">Bubble against %s (%s = %d): "
                "measured points, analytic curves</text>\n", x0, 26, s->over_p ? "p" : "m",
                s->over_p ? "m" : "p", s->fixed);
}

/* A marker per series, so points of schedules with equal bubbles stay visible:
 * each later series draws smaller, on top. */
static void marker(int i, double x, double y, const char *c, FILE *out)
{
    double r = 9.0 - 1.6 * (i % 4);
    if (i % 2 == 0)
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"2\"/>\n", x, y, r, c);
    else
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                x - r * 0.6, y - r * 0.6, 1.2 * r, 1.2 * r, c);
}

static void series(const pl_sweep *s, const frame *f, int i, FILE *out)
{
    const pl_sweep_series *r = &s->series[i];
    const char *c = colours[i % (int)(sizeof colours / sizeof colours[0])];
    const pl_registry_entry *e = pl_registry_find(r->name);
    int open = 0; /* a polyline is open; the curve breaks where the formula does not apply */
    for (int x = r->x[0]; e && r->n > 1 && x <= r->x[r->n - 1]; x++) {
        double th = s->over_p ? pl_registry_bubble(e, x, s->fixed, r->v)
                  : s->over_v ? pl_registry_bubble(e, s->fixed, s->fixed2, x)
                              : pl_registry_bubble(e, s->fixed, x, r->v);
        if (th < 0 && open)
            fputs("\"/>\n", out);
        else if (th >= 0 && !open)
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-dasharray=\"%d,3\" points=\"%.2f,%.2f", c, 10 - 2 * (i % 4),
                    fx(f, x), fy(th));
        else if (th >= 0)
            fprintf(out, " %.2f,%.2f", fx(f, x), fy(th));
        open = th >= 0;
    }
    if (open)
        fputs("\"/>\n", out);
    for (int k = 0; k < r->n; k++)
        marker(i, fx(f, r->x[k]), fy(r->bubble[k]), c, out);
    int y = TOP + 10 + 26 * i, x = WIDTH - RIGHT + 24;
    marker(i, x + 10, y, c, out);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" "
            "stroke-dasharray=\"%d,3\"/>\n<text x=\"%d\" y=\"%d\">", x + 22, y, x + 46, y, c,
            10 - 2 * (i % 4), x + 54, y + 5);
    pl_svg_text(r->name, out);
    fputs("</text>\n", out);
}

int pl_plot_sweep(const pl_sweep *s, FILE *out)
{
    frame f = {1};
    for (int i = 0; i < s->count; i++)
        for (int k = 0; k < s->series[i].n; k++)
            if (s->series[i].x[k] > f.xmax)
                f.xmax = s->series[i].x[k];
    if (s->count == 0)
        return -1;
    pl_svg_begin(out, WIDTH, HEIGHT);
    axes(s, &f, out);
    for (int i = 0; i < s->count; i++)
        series(s, &f, i, out);
    int y = TOP + 10 + 26 * s->count + 8;
    fprintf(out, "<text class=\"small\" x=\"%d\" y=\"%d\">marks: measured</text>\n"
            "<text class=\"small\" x=\"%d\" y=\"%d\">dashes: theory</text>\n",
            WIDTH - RIGHT + 24, y, WIDTH - RIGHT + 24, y + 16);
    fputs("</svg>\n", out);
    return ferror(out) ? -1 : 0;
}
