/**
 * @file marks.h
 * @brief Where the places a message names are written in a schedule's text.
 *
 * `pipelab` names a problem in a schedule by its place: the parser by line
 * and column ("line 5, column 15: expected ..."), the validator by device
 * and position ("d1 position 0 (B0): ...", "d1: micro-batch 0 has no
 * backward"), a deadlock by every blocked action ("deadlock: d0 blocked at
 * position 1 (B0) ..."; validate.c writes these). The playground (web.h)
 * marks each in the text the learner typed, with pl_schedule_locate.
 *
 * Invariant: the message is read as `pipelab` wrote it; a line that names
 * no place (or a place the text does not hold) is left out, never guessed.
 */
#ifndef PL_MARKS_H
#define PL_MARKS_H

#include <stdio.h>

/**
 * Write, as a JSON array, one `{"line","column","length","blocked","message"}`
 * per line of `err` that names a place in `text`: where it is written (line
 * and column from 1, length in bytes up to the next blank), whether it is a
 * deadlock's blocked action, and that line of the message. With `text` NULL
 * (no schedule text), `[]`.
 */
void pl_marks_json(const char *err, const char *text, FILE *out);

#endif
