/*
 * rng.c -- splitmix64: tiny, fast, and its output depends only on the seed,
 * never on the machine or the thread.
 */
#include "rng.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL

uint64_t pl_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pl_rng_seed(pl_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t pl_rng_next(pl_rng *r)
{
    r->state += GOLDEN;
    return pl_rng_mix(r->state);
}

float pl_rng_uniform(pl_rng *r, float lo, float hi)
{
    /* The top 24 bits fill a float mantissa exactly: u in [0, 1). */
    float u = (float)(pl_rng_next(r) >> 40) * (1.0f / 16777216.0f);
    float v = lo + (hi - lo) * u;
    /* lo + (hi-lo)u can round up to hi for some bounds; keep the promise. */
    return v < hi ? v : lo;
}
