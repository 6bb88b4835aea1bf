/*
 * timeline.c -- a pipeline drawn in the terminal (docs/design.md).
 *
 *   d0 |F0F1F2F3B0....
 *   d1 |..F0F1F2F3B0..
 *
 * One row per device, time to the right. When every time in the step is a
 * multiple of a common unit (uniform costs on the virtual clock), each unit
 * gets a whole number of columns, so equal actions draw as equal boxes.
 *
 * When messages spend time on links (chapter 07), a row under device d shows
 * the link to d+1: '>' while an activation travels down it, '<' while a
 * gradient travels up, '=' when both do.
 *
 *   d0  |F0F1F2F3....
 *   0-1 |.>.>.>.>....
 *   d1  |...F0F1F2...
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "trace.h"

#define LABEL 5 /* "d12 |" */

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Ticks per column: a whole number of columns per common unit when that
 * fits, else just enough to fit the step in `width` columns. */
static int64_t per_column(const pl_trace *t, int step, int count, int64_t first,
                          int64_t makespan, int width)
{
    int64_t g = 0;
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].len; i++) {
            const pl_event *e = &t->lanes[d].events[i];
            if (e->step >= step && e->step < step + count)
                g = gcd(gcd(g, e->start - first), e->end - first);
        }
    if (g > 0 && makespan / g <= width) {
        int64_t per_unit = width / (makespan / g);
        if (per_unit > 4)
            per_unit = 4;
        if (g % per_unit == 0)
            return g / per_unit;
    }
    if (g > 0 && makespan / g <= 64 * (int64_t)width) /* a whole number of units per column */
        return g * ((makespan / g + width - 1) / width);
    return (makespan + width - 1) / width;
}

/* ANSI colours by kind: F green, B blue, I cyan, W magenta, R yellow. */
static const char *colour_of(pl_kind kind)
{
    static const char *const ansi[PL_KINDS] = {"\033[30;42m", "\033[30;44m", "\033[30;46m",
                                               "\033[30;45m", "\033[30;43m"};
    return ansi[(unsigned)kind < PL_KINDS ? kind : PL_R];
}

/* Fill row[lo, hi) with one action: its label ("F3", "F3.1" with chunks),
 * then '-' to the box's end; just its letter if the label does not fit.
 * kinds[] keeps kind + 1 per column (0: idle) for the colours. */
static void draw_box(char *row, char *kinds, int lo, int hi, const pl_event *e, int chunks)
{
    char label[24], letter = pl_action_letter((pl_kind)e->kind);
    pl_action a = {(pl_kind)e->kind, e->mb, e->chunk};
    int n = (int)strlen(pl_action_format(a, chunks, label, sizeof label));
    for (int c = lo; c < hi; c++) {
        int k = c - lo;
        row[c] = (n <= hi - lo && k < n) ? label[k] : (k == 0 ? letter : '-');
        kinds[c] = (char)(e->kind + 1);
    }
}

static void print_row(const char *row, const char *kinds, int width, int colour,
                      FILE *out)
{
    for (int c = 0; c < width; c++) {
        if (colour && kinds[c] && (c == 0 || kinds[c - 1] != kinds[c]))
            fputs(colour_of((pl_kind)(kinds[c] - 1)), out);
        if (colour && !kinds[c] && c > 0 && kinds[c - 1])
            fputs("\033[0m", out);
        fputc(row[c], out);
    }
    if (colour)
        fputs("\033[0m", out);
    fputc('\n', out);
}

static int64_t ticks_per_column(const pl_trace *t, int step, int count, int columns)
{
    pl_metrics m;
    if (pl_metrics_steps(t, step, count, &m) != 0)
        return 1;
    int width = columns - LABEL > 10 ? columns - LABEL : 10;
    int64_t npc = per_column(t, step, count, m.first_start, m.makespan, width);
    pl_metrics_free(&m);
    return npc < 1 ? 1 : npc;
}

