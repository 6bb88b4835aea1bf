/*
 * args.c -- the command line, checked option by option.
 */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "registry.h"

/* The commands an option applies to. */
enum { RUN = 1, COMPARE = 2, SHOW = 4, CHECK = 8, SWEEP = 16, LIST = 32, PARTITION = 64,
       PLAN = 128, ALL = 255 };
static const char *const command_names[] = {"run", "compare", "show", "check", "sweep", "list",
                                            "partition", "plan"};

typedef struct {
    const char *name;
    int takes_value;
    long lo, hi;  /* whole-number options: the range; else 0, 0 */
    int applies;  /* commands it applies to */
} spec;

static const spec specs[] = {
    {"--schedule", 1, 0, 0, RUN | SHOW | PARTITION},
    {"--schedule-file", 1, 0, 0, RUN},
    {"--devices", 1, 1, 1024, RUN | COMPARE | SHOW | SWEEP | PARTITION | PLAN},
    {"--microbatches", 1, 1, 1 << 16, RUN | COMPARE | SHOW | SWEEP | PARTITION | PLAN},
    {"--chunks", 1, 1, 64, RUN | COMPARE | SHOW | SWEEP | PARTITION | PLAN},
    {"--layers", 1, 1, PL_ARGS_MAX_LAYERS, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--width", 1, 1, 4096, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--widths", 1, 0, 0, RUN | COMPARE | PARTITION | PLAN},
    {"--model", 1, 0, 0, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--partition", 1, 0, 0, RUN | COMPARE | PARTITION | PLAN},
    {"--partition-by", 1, 0, 0, RUN | COMPARE | PARTITION},
    {"--batch", 1, 1, 1 << 20, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--steps", 1, 1, 10000, RUN | COMPARE},
    {"--seed", 1, 0, LONG_MAX, RUN | COMPARE},
    {"--momentum", 1, 0, 0, RUN | COMPARE | PARTITION | PLAN},
    {"--cost", 1, 0, 0, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--flops", 1, 0, 0, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--costs", 1, 0, 0, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--unit-m", 1, 1, 1 << 16, RUN | PLAN},
    {"--link-latency", 1, 0, 0, RUN | COMPARE | PARTITION | PLAN},
    {"--link-bandwidth", 1, 0, 0, RUN | COMPARE | PARTITION | PLAN},
    {"--blocking-send", 0, 0, 0, RUN | COMPARE | PLAN},
    {"--warmup-extra", 1, 0, 0, RUN | SHOW},
    {"--max-inflight", 1, 1, 1 << 16, RUN | SHOW},
    {"--clock", 1, 0, 0, RUN | COMPARE},
    {"--scale", 1, 0, 0, RUN | COMPARE},
    {"--recompute", 0, 0, 0, RUN | COMPARE | SWEEP},
    {"--step-sync", 1, 0, 0, RUN | COMPARE},
    {"--clip-grad-norm", 1, 0, 0, RUN | COMPARE},
    {"--post-validation", 0, 0, 0, RUN | COMPARE},
    {"--device-memory", 1, 1, LONG_MAX, RUN | COMPARE | PLAN},
    {"--inject-fault", 1, 0, 0, RUN},
    {"--watchdog", 1, 0, 0, RUN | COMPARE},
    {"--simulate", 0, 0, 0, RUN | COMPARE | SWEEP},
    {"--verify", 0, 0, 0, RUN},
    {"--json", 0, 0, 0, RUN | COMPARE | SWEEP},
    {"--trace", 1, 0, 0, RUN | COMPARE},
    {"--svg", 1, 0, 0, RUN | COMPARE | SWEEP},
    {"--show-steps", 1, 0, 0, RUN | COMPARE},
    {"--over", 1, 0, 0, SWEEP},
    {"--ignore-limits", 0, 0, 0, RUN | COMPARE | SWEEP | PARTITION | PLAN},
    {"--strict", 0, 0, 0, CHECK},
    {"--help", 0, 0, 0, ALL},
};
enum { N_SPECS = sizeof specs / sizeof specs[0] };
_Static_assert(N_SPECS <= 64, "pl_args.given holds a bit per option");

static int spec_index(const char *name)
{
    for (int i = 0; i < N_SPECS; i++)
        if (!strcmp(name, specs[i].name))
            return i;
    return -1;
}

int pl_args_given(const pl_args *a, const char *name)
{
    int i = spec_index(name);
    return i >= 0 && (a->given & (UINT64_C(1) << i));
}

/* A whole number in [lo, hi]: decimal digits only (an optional leading '+'
 * or '-' for the range check), the entire string. */
static int whole(const char *s, long lo, long hi, long *out)
{
    const char *d = s + (*s == '-' || *s == '+');
    if (*d < '0' || *d > '9')
        return -1;
    for (const char *q = d; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A finite decimal number in (lo, hi] (no hex, no inf, no nan, no space:
 * the whole string, as whole() takes it). */
static int positive(const char *s, double lo, double hi, double *out)
{
    char *end;
    if (strpbrk(s, "xXnNiI") || !strchr("+-.0123456789", *s) || *s == '\0')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v) || !(v > lo) || !(v <= hi))
        return -1;
    *out = v;
    return 0;
}

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

/* "F,I,W": three numbers above 0, at most 1000 units each. */
static int costs(pl_options *o, const char *v)
{
    char part[3][32];
    const char *p = v;
    for (int k = 0; k < 3; k++) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof part[k] || (k < 2) != (p[n] == ','))
            return -1;
        memcpy(part[k], p, n);
        part[k][n] = '\0';
        p += n + (k < 2);
    }
    double t[3];
    for (int k = 0; k < 3; k++)
        if (positive(part[k], 0, 1000, &t[k]))
            return -1;
    o->t_f = t[0];
    o->t_i = t[1];
    o->t_w = t[2];
    return 0;
}

/* "device=D,action=K" or "device=D,action=K,stall", digits only: no signs,
 * no spaces, no overflow. */
static int fault(pl_options *o, const char *v)
{
    char d[8], k[24];
    long dv, kv;
    const char *rest = digits_after(v, "device=", ',', d, sizeof d), *stall = NULL;
    size_t len = strlen(v);
    if (len > 6 && !strcmp(v + len - 6, ",stall"))
        stall = v + len - 6;
    const char *end = rest ? digits_after(rest, ",action=", stall ? ',' : '\0', k, sizeof k) : NULL;
    if (!end || (stall && end != stall) || whole(d, 0, 1023, &dv) || whole(k, 0, LONG_MAX, &kv))
        return -1;
    o->fault_stall = stall != NULL;
    o->fault_device = (int)dv;
    o->fault_action = kv;
    return 0;
}

/* A comma-separated list of whole numbers from lo to hi ("3,3,2"): at most
 * `max` of them into out; *n gets how many. */
static int list(const char *v, long lo, long hi, int *out, int max, int *n)
{
    char digits[24];
    *n = 0;
    for (const char *p = v;; p++) {
        size_t k = 0;
        while (*p >= '0' && *p <= '9' && k + 1 < sizeof digits)
            digits[k++] = *p++;
        digits[k] = '\0';
        long w;
        if (*n == max || whole(digits, lo, hi, &w) || (*p != ',' && *p != '\0'))
            return -1;
        out[(*n)++] = (int)w;
        if (*p == '\0')
            return 0;
    }
}

/* A finite decimal number in [0, hi]. */
static int non_negative(const char *s, double hi, double *out)
{
    double v;
    if (positive(s, -1.0, hi, &v) || v < 0)
        return -1;
    *out = v == 0 ? 0.0 : v; /* no -0 */
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
        if (!pl_registry_find(v)) return -1;
        o->schedule = v;
    }
    else if (!strcmp(n, "--schedule-file")) { o->schedule_file = v; o->schedule = NULL; }
    else if (!strcmp(n, "--devices")) o->devices = (int)w;
    else if (!strcmp(n, "--microbatches")) o->microbatches = (int)w;
    else if (!strcmp(n, "--chunks")) o->chunks = (int)w;
    else if (!strcmp(n, "--layers")) o->layers = (int)w;
    else if (!strcmp(n, "--width")) o->width = (int)w;
    else if (!strcmp(n, "--widths")) {
        if (list(v, 1, 4096, a->widths, PL_ARGS_MAX_LAYERS, &a->n_widths)) return -1;
        o->widths = a->widths;
    } else if (!strcmp(n, "--model")) {
        if (!strcmp(v, "mlp")) o->model = PL_MODEL_MLP;
        else if (!strcmp(v, "lm-like")) o->model = PL_MODEL_LM_LIKE;
        else return -1;
    } else if (!strcmp(n, "--partition")) {
        if (!strcmp(v, "even")) o->partition = PL_PARTITION_EVEN;
        else if (!strcmp(v, "balanced")) o->partition = PL_PARTITION_BALANCED;
        else if (!strcmp(v, "memory")) o->partition = PL_PARTITION_MEMORY;
        else if (list(v, 1, PL_ARGS_MAX_LAYERS, a->stage_layers, PL_ARGS_MAX_LAYERS,
                      &o->stages_given)) return -1;
        else {
            o->partition = PL_PARTITION_EXPLICIT;
            o->stage_layers = a->stage_layers;
        }
    } else if (!strcmp(n, "--partition-by")) {
        if (!strcmp(v, "measured")) a->measured = 1;
        else if (strcmp(v, "model")) return -1;
    } else if (!strcmp(n, "--momentum")) {
        double mu;
        if (non_negative(v, 1.0, &mu) || mu >= 1.0) return -1;
        o->momentum = (float)mu;
    } else if (!strcmp(n, "--link-latency")) return non_negative(v, 1e9, &o->link_latency_ms);
    else if (!strcmp(n, "--link-bandwidth")) return positive(v, 0, 1e18, &o->link_bandwidth);
    else if (!strcmp(n, "--warmup-extra")) {
        long k;
        if (!strcmp(v, "auto")) o->warmup_extra = PL_WARMUP_AUTO;
        else if (whole(v, 0, 1 << 16, &k)) return -1;
        else o->warmup_extra = (int)k;
    }
    else if (!strcmp(n, "--max-inflight")) o->max_inflight = (int)w;
    else if (!strcmp(n, "--batch")) o->batch = (int)w;
    else if (!strcmp(n, "--unit-m")) o->unit_microbatches = (int)w;
    else if (!strcmp(n, "--steps")) o->steps = (int)w;
    else if (!strcmp(n, "--seed")) o->seed = (uint64_t)w;
    else if (!strcmp(n, "--device-memory")) o->device_memory = (size_t)w;
    else if (!strcmp(n, "--cost")) {
        if (!strcmp(v, "uniform")) o->cost = PL_COST_UNIFORM;
        else if (!strcmp(v, "flops")) o->cost = PL_COST_FLOPS;
        else if (!strcmp(v, "measured")) o->cost = PL_COST_MEASURED;
        else return -1;
    } else if (!strcmp(n, "--clock")) return pl_clock_parse(v, &o->clock);
    else if (!strcmp(n, "--scale")) return positive(v, 0, 1e6, &o->scale);
    else if (!strcmp(n, "--flops"))
        return positive(v, 0, 1e18, &o->flops_per_s) || o->flops_per_s < 1e6 ? -1 : 0;
    else if (!strcmp(n, "--watchdog")) return positive(v, 0, 1e6, &o->watchdog_s);
    else if (!strcmp(n, "--costs")) return costs(o, v);
    else if (!strcmp(n, "--clip-grad-norm")) return positive(v, 0, 1e30, &o->clip_norm);
    else if (!strcmp(n, "--step-sync")) {
        if (!strcmp(v, "global")) o->step_sync = PL_SYNC_GLOBAL;
        else if (!strcmp(v, "local")) o->step_sync = PL_SYNC_LOCAL;
        else return -1;
    }
    else if (!strcmp(n, "--inject-fault")) return fault(o, v);
    else if (!strcmp(n, "--trace")) a->trace = v;
    else if (!strcmp(n, "--svg")) a->svg = v;
    else if (!strcmp(n, "--show-steps")) {
        if (strcmp(v, "all") && strcmp(v, "median")) return -1;
        a->show_all = !strcmp(v, "all");
    }
    else if (!strcmp(n, "--over")) {
        if (strcmp(v, "m") && strcmp(v, "p") && strcmp(v, "v")) return -1;
        a->over = v;
    }
    return *v ? 0 : -1;
}

