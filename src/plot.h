/**
 * @file plot.h
 * @brief The sweep plot: bubble against m (or p), measured beside theory.
 *
 * `pipelab sweep` runs every schedule for m = 1, 2, 4, ... (or p = 1, 2, 4,
 * ..., or v = 1, 2, 3, ...) and this module draws what it measured as points on the analytic
 * curves the registry holds -- (p-1)/p for naive and microbatch, (p-1)/(m+p-1)
 * for GPipe and 1F1B, and so on. Points on their curve say the threads behave as the
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
    const char *name;                 /**< registered schedule name (not owned) */
    int v;                            /**< its chunks per device */
    int n;                            /**< points, in increasing x */
    int x[PL_SWEEP_POINTS];           /**< m, or p with over_p */
    double bubble[PL_SWEEP_POINTS];   /**< measured */
} pl_sweep_series;

/** A whole sweep: every schedule against m (p fixed), p (m fixed) or v (p and m fixed). */
typedef struct {
    int over_p;     /**< 1: x is p */
    int over_v;     /**< 1: x is v (else, without over_p, x is m) */
    int fixed;      /**< p when sweeping m or v; m when sweeping p */
    int fixed2;     /**< m when sweeping v */
    int count;      /**< series in use */
    pl_sweep_series series[PL_SWEEP_SERIES]; /**< in the order first added */
} pl_sweep;

/**
 * Add one measured point to the series named `name`, starting the series if
 * it is new (names are not copied: keep them alive). Points must come in
 * increasing x per series. Returns 0, or -1 when a table is full.
 */
int pl_sweep_add(pl_sweep *s, const char *name, int v, int x, double bubble);

/**
 * Draw the sweep as an SVG 1.1 document on `out`: x on a log2 axis, bubble
 * from 0 to 1, one colour and marker per schedule, its measured points over
 * its analytic curve (pl_registry_bubble at every whole x between its first
 * and last point, broken where the formula does not apply), axes with ticks, and a legend. Returns 0, or -1 if the
 * sweep is empty or writing failed.
 */
int pl_plot_sweep(const pl_sweep *s, FILE *out);

#endif
