/*
 * ch01.c -- grades exercise 01: the validator's dry run, which proves a
 * schedule cannot deadlock and, when it can, names every stuck device.
 *
 * Measured against a dry run written here the plainest way (every device in
 * turn, again and again, until none can move), on the registered schedules,
 * on hand-made deadlocks and on a few hundred random schedules; the order
 * the dry run reports must be one the actions can really run in; and the
 * threads must refuse at once what the validator refuses.
 */
#include "check.h"
#include "validate.h"

/* The plain dry run: *stuck gets each device's position (len if it
 * finished). Returns 1 if every action ran. */
static int plain_dry_run(const pl_schedule *s, int *pos)
{
    int S = pl_schedule_stages(s), m = s->microbatches, moved = 1;
    char *sent = calloc((size_t)S * (size_t)m * 2, 1);
    for (int d = 0; d < s->devices; d++)
        pos[d] = 0;
    while (moved) {
        moved = 0;
        for (int d = 0; d < s->devices; d++)
            while (pos[d] < s->len[d]) {
                pl_action a = s->actions[d][pos[d]];
                pl_route r;
                if (pl_schedule_input(s, d, a, &r) && !sent[((size_t)r.stage * m + a.mb) * 2 + r.flow])
                    break;
                if (pl_schedule_output(s, d, a, &r))
                    sent[((size_t)r.stage * m + a.mb) * 2 + r.flow] = 1;
                pos[d]++;
                moved = 1;
            }
    }
    free(sent);
    int all = 1;
    for (int d = 0; d < s->devices; d++)
        all &= pos[d] == s->len[d];
    return all;
}

/* What the validator must say about a deadlock, from the plain dry run:
 * one line per stuck device, in device order. */
static char *expected_report(const pl_schedule *s, const int *pos)
{
    char *out = ex_str("");
    for (int d = 0; d < s->devices; d++) {
        if (pos[d] == s->len[d])
            continue;
        pl_action a = s->actions[d][pos[d]], from;
        pl_route r = {PL_ACTIVATION, 0, 0, 0, 0};
        char mine[32], theirs[32];
        pl_schedule_input(s, d, a, &r);
        from = (pl_action){PL_F, a.mb, r.peer_chunk};
        if (r.flow == PL_GRADIENT) { /* the sender's backward: B, or I if it splits */
            from.kind = PL_B;
            for (int i = 0; i < s->len[r.peer]; i++)
                if (s->actions[r.peer][i].kind == PL_I && s->actions[r.peer][i].mb == a.mb &&
                    s->actions[r.peer][i].chunk == r.peer_chunk)
                    from.kind = PL_I;
        }
        out = ex_str("%s%sdeadlock: d%d blocked at position %d (%s) waiting for %s from d%d", out,
                     *out ? "\n" : "", d, pos[d], pl_schedule_format(s, a, mine, sizeof mine),
                     pl_schedule_format(s, from, theirs, sizeof theirs), r.peer);
    }
    return out;
}

static int lines(const char *s)
{
    int n = *s != '\0';
    for (; *s; s++)
        n += *s == '\n' && s[1];
    return n;
}

/* The mistake a wrong report points to. */
static const char *report_mistake(const char *want, const char *got)
{
    if (lines(got) < lines(want) && strncmp(want, got, strlen(got)) == 0)
        return "only the first stuck device is named: name every device that did not finish, "
               "one line each";
    if (lines(got) > lines(want))
        return "a device that finished is named as stuck, or one is named twice: name only "
               "the devices whose lists did not run to the end";
    return "a stuck device's line names the wrong action: its position is the first action "
           "of its list that never ran";
}

/* Check the validator on s: valid exactly when the plain dry run finishes,
 * and naming the plain dry run's stuck devices when it does not. */
static void judge(const pl_schedule *s, const char *what)
{
    int *pos = calloc((size_t)s->devices, sizeof *pos);
    char err[8192] = "";
    int valid = plain_dry_run(s, pos);
    pl_validation v;
    int rc = pl_validate(s, &v, err, sizeof err);
    char *text = ex_str("%s", what);
    if (valid && rc != 0)
        ex_fail(strstr(err, "deadlock")
                    ? "a schedule that runs was reported as deadlocked: does a device that "
                      "receives a message go back on the worklist, and run on from where it "
                      "stopped?"
                    : "a valid schedule was refused (rules 1 and 2 are given: this is rule 3)",
                ex_str("%s: valid", text), ex_str("%s: invalid\n%s", text, err));
    if (!valid && rc == 0)
        ex_fail("a deadlocked schedule passed: at the end of the dry run, are all actions "
                "counted as run, or only some?",
                ex_str("%s: deadlock\n%s", text, expected_report(s, pos)),
                ex_str("%s: valid", text));
    if (!valid && strcmp(err, expected_report(s, pos)) != 0)
        ex_fail(report_mistake(expected_report(s, pos), err), expected_report(s, pos), err);
    if (rc == 0)
        pl_validation_free(&v);
    free(pos);
}