static int bad_value(int i, const char *value, char *err, size_t errlen)
{
    const char *n = specs[i].name, *what = NULL;
    char names[256], shown[256];
    const char *v = pl_output_printable(value, 0, shown, sizeof shown);
    static const struct { const char *name, *what; } say[] = {
        {"--schedule-file", "a file name"},
        {"--cost", "uniform, flops or measured"},
        {"--clock", "virtual, scaled or real"},
        {"--scale", "a number above 0, at most 1e6 (host time per modelled time)"},
        {"--flops", "a number of FLOP/s from 1e6 to 1e18"},
        {"--watchdog", "a number of seconds above 0, at most 1e6"},
        {"--costs", "F,I,W: three numbers of units above 0, at most 1000 (e.g. 1,1,0.5)"},
        {"--step-sync", "global or local"},
        {"--clip-grad-norm", "a number above 0 (the largest global gradient norm)"},
        {"--inject-fault", "device=D,action=K[,stall] with whole numbers 0 <= D < 1024, K >= 0"},
        {"--trace", "a file name"}, {"--svg", "a file name"},
        {"--over", "m, p or v"},
        {"--widths", "a comma-separated list of layer widths, each from 1 to 4096 "
                     "(at most 4096 layers), e.g. 128,32,32,128"},
        {"--model", "mlp or lm-like"},
        {"--partition", "even, balanced, memory, or the layers of each stage, e.g. 3,3,2"},
        {"--partition-by", "model or measured"},
        {"--momentum", "a number from 0 to below 1"},
        {"--link-latency", "a number of milliseconds, 0 or more (at most 1e9)"},
        {"--link-bandwidth", "a number of bytes per second above 0, at most 1e18"},
        {"--warmup-extra", "a whole number from 0 to 65536, or auto"},
        {"--show-steps", "all or median"},
    };
    for (size_t k = 0; k < sizeof say / sizeof say[0]; k++)
        if (!strcmp(n, say[k].name))
            what = say[k].what;
    if (!strcmp(n, "--schedule"))
        snprintf(err, errlen, "--schedule expects a schedule name: %s; got '%s'",
                 pl_registry_names(names, sizeof names), v);
    else if (what)
        snprintf(err, errlen, "%s expects %s, got '%s'", n, what, v);
    else
        snprintf(err, errlen, "%s expects a whole number from %ld to %ld, got '%s'",
                 n, specs[i].lo, specs[i].hi, v);
    return -1;
}

