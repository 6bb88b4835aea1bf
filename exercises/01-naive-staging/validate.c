/*
 * validate.c -- proving a schedule complete and deadlock-free (chapter 01).
 *
 * EXERCISE 01: write rule 3, the dry run (search for TODO).
 * `make exercise-ch01` grades this file.
 *
 * Three passes, one per rule, each linear in the number of actions:
 *
 *  1. completeness: per device, a byte per (chunk, micro-batch) records which
 *     of F, B, I, W have been seen; a second sighting is a duplicate, a B next
 *     to an I or W is a mix. Counting the first sightings tells whether
 *     anything is missing without scanning all m*v bytes (we scan only to name
 *     what is missing).
 *  2. local order: the same bytes, cleared, now record what has run *so far*
 *     on the device; a B or I needs its F, a W its I. The running count of
 *     micro-batches between F and B (or W) gives the peak in flight.
 *  3. deadlock: a dry run. A worklist holds the devices that may progress. A
 *     device runs its list until an action needs a message that has not
 *     arrived, and then simply leaves the worklist; the action that sends that
 *     message puts its receiver back. Every action runs once and every message
 *     wakes at most one device, so the run is linear. Whatever is left
 *     unfinished when the worklist empties is deadlocked.
 */
#include "validate.h"

#include "memory.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SEEN_F = 1, SEEN_B = 2, SEEN_I = 4, SEEN_W = 8 }; /* per device, per (chunk, mb) */
enum { SPLIT = 4 }; /* per (receiving stage, mb), beside 1 << PL_ACTIVATION and 1 << PL_GRADIENT */

static const char *const rule_name[2] = {"rule 1, completeness", "rule 2, local order"};

/* "dD position I (A): MESSAGE (rule N, name)"; returns -1. */
static int report(char *err, size_t errlen, const pl_schedule *s, int d, int i, int rule,
                  const char *fmt, ...)
{
    char name[32];
    int n = snprintf(err, errlen, "d%d position %d (%s): ", d, i,
                     pl_schedule_format(s, s->actions[d][i], name, sizeof name));
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)(n + k) < errlen)
            snprintf(err + n + k, errlen - (size_t)(n + k), " (%s)", rule_name[rule - 1]);
    }
    return -1;
}

/* "micro-batch 3", or "micro-batch 3 chunk 1" when there are chunks. */
static const char *mb_name(const pl_schedule *s, int mb, int chunk, char *buf, size_t n)
{
    if (s->chunks > 1)
        snprintf(buf, n, "micro-batch %d chunk %d", mb, chunk);
    else
        snprintf(buf, n, "micro-batch %d", mb);
    return buf;
}

/* Rule 1 for one device, before anything is indexed: kinds and ranges. */
static int check_range(const pl_schedule *s, int d, int i, char *err, size_t errlen)
{
    pl_action a = s->actions[d][i];
    if ((unsigned)a.kind > PL_W)
        return report(err, errlen, s, d, i, 1, "unknown action kind %d", (int)a.kind);
    if (a.mb < 0 || a.mb >= s->microbatches)
        return report(err, errlen, s, d, i, 1, "micro-batch %d is out of range 0..%d",
                      a.mb, s->microbatches - 1);
    if (a.chunk < 0 || a.chunk >= s->chunks)
        return report(err, errlen, s, d, i, 1, "chunk %d is out of range 0..%d",
                      a.chunk, s->chunks - 1);
    return 0;
}

/* Names the first (chunk, mb) that device d lacks something for. */
static int report_missing(const pl_schedule *s, int d, const uint8_t *seen,
                          char *err, size_t errlen)
{
    char mbn[48];
    for (int c = 0; c < s->chunks; c++)
        for (int mb = 0; mb < s->microbatches; mb++) {
            int b = seen[(size_t)c * s->microbatches + mb];
            const char *what = !(b & SEEN_F)                       ? "has no forward"
                               : !(b & (SEEN_B | SEEN_I | SEEN_W)) ? "has no backward"
                               : (b & SEEN_I) && !(b & SEEN_W)     ? "has I but no W"
                               : (b & SEEN_W) && !(b & SEEN_I)     ? "has W but no I"
                                                                   : NULL;
            if (what) {
                snprintf(err, errlen, "d%d: %s %s (%s)", d,
                         mb_name(s, mb, c, mbn, sizeof mbn), what, rule_name[0]);
                return -1;
            }
        }
    return 0;
}

