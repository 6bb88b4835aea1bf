/*
 * utf8check.h -- what text a test accepts as UTF-8, decoded independently
 * of src/utf8.c (RFC 3629: no overlong form, no surrogate, nothing past
 * U+10FFFF), for the JSON and XML checks.
 */
#ifndef PL_TEST_UTF8CHECK_H
#define PL_TEST_UTF8CHECK_H

/* The code point at s, its length in *len; -1 if the bytes there are not UTF-8. */
static inline long utf8_decode(const unsigned char *s, int *len)
{
    static const long least[5] = {0, 0, 0x80, 0x800, 0x10000};
    int n = s[0] < 0x80 ? 1 : s[0] >= 0xf8 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3
          : s[0] >= 0xc0 ? 2 : 0;
    if (n == 0)
        return -1;
    long cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *len = n;
    return cp;
}

/* 0 if text is valid UTF-8 and every code point passes allowed(); else the
 * 1-based offset of the first that does not. */
static inline long utf8_check(const char *text, int (*allowed)(long cp))
{
    const unsigned char *s = (const unsigned char *)text;
    for (long at = 0; s[at];) {
        int n;
        long cp = utf8_decode(s + at, &n);
        if (cp < 0 || (allowed && !allowed(cp)))
            return at + 1;
        at += n;
    }
    return 0;
}

#endif
