/*
 * schedule_text.c -- the schedule text format of DESIGN 3.2: write, parse,
 * load.
 *
 * The parser reads the text format line by line with a small cursor. It is
 * tolerant of layout (blank lines, '#' comments anywhere, runs of spaces and
 * tabs, CRLF line ends) and strict about content: the three header keys
 * `devices`, `microbatches` and `chunks` exactly once each, in any order,
 * before the first device line; then exactly one line per device, in any
 * order. Limits: devices <= 4096, microbatches <= 1<<20, chunks <= 64.
 * Columns count bytes from 1 (a tab is one column). It never reads past
 * the terminating NUL, never recurses, and bounds every number before it can
 * overflow, so arbitrary bytes yield an error message, never a crash.
 */
#include "schedule.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEVICES = 4096, MAX_MICROBATCHES = 1 << 20, MAX_CHUNKS = 64 };

/* ---- writing ---- */

void pl_schedule_write(const pl_schedule *s, FILE *out)
{
    char name[32];
    fprintf(out, "# pipelab schedule\ndevices %d\nmicrobatches %d\nchunks %d\n",
            s->devices, s->microbatches, s->chunks);
    for (int d = 0; d < s->devices; d++) {
        fprintf(out, "d%d:", d);
        for (int i = 0; i < s->len[d]; i++)
            fprintf(out, " %s", pl_action_format(s, s->actions[d][i], name, sizeof name));
        fputc('\n', out);
    }
}

/* ---- reading ---- */

typedef struct {
    const char *at;         /* next byte to read */
    const char *line_start; /* first byte of the current line */
    long line;              /* 1-based */
    char *err;
    size_t errlen;
} cursor;

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int ends_line(char c) { return c == '\0' || c == '\n' || c == '#'; }
static int at_eol(const cursor *c) { return ends_line(*c->at); }

static void skip_blanks(cursor *c)
{
    while (is_blank(*c->at))
        c->at++;
}

static void next_line(cursor *c)
{
    while (*c->at && *c->at != '\n')
        c->at++;
    if (*c->at == '\n') {
        c->at++;
        c->line++;
        c->line_start = c->at;
    }
}

/* "line L, column C: " then the message; returns -1 for the caller to pass on. */
static int fail(const cursor *c, const char *fmt, ...)
{
    int n = snprintf(c->err, c->errlen, "line %ld, column %ld: ", c->line,
                     (long)(c->at - c->line_start) + 1);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "expected WHAT, found X" where X is the token at the cursor, quoted with
 * unprintable bytes escaped, or "end of line" / "end of input" / "a space". */
static int expected(const cursor *c, const char *what)
{
    char tok[96];
    size_t n = 0;
    if (*c->at == '\0')
        return fail(c, "expected %s, found end of input", what);
    if (at_eol(c))
        return fail(c, "expected %s, found end of line", what);
    if (is_blank(*c->at))
        return fail(c, "expected %s, found a space", what);
    for (const char *q = c->at; *q && !is_blank(*q) && *q != '\n' && q - c->at < 20; q++) {
        unsigned char b = (unsigned char)*q;
        if (b >= 32 && b < 127 && b != '\\')
            tok[n++] = (char)b;
        else
            n += (size_t)snprintf(tok + n, sizeof tok - n, "\\x%02x", b);
    }
    tok[n] = '\0';
    return fail(c, "expected %s, found '%s'", what, tok);
}

/* A decimal number in min..max at the cursor. On error the cursor stays at
 * the number's first byte, so the message quotes it. */
static int number(cursor *c, long min, long max, long *out, const char *what)
{
    const char *start = c->at;
    long v = 0;
    if (!is_digit(*c->at))
        return expected(c, what);
    for (; is_digit(*c->at); c->at++)
        if (v <= max)
            v = 10 * v + (*c->at - '0'); /* max < LONG_MAX / 10: cannot overflow */
    if (v < min || v > max) {
        c->at = start;
        return expected(c, what);
    }
    *out = v;
    return 0;
}

static int end_of_line(cursor *c, const char *after)
{
    char what[64];
    skip_blanks(c);
    if (at_eol(c))
        return 0;
    snprintf(what, sizeof what, "end of line after %s", after);
    return expected(c, what);
}

static const char *const header_key[3] = {"devices", "microbatches", "chunks"};
static const long header_max[3] = {MAX_DEVICES, MAX_MICROBATCHES, MAX_CHUNKS};

static int is_device_line(const cursor *c) { return c->at[0] == 'd' && is_digit(c->at[1]); }

/* Reports what should come next, given the header keys already read. */
static int missing(const cursor *c, const long value[3])
{
    char what[64];
    for (int k = 0; k < 3; k++)
        if (!value[k]) {
            snprintf(what, sizeof what, "'%s'", header_key[k]);
            return expected(c, what);
        }
    return expected(c, "a device line such as 'd0:'");
}

/* One header line, "KEY N": fills value[k] for the key k it names. */
static int parse_header(cursor *c, long value[3])
{
    char what[64];
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(header_key[k]);
        if (strncmp(c->at, header_key[k], n) != 0 ||
            !(is_blank(c->at[n]) || ends_line(c->at[n])))
            continue;
        if (value[k])
            return fail(c, "'%s' given twice", header_key[k]);
        c->at += n;
        skip_blanks(c);
        snprintf(what, sizeof what, "a number of %s 1..%ld", header_key[k], header_max[k]);
        if (number(c, 1, header_max[k], &value[k], what))
            return -1;
        return end_of_line(c, header_key[k]);
    }
    return missing(c, value);
}

