/*
 * jsoncheck.h -- a strict JSON validator (RFC 8259) for the tests.
 *
 * Recursive descent over the whole grammar: objects, arrays, strings (no raw
 * control characters, only the standard escapes), numbers (no leading zeros,
 * no NaN, no trailing dot), true, false, null, and nothing after the value.
 * The text must be valid UTF-8 (RFC 8259, section 8.1). Strict on purpose:
 * Perfetto and chrome://tracing accept what this accepts.
 */
#ifndef PL_TEST_JSONCHECK_H
#define PL_TEST_JSONCHECK_H

#include <string.h>

#include "utf8check.h"

typedef struct {
    const char *p;
    int depth;
} json_in;

static inline int json_value(json_in *in);

static inline void json_ws(json_in *in)
{
    while (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r')
        in->p++;
}

static inline int json_digits(json_in *in)
{
    const char *start = in->p;
    while (*in->p >= '0' && *in->p <= '9')
        in->p++;
    return in->p > start ? 0 : -1;
}

static inline int json_number(json_in *in)
{
    if (*in->p == '-')
        in->p++;
    if (*in->p == '0')
        in->p++;
    else if (json_digits(in))
        return -1;
    if (*in->p == '.') {
        in->p++;
        if (json_digits(in))
            return -1;
    }
    if (*in->p == 'e' || *in->p == 'E') {
        in->p++;
        if (*in->p == '+' || *in->p == '-')
            in->p++;
        if (json_digits(in))
            return -1;
    }
    return 0;
}

static inline int json_string(json_in *in)
{
    if (*in->p++ != '"')
        return -1;
    for (;;) {
        unsigned char c = (unsigned char)*in->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1; /* raw control character, or the end of the text */
        if (c != '\\')
            continue;
        c = (unsigned char)*in->p++;
        if (c == 'u') {
            for (int k = 0; k < 4; k++, in->p++)
                if (!strchr("0123456789abcdefABCDEF", *in->p) || !*in->p)
                    return -1;
        } else if (!c || !strchr("\"\\/bfnrt", c)) {
            return -1;
        }
    }
}

/* An object or an array: open, members separated by commas, close. */
static inline int json_container(json_in *in, char close, int object)
{
    in->p++;
    if (++in->depth > 64)
        return -1;
    json_ws(in);
    if (*in->p == close) {
        in->p++;
        in->depth--;
        return 0;
    }
    for (;;) {
        json_ws(in);
        if (object) {
            if (json_string(in))
                return -1;
            json_ws(in);
            if (*in->p++ != ':')
                return -1;
        }
        if (json_value(in))
            return -1;
        json_ws(in);
        char c = *in->p++;
        if (c == close) {
            in->depth--;
            return 0;
        }
        if (c != ',')
            return -1;
    }
}

static inline int json_literal(json_in *in, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(in->p, word, n))
        return -1;
    in->p += n;
    return 0;
}

static inline int json_value(json_in *in)
{
    json_ws(in);
    switch (*in->p) {
    case '{': return json_container(in, '}', 1);
    case '[': return json_container(in, ']', 0);
    case '"': return json_string(in);
    case 't': return json_literal(in, "true");
    case 'f': return json_literal(in, "false");
    case 'n': return json_literal(in, "null");
    default: return *in->p == '-' || (*in->p >= '0' && *in->p <= '9') ? json_number(in) : -1;
    }
}

/* 0 if `text` is exactly one valid JSON value (with surrounding whitespace);
 * otherwise the 1-based offset of the first error. */
static inline long json_check(const char *text)
{
    long bad = utf8_check(text, NULL);
    if (bad)
        return bad;
    json_in in = {text, 0};
    if (json_value(&in) == 0) {
        json_ws(&in);
        if (*in.p == '\0')
            return 0;
    }
    return (long)(in.p - text) + 1;
}

#endif
