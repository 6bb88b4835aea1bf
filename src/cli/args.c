/*
 * args.c -- the command line, checked option by option.
 */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole number in [lo, hi], the entire string. */
static int whole(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A finite number in (lo, hi]. */
static int positive(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || !(v > lo) || !(v <= hi))
        return -1;
    *out = v;
    return 0;
}

typedef struct {
    const char *name;
    int takes_value;
    long lo, hi; /* for whole-number options */
} spec;

static const spec specs[] = {
    {"--schedule", 1, 0, 0},      {"--schedule-file", 1, 0, 0},
    {"--devices", 1, 1, 1024},    {"--microbatches", 1, 1, 1 << 16},
    {"--layers", 1, 1, 4096},     {"--width", 1, 1, 4096},
    {"--batch", 1, 1, 1 << 20},   {"--steps", 1, 1, 10000},
    {"--seed", 1, 0, LONG_MAX},   {"--cost", 1, 0, 0},
    {"--clock", 1, 0, 0},         {"--scale", 1, 0, 0},
    {"--recompute", 0, 0, 0},     {"--device-memory", 1, 1, LONG_MAX},
    {"--inject-fault", 1, 0, 0},  {"--watchdog", 1, 0, 0},
    {"--simulate", 0, 0, 0},      {"--verify", 0, 0, 0},
    {"--json", 0, 0, 0},          {"--trace", 1, 0, 0},
    {"--svg", 1, 0, 0},           {"--over", 1, 0, 0},
    {"--flops", 1, 0, 0},         {"--help", 0, 0, 0},
};
enum { N_SPECS = sizeof specs / sizeof specs[0] };

/* The digits after `key` at the start of s, copied into buf, if `stop`
 * follows them; returns a pointer to `stop`, or NULL. */
static const char *digits_after(const char *s, const char *key, char stop, char *buf, size_t n)
{
    size_t k = strlen(key), i = 0;
    if (strncmp(s, key, k))
        return NULL;
    for (s += k; s[i] >= '0' && s[i] <= '9' && i + 1 < n; i++)
        buf[i] = s[i];
    buf[i] = '\0';
    return i > 0 && s[i] == stop ? s + i : NULL;
}

/* "device=D,action=K", digits only: no signs, no spaces, no overflow. */
static int fault(pl_options *o, const char *v)
{
    char d[8], k[24];
    long dv, kv;
    const char *rest = digits_after(v, "device=", ',', d, sizeof d);
    if (!rest || !digits_after(rest, ",action=", '\0', k, sizeof k) ||
        whole(d, 0, 1023, &dv) || whole(k, 0, LONG_MAX, &kv))
        return -1;
    o->fault_device = (int)dv;
    o->fault_action = kv;
    return 0;
}

/* Store one option's value; -1 means "not what this option expects". */
static int store(pl_args *a, int i, const char *v)
{
    pl_options *o = &a->opt;
    const char *n = specs[i].name;
    long w = 0;
    if (specs[i].hi > 0 && whole(v, specs[i].lo, specs[i].hi, &w))
        return -1;
    if (!strcmp(n, "--schedule")) {
        if (!pl_schedule_find(v)) return -1;
        o->schedule = v;
    }
    else if (!strcmp(n, "--schedule-file")) { o->schedule_file = v; o->schedule = NULL; }
    else if (!strcmp(n, "--devices")) { o->devices = (int)w; a->given_p = 1; }
    else if (!strcmp(n, "--microbatches")) { o->microbatches = (int)w; a->given_m = 1; }
    else if (!strcmp(n, "--layers")) o->layers = (int)w;
    else if (!strcmp(n, "--width")) o->width = (int)w;
    else if (!strcmp(n, "--batch")) o->batch = (int)w;
    else if (!strcmp(n, "--steps")) o->steps = (int)w;
    else if (!strcmp(n, "--seed")) o->seed = (uint64_t)w;
    else if (!strcmp(n, "--device-memory")) o->device_memory = (size_t)w;
    else if (!strcmp(n, "--cost")) {
        if (!strcmp(v, "uniform")) o->cost = PL_COST_UNIFORM;
        else if (!strcmp(v, "flops")) o->cost = PL_COST_FLOPS;
        else return -1;
    } else if (!strcmp(n, "--clock")) return pl_clock_parse(v, &o->clock);
    else if (!strcmp(n, "--scale")) return positive(v, 0, 1e6, &o->scale);
    else if (!strcmp(n, "--flops")) return positive(v, 1e6 - 1, 1e18, &o->flops_per_s);
    else if (!strcmp(n, "--watchdog")) return positive(v, 0, 1e6, &o->watchdog_s);
    else if (!strcmp(n, "--inject-fault")) return fault(o, v);
    else if (!strcmp(n, "--trace")) a->trace = v;
    else if (!strcmp(n, "--svg")) a->svg = v;
    else if (!strcmp(n, "--over")) {
        if (strcmp(v, "m") && strcmp(v, "p")) return -1;
        a->over = v;
    }
    return *v ? 0 : -1;
}