/* --partition N,N,...: one count per stage, adding up to the layers. */
static int check_partition(const pl_options *o, int stages, char *err, size_t errlen)
{
    int sum = 0;
    for (int k = 0; k < o->stages_given; k++)
        sum += o->stage_layers[k];
    if (o->stages_given != stages)
        snprintf(err, errlen, "--partition lists %d stage%s, but there are %d (devices x "
                 "chunks)", o->stages_given, o->stages_given == 1 ? "" : "s", stages);
    else if (sum != o->layers)
        snprintf(err, errlen, "--partition's stages hold %d layers, but the model has %d", sum,
                 o->layers);
    else
        return 0;
    return -1;
}

/* Rules about the schedule's shape: chunks and micro-batches it takes. */
/* 1 if entry e's schedule for shape s runs a split backward (an I). */
static int splits_backward(const pl_registry_entry *e, const pl_shape *s)
{
    pl_schedule sched;
    char err[256];
    if (pl_registry_generate(e, s, &sched, err, sizeof err))
        return 0; /* the run will say why */
    int found = 0;
    for (int d = 0; d < sched.devices && !found; d++)
        for (int i = 0; i < sched.len[d] && !found; i++)
            found = sched.actions[d][i].kind == PL_I;
    pl_schedule_free(&sched);
    return found;
}

