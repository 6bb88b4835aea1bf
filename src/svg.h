/**
 * @file svg.h
 * @brief Timelines as SVG pictures, for the chapters and the Doxygen site.
 *
 * The same picture as the terminal timeline (trace.h), drawn to scale: one
 * lane per device, time to the right, one box per executed action coloured by
 * its kind -- forward green, backward blue, input-grad teal, weight-grad
 * purple, recomputed forward amber -- with its micro-batch inside (and its
 * chunk, "3.1", when devices hold several). The grey
 * lane behind the boxes is the idle time, the bubble. Under each timeline a
 * time axis and a caption give the measured bubble (beside the chapter's
 * formula) and the peak activation memory. Several runs stack on one shared
 * time axis, so a longer makespan is a longer picture. docs/design.md describes
 * the pictures; every chapter's README shows one.
 *
 * Invariant: the output depends only on the runs (no dates, no random ids),
 * so the virtual clock gives byte-identical files.
 */
#ifndef PL_SVG_H
#define PL_SVG_H

#include <stdio.h>

#include "trace.h"

/**
 * Draw the shown step (info.shown_step; with info.shown_steps > 1, that many
 * steps from it) of each of traces[0..n) as one SVG 1.1 document on `out`:
 * one panel per trace, top to bottom, all on the same time scale. Each
 * executed action of those steps (recomputed forwards included) is exactly
 * one `<rect class="act K cC">` (K its kind letter, C its chunk), with a
 * `<title>` naming it. Returns 0, or -1 if n < 1, a trace
 * has no events for that step, or writing to `out` failed.
 */
int pl_svg_timeline(const pl_trace *const *traces, int n, FILE *out);

/**
 * The SVG prologue shared with the plots (plot.h): the XML declaration, the
 * `<svg>` element of the given size, and the `<style>` block holding the
 * colours of the action kinds and the text sizes. Close with `</svg>`.
 */
void pl_svg_begin(FILE *out, int width, int height);

/**
 * Write `s` as XML character data: &, < and > (and quotes) escaped; control
 * characters XML cannot hold and bytes that are not UTF-8 replaced by
 * U+FFFD, so the document is well-formed whatever the bytes.
 */
void pl_svg_text(const char *s, FILE *out);

#endif
