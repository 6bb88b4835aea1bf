/*
 * schedule_text.c -- the schedule text format of docs/design.md: write, parse,
 * load.
 *
 * The parser reads the text format line by line with a small cursor. It is
 * tolerant of layout (blank lines, '#' comments anywhere, runs of spaces and
 * tabs, CRLF line ends, a UTF-8 byte-order mark) and strict about content:
 * the three header keys `devices`, `microbatches` and `chunks` exactly once
 * each, and optionally `placement loop|v` (default loop), in any order, before
 * the first device line; then exactly one line per device, in any order.
 * Limits: devices <= 4096, microbatches <= 1<<20, chunks <= 64.
 * Columns count bytes from 1 (a tab is one column). It never reads past
 * the terminating NUL, never recurses, and bounds every number before it can
 * overflow, so arbitrary bytes yield an error message, never a crash.
 */
#include "schedule.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_DEVICES = 4096, MAX_MICROBATCHES = 1 << 20, MAX_CHUNKS = 64 };

/* ---- writing ---- */

int pl_schedule_write(const pl_schedule *s, FILE *out)
{
    char name[32];
    fprintf(out, "# pipelab schedule\ndevices %d\nmicrobatches %d\nchunks %d\n",
            s->devices, s->microbatches, s->chunks);
    if (s->chunks > 1 || s->placement != PL_PLACE_LOOP)
        fprintf(out, "placement %s\n", pl_route_placement_name(s->placement));
    for (int d = 0; d < s->devices; d++) {
        fprintf(out, "d%d:", d);
        for (int i = 0; i < s->len[d]; i++)
            fprintf(out, " %s", pl_schedule_format(s, s->actions[d][i], name, sizeof name));
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- reading ---- */

typedef struct {
    const char *at;         /* next byte to read */
    const char *line_start; /* first byte of the current line */
    long line;              /* 1-based */
    char *err;
    size_t errlen;
    int want_device;        /* pl_schedule_locate: the device sought, or -1 ... */
    int want_index;         /* ... and its action, or -1 for the device line */
    pl_text_span found;     /* where it is; line 0 until found */
} cursor;

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int ends_line(char c) { return c == '\0' || c == '\n' || c == '#'; }
static int at_eol(const cursor *c) { return ends_line(*c->at); }

/* pl_schedule_locate: if action `index` of `device` (-1: its line) is what
 * is sought, remember where it is, from `at` up to a blank or the line end. */
static void note(cursor *c, int device, int index, const char *at)
{
    if (device != c->want_device || index != c->want_index || c->found.line)
        return;
    const char *end = at;
    while (!ends_line(*end) && !is_blank(*end))
        end++;
    c->found = (pl_text_span){c->line, (long)(at - c->line_start) + 1, (long)(end - at)};
}

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

/* The header: three numbers and an optional placement name. */
enum { DEVICES, MICROBATCHES, CHUNKS, PLACEMENT, N_KEYS };
static const char *const header_key[N_KEYS] = {"devices", "microbatches", "chunks",
                                              "placement"};
static const long header_max[3] = {MAX_DEVICES, MAX_MICROBATCHES, MAX_CHUNKS};

typedef struct {
    long value[3];          /* devices, microbatches, chunks; 0 = not given */
    int placement_given;
    pl_placement placement;
} header;

static int is_device_line(const cursor *c) { return c->at[0] == 'd' && is_digit(c->at[1]); }

/* Reports what should come next, given the header keys already read. */
static int missing(const cursor *c, const header *h)
{
    char what[64];
    for (int k = 0; k < 3; k++)
        if (!h->value[k]) {
            snprintf(what, sizeof what, "'%s'", header_key[k]);
            return expected(c, what);
        }
    return expected(c, "a device line such as 'd0:'");
}

/* "placement loop" or "placement v". */
static int parse_placement(cursor *c, header *h)
{
    const char *start = c->at;
    while (!at_eol(c) && !is_blank(*c->at))
        c->at++;
    char name[16];
    size_t n = (size_t)(c->at - start);
    if (n == 0 || n >= sizeof name) {
        c->at = start;
        return expected(c, "a placement: loop or v");
    }
    memcpy(name, start, n);
    name[n] = '\0';
    if (pl_route_placement_parse(name, &h->placement)) {
        c->at = start;
        return expected(c, "a placement: loop or v");
    }
    h->placement_given = 1;
    return end_of_line(c, "the placement");
}

/* One header line, "KEY VALUE". */
static int parse_header(cursor *c, header *h)
{
    char what[64];
    for (int k = 0; k < N_KEYS; k++) {
        size_t n = strlen(header_key[k]);
        if (strncmp(c->at, header_key[k], n) != 0 ||
            !(is_blank(c->at[n]) || ends_line(c->at[n])))
            continue;
        if (k == PLACEMENT ? h->placement_given : h->value[k] != 0)
            return fail(c, "'%s' given twice", header_key[k]);
        c->at += n;
        skip_blanks(c);
        if (k == PLACEMENT)
            return parse_placement(c, h);
        snprintf(what, sizeof what, "a number of %s 1..%ld", header_key[k], header_max[k]);
        if (number(c, 1, header_max[k], &h->value[k], what))
            return -1;
        return end_of_line(c, header_key[k]);
    }
    return missing(c, h);
}

/* One action, "F3" or "B2.1", appended to device d. */
static int parse_action(cursor *c, pl_schedule *s, int d)
{
    char what[64];
    pl_kind kind;
    long mb = 0, chunk = 0; /* number() sets it; gcc -O3 cannot see that */
    note(c, d, s->len[d], c->at);
    if (pl_action_kind(*c->at, &kind))
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
    if (pl_schedule_push(s, d, kind, (int)mb, (int)chunk))
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
    note(c, (int)d, -1, start);
    skip_blanks(c);
    if (*c->at != ':')
        return expected(c, "':' after the device");
    c->at++;
    for (skip_blanks(c); !at_eol(c); skip_blanks(c))
        if (parse_action(c, s, (int)d))
            return -1;
    return 0;
}

/* Start the schedule once the header is complete: at the first device line. */
static int start(cursor *c, const header *h, pl_schedule *s, long **first_line)
{
    for (int k = 0; k < 3; k++)
        if (!h->value[k])
            return missing(c, h);
    if (pl_schedule_init(s, (int)h->value[DEVICES], (int)h->value[MICROBATCHES],
                         (int)h->value[CHUNKS]) ||
        !(*first_line = calloc((size_t)h->value[DEVICES], sizeof **first_line)))
        return fail(c, "out of memory");
    s->placement = h->placement;
    return 0;
}

/* The whole text: header lines, then device lines. */
static int parse_lines(cursor *c, pl_schedule *s, long **first_line)
{
    header h = {{0, 0, 0}, 0, PL_PLACE_LOOP};
    if ((unsigned char)c->at[0] == 0xef && (unsigned char)c->at[1] == 0xbb &&
        (unsigned char)c->at[2] == 0xbf)
        c->at += 3; /* a UTF-8 byte-order mark, as some editors write */
    for (;; next_line(c)) {
        skip_blanks(c);
        if (*c->at == '\0')
            break;
        if (at_eol(c))
            continue;
        if (!is_device_line(c)) {
            if (s->devices && !strncmp(c->at, "placement", 9) && !h.placement_given)
                return fail(c, "'placement' must come before the first device line");
            if (parse_header(c, &h))
                return -1;
        } else if (!s->devices && start(c, &h, s, first_line)) {
            return -1;
        } else if (parse_device(c, s, *first_line)) {
            return -1;
        }
    }
    if (!s->devices)
        return missing(c, &h);
    for (int d = 0; d < s->devices; d++)
        if (!(*first_line)[d])
            return fail(c, "expected a line for d%d, found end of input", d);
    return 0;
}

int pl_schedule_parse(const char *text, pl_schedule *s, char *err, size_t errlen)
{
    cursor c = {text, text, 1, err, errlen, -1, -1, {0, 0, 0}};
    long *first_line = NULL;
    *s = (pl_schedule){0};
    int rc = parse_lines(&c, s, &first_line);
    free(first_line);
    if (rc)
        pl_schedule_free(s);
    return rc;
}

int pl_schedule_locate(const char *text, int device, int index, pl_text_span *at)
{
    cursor c = {text, text, 1, NULL, 0, device, index < 0 ? -1 : index, {0, 0, 0}};
    pl_schedule s = {0};
    long *first_line = NULL;
    parse_lines(&c, &s, &first_line); /* as far as it parses: what is sought may come first */
    free(first_line);
    pl_schedule_free(&s);
    *at = c.found;
    return c.found.line ? 0 : -1;
}

/* Open `path` for reading if it is a regular file of at most
 * PL_SCHEDULE_MAX_BYTES. O_NONBLOCK keeps open() itself from waiting for a
 * writer when the path is a FIFO; such files are refused before any read. */
static FILE *open_regular(const char *path, size_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > PL_SCHEDULE_MAX_BYTES) {
        if (!S_ISREG(st.st_mode))
            snprintf(err, errlen, "%s: not a regular file (a schedule is read from a file)",
                     path);
        else
            snprintf(err, errlen, "%s: %lld bytes, more than the %ld a schedule file may "
                     "hold", path, (long long)st.st_size, PL_SCHEDULE_MAX_BYTES);
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
    }
    *size = (size_t)st.st_size;
    return f;
}

int pl_schedule_load(const char *path, pl_schedule *s, char *err, size_t errlen)
{
    *s = (pl_schedule){0};
    size_t size;
    FILE *f = open_regular(path, &size, err, errlen);
    if (!f)
        return -1;
    /* Read at most the size fstat saw (+1 to notice growth), never more. */
    char *text = malloc(size + 2);
    size_t len = text ? fread(text, 1, size + 1, f) : 0;
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (!text || bad || len > size) {
        snprintf(err, errlen, "%s: %s", path,
                 !text ? "out of memory" : bad ? strerror(bad) : "the file grew while read");
        free(text);
        return -1;
    }
    text[len] = '\0';
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
