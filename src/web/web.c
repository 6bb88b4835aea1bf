/*
 * web.c -- the playground's calls (web.h): command lines through the
 * command's own parser, runs through the experiment, answers in JSON.
 */
#include "web.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "experiment.h"
#include "json.h"
#include "marks.h"
#include "run.h"
#include "svg.h"

enum { ERR_BYTES = 1 << 16 }; /* a deadlock names every device: one line each */

/* An answer being written: stdio into a growing buffer. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} answer;

static FILE *answer_open(answer *a)
{
    a->buf = NULL;
    a->len = 0;
    a->f = open_memstream(&a->buf, &a->len);
    return a->f;
}

/* The answer's text (the caller's to free), or NULL if writing it failed. */
static char *answer_close(answer *a)
{
    int bad = ferror(a->f);
    if (fclose(a->f) || bad) {
        free(a->buf);
        return NULL;
    }
    return a->buf;
}

static void string_or_null(const char *s, FILE *out)
{
    if (s)
        pl_json_string(s, out);
    else
        fputs("null", out);
}

char *pl_web_registry(void)
{
    answer a;
    if (!answer_open(&a))
        return NULL;
    int n;
    const pl_registry_entry *e = pl_registry_list(&n);
    fputc('[', a.f);
    for (int i = 0; i < n; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", a.f);
        pl_json_string(e[i].name, a.f);
        fprintf(a.f, ",\"chapter\":%d,\"placement\":\"%s\",\"chunks\":%d,\"chunks_default\":%d,"
                "\"microbatches\":%d,\"bubble\":", e[i].chapter,
                pl_route_placement_name(e[i].placement), e[i].chunks, e[i].chunks_default,
                e[i].microbatches);
        string_or_null(e[i].bubble ? e[i].bubble_text : NULL, a.f);
        fputs(",\"peak\":", a.f);
        string_or_null(e[i].peak ? e[i].peak_text : NULL, a.f);
        fputs(",\"help\":", a.f);
        pl_json_string(e[i].help, a.f);
        fputc('}', a.f);
    }
    fputc(']', a.f);
    return answer_close(&a);
}

char *pl_web_shape(const char *text)
{
    answer a;
    char err[512];
    pl_schedule s;
    if (!answer_open(&a))
        return NULL;
    if (pl_schedule_parse(text, &s, err, sizeof err)) {
        fputs("{\"error\":", a.f);
        pl_json_string(err, a.f);
        fputc('}', a.f);
    } else {
        fprintf(a.f, "{\"devices\":%d,\"microbatches\":%d,\"chunks\":%d}", s.devices,
                s.microbatches, s.chunks);
        pl_schedule_free(&s);
    }
    return answer_close(&a);
}

/* ---- runs ---- */

/* One command line and what running it gave. */
typedef struct {
    char *command;   /* the line as given */
    char *words;     /* the same, split into the arguments argv points into */
    pl_args *args;   /* its options; the experiment points into them */
    pl_experiment x; /* the run, when ok */
    int ok;
    int over_budget; /* --device-memory refused it; x ran without the limit */
    char *err;       /* why it failed, or the budget's refusal */
} run;

