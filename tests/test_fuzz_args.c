/*
 * test_fuzz_args.c -- command lines that once broke, or nearly broke, the
 * option parser, replayed through the fuzz target's own property checks
 * (fuzz/fuzz_args.c): each is parsed, an accepted one checked against every
 * documented range and cross-option rule, and an accepted run's needs
 * estimated. When `make fuzz-args` finds something, its input goes here.
 */
#include <criterion/criterion.h>

#define PL_FUZZ_NO_ENTRY
#include "../fuzz/fuzz_args.c"

/* Arguments separated by '|' (stand-ins for the NUL bytes of the target's
 * input), so the table reads like command lines. */
static const char *const lines[] = {
    "",
    "|",
    "run",
    "run|--devices",
    "run|--devices|",
    "run|--devices|0",
    "run|--devices|1024|--microbatches|65536|--batch|1048576|--layers|4096|--width|4096",
    "run|--devices|99999999999999999999999999",
    "run|--devices|+4",
    "run|--devices|-0",
    "run|--devices| 4",
    "run|--devices|4\n",
    "run|--cost|flops|--flops|1e18|--steps|10000|--batch|1048576|--width|4096|--layers|4096",
    "run|--cost|flops|--flops|1e6|--clock|scaled|--scale|1e6|--ignore-limits",
    "run|--cost|flops|--flops|999999.9999999",
    "run|--cost|flops|--flops|1e-400",
    "run|--cost|flops|--flops|1e400",
    "run|--cost|flops|--flops|0x1p20",
    "run|--cost|flops|--flops|INF",
    "run|--cost|flops|--flops|.",
    "run|--cost|flops|--flops|-",
    "run|--cost|flops|--flops|+.5e7",
    "run|--clock|scaled|--scale|4.9406564584124654e-324",
    "run|--watchdog|1e-320",
    "run|--inject-fault|device=0,action=9223372036854775807",
    "run|--inject-fault|device=1023,action=0|--devices|1024|--layers|1024",
    "run|--inject-fault|device=0,action=0,stall,stall",
    "run|--inject-fault|device=,action=",
    "run|--schedule-file|/dev/zero",
    "run|--schedule-file|/",
    "run|--schedule-file|/nonexistent/\x01\xff",
    "run|--trace|a|--svg|./a",
    "run|--simulate|--steps|1",
    "run|--simulate|--device-memory|9223372036854775807",
    "run|--help|--devices|0",
    "check|--strict|--strict",
    "sweep|--over|p|--devices|1024",
    "sweep|--over|v",
    "show|--schedule|naive|--microbatches|1",
    "\xff\xfe|--\x1b[2J",
    "run|--\x01",
    "run|stray\ttab",
    "partition",                                /* make fuzz-args: a later command */
    "plan|--device-memory|1",
    "partition|--ignore-limits|--batch|1048576",
};

Test(fuzz_args, every_line_keeps_every_property, .timeout = 60)
{
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char buf[512];
        size_t n = strlen(lines[i]);
        cr_assert_lt(n, sizeof buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = lines[i][k] == '|' ? '\0' : lines[i][k];
        pl_fuzz_args((const uint8_t *)buf, n);
    }
}
