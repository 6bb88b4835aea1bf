/* Chapter 05: looped BFS fills and drains once. */
static double looped_bfs_bubble(const pl_formula_case *c, const char **why)
{
    /* TODO(ch05): the bubble of looped BFS for every m. Chapter 05 derives
     * it for m >= p (fill_drain); for m < p it does not hold. c->p devices,
     * c->v chunks each, c->m micro-batches; c->t_f, c->t_i, c->t_w are one
     * chunk's times (its backward: t_i + t_w). */
    if (c->v > 1 && c->m < c->p) {
        *why = "with m < p each chunk waits for micro-batch 0 to come round the devices: "
               "the formula needs m >= p";
        return -1.0;
    }
    return fill_drain(c, why);
}
