/**
 * @file utf8.h
 * @brief Telling valid UTF-8 from bytes that only look like text.
 *
 * Names that reach the outputs -- a schedule file's path in the JSON
 * summary, the Chrome trace and the SVG titles -- are bytes a user chose.
 * json.c and svg.c write each valid UTF-8 sequence as it is and replace
 * every other byte, so the files they write are valid whatever the name.
 *
 * Invariant: a sequence accepted here is a well-formed UTF-8 encoding of
 * one code point (no overlong form, no surrogate, nothing past U+10FFFF).
 */
#ifndef PL_UTF8_H
#define PL_UTF8_H

/**
 * Length of the valid UTF-8 sequence starting at s (1 to 4 bytes), or 0 if
 * the bytes there are not one. s is NUL-terminated; a NUL ends any
 * sequence.
 */
int pl_utf8_length(const unsigned char *s);

#endif
