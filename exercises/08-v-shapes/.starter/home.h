/** The device and chunk that hold `stage`: pl_route_stage's inverse. */
static inline void pl_route_home(pl_placement pl, int p, int stage, int *device, int *chunk)
{
    /* TODO(ch08): which device, and which of its chunks, holds `stage`
     * (p devices) in placement pl -- the inverse of pl_route_stage above,
     * for any number of chunks. The validator, the simulator and the
     * runtime route every message by it. Until then: the loop placement's
     * answer, for every placement. */
    (void)pl;
    *chunk = stage / p;
    *device = stage % p;
}