static int check_shape(const pl_args *a, char *err, size_t errlen)
{
    const pl_options *o = &a->opt;
    const pl_registry_entry *e = o->schedule_file ? NULL : pl_registry_find(o->schedule);
    if (!e)
        return 0;
    if (e->microbatches && pl_args_given(a, "--microbatches") && o->microbatches != e->microbatches)
        snprintf(err, errlen, "--schedule %s always runs %d micro-batch%s: --microbatches must "
                 "be %d%s", e->name, e->microbatches, e->microbatches == 1 ? "" : "es",
                 e->microbatches, !strcmp(e->name, "naive") ? " (the microbatch schedule splits "
                 "the batch)" : "");
    else if (e->chunks && pl_args_given(a, "--chunks") && o->chunks != e->chunks &&
             a->command != PL_CMD_COMPARE && a->command != PL_CMD_SWEEP &&
             a->command != PL_CMD_PLAN) /* they run them all */
        snprintf(err, errlen, "--schedule %s runs %d chunk%s per device: --chunks must be %d",
                 e->name, e->chunks, e->chunks == 1 ? "" : "s", e->chunks);
    else {
        /* A sweep picks the layers and the batch each point needs, unless given. */
        int sweep = a->command == PL_CMD_SWEEP, show = a->command == PL_CMD_SHOW;
        int layers = !show && (!sweep || pl_args_given(a, "--layers"));
        int batch = !show && (!sweep || pl_args_given(a, "--batch"));
        pl_shape s = pl_registry_shape(e, o->devices, o->microbatches, o->chunks);
        if (layers && (long)s.devices * s.chunks > o->layers)
            snprintf(err, errlen, "--devices %d with %d chunk%s each needs at least %d layers "
                     "(--layers is %d): every stage holds at least one layer", s.devices,
                     s.chunks, s.chunks == 1 ? "" : "s", s.devices * s.chunks, o->layers);
        else if (batch && s.microbatches > o->batch)
            snprintf(err, errlen, "--microbatches %d exceeds --batch %d: every micro-batch "
                     "needs at least one sample", s.microbatches, o->batch);
        else if (o->partition == PL_PARTITION_MEMORY && (s.chunks != 1 || !e->peak))
            snprintf(err, errlen, "--partition memory fits one chunk per device, by the "
                     "schedule's peak in flight: %s runs %d chunks", e->name, s.chunks);
        else if (o->partition == PL_PARTITION_MEMORY && splits_backward(e, &s))
            snprintf(err, errlen, "--partition memory counts a micro-batch's stash as F leaves "
                     "it; %s splits its backwards, whose I holds more (chapter 06)", e->name);
        else if (o->partition == PL_PARTITION_EXPLICIT && a->command != PL_CMD_PLAN)
            return check_partition(o, s.devices * s.chunks, err, errlen); /* plan: per plan */
        else
            return 0;
    }
    return -1;
}

