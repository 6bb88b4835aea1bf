/**
 * @file rng.h
 * @brief The one source of randomness: a small seeded generator (splitmix64).
 *
 * Model weights, the teacher network and the training inputs all draw from
 * this generator, so the same seed gives the same bits on every machine and
 * every thread (chapter 00). It has no global state: each caller owns its
 * pl_rng.
 *
 * Invariant: the stream depends only on the seed.
 */
#ifndef PL_RNG_H
#define PL_RNG_H

#include <stdint.h>

/** A small deterministic generator (splitmix64). */
typedef struct {
    uint64_t state; /**< the whole generator state */
} pl_rng;

/** Seed a generator. */
void pl_rng_seed(pl_rng *r, uint64_t seed);

/** Next 64 random bits. */
uint64_t pl_rng_next(pl_rng *r);

/** Uniform float in [lo, hi). */
float pl_rng_uniform(pl_rng *r, float lo, float hi);

/**
 * The splitmix64 finaliser: scrambles 64 bits so that nearby seeds give
 * unrelated streams. Used to derive one seed from another.
 */
uint64_t pl_rng_mix(uint64_t z);

#endif
