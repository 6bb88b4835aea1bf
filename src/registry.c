/*
 * registry.c -- every named schedule, and the formulas their chapters derive.
 *
 * To add a schedule: write its generator in src/schedules/NAME.c, declare it
 * below with `pl_generator pl_schedule_NAME;`, and add its entry to the
 * table. Nothing else in the project lists schedules.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

/* ---- the formulas, each derived in its chapter ---- */

/* Chapters 01-02: one micro-batch in flight, so exactly one device works at
 * any time whatever the costs: bubble (p-1)/p. */
static double one_in_flight(const pl_formula_case *c, const char **why)
{
    (void)why;
    return (double)(c->p - 1) / c->p;
}

static int peak_one(int p, int m, int v, int d)
{
    (void)p, (void)m, (void)v, (void)d;
    return 1;
}

/* Chapters 03-05: the pipeline fills once and drains once; with v chunks
 * per device each fill step is a chunk, 1/v of a stage's work:
 * bubble (p-1)/(v*m + p-1). */
static double fill_drain(const pl_formula_case *c, const char **why)
{
    (void)why;
    return (double)(c->p - 1) / ((double)c->v * c->m + c->p - 1);
}

/* Chapter 03: every forward before any backward, so every micro-batch. */
static int peak_all(int p, int m, int v, int d)
{
    (void)p, (void)d;
    return v * m;
}

/* Chapter 04: device d warms up with p-d-1 forwards, then holds one more. */
static int peak_1f1b(int p, int m, int v, int d)
{
    (void)v;
    return p - d < m ? p - d : m;
}

// [region 1f1b-capped]
/* Chapter 04: 1F1B fills and drains once, so fill_drain -- unless a memory
 * cap (--max-inflight K) holds its warm-up to K - 1 forwards. */
static double one_f_one_b(const pl_formula_case *c, const char **why)
{
    // [region 1f1b-capped-body]
    int p = c->p, m = c->m, k = c->max_inflight;
    if (k <= 0 || k >= p || m <= k)
        return fill_drain(c, why);
    /* Devices p-k .. p-1 warm up as in 1F1B (p-d-1 <= k-1): a 1F1B of k
     * devices, which keeps up. Device d < p-k warms up with k-1 only, so in
     * its steady state F_(j+k-1) follows B_(j-1) and precedes B_j. Follow
     * micro-batch j + k - 1 from B_(j-1) on device 0: its forward crosses
     * devices 0 .. p-k, where B_j follows it at once (the 1F1B part is in
     * step), and B_j climbs back through devices p-k .. 0. So each
     * micro-batch after the first k costs p-k+1 forwards and backwards in a
     * chain, (p-k+1)(t_F + t_B); the first k go through as in a 1F1B of k
     * micro-batches, (k + p-1)(t_F + t_B):
     *
     *   makespan = (k + p-1) T + (m - k)(p-k+1) T,   T = t_F + t_B
     *   bubble   = 1 - m / (k + p-1 + (m - k)(p-k+1))
     *
     * whatever the costs (the tests check every p <= 6, k < p, m <= 12, on
     * three cost settings). Device 0 alone could go faster -- its round
     * trip, p T, holds k micro-batches -- but the shortened warm-ups of the
     * devices after it chain its micro-batches one behind another. */
    double steps = (double)(k + p - 1) + (double)(m - k) * (p - k + 1);
    return 1.0 - (double)m / steps;
    // [endregion 1f1b-capped-body]
}
// [endregion 1f1b-capped]

/* Chapter 05: interleaved 1F1B fills and drains once, so fill_drain -- but
 * only when every group of p micro-batches is whole: the micro-batches of a
 * short last group come round the loop of devices before the devices are
 * ready for them (with v = 1 there is no loop, and it is 1F1B). */
static double interleaved_bubble(const pl_formula_case *c, const char **why)
{
    if (c->v > 1 && c->m % c->p) {
        *why = "a last group of m mod p micro-batches leaves the loop of devices short: "
               "the formula needs m a multiple of p";
        return -1.0;
    }
    return fill_drain(c, why);
}

/* Chapter 05: device d runs w = 2(p-d-1) + (v-1)p chunk-forwards of warm-up
 * (1F1B's p-d-1 when v = 1) and then holds w+1 through the steady phase, so
 * min(w+1, v*m) when p divides m. Otherwise the schedule is the one for m
 * rounded up to whole groups, with the missing micro-batches' actions left
 * out; its peak is the most real chunk-forwards among w+1 consecutive ones
 * of the order -- the first w+1, since only the last group has gaps. */
