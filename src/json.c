/*
 * json.c -- JSON strings and numbers that are always valid.
 */
#include "json.h"

#include <math.h>

#include "utf8.h"

void pl_json_string(const char *str, FILE *out)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    while (*s) {
        size_t plain = 0; /* printable ASCII needs no escape: written in one go */
        while (s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\')
            plain++;
        fwrite(s, 1, plain, out);
        s += plain;
        if (!*s)
            break;
        int n = pl_utf8_length(s);
        if (n == 0) {
            fputs("\\ufffd", out); /* not UTF-8: say so, keep the JSON valid */
            s++;
        } else if (*s == '"' || *s == '\\') {
            fprintf(out, "\\%c", *s++);
        } else if (*s < 0x20 || *s == 0x7f) {
            fprintf(out, "\\u%04x", (unsigned)*s++);
        } else {
            fwrite(s, 1, (size_t)n, out);
            s += n;
        }
    }
    fputc('"', out);
}

void pl_json_number(double x, FILE *out)
{
    if (isfinite(x))
        fprintf(out, "%.9g", x);
    else
        fputs("null", out);
}