static const char *expects(int i)
{
    const char *n = specs[i].name;
    static const struct { const char *name, *what; } say[] = {
        {"--schedule", "a schedule name: naive, microbatch, gpipe or 1f1b"},
        {"--schedule-file", "a file name"},
        {"--cost", "uniform or flops"},
        {"--clock", "virtual, scaled or real"},
        {"--scale", "a number above 0, at most 1e6 (host ns per modelled ns)"},
        {"--flops", "a number of FLOP/s from 1e6 to 1e18"},
        {"--watchdog", "a number of seconds above 0, at most 1e6"},
        {"--inject-fault", "device=D,action=K with whole numbers 0 <= D < 1024, K >= 0"},
        {"--trace", "a file name"}, {"--svg", "a file name"},
        {"--over", "m or p"},
    };
    for (size_t k = 0; k < sizeof say / sizeof say[0]; k++)
        if (!strcmp(n, say[k].name))
            return say[k].what;
    return NULL;
}

static int bad_value(int i, const char *v, char *err, size_t errlen)
{
    const char *what = expects(i);
    if (what)
        snprintf(err, errlen, "%s expects %s, got '%s'", specs[i].name, what, v);
    else
        snprintf(err, errlen, "%s expects a whole number from %ld to %ld, got '%s'",
                 specs[i].name, specs[i].lo, specs[i].hi, v);
    return -1;
}

/* Rules that involve two options. */
static int cross_check(const pl_args *a, char *err, size_t errlen)
{
    const pl_options *o = &a->opt;
    if (o->simulate && o->verify)
        snprintf(err, errlen, "--verify needs trained weights; it cannot be combined with --simulate");
    else if (o->simulate && o->fault_device >= 0)
        snprintf(err, errlen, "--inject-fault needs device threads; it cannot be combined with --simulate");
    else if (!o->schedule_file && o->devices > o->layers)
        snprintf(err, errlen, "--devices %d needs at least %d layers (--layers is %d): "
                 "every stage holds at least one layer", o->devices, o->devices, o->layers);
    else if (!o->schedule_file && o->microbatches > o->batch)
        snprintf(err, errlen, "--microbatches %d exceeds --batch %d: every micro-batch "
                 "needs at least one sample", o->microbatches, o->batch);
    else if (o->fault_device >= o->devices && !o->schedule_file)
        snprintf(err, errlen, "--inject-fault device=%d, but there are only %d devices",
                 o->fault_device, o->devices);
    else
        return 0;
    return -1;
}

int pl_args_parse(pl_args *a, int argc, char **argv, int first, char *err, size_t errlen)
{
    for (int k = first; k < argc; k++) {
        const char *arg = argv[k];
        int i = 0;
        while (i < N_SPECS && strcmp(arg, specs[i].name))
            i++;
        if (i == N_SPECS) {
            /* Only `check FILE` takes an argument that is not an option. */
            int takes_file = first > 0 && !strcmp(argv[first - 1], "check");
            if (arg[0] != '-' && !a->file && takes_file) {
                a->file = arg;
                continue;
            }
            if (arg[0] != '-' || arg[1] == '\0')
                snprintf(err, errlen, "unexpected argument '%s' (%soptions start with --; "
                         "see --help)", arg, takes_file ? "check takes one FILE; " : "");
            else
                snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
            return -1;
        }
        if (a->given & (1u << i)) {
            snprintf(err, errlen, "%s given twice", arg);
            return -1;
        }
        a->given |= 1u << i;
        if (!specs[i].takes_value) {
            if (!strcmp(arg, "--recompute")) a->opt.recompute = 1;
            else if (!strcmp(arg, "--simulate")) a->opt.simulate = 1;
            else if (!strcmp(arg, "--verify")) a->opt.verify = 1;
            else if (!strcmp(arg, "--json")) a->json = 1;
            else a->help = 1;
            continue;
        }
        if (k + 1 >= argc) {
            snprintf(err, errlen, "%s needs a value", arg);
            return -1;
        }
        const char *v = argv[++k];
        if (store(a, i, v))
            return bad_value(i, v, err, errlen);
    }
    int watchdog = 0;
    while (strcmp(specs[watchdog].name, "--watchdog"))
        watchdog++;
    if (!(a->given & (1u << watchdog)))
        a->opt.watchdog_s = -1.0; /* automatic: a few seconds beyond the longest action */
    if ((a->given & 1u) && (a->given & 2u)) {
        snprintf(err, errlen, "--schedule and --schedule-file cannot both be given");
        return -1;
    }
    return cross_check(a, err, errlen);
}
