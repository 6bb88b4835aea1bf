/*
 * isa.c -- which kernel path this CPU can run, decided once.
 *
 * The answer is the one piece of global state in the kernels: a cache, set
 * once and never changed, so that the first matmul of each device thread
 * does not ask the CPU again. Two threads that race to fill it compute the
 * same value, so an atomic store is all the care it needs.
 */
#include "isa.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *names[PL_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *pl_isa_name(pl_isa isa)
{
    return (unsigned)isa < PL_ISA_COUNT ? names[isa] : "unknown";
}

int pl_isa_parse(const char *name, pl_isa *out)
{
    for (int i = 0; i < PL_ISA_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (pl_isa)i;
            return 0;
        }
    return -1;
}

int pl_isa_supported(pl_isa isa)
{
    switch (isa) {
    case PL_ISA_SCALAR:
        return 1;
#if PL_ISA_X86
    /* __builtin_cpu_supports also checks that the OS saves the wide
     * registers (XCR0), not only that the CPU has the instructions. */
    case PL_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PL_ISA_AVX512:
        __builtin_cpu_init();
        /* The AVX-512 path packs transposed panels with AVX2 code. */
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

/* The path to use, and 1 if PL_ISA chose it. */
static pl_isa detect(int *forced)
{
    const char *name = getenv("PL_ISA");
    pl_isa isa;
    *forced = name && pl_isa_parse(name, &isa) == 0 && pl_isa_supported(isa);
    if (*forced)
        return isa;
    for (int i = PL_ISA_COUNT - 1; i > 0; i--)
        if (pl_isa_supported((pl_isa)i))
            return (pl_isa)i;
    return PL_ISA_SCALAR;
}

/* The path, plus PL_ISA_COUNT if PL_ISA forced it; -1 until detected. */
static int detected(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        int forced;
        v = (int)detect(&forced) + (forced ? PL_ISA_COUNT : 0);
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

pl_isa pl_isa_active(void)
{
    return (pl_isa)(detected() % PL_ISA_COUNT);
}

pl_isa pl_isa_for_columns(int n)
{
    int v = detected();
    if (v == PL_ISA_AVX512 && n < PL_ISA_AVX512_MIN_COLUMNS)
        return PL_ISA_AVX2; /* chosen, not forced: the narrower path is faster here */
    return (pl_isa)(v % PL_ISA_COUNT);
}