static int peak_interleaved(int p, int m, int v, int d)
{
    int w = v == 1 ? p - d - 1 : 2 * (p - d - 1) + (v - 1) * p;
    int whole = v * p * (m / p), r = m % p, total = v * p * ((m + p - 1) / p);
    int n = w + 1 < total ? w + 1 : total; /* the window, in slots of the order */
    if (n <= whole)
        return n;
    int t = n - whole; /* slots in the last group: r of every p are real */
    return whole + t / p * r + (t % p < r ? t % p : r);
}

// [region looped-bfs-formula]
/* Chapter 05: looped BFS fills and drains once. */
static double looped_bfs_bubble(const pl_formula_case *c, const char **why)
{
    // [region looped-bfs-formula-body]
    /* With m >= p, chunk c of micro-batch 0 reaches device 0 again no later
     * than its last forward of chunk c-1 ends: fill_drain. With m < p it
     * does not, and every chunk after the first waits for it (exercise 05):
     * device d runs chunk c of micro-batch j at (c p + d + j) t_f, since
     * micro-batch 0 needs c p steps to come round c times and the others
     * follow it; device d is free by then, having finished chunk c-1 at
     * ((c-1) p + d + m) t_f <= (c p + d) t_f. The last forward (chunk v-1,
     * micro-batch m-1, device p-1) ends at (v p + m - 1) t_f, the backwards
     * mirror the forwards, and every device works v m (t_f + t_b):
     *
     *   bubble = 1 - v m / (v p + m - 1)       (m < p; t_f, t_b a chunk's)
     *
     * -- (p-1)/(v m + p-1) at m = p, as it must be. */
    if (c->m >= c->p)
        return fill_drain(c, why);
    double steps = (double)c->v * c->p + c->m - 1;
    return 1.0 - (double)c->v * c->m / steps;
    // [endregion looped-bfs-formula-body]
}
// [endregion looped-bfs-formula]

// [region zero-bubble-formula]
/* Chapter 06: a zero-bubble schedule that runs k(p-1) forwards before its
 * first W (ZB-H1: k = 1, ZB-H2: k = 2). Every device works m T, T = t_F +
 * t_I + t_W, and idles the same (p-1) g, the largest of three lower bounds
 * on the makespan, each a chain of actions that cannot overlap:
 *
 *   t_F                  micro-batch 0's forward reaches the last device
 *                        after (p-1) t_F; then it works m T;
 *   t_I - (k-1) t_F      device 0 runs k(p-1) + 1 forwards, then waits for
 *                        micro-batch 0's gradient, p t_F + (p-1) t_I after
 *                        the start; then it has the rest of its m T to do;
 *   t_F + t_I - k t_W    the last device's work up to I_(m-1) -- all but
 *                        k(p-1) + 1 Ws -- then that gradient climbs p - 1
 *                        stages, then device 0 runs W_(m-1).
 *
 * The schedules meet the largest bound exactly once m > k(p-1) (the tests
 * check every p <= 8, m <= 32 on five cost settings, and random ones):
 *
 *   bubble = (p-1) g / (m T + (p-1) g)
 *
 * With t_F = t_I = t_W = t, g = t for both: a third of 1F1B's idle time. */
static double zero_bubble(const pl_formula_case *c, int k, const char **why)
{
    if (c->m <= k * (c->p - 1)) {
        *why = k == 1 ? "ZB-H1's closed form needs m >= p: fewer micro-batches all sit in "
                        "the warm-up"
                      : "ZB-H2's closed form needs m >= 2p-1: fewer micro-batches all sit in "
                        "the warm-up";
        return -1.0;
    }
    int64_t g = c->t_f, alt = c->t_i - (k - 1) * c->t_f;
    if (alt > g)
        g = alt;
    alt = c->t_f + c->t_i - k * c->t_w;
    if (alt > g)
        g = alt;
    double idle = (double)(c->p - 1) * (double)g;
    return idle / ((double)c->m * (double)(c->t_f + c->t_i + c->t_w) + idle);
}
// [endregion zero-bubble-formula]

static double zb_h1(const pl_formula_case *c, const char **why)
{
    return zero_bubble(c, 1, why);
}

static double zb_h2(const pl_formula_case *c, const char **why)
{
    return zero_bubble(c, 2, why);
}

/* Chapter 06: every device runs k(p-1) forwards before its first W, and one
 * more in the first F, I, W; each W then frees one: min(k(p-1) + 1, m). */
static int peak_zb_h1(int p, int m, int v, int d)
{
    (void)v, (void)d;
    return p < m ? p : m;
}

static int peak_zb_h2(int p, int m, int v, int d)
{
    (void)v, (void)d;
    return 2 * p - 1 < m ? 2 * p - 1 : m;
}

