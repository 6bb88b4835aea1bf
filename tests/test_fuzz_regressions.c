/*
 * test_fuzz_regressions.c -- inputs that once broke, or nearly broke, the
 * schedule parser and validator, replayed through the fuzz target's own
 * property checks (fuzz/fuzz_schedule.c). When `make fuzz` finds something,
 * its input goes in this table.
 *
 * Each case runs the whole target: parse, round trip, validate, order and
 * peak checks, simulate when small. A broken property aborts, which
 * Criterion reports as a crash.
 */
#include <criterion/criterion.h>

#define PL_FUZZ_NO_ENTRY
#include "../fuzz/fuzz_schedule.c"
#include "helpers.h"

typedef struct {
    const char *why;
    const char *bytes;
    size_t len; /* 0: strlen(bytes) */
} fuzz_case;

static const fuzz_case cases[] = {
    {"empty input", "", 0},
    {"only a comment", "# pipelab schedule\n", 0},
    {"device line before the header", "d0: F0 B0\n", 0},
    {"header at its limits, no device lines",
     "devices 4096\nmicrobatches 1048576\nchunks 64\n", 0},
    {"limits plus one", "devices 4097\nmicrobatches 1048577\nchunks 65\n", 0},
    {"a number far beyond long", "devices 99999999999999999999999999999999\n", 0},
    {"device index beyond long",
     "devices 2\nmicrobatches 1\nchunks 1\nd99999999999999999999999: F0\n", 0},
    {"micro-batch index beyond long",
     "devices 1\nmicrobatches 1\nchunks 1\nd0: F99999999999999999999999 B0\n", 0},
    {"a NUL inside the text stops it like a C string",
     "devices 1\nmicrobatches 1\nchunks 1\nd0: F0\0 B0\n", 40},
    {"bytes above 127 and control bytes in a token",
     "devices 1\nmicrobatches 1\nchunks 1\nd0: F0 \xff\x01\x7f\\\n", 0},
    {"a chunk suffix when chunks is 1",
     "devices 1\nmicrobatches 1\nchunks 1\nd0: F0.0 B0.0\n", 0},
    {"a missing chunk when chunks is 2",
     "devices 1\nmicrobatches 1\nchunks 2\nd0: F0 B0\n", 0},
    {"a dot and nothing after it", "devices 1\nmicrobatches 1\nchunks 2\nd0: F0.\n", 0},
    {"a second line for a device",
     "devices 2\nmicrobatches 1\nchunks 1\nd0: F0 B0\nd1: F0 B0\nd0: F0 B0\n", 0},
    {"header key twice", "devices 1\ndevices 1\n", 0},
    {"header key glued to its value", "devices1\n", 0},
    {"CR only line ends", "devices 1\rmicrobatches 1\rchunks 1\rd0: F0 B0\r", 0},
    {"the deadlock of chapter 04",
     "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n", 0},
    {"I and W split, chunks interleaved, valid",
     "devices 2\nmicrobatches 2\nchunks 2\n"
     "d0: F0.0 F1.0 F0.1 I0.1 W0.1 F1.1 I1.1 W1.1 I0.0 W0.0 I1.0 W1.0\n"
     "d1: F0.0 I0.0 W0.0 F1.0 I1.0 W1.0 F0.1 F1.1 I0.1 I1.1 W0.1 W1.1\n", 0},
    {"B mixed with I and W", "devices 1\nmicrobatches 1\nchunks 1\nd0: F0 I0 B0 W0\n", 0},
    {"W before I", "devices 1\nmicrobatches 1\nchunks 1\nd0: F0 W0 I0\n", 0},
    {"backward before forward", "devices 1\nmicrobatches 1\nchunks 1\nd0: B0 F0\n", 0},
    {"a long run of spaces and tabs",
     "devices 1 \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t \t\n", 0},
    {"a valid schedule with every device's line out of order",
     "chunks 1\nmicrobatches 2\ndevices 3\nd2: F0 B0 F1 B1\nd0: F0 F1 B0 B1\nd1: F0 F1 B0 B1\n", 0},
    {"a huge claimed size with one tiny line each",
     "devices 3\nmicrobatches 1048576\nchunks 64\nd0:\nd1:\nd2:\n", 0},
};

Test(fuzz_regressions, every_recorded_input_keeps_every_property, .timeout = 60)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].bytes);
        cr_expect_eq(pl_fuzz_schedule((const uint8_t *)cases[i].bytes, n), 0, "%s",
                     cases[i].why);
    }
}

/* The fuzzer's seeds: every built-in schedule, written and checked. */
Test(fuzz_regressions, every_built_in_schedule_passes_the_target, .timeout = 60)
{
    int n;
    const pl_registry_entry *all = pl_registry_list(&n);
    for (int g = 0; g < n; g++)
        for (int p = 1; p <= 5; p++)
            FOR_EACH_M(&all[g], m, 6) FOR_EACH_V(&all[g], v, 3) {
                pl_schedule s;
                char *text = NULL;
                size_t len = 0;
                registry_schedule(all[g].name, &s, p, m, v);
                FILE *f = open_memstream(&text, &len);
                pl_schedule_write(&s, f);
                fclose(f);
                pl_fuzz_schedule((const uint8_t *)text, len);
                free(text);
                pl_schedule_free(&s);
            }
}
