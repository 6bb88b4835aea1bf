/**
 * @file plot.h
 * @brief The sweep plot: bubble against m (or p), measured beside theory.
 *
 * `pipelab sweep` runs every schedule for m = 1, 2, 4, ... (or p = 1, 2, 4,
 * ...) and this module draws what it measured as points on the analytic
 * curves of the chapters -- (p-1)/p for naive and microbatch, (p-1)/(m+p-1)
 * for GPipe and 1F1B. Points on their curve say the threads behave as the
 * formula says; chapter 03 uses the plot to show the bubble shrinking with m.
 *
 * Invariant: the picture depends only on the sweep's numbers, so the same
 * sweep gives a byte-identical file.
 */
#ifndef PL_PLOT_H
#define PL_PLOT_H

#include <stdio.h>

/** Most schedules and points a sweep holds. */
enum { PL_SWEEP_SERIES = 16, PL_SWEEP_POINTS = 32 };

/** What one schedule measured over the sweep. */
typedef struct {
    const char *name;                 /**< built-in schedule name (not owned) */
    int n;                            /**< points, in increasing x */
    int x[PL_SWEEP_POINTS];           /**< m, or p with over_p */
    double bubble[PL_SWEEP_POINTS];   /**< measured */
} pl_sweep_series;

/** A whole sweep: every schedule against m with p fixed, or against p with m fixed. */
typedef struct {
    int over_p;     /**< 0: x is m; 1: x is p */
    int fixed;      /**< p when sweeping m; m when sweeping p */
    int count;      /**< series in use */
    pl_sweep_series series[PL_SWEEP_SERIES]; /**< in the order first added */
} pl_sweep;

/**
 * Add one measured point to the series named `name`, starting the series if
 * it is new (names are not copied: keep them alive). Points must come in
 * increasing x per series. Returns 0, or -1 when a table is full.
 */
int pl_sweep_add(pl_sweep *s, const char *name, int x, double bubble);

/**
 * Draw the sweep as an SVG 1.1 document on `out`: x on a log2 axis, bubble
 * from 0 to 1, one colour and marker per schedule, its measured points over
 * its analytic curve (pl_bubble_theory at every whole x between its first
 * and last point), axes with ticks, and a legend. Returns 0, or -1 if the
 * sweep is empty or writing failed.
 */
int pl_plot_sweep(const pl_sweep *s, FILE *out);

#endif