/* Rule 1 on device d. `seen` is all zero on entry and on return. */
static int rule_complete(const pl_schedule *s, int d, uint8_t *seen, char *err, size_t errlen)
{
    size_t mv = (size_t)s->microbatches * s->chunks, first[4] = {0, 0, 0, 0};
    char mbn[48];
    int rc = 0;
    for (int i = 0; i < s->len[d] && !rc; i++) {
        if ((rc = check_range(s, d, i, err, errlen)))
            break;
        pl_action a = s->actions[d][i];
        uint8_t *b = &seen[(size_t)a.chunk * s->microbatches + a.mb];
        int bit = 1 << a.kind;
        if (*b & bit)
            rc = report(err, errlen, s, d, i, 1, "duplicate %s of %s", pl_action_name(a.kind),
                        mb_name(s, a.mb, a.chunk, mbn, sizeof mbn));
        else if (a.kind == PL_B && (*b & (SEEN_I | SEEN_W)))
            rc = report(err, errlen, s, d, i, 1, "%s is already split into I and W; "
                        "it cannot also have a full backward",
                        mb_name(s, a.mb, a.chunk, mbn, sizeof mbn));
        else if ((a.kind == PL_I || a.kind == PL_W) && (*b & SEEN_B))
            rc = report(err, errlen, s, d, i, 1, "%s already has a full backward B; "
                        "it cannot also have %c", mb_name(s, a.mb, a.chunk, mbn, sizeof mbn),
                        pl_action_letter(a.kind));
        *b |= (uint8_t)bit;
        first[a.kind]++;
    }
    if (!rc && !(first[PL_F] == mv && first[PL_B] + first[PL_I] == mv &&
                 first[PL_B] + first[PL_W] == mv))
        rc = report_missing(s, d, seen, err, errlen);
    for (int i = 0; i < s->len[d]; i++) { /* clear what we touched */
        pl_action a = s->actions[d][i];
        if ((unsigned)a.kind <= PL_W && a.mb >= 0 && a.mb < s->microbatches &&
            a.chunk >= 0 && a.chunk < s->chunks)
            seen[(size_t)a.chunk * s->microbatches + a.mb] = 0;
    }
    return rc;
}

/* Rule 2 on device d (complete, so every index is in range), and its peak
 * in flight. `seen` is all zero on entry and on return. */
static int rule_order(const pl_schedule *s, int d, uint8_t *seen, int *peak,
                      char *err, size_t errlen)
{
    int inflight = 0, rc = 0;
    *peak = 0;
    for (int i = 0; i < s->len[d] && !rc; i++) {
        pl_action a = s->actions[d][i];
        uint8_t *b = &seen[(size_t)a.chunk * s->microbatches + a.mb];
        if ((a.kind == PL_B || a.kind == PL_I) && !(*b & SEEN_F))
            rc = report(err, errlen, s, d, i, 2, "%s before its forward", pl_action_name(a.kind));
        else if (a.kind == PL_W && !(*b & SEEN_I))
            rc = report(err, errlen, s, d, i, 2, "weight-grad before its input-grad");
        *b |= (uint8_t)(1 << a.kind);
        inflight += pl_memory_inflight_delta(a.kind);
        if (inflight > *peak)
            *peak = inflight;
    }
    for (int i = 0; i < s->len[d]; i++)
        seen[(size_t)s->actions[d][i].chunk * s->microbatches + s->actions[d][i].mb] = 0;
    return rc;
}

/* The dry run of rule 3: everything it needs, allocated together. */
typedef struct {
    const pl_schedule *s;
    uint8_t *msg;   /* per (stage, mb): which messages arrived; SPLIT */
    int *pos;       /* per device: next action */
    char *queued;   /* per device: in the worklist or running */
    int *work, nwork;
    pl_slot *order; /* may be NULL */
    long done;
} dryrun;

/* The line that names what device d, stuck at its action at position pos,
 * waits for: "deadlock: d1 blocked at position 0 (F1) waiting for F1 from
 * d0". Returns what snprintf returns. */
static int blocked_line(const dryrun *r, int d, int pos, char *out, size_t n)
{
    const pl_schedule *s = r->s;
    size_t m = (size_t)s->microbatches;
    pl_action a = s->actions[d][pos];
    pl_route in = {PL_ACTIVATION, 0, 0, 0, 0};
    char mine[32], theirs[32];
    pl_schedule_input(s, d, a, &in); /* a blocked action has an input */
    /* The sender's action: a forward, or the backward (B or I) of the stage after. */
    pl_action src = {PL_F, a.mb, in.peer_chunk};
    if (in.flow == PL_GRADIENT)
        src.kind = r->msg[(size_t)in.stage * m + a.mb] & SPLIT ? PL_I : PL_B;
    return snprintf(out, n, "deadlock: d%d blocked at position %d (%s) waiting for %s from d%d",
                    d, pos, pl_schedule_format(s, a, mine, sizeof mine),
                    pl_schedule_format(s, src, theirs, sizeof theirs), in.peer);
}