/* Write `content` to `path`: the schedule a --schedule-file names. */
static int write_file(const char *path, const char *content, char *err, size_t errlen)
{
    if (!content) {
        snprintf(err, errlen, "--schedule-file %s: no schedule text was given", path);
        return -1;
    }
    FILE *f = fopen(path, "w");
    int ok = f && fputs(content, f) >= 0;
    if (f && fclose(f))
        ok = 0;
    if (!ok)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

/* The line's words, split at spaces, into argv[1..); returns argc. */
static int split(char *words, char **argv, int max)
{
    int argc = 1; /* argv[0], the program, is the caller's */
    for (char *w = words; *w;) {
        while (*w == ' ')
            *w++ = '\0';
        if (*w == '\0')
            break;
        if (argc == max)
            return -1;
        argv[argc++] = w;
        while (*w && *w != ' ')
            w++;
    }
    return argc;
}

/* Free what a failed run built, leaving x zeroed for the next. */
static void forget(pl_experiment *x)
{
    pl_experiment_free(x);
    memset(x, 0, sizeof *x);
}

/* Parse and run r's command as `pipelab run` would (a schedule file checked
 * first, as run.c does; then the experiment). Refused by --device-memory,
 * run it again without the limit, so the page can show by how much. */
static int start(run *r, const char *schedule_text)
{
    char program[] = "pipelab", *argv[128];
    argv[0] = program;
    int argc = split(r->words, argv, (int)(sizeof argv / sizeof argv[0]));
    if (argc < 0) {
        snprintf(r->err, ERR_BYTES, "too many arguments");
        return -1;
    }
    pl_options_defaults(&r->args->opt);
    if (pl_args_parse(r->args, argc, argv, r->err, ERR_BYTES))
        return -1;
    const pl_options *o = &r->args->opt;
    if (r->args->command != PL_CMD_RUN || !o->simulate) {
        snprintf(r->err, ERR_BYTES, "the playground runs `pipelab run --simulate` only");
        return -1;
    }
    if (o->schedule_file && (write_file(o->schedule_file, schedule_text, r->err, ERR_BYTES) ||
                             pl_cli_check_file(r->args, r->err, ERR_BYTES)))
        return -1;
    if (pl_experiment_run(o, &r->x, r->err, ERR_BYTES) == 0)
        return 0;
    forget(&r->x);
    if (!o->device_memory)
        return -1;
    pl_options unlimited = *o;
    unlimited.device_memory = 0;
    size_t n = strlen(r->err) + 1; /* the refusal stays; a second message goes after it */
    if (n >= ERR_BYTES || pl_experiment_run(&unlimited, &r->x, r->err + n, ERR_BYTES - n)) {
        forget(&r->x);
        return -1;
    }
    r->over_budget = 1;
    return 0;
}

/* Per device, [end, activation bytes, bytes in transit] after each action of
 * the step shown, end in ns from the step's first start. */
static void json_memory(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    pl_metrics m;
    int64_t first = 0;
    if (pl_metrics_compute(t, x->step, &m) == 0) {
        first = m.first_start;
        pl_metrics_free(&m);
    }
    fputc('[', out);
    for (int d = 0; d < t->devices; d++) {
        const pl_lane *l = &t->lanes[d];
        int n = 0;
        fputs(d ? ",[" : "[", out);
        for (long i = 0; i < l->len; i++) {
            const pl_event *e = &l->events[i];
            if (e->step != x->step)
                continue;
            fputs(n++ ? ",[" : "[", out);
            pl_json_number((double)(e->end - first) * t->info.ns_per_tick, out);
            fprintf(out, ",%lld,%lld]", (long long)e->held, (long long)e->in_transit);
        }
        fputc(']', out);
    }
    fputc(']', out);
}

/* The schedule that ran, in the text format. */
static void json_schedule(const pl_schedule *s, FILE *out)
{
    answer a;
    char *text = NULL;
    if (answer_open(&a)) {
        pl_schedule_write(s, a.f);
        text = answer_close(&a);
    }
    string_or_null(text, out);
    free(text);
}

static void json_run(const run *r, const char *schedule_text, FILE *out)
{
    fputs("{\"command\":", out);
    pl_json_string(r->command, out);
    if (!r->ok) {
        fputs(",\"ok\":false,\"error\":", out);
        pl_json_string(r->err, out);
        fputs(",\"marks\":", out);
        pl_marks_json(r->err, r->args->opt.schedule_file ? schedule_text : NULL, out);
        fputc('}', out);
        return;
    }
    fputs(",\"ok\":true,\"summary\":", out);
    pl_experiment_json(&r->x, out);
    fputs(",\"schedule\":", out);
    json_schedule(&r->x.schedule, out);
    fputs(",\"memory\":", out);
    json_memory(&r->x, out);
    fputs(",\"over_budget\":", out);
    string_or_null(r->over_budget ? r->err : NULL, out);
    fputc('}', out);
}

/* Every run that succeeded, on one time axis, as svg.h draws them. */
static void json_svg(const run *runs, int n, FILE *out)
{
    const pl_trace **traces = calloc((size_t)n + 1, sizeof *traces);
    answer a;
    char *svg = NULL;
    int k = 0;
    for (int i = 0; traces && i < n; i++)
        if (runs[i].ok)
            traces[k++] = &runs[i].x.result.trace;
    if (k > 0 && answer_open(&a)) {
        int bad = pl_svg_timeline(traces, k, a.f);
        svg = answer_close(&a);
        if (bad) {
            free(svg);
            svg = NULL;
        }
    }
    string_or_null(svg, out);
    free(svg);
    free(traces);
}

/* The lines of `commands` that hold something, as runs to start. */
static run *read_commands(const char *commands, int *n)
{
    int lines = 1;
    for (const char *p = commands; *p; p++)
        lines += *p == '\n';
    run *runs = calloc((size_t)lines, sizeof *runs);
    *n = 0;
    for (const char *line = commands; runs && *line;) {
        size_t len = strcspn(line, "\n");
        if (strspn(line, " \r") < len) {
            run *r = &runs[(*n)++];
            r->command = malloc(len + 1);
            r->words = malloc(len + 1);
            r->args = calloc(1, sizeof *r->args);
            r->err = calloc(ERR_BYTES, 1);
            if (r->command && r->words) {
                memcpy(r->command, line, len);
                r->command[len] = '\0';
                r->command[strcspn(r->command, "\r")] = '\0';
                memcpy(r->words, r->command, len + 1);
            }
        }
        line += len + (line[len] == '\n');
    }
    return runs;
}

char *pl_web_run(const char *commands, const char *schedule_text)
{
    int n;
    answer a;
    run *runs = read_commands(commands, &n);
    char *json = NULL;
    for (int i = 0; runs && i < n; i++) {
        run *r = &runs[i];
        if (!r->command || !r->words || !r->args || !r->err)
            goto out;
        r->ok = start(r, schedule_text) == 0;
    }
    if (runs && answer_open(&a)) {
        fputs("{\"runs\":[", a.f);
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', a.f);
            json_run(&runs[i], schedule_text, a.f);
        }
        fputs("],\"svg\":", a.f);
        json_svg(runs, n, a.f);
        fputs("}", a.f);
        json = answer_close(&a);
    }
out:
    for (int i = 0; runs && i < n; i++) {
        pl_experiment_free(&runs[i].x);
        free(runs[i].command);
        free(runs[i].words);
        free(runs[i].args);
        free(runs[i].err);
    }
    free(runs);
    return json;
}

void pl_web_free(char *json)
{
    free(json);
}