// [region v-formula]
/* Chapter 08: a V schedule (two chunks per device, placement v) whose last
 * device ends with k(p-1) + 1 Ws after its last input-gradient (ZB-V: k = 2,
 * DualPipeV: k = 1). Times are a chunk's: t_F, t_I, t_W, T = t_F + t_I +
 * t_W. Every device works 2m T and idles the same (p-1) g, the larger of
 * two lower bounds on the makespan, each a chain that cannot overlap:
 *
 *   t_F                  micro-batch 0 crosses p-1 chunks to reach the last
 *                        device; then it works 2m T;
 *   t_F + t_I - k t_W    the last device's work up to its last I -- all but
 *                        k(p-1) + 1 Ws -- then that gradient climbs p-1
 *                        stages to stage 0, then device 0 runs the last W.
 *
 * Both schedules meet the larger bound exactly when t_F = t_I (ZB-V: and t_W
 * <= t_F) and m is in their domain (the tests check every p <= 8, m <= 32
 * on several cost settings); elsewhere other chains bind. So
 *
 *   bubble = (p-1) g / (2m T + (p-1) g)
 *
 * With t_F = t_I = t_W = t (half a unit), g = t for both: half ZB-H1's
 * idle time, since a chunk's forward is half a device's. */
static double v_bubble(const pl_formula_case *c, int k, const char **why)
{
    if (c->t_f != c->t_i || (k == 2 && c->t_w > c->t_f)) {
        *why = k == 2 ? "ZB-V's closed form is derived for t_F = t_I >= t_W"
                      : "DualPipeV's closed form is derived for t_F = t_I";
        return -1.0;
    }
    if (c->m < 2 * c->p - (k == 2)) {
        *why = k == 2 ? "ZB-V's closed form needs m >= 2p-1: fewer micro-batches leave its "
                        "V with gaps"
                      : "DualPipeV's closed form needs m >= 2p: fewer micro-batches leave its "
                        "V with gaps";
        return -1.0;
    }
    int64_t g = c->t_f, alt = c->t_f + c->t_i - k * c->t_w;
    if (alt > g)
        g = alt;
    double idle = (double)(c->p - 1) * (double)g;
    return idle / (2.0 * c->m * (double)(c->t_f + c->t_i + c->t_w) + idle);
}
// [endregion v-formula]

static double zb_v(const pl_formula_case *c, const char **why)
{
    return v_bubble(c, 2, why);
}

static double dualpipe_v(const pl_formula_case *c, const char **why)
{
    return v_bubble(c, 1, why);
}

/* Chapter 08: device d runs 2p chunk-forwards before its first W (ZB-V) or
 * its first overlapped pair (DualPipeV, which then holds one more); with
 * few micro-batches, only m + d + 1 of them exist by then, and at most 2m. */
static int peak_v(int m, int d, int most)
{
    int n = m + d + 1 < 2 * m ? m + d + 1 : 2 * m;
    return n < most ? n : most;
}

static int peak_zb_v(int p, int m, int v, int d)
{
    (void)v;
    return peak_v(m, d, 2 * p);
}

static int peak_dualpipe_v(int p, int m, int v, int d)
{
    (void)v;
    return peak_v(m, d, 2 * p + 1);
}

/* ---- the schedules ---- */

pl_generator pl_schedule_naive, pl_schedule_microbatch, pl_schedule_gpipe, pl_schedule_1f1b,
    pl_schedule_interleaved, pl_schedule_looped_bfs, pl_schedule_zb_h1, pl_schedule_zb_h2,
    pl_schedule_zb_v, pl_schedule_dualpipe_v;

/* Every formula so far assumes free links: a message that takes time delays
 * its receiver, which the closed forms do not count (chapter 07 derives what
 * links cost). */
enum {
    SOLO = PL_ASSUME_NO_RECOMPUTE | PL_ASSUME_FREE_LINKS,
    EQUAL = PL_ASSUME_EQUAL_STAGES | PL_ASSUME_EQUAL_MICROBATCHES | SOLO
};

