/* Chapter 04: 1F1B fills and drains once, so fill_drain -- unless a memory
 * cap (--max-inflight K) holds its warm-up to K - 1 forwards. */
static double one_f_one_b(const pl_formula_case *c, const char **why)
{
    /* TODO(ch04): the bubble of 1F1B whose warm-up is capped so that no
     * device holds more than c->max_inflight micro-batches (0: no cap).
     * c->p devices, c->m micro-batches; every stage's forward takes c->t_f
     * ticks, its backward c->t_i + c->t_w. Without a cap, or with one of p
     * or more, it is fill_drain(c, why): chapter 04's (p-1)/(m+p-1). */
    return fill_drain(c, why);
}
