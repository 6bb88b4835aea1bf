/**
 * @file json.h
 * @brief Writing JSON that is always valid: strings and numbers.
 *
 * The JSON summary (--json) and the Chrome trace both print names that come
 * from users (a schedule file's path) and numbers that could in principle
 * be NaN. These two functions are the only way either reaches a JSON file.
 *
 * Invariant: whatever the input bytes, the output is valid JSON.
 */
#ifndef PL_JSON_H
#define PL_JSON_H

#include <stdio.h>

/**
 * Write s as a JSON string literal: quotes, backslashes and control
 * characters escaped, bytes that are not valid UTF-8 replaced by U+FFFD.
 */
void pl_json_string(const char *s, FILE *out);

/** Write x as a JSON number (%.9g), or `null` if it is NaN or infinite. */
void pl_json_number(double x, FILE *out);

#endif