static const pl_registry_entry entries[] = {
    {"naive", 1, pl_schedule_naive, PL_PLACE_LOOP, 1, 1, 1, SOLO,
     one_in_flight, "(p-1)/p", peak_one, "1",
     "the whole batch at once, forward through every device and back"},
    {"microbatch", 2, pl_schedule_microbatch, PL_PLACE_LOOP, 1, 1, 0, SOLO,
     one_in_flight, "(p-1)/p", peak_one, "1",
     "m micro-batches, one in flight at a time"},
    {"gpipe", 3, pl_schedule_gpipe, PL_PLACE_LOOP, 1, 1, 0, EQUAL,
     fill_drain, "(p-1)/(m+p-1)", peak_all, "m",
     "every forward, then every backward: fill and drain"},
    {"1f1b", 4, pl_schedule_1f1b, PL_PLACE_LOOP, 1, 1, 0, EQUAL,
     one_f_one_b, "(p-1)/(m+p-1)", peak_1f1b, "min(p-d, m)",
     "warm-up, one forward one backward, cool-down"},
    {"interleaved", 5, pl_schedule_interleaved, PL_PLACE_LOOP, 0, 2, 0, EQUAL,
     interleaved_bubble, "(p-1)/(v*m+p-1)",
     peak_interleaved, "min(2(p-d-1)+(v-1)p+1, v*m), less a short last group's gaps",
     "v chunks per device, 1F1B over chunks in groups of p micro-batches"},
    {"looped-bfs", 5, pl_schedule_looped_bfs, PL_PLACE_LOOP, 0, 2, 0, EQUAL,
     looped_bfs_bubble, "(p-1)/(v*m+p-1); with m < p exercise 05 derives it", peak_all, "v*m",
     "v chunks per device, every micro-batch through one chunk before the next"},
    {"zb-h1", 6, pl_schedule_zb_h1, PL_PLACE_LOOP, 1, 1, 0, EQUAL,
     zb_h1, "(p-1)g/(mT+(p-1)g), g = max(t_F, t_I, t_F+t_I-t_W)", peak_zb_h1, "min(p, m)",
     "1F1B's memory; backward split into I and W, W deferred into the bubble"},
    {"zb-h2", 6, pl_schedule_zb_h2, PL_PLACE_LOOP, 1, 1, 0, EQUAL,
     zb_h2, "(p-1)g/(mT+(p-1)g), g = max(t_F, t_I-t_F, t_F+t_I-2t_W)", peak_zb_h2,
     "min(2p-1, m)", "twice the warm-up: each device busy from its first action to its last"},
    {"zb-v", 8, pl_schedule_zb_v, PL_PLACE_V, 2, 2, 0, EQUAL,
     zb_v, "(p-1)g/(2mT+(p-1)g), g = max(t_F, t_F+t_I-2t_W), t_F = t_I >= t_W (a chunk's)",
     peak_zb_v, "min(2p, m+d+1, 2m)",
     "two chunks in a V, I/W split: ZB-H1's memory, half its idle time"},
    {"dualpipe-v", 8, pl_schedule_dualpipe_v, PL_PLACE_V, 2, 2, 0, EQUAL,
     dualpipe_v, "(p-1)g/(2mT+(p-1)g), g = max(t_F, t_F+t_I-t_W), t_F = t_I (a chunk's)",
     peak_dualpipe_v, "min(2p+1, m+d+1, 2m)",
     "DeepSeek's DualPipe folded into a V: forward and backward paired"},
};

enum { N_ENTRIES = sizeof entries / sizeof entries[0] };

const pl_registry_entry *pl_registry_list(int *count)
{
    *count = N_ENTRIES;
    return entries;
}

const pl_registry_entry *pl_registry_find(const char *name)
{
    for (int i = 0; name && i < N_ENTRIES; i++)
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
    return NULL;
}

pl_shape pl_registry_shape(const pl_registry_entry *e, int p, int m, int v)
{
    pl_shape s = {p, e->microbatches ? e->microbatches : m,
                  e->chunks ? e->chunks : v ? v : e->chunks_default, 0, 0};
    return s;
}

int pl_registry_generate(const pl_registry_entry *e, const pl_shape *shape, pl_schedule *s,
                         char *err, size_t errlen)
{
    if (e->generate(s, shape, err, errlen))
        return -1;
    /* The entry promises these; a generator that breaks the promise is a bug
     * every registry-driven check would otherwise trip over later. */
    if (s->placement != e->placement || s->chunks != shape->chunks ||
        s->microbatches != shape->microbatches || s->devices != shape->devices) {
        snprintf(err, errlen, "%s generated p=%d m=%d v=%d placement %s, but was asked for "
                 "p=%d m=%d v=%d placement %s", e->name, s->devices, s->microbatches,
                 s->chunks, pl_route_placement_name(s->placement), shape->devices,
                 shape->microbatches, shape->chunks, pl_route_placement_name(e->placement));
        pl_schedule_free(s);
        return -1;
    }
    return 0;
}

int pl_registry_peak(const pl_registry_entry *e, const pl_shape *shape, int d)
{
    if (!e->peak)
        return -1;
    int n = e->peak(shape->devices, shape->microbatches, shape->chunks, d), k = shape->max_inflight;
    return k > 0 && k < n ? k : n;
}

double pl_registry_bubble(const pl_registry_entry *e, int p, int m, int v)
{
    const char *why;
    pl_formula_case c = {p, m, v, 1, 1, 1, 0};
    return e->bubble ? e->bubble(&c, &why) : -1.0;
}

char *pl_registry_names(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_ENTRIES && used < n; i++) {
        const char *sep = i == 0 ? "" : i == N_ENTRIES - 1 ? " or " : ", ";
        int k = snprintf(buf + used, n - used, "%s%s", sep, entries[i].name);
        used = k < 0 ? n : used + (size_t)k;
    }
    return buf;
}
