/*
 * route.c -- placement names. The routing itself is in route.h, inline: the
 * validator and the simulator call it once per action.
 */
#include "route.h"

#include <string.h>

static const char *const names[] = {"loop", "v"};

const char *pl_route_placement_name(pl_placement pl)
{
    return (unsigned)pl <= PL_PLACE_V ? names[pl] : "unknown";
}

int pl_route_placement_parse(const char *name, pl_placement *out)
{
    for (int i = 0; i <= PL_PLACE_V; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (pl_placement)i;
            return 0;
        }
    return -1;
}