/* Options another option makes meaningless: each would be silently
 * ignored, so each is refused. */
static int ignored(const pl_args *a, char *err, size_t errlen)
{
    const pl_options *o = &a->opt;
    if (o->simulate && o->verify)
        snprintf(err, errlen, "--verify needs trained weights; it cannot be combined with --simulate");
    else if (o->simulate && o->fault_device >= 0)
        snprintf(err, errlen, "--inject-fault needs device threads; it cannot be combined with --simulate");
    else if (pl_args_given(a, "--flops") && o->cost != PL_COST_FLOPS)
        snprintf(err, errlen, "--flops sets the speed of --cost flops; give --cost flops too");
    else if (pl_args_given(a, "--unit-m") && o->cost != PL_COST_UNIFORM)
        snprintf(err, errlen, "--unit-m sets the rows of a --cost uniform unit; with --cost "
                 "%s every action costs %s", o->cost == PL_COST_FLOPS ? "flops" : "measured",
                 o->cost == PL_COST_FLOPS ? "its FLOPs" : "what its layers took on this host");
    else if (pl_args_given(a, "--costs") && o->cost != PL_COST_UNIFORM)
        snprintf(err, errlen, "--costs sets t_F, t_I, t_W of --cost uniform; with --cost %s "
                 "every action costs %s", o->cost == PL_COST_FLOPS ? "flops" : "measured",
                 o->cost == PL_COST_FLOPS ? "its FLOPs" : "what its layers took on this host");
    else if (o->post_validation && o->clip_norm <= 0)
        snprintf(err, errlen, "--post-validation checks the gradient norm after the step; "
                 "give --clip-grad-norm too");
    else if (pl_args_given(a, "--scale") && o->clock != PL_CLOCK_SCALED)
        snprintf(err, errlen, "--scale applies to --clock scaled; give --clock scaled too");
    else if (o->simulate && pl_args_given(a, "--clock"))
        snprintf(err, errlen, "--clock chooses how device threads keep time; the simulator "
                 "(--simulate) keeps none");
    else if (o->simulate && pl_args_given(a, "--watchdog"))
        snprintf(err, errlen, "--watchdog watches device threads; the simulator (--simulate) "
                 "starts none");
    else if (o->simulate && pl_args_given(a, "--seed") && o->clip_norm == 0)
        snprintf(err, errlen, "--seed sets the weights and the data; the simulator "
                 "(--simulate) trains nothing and would ignore it (it reads them only to "
                 "know which steps clip, with --clip-grad-norm)");
    else if (o->blocking_send && o->link_latency_ms == 0 && !o->link_bandwidth)
        snprintf(err, errlen, "--blocking-send waits until a message has crossed its link; "
                 "links are free without --link-latency or --link-bandwidth, so it would "
                 "never wait");
    else if (pl_args_given(a, "--show-steps") && a->json && !a->svg)
        snprintf(err, errlen, "--show-steps chooses what the timelines draw; --json prints none "
                 "(give --svg for a picture)");
    else if (pl_args_given(a, "--partition-by") && !a->measured &&
             o->partition != PL_PARTITION_BALANCED && a->command != PL_CMD_PARTITION)
        snprintf(err, errlen, "--partition-by model says what --partition balanced balances; "
                 "give --partition balanced too");
    else if (o->step_sync == PL_SYNC_LOCAL && o->steps == 1)
        snprintf(err, errlen, "--step-sync local lets a step overlap the next; with --steps 1 "
                 "there is no next step");
    else
        return 0;
    return -1;
}