int64_t pl_timeline_ticks_per_column(const pl_trace *t, int step, int columns)
{
    return ticks_per_column(t, step, 1, columns);
}

/* The row of the link between devices a and a+1 (or, for a = p-1, every
 * link between devices that are not neighbours) over steps [step, step +
 * count): '>' where an activation travels, '<' where a gradient does, '='
 * both. 1 if anything travelled. */
static int link_row(const pl_trace *t, int step, int count, int a, int64_t first, int64_t npc,
                    int used, char *row)
{
    int any = 0, last = t->devices - 1;
    memset(row, '.', (size_t)used);
    for (int d = 0; d < t->devices; d++)
        for (long i = 0; i < t->lanes[d].nsends; i++) {
            const pl_transfer *x = &t->lanes[d].sends[i];
            int lo = x->from < x->to ? x->from : x->to, hi = x->from + x->to - lo;
            int mine = hi - lo == 1 ? lo == a && a < last : a == last;
            if (x->step < step || x->step >= step + count || x->end <= x->start || !mine)
                continue;
            char c = x->flow == PL_ACTIVATION ? '>' : '<';
            int c0 = (int)((x->start - first) / npc), c1 = (int)((x->end - first) / npc);
            for (int k = c0; k <= c1 && k < used; k++)
                if (k == c0 || k < c1 || (x->end - first) % npc)
                    row[k] = row[k] == '.' || row[k] == c ? c : '=';
            any = 1;
        }
    return any;
}

void pl_timeline_print(const pl_trace *t, int step, int columns, int colour, FILE *out)
{
    pl_timeline_print_steps(t, step, 1, columns, colour, out);
}

void pl_timeline_print_steps(const pl_trace *t, int step, int count, int columns, int colour,
                             FILE *out)
{
    pl_metrics m;
    if (t->devices < 1 || !t->lanes[0].keep_events) {
        fprintf(out, "(this trace kept totals only: no timeline)\n");
        return;
    }
    if (pl_metrics_steps(t, step, count, &m) != 0)
        return;
    int64_t npc = ticks_per_column(t, step, count, columns);
    int width = columns - LABEL > 10 ? columns - LABEL : 10;
    int used = (int)((m.makespan + npc - 1) / npc);
    int links = 0;
    for (int k = 0; k < count; k++)
        links |= pl_trace_has_transfers(t, step + k);
    char *row = malloc((size_t)width + 1), *kinds = malloc((size_t)width + 1);
    for (int d = 0; row && kinds && d < t->devices; d++) {
        memset(row, '.', (size_t)width);
        memset(kinds, 0, (size_t)width);
        for (long i = 0; i < t->lanes[d].len; i++) {
            const pl_event *e = &t->lanes[d].events[i];
            if (e->step < step || e->step >= step + count)
                continue;
            int lo = (int)((e->start - m.first_start) / npc);
            int hi = (int)((e->end - m.first_start) / npc);
            if (hi == lo)
                hi = lo + 1;
            draw_box(row, kinds, lo, hi < used ? hi : used, e, t->info.chunks);
        }
        fprintf(out, "d%-3d|", d);
        print_row(row, kinds, used, colour, out);
        if (links && link_row(t, step, count, d, m.first_start, npc, used, row)) {
            char label[16];
            snprintf(label, sizeof label, d + 1 < t->devices ? "%d-%d" : "wrap", d, d + 1);
            fprintf(out, "%-4s|%.*s\n", label, used, row);
        }
    }
    char end[40], span[32], column[32];
    double ms = t->info.ns_per_tick / 1e6;
    int n = snprintf(end, sizeof end, "%s ms",
                     pl_clock_ms_text((double)m.makespan * ms, span, sizeof span));
    fprintf(out, "%*s0%*s  (1 column = %s ms)\n", LABEL, "", used - 1 > n ? used - 1 : n + 1,
            end, pl_clock_ms_text((double)npc * ms, column, sizeof column));
    free(row);
    free(kinds);
    pl_metrics_free(&m);
}