/* Mark the gradients that come from an I rather than a B (chapter 06), so
 * that a deadlock report names the right sender. */
static void mark_split(dryrun *r)
{
    const pl_schedule *s = r->s;
    size_t m = (size_t)s->microbatches;
    for (int d = 0; d < s->devices; d++)
        for (int i = 0; i < s->len[d]; i++) {
            pl_route out;
            pl_action a = s->actions[d][i];
            if (a.kind == PL_I && pl_schedule_output(s, d, a, &out))
                r->msg[(size_t)out.stage * m + (size_t)a.mb] |= SPLIT;
        }
}

/*
 * TODO(ch01): rule 3. Decide whether every device can run its whole list
 * when, as in the runtime, only receivers wait and every message is buffered
 * (pl_schedule_input and pl_schedule_output say which message an action
 * waits for and which it sends). If so, return 0, having written into
 * r->order (when it is not NULL) every action once, in an order they can run
 * in. If not, return -1 with one line per device that cannot finish, in
 * device order, each as blocked_line() writes it, joined by '\n' in err.
 *
 * What you have: r->msg, one byte per (receiving stage, micro-batch) for
 * the messages' flags (1 << flow); r->pos, r->queued, r->work and r->nwork
 * (room for one entry per device), r->done. Use them or not; the grader
 * measures only what you return and write. Every action should run once:
 * the validator checks schedules of hundreds of thousands of actions.
 */
static int dry_run(dryrun *r, char *err, size_t errlen)
{
    mark_split(r);
    (void)blocked_line, (void)err, (void)errlen;
    return 0;
}

/* Rule 3: the dry run. Fills order (if not NULL); returns 0 if every action ran. */
static int rule_deadlock(const pl_schedule *s, pl_slot *order, char *err, size_t errlen)
{
    size_t p = (unsigned)s->devices; /* >= 1: pl_validate checked */
    dryrun r = {.s = s, .order = order};
    r.msg = calloc((size_t)pl_schedule_stages(s) * s->microbatches, 1);
    r.pos = calloc(p, sizeof *r.pos);
    r.queued = calloc(p, 1);
    r.work = malloc(p * sizeof *r.work);
    int rc = -1;
    if (!r.msg || !r.pos || !r.queued || !r.work)
        snprintf(err, errlen, "validate: out of memory");
    else
        rc = dry_run(&r, err, errlen);
    free(r.msg);
    free(r.pos);
    free(r.queued);
    free(r.work);
    return rc;
}

/* Whether an action of kind k may come on a (chunk, micro-batch) whose byte
 * of SEEN_ bits is b, by rules 1 and 2: not twice, F before B or I, I before
 * W, never B beside I or W. ok[k] has bit b set if so. */
static unsigned short allowed(pl_kind k)
{
    unsigned short ok = 0;
    for (int b = 0; b < 16; b++) {
        int fine = !(b & (1 << k)) &&
                   (k == PL_F ? 1
                    : k == PL_B ? (b & SEEN_F) && !(b & (SEEN_I | SEEN_W))
                    : k == PL_I ? (b & SEEN_F) && !(b & SEEN_B)
                                : (b & SEEN_I) != 0);
        ok |= (unsigned short)(fine << b);
    }
    return ok;
}

/* Rules 1 and 2 on device d in one pass and without messages: 0 if both
 * hold (and its peak in flight in *peak), -1 if anything is wrong -- the
 * rule-by-rule passes above then say what. `seen` (m * v bytes) is zero on
 * entry and on return. A valid schedule -- the common case, and every
 * generated one -- costs one pass over the list, and one over `seen` that
 * checks every (chunk, micro-batch) ended complete while it clears it. */
static int quick_rules(const pl_schedule *s, int d, uint8_t *seen, int *peak)
{
    const pl_action *list = s->actions[d];
    unsigned m = (unsigned)s->microbatches, v = (unsigned)s->chunks;
    const unsigned short ok[4] = {allowed(PL_F), allowed(PL_B), allowed(PL_I), allowed(PL_W)};
    const int held[4] = {pl_memory_inflight_delta(PL_F), pl_memory_inflight_delta(PL_B),
                         pl_memory_inflight_delta(PL_I), pl_memory_inflight_delta(PL_W)};
    int inflight = 0, top = 0, i = 0, bad = 0;
    for (; i < s->len[d] && !bad; i++) {
        pl_action a = list[i];
        if ((unsigned)a.kind > PL_W || (unsigned)a.mb >= m || (unsigned)a.chunk >= v)
            break;
        uint8_t *b = &seen[(size_t)a.chunk * m + (size_t)a.mb];
        bad = !((ok[a.kind] >> *b) & 1);
        *b |= (uint8_t)(1 << a.kind);
        inflight += held[a.kind];
        top = inflight > top ? inflight : top;
    }
    int complete = 1;
    for (size_t k = 0; k < (size_t)m * v; k++) {
        complete &= seen[k] == (SEEN_F | SEEN_B) || seen[k] == (SEEN_F | SEEN_I | SEEN_W);
        seen[k] = 0;
    }
    *peak = top;
    return !bad && i == s->len[d] && complete ? 0 : -1;
}