static void parse(const char *text, pl_schedule *s)
{
    char err[512];
    if (pl_schedule_parse(text, s, err, sizeof err))
        ex_fail("the grader's schedule does not parse", "a schedule", err);
}

static void registered_schedules_are_valid(void)
{
    int n;
    const pl_registry_entry *e = pl_registry_list(&n);
    for (int i = 0; i < n; i++)
        for (int p = 1; p <= 4; p++)
            for (int m = 1; m <= (e[i].microbatches ? 1 : 6); m++)
                for (int v = e[i].chunks ? e[i].chunks : 1; v <= (e[i].chunks ? e[i].chunks : 3);
                     v++) {
                    char err[512];
                    pl_shape shape = pl_registry_shape(&e[i], p, m, v);
                    pl_schedule s;
                    if (pl_registry_generate(&e[i], &shape, &s, err, sizeof err))
                        continue; /* a shape the schedule does not take */
                    ex_case("pipelab show --schedule %s --devices %d --microbatches %d --chunks %d",
                            e[i].name, p, m, v);
                    judge(&s, e[i].name);
                    pl_schedule_free(&s);
                }
}

static void the_chapters_deadlock(void)
{
    pl_schedule s;
    ex_case("chapter 01's deadlock.txt: d0: F0 B0 F1 B1, d1: F1 B1 F0 B0");
    parse("devices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n", &s);
    judge(&s, "deadlock.txt");
    pl_schedule_free(&s);
}

/* Deadlocks the chapter does not show. */
static void every_stuck_device_is_named(void)
{
    static const char *const cases[] = {
        /* three devices, every one stuck */
        "devices 3\nmicrobatches 2\nchunks 1\n"
        "d0: F0 F1 B0 B1\nd1: F0 B0 F1 B1\nd2: F1 B1 F0 B0\n",
        /* the cycle at the end of the pipeline stops everyone before it */
        "devices 4\nmicrobatches 2\nchunks 1\n"
        "d0: F0 F1 B0 B1\nd1: F0 F1 B0 B1\nd2: F0 B0 F1 B1\nd3: F1 B1 F0 B0\n",
        /* stuck late in the list, after several actions ran */
        "devices 2\nmicrobatches 4\nchunks 1\n"
        "d0: F0 F1 B0 B1 F2 B2 F3 B3\nd1: F0 B0 F1 B1 F3 B3 F2 B2\n",
        /* chunks: the loop back from the last device to the first */
        "devices 2\nmicrobatches 1\nchunks 2\n"
        "d0: F0.0 F0.1 B0.1 B0.0\nd1: F0.1 F0.0 B0.1 B0.0\n",
        /* split backwards: the gradient comes from an I */
        "devices 3\nmicrobatches 2\nchunks 1\n"
        "d0: F0 F1 B0 B1\nd1: F0 I0 W0 F1 I1 W1\nd2: F1 I1 W1 F0 I0 W0\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_schedule s;
        ex_case("%s", cases[i]);
        parse(cases[i], &s);
        judge(&s, "this schedule");
        pl_schedule_free(&s);
    }
}

/* Random lists: each device runs its forwards and backwards in a random
 * order that keeps F before B; most deadlock, some do not. */
static void random_schedules_agree(void)
{
    unsigned seed = 12345;
    int valid = 0, stuck = 0;
    for (int t = 0; t < 400; t++) {
        int p = 2 + t % 3, m = 1 + (t / 3) % 4;
        pl_schedule s;
        pl_schedule_init(&s, p, m, 1);
        for (int d = 0; d < p; d++) {
            int f = 0, b = 0, order[16];
            for (int j = 0; j < m; j++)
                order[j] = j;
            for (int j = m - 1; j > 0; j--) { /* forwards in a random order */
                seed = seed * 1103515245u + 12345u;
                int k = (int)((seed >> 16) % (unsigned)(j + 1)), x = order[j];
                order[j] = order[k], order[k] = x;
            }
            while (b < m) {
                seed = seed * 1103515245u + 12345u;
                if (f < m && (f == b || (seed >> 16) % 2))
                    pl_schedule_push(&s, d, PL_F, order[f++], 0);
                else
                    pl_schedule_push(&s, d, PL_B, order[b++], 0);
            }
        }
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        pl_schedule_write(&s, f);
        fclose(f);
        ex_case("random schedule %d:\n%s", t, text);
        int *pos = calloc((size_t)p, sizeof *pos);
        if (plain_dry_run(&s, pos))
            valid++;
        else
            stuck++;
        free(pos);
        judge(&s, "this schedule");
        pl_schedule_free(&s);
        free(text);
    }
    if (valid < 20 || stuck < 20)
        ex_fail("the grader's random schedules are too one-sided", "a mix", "not enough");
}

