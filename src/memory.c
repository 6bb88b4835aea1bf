/*
 * memory.c -- what a device holds: the stash rule and the budget check
 * (chapters 02-04).
 */
#include "memory.h"

#include <stdio.h>

#include "stage.h"

int64_t pl_memory_stash_delta(const pl_model *m, int first, int count, int rows,
                              pl_kind kind, int recompute)
{
    int64_t full = (int64_t)pl_stage_stash_bytes(m, first, count, rows, PL_F, 0);
    int64_t kept = (int64_t)pl_stage_stash_bytes(m, first, count, rows, PL_F, recompute);
    int64_t split = (int64_t)pl_stage_stash_bytes(m, first, count, rows, PL_I, 0);
    switch (kind) {
    case PL_F: return kept;
    case PL_R: return full - kept;
    case PL_I: return split - full;
    case PL_B: return -full;
    case PL_W: return -split;
    }
    return 0;
}

// [region check-memory]
int pl_memory_check(size_t cap, int d, const char *action, size_t held, size_t need,
                    char *err, size_t errlen)
{
    if (cap == 0 || (held <= cap && need <= cap - held))
        return 0;
    snprintf(err, errlen,
             "d%d out of memory at %s: needs %zu bytes of activations, "
             "%zu available of %zu",
             d, action, need, held < cap ? cap - held : 0, cap);
    return -1;
}
// [endregion check-memory]
