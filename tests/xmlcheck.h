/*
 * xmlcheck.h -- an XML well-formedness check for the tests (XML 1.0, ASCII
 * names): an optional declaration, comments, exactly one root element, every
 * start tag closed by its own end tag, attributes quoted and not repeated,
 * no '<' in text or attribute values, and every '&' a known entity or a
 * character reference; and every character one XML 1.0 allows, in valid
 * UTF-8. What passes here parses in browsers and rsvg.
 */
#ifndef PL_TEST_XMLCHECK_H
#define PL_TEST_XMLCHECK_H

#include <string.h>

#include "utf8check.h"

enum { XML_DEPTH = 64, XML_NAME = 64, XML_ATTRS = 32 };

static inline int xml_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

/* Read a name into out; returns its length, 0 if there is none. */
static inline size_t xml_name(const char **p, char *out)
{
    size_t n = 0;
    while (xml_name_char(**p, n == 0) && n < XML_NAME - 1)
        out[n++] = *(*p)++;
    out[n] = '\0';
    return n;
}

static inline void xml_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

/* Character data up to `stop` (or '<'): every '&' must start a reference. */
static inline int xml_chars(const char **p, char stop)
{
    static const char *const entities[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    while (**p && **p != '<' && **p != stop) {
        if (*(*p)++ != '&')
            continue;
        int ok = 0;
        for (int k = 0; k < 5 && !ok; k++)
            if (!strncmp(*p, entities[k], strlen(entities[k]))) {
                *p += strlen(entities[k]);
                ok = 1;
            }
        if (!ok && **p == '#') {
            const char *digits = (*p)[1] == 'x' ? "0123456789abcdefABCDEF" : "0123456789";
            *p += (*p)[1] == 'x' ? 2 : 1;
            const char *start = *p;
            while (**p && strchr(digits, **p))
                (*p)++;
            ok = *p > start && **p == ';';
            *p += ok;
        }
        if (!ok)
            return -1;
    }
    return 0;
}

/* A start tag after its '<': name, attributes, then '>' or '/>'. Sets *empty. */
static inline int xml_start_tag(const char **p, char *name, int *empty)
{
    char attrs[XML_ATTRS][XML_NAME];
    int n = 0;
    if (!xml_name(p, name))
        return -1;
    for (;;) {
        const char *before = *p;
        xml_ws(p);
        if (**p == '>' || (**p == '/' && (*p)[1] == '>')) {
            *empty = **p == '/';
            *p += *empty ? 2 : 1;
            return 0;
        }
        if (*p == before || n == XML_ATTRS || !xml_name(p, attrs[n]))
            return -1; /* attributes need white space before them */
        for (int k = 0; k < n; k++)
            if (!strcmp(attrs[k], attrs[n]))
                return -1;
        n++;
        xml_ws(p);
        if (*(*p)++ != '=')
            return -1;
        xml_ws(p);
        char q = *(*p)++;
        if ((q != '"' && q != '\'') || xml_chars(p, q) || *(*p)++ != q)
            return -1;
    }
}

/* Skip "<!--...-->" or "<?...?>" at *p; returns 1 if one was skipped, -1 if unterminated. */
static inline int xml_skip_misc(const char **p)
{
    const char *open[] = {"<!--", "<?"}, *close[] = {"-->", "?>"};
    for (int k = 0; k < 2; k++)
        if (!strncmp(*p, open[k], strlen(open[k]))) {
            const char *end = strstr(*p + strlen(open[k]), close[k]);
            if (!end)
                return -1;
            *p = end + strlen(close[k]);
            return 1;
        }
    return 0;
}

/* XML 1.0, production [2]: the characters a document may hold. */
static inline int xml_allowed(long cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/* 0 if `text` is a well-formed XML document; otherwise the 1-based offset of
 * the first problem. */
static inline long xml_check(const char *text)
{
    long bad = utf8_check(text, xml_allowed);
    if (bad)
        return bad;
    char stack[XML_DEPTH][XML_NAME], name[XML_NAME];
    int depth = 0, roots = 0;
    const char *p = text;
    while (*p) {
        int misc = xml_skip_misc(&p);
        if (misc < 0)
            break;
        if (misc)
            continue;
        if (*p != '<') {
            if (depth == 0) { /* only white space outside the root */
                const char *before = p;
                xml_ws(&p);
                if (p == before)
                    break;
            } else if (xml_chars(&p, '<')) {
                break;
            }
            continue;
        }
        p++;
        if (*p == '/') {
            p++;
            if (depth == 0 || !xml_name(&p, name) || strcmp(name, stack[depth - 1]))
                break;
            xml_ws(&p);
            if (*p++ != '>')
                break;
            depth--;
            continue;
        }
        int empty;
        if ((depth == 0 && roots++ > 0) || depth == XML_DEPTH ||
            xml_start_tag(&p, stack[depth], &empty))
            break;
        depth += !empty;
    }
    return *p == '\0' && depth == 0 && roots == 1 ? 0 : (long)(p - text) + 1;
}

#endif