/* Rules that involve two options. */
static int cross_check(const pl_args *a, char *err, size_t errlen)
{
    const pl_options *o = &a->opt;
    char shown[256];
    if (pl_args_given(a, "--schedule") && pl_args_given(a, "--schedule-file"))
        snprintf(err, errlen, "--schedule and --schedule-file cannot both be given");
    else if (ignored(a, err, errlen))
        return -1;
    else if (o->fault_device >= o->devices && !o->schedule_file)
        snprintf(err, errlen, "--inject-fault device=%d, but there are only %d devices",
                 o->fault_device, o->devices);
    else if (pl_args_given(a, "--widths") && pl_args_given(a, "--model"))
        snprintf(err, errlen, "--widths and --model cannot both be given: --widths is the model");
    else if (pl_args_given(a, "--widths") && pl_args_given(a, "--layers") &&
             a->n_widths != o->layers)
        snprintf(err, errlen, "--layers %d, but --widths lists %d layers", o->layers,
                 a->n_widths);
    else if (pl_args_given(a, "--widths") && pl_args_given(a, "--width"))
        snprintf(err, errlen, "--width sets every layer's width; --widths lists them: give one");
    else if (a->measured && o->partition != PL_PARTITION_MEASURED)
        snprintf(err, errlen, "--partition-by measured balances the stages; it cannot be "
                 "combined with --partition %s", o->partition == PL_PARTITION_EVEN ? "even"
                 : "N,N,... (the stages are given)");
    else if (pl_args_given(a, "--warmup-extra") && (o->schedule_file || !o->schedule ||
                                                   strcmp(o->schedule, "1f1b")))
        snprintf(err, errlen, "--warmup-extra deepens 1f1b's warm-up; give --schedule 1f1b");
    else if (o->partition == PL_PARTITION_MEMORY && a->command != PL_CMD_RUN &&
             a->command != PL_CMD_PARTITION)
        snprintf(err, errlen, "--partition memory fits the memory of one schedule: give it to "
                 "run or partition");
    else if (o->partition == PL_PARTITION_MEMORY && o->recompute)
        snprintf(err, errlen, "--partition memory counts whole stashes; --recompute keeps "
                 "stage inputs only: give one");
    else if (pl_args_given(a, "--max-inflight") && (o->schedule_file || !o->schedule ||
                                                    strcmp(o->schedule, "1f1b")))
        snprintf(err, errlen, "--max-inflight caps 1f1b's warm-up; give --schedule 1f1b");
    else if (a->command == PL_CMD_SHOW && o->warmup_extra == PL_WARMUP_AUTO)
        snprintf(err, errlen, "--warmup-extra auto follows the links of a run; show needs a "
                 "number");
    else if (o->warmup_extra == PL_WARMUP_AUTO && o->link_latency_ms == 0 && !o->link_bandwidth)
        snprintf(err, errlen, "--warmup-extra auto covers slow links: give --link-latency or "
                 "--link-bandwidth too");
    else if (a->trace && a->svg && !strcmp(a->trace, a->svg))
        snprintf(err, errlen, "--trace and --svg name the same file '%s'; give two names",
                 pl_output_printable(a->trace, 0, shown, sizeof shown));
    else
        return check_shape(a, err, errlen);
    return -1;
}

