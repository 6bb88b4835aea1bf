/*
 * action.c -- the letters and names of the action kinds.
 */
#include "action.h"

#include <stdio.h>

static const char letters[] = "FBIWR";
static const char *const names[PL_KINDS] = {"forward", "backward", "input-grad",
                                            "weight-grad", "recomputed forward"};

char pl_action_letter(pl_kind k)
{
    return (unsigned)k < PL_KINDS ? letters[k] : '?';
}

int pl_action_kind(char letter, pl_kind *k)
{
    for (int i = 0; i < PL_R; i++)
        if (letters[i] == letter) {
            *k = (pl_kind)i;
            return 0;
        }
    return -1;
}

const char *pl_action_name(pl_kind k)
{
    return (unsigned)k < PL_KINDS ? names[k] : "unknown";
}

char *pl_action_format(pl_action a, int chunks, char *buf, size_t n)
{
    if (chunks > 1 || a.chunk != 0) /* shows a stray chunk too */
        snprintf(buf, n, "%c%d.%d", pl_action_letter(a.kind), a.mb, a.chunk);
    else
        snprintf(buf, n, "%c%d", pl_action_letter(a.kind), a.mb);
    return buf;
}