/* One action, "F3" or "B2.1", appended to device d. */
static int parse_action(cursor *c, pl_schedule *s, int d)
{
    static const char letters[] = "FBIW";
    char what[64];
    const char *k = *c->at ? strchr(letters, *c->at) : NULL;
    long mb = 0, chunk = 0; /* number() sets it; gcc -O3 cannot see that */
    if (!k)
        return expected(c, "an action: F, B, I or W and a micro-batch");
    c->at++;
    snprintf(what, sizeof what, "a micro-batch 0..%d", s->microbatches - 1);
    if (number(c, 0, s->microbatches - 1, &mb, what))
        return -1;
    if (*c->at == '.' || s->chunks > 1) {
        if (*c->at != '.')
            return expected(c, "'.' and a chunk");
        c->at++;
        snprintf(what, sizeof what, "a chunk 0..%d", s->chunks - 1);
        if (number(c, 0, s->chunks - 1, &chunk, what))
            return -1;
    }
    if (!at_eol(c) && !is_blank(*c->at))
        return expected(c, "a space between actions");
    if (pl_schedule_push(s, d, (pl_kind)(k - letters), (int)mb, (int)chunk))
        return fail(c, "out of memory");
    return 0;
}

/* One device line, "dK: A A A"; first_line[K] remembers where K was seen. */
static int parse_device(cursor *c, pl_schedule *s, long *first_line)
{
    char what[64];
    long d = 0; /* number() sets it; gcc -O3 cannot see that */
    const char *start = c->at++; /* past the 'd' */
    snprintf(what, sizeof what, "a device line d0..d%d", s->devices - 1);
    if (number(c, 0, s->devices - 1, &d, what)) {
        c->at = start;
        return expected(c, what);
    }
    if (first_line[d]) {
        c->at = start;
        return fail(c, "expected one line per device, found a second line for d%ld "
                    "(the first is line %ld)", d, first_line[d]);
    }
    first_line[d] = c->line;
    skip_blanks(c);
    if (*c->at != ':')
        return expected(c, "':' after the device");
    c->at++;
    for (skip_blanks(c); !at_eol(c); skip_blanks(c))
        if (parse_action(c, s, (int)d))
            return -1;
    return 0;
}

/* The whole text: header lines until all three keys are known (then s is
 * initialised), then device lines. */
static int parse_lines(cursor *c, pl_schedule *s, long **first_line)
{
    long value[3] = {0, 0, 0};
    for (;; next_line(c)) {
        skip_blanks(c);
        if (*c->at == '\0')
            break;
        if (at_eol(c))
            continue;
        if (!is_device_line(c)) {
            if (parse_header(c, value))
                return -1;
        } else if (!s->devices) {
            return missing(c, value);
        } else if (parse_device(c, s, *first_line)) {
            return -1;
        }
        if (!s->devices && value[0] && value[1] && value[2] &&
            (pl_schedule_init(s, (int)value[0], (int)value[1], (int)value[2]) ||
             !(*first_line = calloc((size_t)value[0], sizeof **first_line))))
            return fail(c, "out of memory");
    }
    if (!s->devices)
        return missing(c, value);
    for (int d = 0; d < s->devices; d++)
        if (!(*first_line)[d])
            return fail(c, "expected a line for d%d, found end of input", d);
    return 0;
}

int pl_schedule_parse(const char *text, pl_schedule *s, char *err, size_t errlen)
{
    cursor c = {text, text, 1, err, errlen};
    long *first_line = NULL;
    *s = (pl_schedule){0};
    int rc = parse_lines(&c, s, &first_line);
    free(first_line);
    if (rc)
        pl_schedule_free(s);
    return rc;
}

/* The whole file as a NUL-terminated string (caller frees), or NULL. */
static char *slurp(FILE *f, size_t *len)
{
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap *= 2) : NULL;
        if (!grown)
            free(buf);
        buf = grown;
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

int pl_schedule_load(const char *path, pl_schedule *s, char *err, size_t errlen)
{
    *s = (pl_schedule){0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len;
    char *text = slurp(f, &len);
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (!text || bad) {
        snprintf(err, errlen, "%s: %s", path, bad ? strerror(bad) : "out of memory");
        free(text);
        return -1;
    }
    int rc = -1, n = snprintf(err, errlen, "%s: ", path);
    if (strlen(text) != len)
        snprintf(err, errlen, "%s: a NUL byte at offset %zu: not a text file", path, strlen(text));
    else if (n >= 0 && (size_t)n < errlen)
        rc = pl_schedule_parse(text, s, err + n, errlen - (size_t)n);
    else
        rc = pl_schedule_parse(text, s, NULL, 0);
    free(text);
    return rc;
}

