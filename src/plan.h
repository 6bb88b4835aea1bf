/**
 * @file plan.h
 * @brief The planner: the fastest schedule that fits a memory budget.
 *
 * The question every practitioner asks first -- which schedule, how many
 * micro-batches? -- answered by search (chapter 08). Given a model, p
 * devices, a cost model (links included) and a global batch, the planner
 * tries every registered schedule with every m up to a bound, every v up to
 * a bound for the schedules that take chunks, with and without
 * recomputation (and, for 1F1B over slow links, with chapter 07's deeper
 * warm-up), predicts each plan's step with the simulator, and measures each
 * device's whole memory bill at its peak. A plan fits when no device's bill
 * exceeds the budget; the plans are then ordered, fastest fitting first.
 *
 * Every plan is a run of pl_experiment_run on the simulator, so a plan's
 * prediction is exactly what `pipelab run` with the same options measures
 * on the virtual clock. Time is compared across m in one unit: under
 * uniform costs a unit is the forward of L/p layers on the whole batch (or
 * on batch/o->unit_microbatches rows), not on batch/m rows.
 *
 * Invariant: a result owns its plans; free it with pl_plan_free.
 */
#ifndef PL_PLAN_H
#define PL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "registry.h"

/** What the search tries: m in [1, max_m] and v in [1, max_v]. */
typedef struct {
    int max_m; /**< the most micro-batches tried (at most the batch) */
    int max_v; /**< the most chunks tried, for the schedules that take them */
} pl_plan_space;

/** What became of a plan. */
typedef enum {
    PL_PLAN_FITS = 0,    /**< it runs within the budget */
    PL_PLAN_OVER = 1,    /**< some device needs more than the budget */
    PL_PLAN_CANNOT = 2   /**< it cannot run at all (more stages than layers, ...) */
} pl_plan_verdict;

/** One plan: a schedule, its parameters, and what the simulator predicts. */
typedef struct {
    const pl_registry_entry *entry; /**< the schedule */
    int m;                          /**< micro-batches */
    int v;                          /**< chunks per device */
    int recompute;                  /**< 1: stage inputs only, forwards recomputed */
    int warmup_extra;               /**< 1f1b: forwards added per link (chapter 07), else 0 */
    pl_plan_verdict verdict;        /**< fits, over the budget, or cannot run */
    double step_ns;                 /**< predicted step time (fits and over) */
    double bubble;                  /**< predicted bubble */
    size_t *memory;                 /**< each device's bill at its peak, bytes (p of them) */
    size_t peak;                    /**< the largest of them */
    int worst;                      /**< the device that holds it */
    char why[160];                  /**< cannot: the reason */
} pl_plan;

/** Every plan the search tried, ordered: fitting (fastest first), over, cannot. */
typedef struct {
    int devices;    /**< p */
    size_t budget;  /**< bytes per device; 0: no limit */
    pl_plan *plans; /**< n plans */
    int n;          /**< how many */
    int fitting;    /**< plans[0 .. fitting) fit */
} pl_plan_result;

/**
 * Search the plans for the run `o` describes (its schedule, m, v,
 * recomputation and warm-up are what the search varies; its budget is
 * o->device_memory, 0 for none) over `space`, with the simulator. Returns 0,
 * or -1 with a message in err if the options cannot describe a run at all;
 * a plan that cannot run is a plan with verdict PL_PLAN_CANNOT, not an
 * error. Free the result with pl_plan_free either way.
 */
int pl_plan_search(const pl_options *o, pl_plan_space space, pl_plan_result *out, char *err,
                   size_t errlen);

/**
 * Evaluate one plan: run the simulator on `o` with the plan's schedule and
 * parameters and fill the plan's verdict, time and memory against `budget`.
 * (pl_plan_search calls it for every plan; tests call it to check the search
 * against brute force.) Returns 0, or -1 if out of host memory.
 */
int pl_plan_evaluate(const pl_options *o, size_t budget, pl_plan *plan);

/**
 * Order two plans: a fitting plan before any other, a faster before a
 * slower, then less memory, then registry order, m, v, recomputation and
 * warm-up -- so the first plan is the one to run. A qsort comparator.
 */
int pl_plan_compare(const void *a, const void *b);

/** Free what a result holds. Safe on a zeroed one. */
void pl_plan_free(pl_plan_result *r);

#endif