/* The order the dry run reports runs every action once, each after its
 * device's previous one and after the action it receives from. */
static void order_is_an_execution_order(void)
{
    const char *names[] = {"gpipe", "1f1b", "interleaved", "zb-h1", "zb-v"};
    for (int g = 0; g < 5; g++) {
        pl_schedule s;
        char err[512];
        const pl_registry_entry *e = pl_registry_find(names[g]);
        pl_shape shape = pl_registry_shape(e, 4, 8, 0);
        pl_registry_generate(e, &shape, &s, err, sizeof err);
        ex_case("pipelab show --schedule %s --devices 4 --microbatches 8", names[g]);
        pl_validation v;
        if (pl_validate(&s, &v, err, sizeof err))
            ex_fail("a registered schedule was refused", "valid", err);
        long total = pl_schedule_total(&s);
        int S = pl_schedule_stages(&s), m = s.microbatches, *next = calloc(4, sizeof *next);
        char *sent = calloc((size_t)S * (size_t)m * 2, 1);
        if (v.n_order != total)
            ex_fail("the order must hold every action once", ex_str("%ld actions", total),
                    ex_str("%ld", v.n_order));
        for (long k = 0; k < v.n_order; k++) {
            pl_slot at = v.order[k];
            if (at.device < 0 || at.device >= 4 || at.index != next[at.device])
                ex_fail("each device's actions must appear in the order of its list, each "
                        "once: record an action in r->order as it runs",
                        ex_str("entry %ld: d%d position %d", k, at.device < 0 ? 0 : at.device,
                               at.device >= 0 && at.device < 4 ? next[at.device] : 0),
                        ex_str("entry %ld: d%d position %d", k, at.device, at.index));
            pl_action a = s.actions[at.device][at.index];
            pl_route r;
            char name[32];
            if (pl_schedule_input(&s, at.device, a, &r) &&
                !sent[((size_t)r.stage * m + a.mb) * 2 + r.flow])
                ex_fail("an action comes before the message it waits for: record an action "
                        "when it runs, not when the device is looked at",
                        ex_str("%s on d%d after its input", pl_schedule_format(&s, a, name, sizeof name),
                               at.device),
                        ex_str("entry %ld: before it", k));
            if (pl_schedule_output(&s, at.device, a, &r))
                sent[((size_t)r.stage * m + a.mb) * 2 + r.flow] = 1;
            next[at.device]++;
        }
        free(next), free(sent);
        pl_validation_free(&v);
        pl_schedule_free(&s);
    }
}

/* What the validator refuses never reaches the threads: the run stops at
 * once with its message, instead of hanging until the watchdog. */
static void the_threads_refuse_a_deadlock(void)
{
    char path[] = "/tmp/pipelab-ex01-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "devices 3\nmicrobatches 2\nchunks 1\n"
                       "d0: F0 F1 B0 B1\nd1: F0 B0 F1 B1\nd2: F1 B1 F0 B0\n";
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        ex_fail("the grader cannot write a file", "a file", path);
    close(fd);
    pl_options o;
    pl_options_defaults(&o);
    o.schedule_file = path;
    o.devices = 3;
    o.microbatches = 2;
    o.watchdog_s = 2;
    ex_case("pipelab run --schedule-file three-stuck.txt:\n%s", text);
    pl_experiment x;
    char err[2048] = "";
    int rc = pl_experiment_run(&o, &x, err, sizeof err);
    unlink(path);
    if (rc == 0 || !strstr(err, "deadlock: d0 blocked"))
        ex_fail(rc == 0 ? "a deadlocked schedule ran: the validator let it through"
                : strstr(err, "watchdog")
                    ? "the threads hung on a deadlocked schedule the validator let through "
                      "(the watchdog stopped them)"
                    : "the run failed, but not with the validator's deadlock report",
                "pipelab: ...: deadlock: d0 blocked at position 2 (B0) waiting for B0 from d1 ...",
                rc == 0 ? "it ran" : err);
    pl_experiment_free(&x);
}

static const ex_check checks[] = {
    {"registered-schedules-are-valid", registered_schedules_are_valid, 60,
     "the dry run never ends: does a device leave the worklist when it blocks, and is each "
     "device queued only once?"},
    {"the-chapters-deadlock", the_chapters_deadlock, 10, NULL},
    {"every-stuck-device-is-named", every_stuck_device_is_named, 10, NULL},
    {"random-schedules-agree-with-a-plain-dry-run", random_schedules_agree, 60, NULL},
    {"the-order-is-one-the-actions-can-run-in", order_is_an_execution_order, 30, NULL},
    {"the-threads-refuse-a-deadlock", the_threads_refuse_a_deadlock, 30,
     "the run hung: the validator let a deadlocked schedule through to the threads"},
};

int main(void)
{
    return ex_main(checks, sizeof checks / sizeof checks[0], getenv("PL_EXERCISE_LABEL"));
}