/* The command in argv[1]; -1 with a message if there is none such. */
static int command(pl_args *a, const char *name, char *err, size_t errlen)
{
    for (int c = 0; c <= PL_CMD_PLAN; c++)
        if (!strcmp(name, command_names[c])) {
            a->command = (pl_command)c;
            return 0;
        }
    char shown[256];
    snprintf(err, errlen, "unknown command '%s' (run, compare, show, check, sweep, list, "
             "partition, plan)", pl_output_printable(name, 0, shown, sizeof shown));
    return -1;
}

/* An argument that is not an option: check's FILE, or a mistake. */
static int positional(pl_args *a, const char *arg, char *err, size_t errlen)
{
    int check = a->command == PL_CMD_CHECK;
    if (check && arg[0] != '-' && !a->file) {
        a->file = arg;
        return 0;
    }
    char shown[256];
    pl_output_printable(arg, 0, shown, sizeof shown);
    if (arg[0] != '-' || arg[1] == '\0')
        snprintf(err, errlen, "unexpected argument '%s' (%soptions start with --; see --help)",
                 shown, check ? "check takes one FILE; " : "");
    else
        snprintf(err, errlen, "unknown option '%s' (see --help)", shown);
    return -1;
}

int pl_args_parse(pl_args *a, int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 2) {
        snprintf(err, errlen, "no command (run, compare, show, check, sweep, list; see --help)");
        return -1;
    }
    if (command(a, argv[1], err, errlen))
        return -1;
    for (int k = 2; k < argc; k++) {
        const char *arg = argv[k];
        int i = spec_index(arg);
        if (i < 0) {
            if (positional(a, arg, err, errlen))
                return -1;
            continue;
        }
        if (a->given & (UINT64_C(1) << i)) {
            snprintf(err, errlen, "%s given twice", arg);
            return -1;
        }
        a->given |= UINT64_C(1) << i;
        if (!(specs[i].applies & (1 << a->command))) {
            snprintf(err, errlen, "%s does not apply to %s (see pipelab %s --help)", arg,
                     command_names[a->command], command_names[a->command]);
            return -1;
        }
        if (!specs[i].takes_value) {
            if (!strcmp(arg, "--recompute")) a->opt.recompute = 1;
            else if (!strcmp(arg, "--simulate")) a->opt.simulate = 1;
            else if (!strcmp(arg, "--verify")) a->opt.verify = 1;
            else if (!strcmp(arg, "--blocking-send")) a->opt.blocking_send = 1;
            else if (!strcmp(arg, "--post-validation")) a->opt.post_validation = 1;
            else if (!strcmp(arg, "--json")) a->json = 1;
            else if (!strcmp(arg, "--ignore-limits")) a->opt.ignore_limits = 1;
            else if (!strcmp(arg, "--strict")) a->strict = 1;
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
    if (a->help)
        return 0;
    if (!pl_args_given(a, "--watchdog"))
        a->opt.watchdog_s = -1.0; /* automatic */
    if (a->measured && (!pl_args_given(a, "--partition") ||
                        a->opt.partition == PL_PARTITION_BALANCED))
        a->opt.partition = PL_PARTITION_MEASURED; /* balanced, on times measured here */
    if (a->opt.widths && !pl_args_given(a, "--layers"))
        a->opt.layers = a->n_widths; /* --widths says how many layers there are */
    /* A schedule that fixes m (naive: the whole batch at once) runs it, and
     * its cost unit is that micro-batch, unless --microbatches says which
     * nominal size to compare with (compare does so for every schedule). */
    const pl_registry_entry *e = a->opt.schedule_file ? NULL : pl_registry_find(a->opt.schedule);
    if (e && e->microbatches && !pl_args_given(a, "--microbatches") &&
        a->command != PL_CMD_COMPARE && a->command != PL_CMD_SWEEP)
        a->opt.microbatches = e->microbatches;
    /* plan: --microbatches and --chunks bound the search; m goes up to the
     * batch (64 at most) unless told. */
    if (a->command == PL_CMD_PLAN && !pl_args_given(a, "--microbatches"))
        a->opt.microbatches = a->opt.batch < 64 ? a->opt.batch : 64;
    return cross_check(a, err, errlen);
}
