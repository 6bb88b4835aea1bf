/*
 * marks.c -- where the places a message names are written in a schedule's
 * text (marks.h).
 */
#include "marks.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "schedule.h"

/* The stretch of `text` from line `line`, column `column` to the next blank. */
static pl_text_span span_at(const char *text, long line, long column)
{
    const char *p = text;
    for (long l = 1; l < line && *p; p++)
        if (*p == '\n')
            l++;
    for (long c = 1; c < column && *p && *p != '\n'; c++)
        p++;
    long n = 0;
    while (p[n] && p[n] != '\n' && p[n] != ' ' && p[n] != '\t' && p[n] != '\r')
        n++;
    return (pl_text_span){line, column, n};
}

/* Where one line of an error message points in the schedule's text: the
 * parser's "line L, column C", the validator's "dD position I (" and "dD: ",
 * a deadlock's "deadlock: dD blocked at position I (" (schedule_text.c and
 * validate.c write them). Returns 0, or -1 if it names no place. */
static int locate(const char *msg, const char *text, pl_text_span *at, int *blocked)
{
    int d, i, k = 0;
    long line, column;
    *blocked = 0;
    if (sscanf(msg, "deadlock: d%d blocked at position %d (%n", &d, &i, &k) == 2 && k) {
        *blocked = 1;
        return pl_schedule_locate(text, d, i, at);
    }
    if (sscanf(msg, "d%d position %d (%n", &d, &i, &k) == 2 && k)
        return pl_schedule_locate(text, d, i, at);
    if (sscanf(msg, "d%d: %n", &d, &k) == 1 && k)
        return pl_schedule_locate(text, d, -1, at);
    const char *p = strstr(msg, ": line ");
    if (p && sscanf(p, ": line %ld, column %ld: %n", &line, &column, &k) == 2 && k) {
        *at = span_at(text, line, column);
        return 0;
    }
    return -1;
}

void pl_marks_json(const char *err, const char *text, FILE *out)
{
    char msg[1024];
    int n = 0;
    fputc('[', out);
    for (const char *line = err; text && *line;) {
        size_t len = strcspn(line, "\n");
        snprintf(msg, sizeof msg, "%.*s", (int)(len < sizeof msg ? len : sizeof msg - 1), line);
        pl_text_span at;
        int blocked;
        if (locate(msg, text, &at, &blocked) == 0) {
            fprintf(out, "%s{\"line\":%ld,\"column\":%ld,\"length\":%ld,\"blocked\":%s,"
                    "\"message\":", n++ ? "," : "", at.line, at.column, at.length,
                    blocked ? "true" : "false");
            pl_json_string(msg, out);
            fputc('}', out);
        }
        line += len + (line[len] == '\n');
    }
    fputc(']', out);
}