/* Rules 1 and 2 on every device, in rule order; fills peak. */
static int local_rules(const pl_schedule *s, int *peak, char *err, size_t errlen)
{
    uint8_t *seen = calloc((size_t)s->microbatches * s->chunks, 1);
    int rc = seen ? 0 : -1, quick = 0;
    if (!seen)
        snprintf(err, errlen, "validate: out of memory");
    while (!rc && quick < s->devices && quick_rules(s, quick, seen, &peak[quick]) == 0)
        quick++;
    if (quick == s->devices) {
        free(seen);
        return 0;
    }
    for (int d = 0; d < s->devices && !rc; d++)
        rc = rule_complete(s, d, seen, err, errlen);
    for (int d = 0; d < s->devices && !rc; d++)
        rc = rule_order(s, d, seen, &peak[d], err, errlen);
    free(seen);
    return rc;
}

/* Sizes every rule may index with. */
static int check_sizes(const pl_schedule *s, char *err, size_t errlen)
{
    if (s->devices < 1 || s->microbatches < 1 || s->chunks < 1 ||
        s->devices > INT_MAX / s->chunks ||
        (size_t)s->devices * s->chunks > SIZE_MAX / 2 / (size_t)s->microbatches) {
        snprintf(err, errlen, "schedule sizes out of range: devices %d, microbatches %d, "
                 "chunks %d", s->devices, s->microbatches, s->chunks);
        return -1;
    }
    return 0;
}

int pl_validate_local(const pl_schedule *s, char *err, size_t errlen)
{
    if (check_sizes(s, err, errlen))
        return -1;
    int *peak = malloc((size_t)s->devices * sizeof *peak);
    int rc = peak ? local_rules(s, peak, err, errlen) : -1;
    if (!peak)
        snprintf(err, errlen, "validate: out of memory");
    free(peak);
    return rc;
}

int pl_validate(const pl_schedule *s, pl_validation *out, char *err, size_t errlen)
{
    if (out)
        *out = (pl_validation){0};
    if (check_sizes(s, err, errlen))
        return -1;
    long total = pl_schedule_total(s);
    int *peak = malloc((size_t)s->devices * sizeof *peak);
    pl_slot *order = out && total > 0 ? malloc((size_t)total * sizeof *order) : NULL;
    int rc = -1;
    if (!peak || (out && total > 0 && !order))
        snprintf(err, errlen, "validate: out of memory");
    else if (local_rules(s, peak, err, errlen) == 0)
        rc = rule_deadlock(s, order, err, errlen);
    if (rc == 0 && out) {
        *out = (pl_validation){peak, order, total};
        return 0;
    }
    free(peak);
    free(order);
    return rc;
}

void pl_validation_free(pl_validation *v)
{
    free(v->peak_inflight);
    free(v->order);
    *v = (pl_validation){0};
}

int pl_validate_bitwise(const pl_schedule *s, char *err, size_t errlen)
{
    int *last = malloc((size_t)s->chunks * sizeof *last); /* per chunk: micro-batch, or -1 */
    if (!last) {
        snprintf(err, errlen, "validate: out of memory");
        return -1;
    }
    for (int d = 0; d < s->devices; d++) {
        for (int c = 0; c < s->chunks; c++)
            last[c] = -1;
        for (int i = 0; i < s->len[d]; i++) {
            pl_action a = s->actions[d][i];
            if (a.kind != PL_B && a.kind != PL_W)
                continue;
            if (a.mb < last[a.chunk]) {
                char name[32];
                snprintf(err, errlen, "d%d position %d (%s) adds stage %d's weight gradient of "
                         "micro-batch %d after micro-batch %d's: not in increasing "
                         "micro-batch order, so the weights cannot be bitwise equal to the "
                         "sequential reference's", d, i, pl_schedule_format(s, a, name,
                         sizeof name), pl_schedule_stage(s, d, a.chunk), a.mb, last[a.chunk]);
                free(last);
                return -1;
            }
            last[a.chunk] = a.mb;
        }
    }
    free(last);
    return 0;
}
