/*
 * test_web.c -- the playground's calls (src/web/web.h), natively: the
 * answers are valid JSON, a run's summary is byte for byte what
 * `pipelab run --simulate --json` prints, and a failure names the places in
 * the schedule's text its message names. (The page itself is tested in a
 * browser by `make test-playground`; this file needs no browser.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiment.h"
#include "jsoncheck.h"
#include "web/web.h"

/* A fresh folder for the schedule files a command names. */
static char folder[64];

static void make_folder(void)
{
    snprintf(folder, sizeof folder, "/tmp/pipelab-web-XXXXXX");
    cr_assert(mkdtemp(folder));
}

static void remove_folder(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/s.txt", folder);
    unlink(path);
    rmdir(folder);
}

/* pl_web_run of one command on the schedule text (may be NULL), checked valid JSON. */
static char *run(const char *command, const char *text)
{
    char *answer = pl_web_run(command, text);
    cr_assert(answer);
    cr_assert_eq(json_check(answer), 0, "invalid JSON at %ld: %s", json_check(answer), answer);
    return answer;
}

/* The same, for a schedule file in the folder: "run --schedule-file F ..." */
static char *run_text(const char *options, const char *text)
{
    char command[512];
    snprintf(command, sizeof command, "run --schedule-file %s/s.txt %s", folder, options);
    return run(command, text);
}

static void expect_has(const char *answer, const char *part)
{
    cr_expect(strstr(answer, part), "expected\n  %s\nin\n  %s", part, answer);
}

Test(web, the_registry_lists_every_schedule)
{
    char *json = pl_web_registry();
    int n;
    const pl_registry_entry *e = pl_registry_list(&n);
    cr_assert(json);
    cr_expect_eq(json_check(json), 0, "%s", json);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "{\"name\":\"%s\",\"chapter\":%d,", e[i].name, e[i].chapter);
        expect_has(json, name);
    }
    expect_has(json, "\"name\":\"naive\",\"chapter\":1,\"placement\":\"loop\",\"chunks\":1,"
               "\"chunks_default\":1,\"microbatches\":1,\"bubble\":\"(p-1)/p\"");
    pl_web_free(json);
}

/* The summary is pl_experiment_json's, for the options the command line gives. */
Test(web, a_run_answers_what_the_command_prints)
{
    pl_options o;
    pl_options_defaults(&o);
    o.schedule = "zb-h1";
    o.devices = 4;
    o.microbatches = 8;
    o.t_f = o.t_i = 2;
    o.steps = 1;
    o.simulate = 1;
    o.watchdog_s = -1;
    pl_experiment x;
    char err[256], *summary = NULL;
    size_t n = 0;
    cr_assert_eq(pl_experiment_run(&o, &x, err, sizeof err), 0, "%s", err);
    FILE *f = open_memstream(&summary, &n);
    pl_experiment_json(&x, f);
    fclose(f);
    pl_experiment_free(&x);
    char *answer = run("run --schedule zb-h1 --devices 4 --microbatches 8 --costs 2,2,1 --steps 1 "
                       "--simulate --json", NULL);
    expect_has(answer, summary);
    expect_has(answer, "\"makespan_ns\":49000000,\"bubble\":0.183673469,");
    expect_has(answer, "\"ok\":true");
    expect_has(answer, "\"over_budget\":null");
    expect_has(answer, "<rect class=\\\"act F c0\\\"");
    expect_has(answer, "\"schedule\":\"# pipelab schedule\\u000adevices 4\\u000amicrobatches 8"
               "\\u000achunks 1\\u000ad0: F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7\\u000a"
               "d1: F0 F1 F2 I0 F3 I1 W0 F4 I2 W1");
    free(summary);
    pl_web_free(answer);
}

/* Memory after each action of the step: 1f1b's last device holds one
 * micro-batch's activations from its forward's end to its backward's end. */
Test(web, memory_through_the_step)
{
    char *answer = run("run --schedule 1f1b --steps 1 --simulate", NULL);
    expect_has(answer, "\"memory\":[[[1000000,1536,0],[2000000,3072,0],[3000000,4608,0],"
               "[4000000,6144,0],[12000000,4608,0],[13000000,6144,0],");
    expect_has(answer, "[[4000000,1536,0],[6000000,0,0],[7000000,1536,0],[9000000,0,0],");
    pl_web_free(answer);
}

Test(web, two_commands_two_runs_one_timeline)
{
    char *answer = run("run --schedule 1f1b --simulate\n\nrun --schedule zb-h1 --simulate --json\n",
                       NULL);
    const char *svg = strstr(answer, "\"svg\":\"<?xml");
    cr_assert(svg, "%s", answer);
    int panels = 0, actions = 0;
    for (const char *p = svg; (p = strstr(p, "class=\\\"title\\\"")); p++)
        panels++;
    for (const char *p = svg; (p = strstr(p, "<rect class=\\\"act ")); p++)
        actions++;
    cr_expect_eq(panels, 2);
    cr_expect_eq(actions, 4 * 8 * 2 + 8 * 2 + 3 * 8 * 3, "1f1b: F, B; zb-h1: F, B on d0, "
                 "F, I, W on the others");
    expect_has(answer, "\"command\":\"run --schedule zb-h1 --simulate --json\"");
    pl_web_free(answer);
}

Test(web, bad_input_is_the_command_s_message)
{
    char *answer = run("run --schedule gpipe --microbatches 0 --simulate", NULL);
    expect_has(answer, "\"ok\":false,\"error\":\"--microbatches expects a whole number from 1 to "
               "65536, got '0'\",\"marks\":[]");
    cr_expect(strstr(answer, "\"svg\":null"));
    pl_web_free(answer);
    answer = run("run --schedule gpipe", NULL);
    expect_has(answer, "\"error\":\"the playground runs `pipelab run --simulate` only\"");
    pl_web_free(answer);
    answer = run("show --schedule gpipe --simulate", NULL);
    expect_has(answer, "\"ok\":false");
    pl_web_free(answer);
}

Test(web, over_the_budget_shown_without_it)
{
    char *answer = run("run --schedule gpipe --device-memory 20000 --simulate", NULL);
    expect_has(answer, "\"ok\":true");
    expect_has(answer, "\"over_budget\":\"d0 out of memory at F2: needs 1536 bytes of "
               "activations, 32 available of 20000\"");
    expect_has(answer, "\"makespan_ns\":33000000,");
    pl_web_free(answer);
    answer = run("run --schedule gpipe --device-memory 30000 --simulate", NULL);
    expect_has(answer, "\"over_budget\":null");
    pl_web_free(answer);
}

static const char deadlock[] =
    "# pipelab schedule\ndevices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\nd1: F1 B1 F0 B0\n";

/* A deadlock marks every blocked action; with --device-memory too, since a
 * schedule file is checked before it runs, as `pipelab run` does. */
Test(web, a_deadlock_marks_every_blocked_action, .init = make_folder, .fini = remove_folder)
{
    static const char marks[] =
        "\"marks\":[{\"line\":5,\"column\":8,\"length\":2,\"blocked\":true,"
        "\"message\":\"deadlock: d0 blocked at position 1 (B0) waiting for B0 from d1\"},"
        "{\"line\":6,\"column\":5,\"length\":2,\"blocked\":true,"
        "\"message\":\"deadlock: d1 blocked at position 0 (F1) waiting for F1 from d0\"}]";
    char *answer = run_text("--simulate", deadlock);
    expect_has(answer, marks);
    pl_web_free(answer);
    answer = run_text("--device-memory 34000 --simulate", deadlock);
    expect_has(answer, "\"ok\":false,\"error\":\"deadlock: d0 blocked at position 1 (B0) waiting "
               "for B0 from d1\\u000adeadlock: d1 blocked at position 0 (F1) waiting for F1 from "
               "d0\",");
    expect_has(answer, marks);
    pl_web_free(answer);
}

Test(web, rules_and_syntax_marked_where_written, .init = make_folder, .fini = remove_folder)
{
    char *answer = run_text("--simulate", "devices 2\nmicrobatches 2\nchunks 1\n"
                            "d0: F0 F1 B1 B0\n\n# d1 starts with a backward\nd1:\tB0 F0 F1 B1\n");
    expect_has(answer, "\"marks\":[{\"line\":7,\"column\":5,\"length\":2,\"blocked\":false,"
               "\"message\":\"d1 position 0 (B0): backward before its forward (rule 2, local "
               "order)\"}]");
    pl_web_free(answer);
    answer = run_text("--simulate", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\n"
                      "d1: F0 F1 B1\n");
    expect_has(answer, "\"marks\":[{\"line\":5,\"column\":1,\"length\":3,\"blocked\":false,"
               "\"message\":\"d1: micro-batch 0 has no backward (rule 1, completeness)\"}]");
    pl_web_free(answer);
    answer = run_text("--simulate", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\n"
                      "d1: F0 F1 B1 Bx\n");
    cr_expect(strstr(answer, "s.txt: line 5, column 15: expected a micro-batch 0..1, found 'x'"
                     "\",\"marks\":[{\"line\":5,\"column\":15,\"length\":1,\"blocked\":false,"),
              "%s", answer);
    pl_web_free(answer);
    answer = run_text("--simulate --layers 1", "devices 2\nmicrobatches 2\nchunks 1\n"
                      "d0: F0 F1 B1 B0\nd1: F0 F1 B1 B0\n");
    expect_has(answer, "s.txt has 2 stages but --layers is 1: every stage holds at least one "
               "layer\",\"marks\":[]"); /* as pipelab run says it (run.c) */
    pl_web_free(answer);
    answer = run_text("--simulate", NULL);
    expect_has(answer, "no schedule text was given");
    pl_web_free(answer);
}

Test(web, a_schedule_text_runs_as_the_generated_one, .init = make_folder, .fini = remove_folder)
{
    char *text = run("run --schedule zb-v --simulate", NULL);
    char *from = strstr(text, "\"schedule\":\"#"), *to;
    cr_assert(from, "%s", text);
    from += strlen("\"schedule\":\"");
    to = from;
    char schedule[4096];
    size_t n = 0;
    for (; *to != '"' && n + 1 < sizeof schedule; to++)
        schedule[n++] = strncmp(to, "\\u000a", 6) ? *to : (to += 5, '\n');
    schedule[n] = '\0';
    cr_assert(strstr(schedule, "placement v\n"), "%s", schedule);
    char *answer = run_text("--simulate", schedule);
    expect_has(answer, "\"makespan_ns\":25500000,\"bubble\":0.0588235294,");
    pl_web_free(answer);
    pl_web_free(text);
}

Test(web, shape)
{
    char *json = pl_web_shape(deadlock);
    cr_expect_str_eq(json, "{\"devices\":2,\"microbatches\":2,\"chunks\":1}");
    pl_web_free(json);
    json = pl_web_shape("devices 2\n");
    cr_expect_str_eq(json, "{\"error\":\"line 2, column 1: expected 'microbatches', found end of "
                     "input\"}");
    pl_web_free(json);
}

Test(web, locate_an_action_in_the_text)
{
    const char *text = "\xef\xbb\xbf# a schedule\r\ndevices 2\r\nmicrobatches 2\r\nchunks 2\r\n"
                       "d1:  F0.0\tF1.0  F0.1 # comment\r\n  d0: F0.0 F1.0\r\n";
    pl_text_span at;
    cr_assert_eq(pl_schedule_locate(text, 1, 2, &at), 0);
    cr_expect(at.line == 5 && at.column == 17 && at.length == 4, "%ld %ld %ld", at.line,
              at.column, at.length);
    cr_assert_eq(pl_schedule_locate(text, 1, 1, &at), 0);
    cr_expect(at.line == 5 && at.column == 11 && at.length == 4);
    cr_assert_eq(pl_schedule_locate(text, 0, -1, &at), 0);
    cr_expect(at.line == 6 && at.column == 3 && at.length == 3);
    cr_assert_eq(pl_schedule_locate(text, 0, 1, &at), 0);
    cr_expect(at.line == 6 && at.column == 12 && at.length == 4);
    cr_expect_eq(pl_schedule_locate(text, 0, 2, &at), -1, "d0 has two actions");
    cr_expect_eq(at.line, 0);
    cr_expect_eq(pl_schedule_locate(text, 2, -1, &at), -1, "there is no d2");
    cr_expect_eq(pl_schedule_locate("devices 1\nmicrobatches 1\nchunks 1\nd0: F0 B9 Q\n", 0, 0,
                                    &at), 0, "found before the text stops parsing");
    cr_expect(at.line == 4 && at.column == 5);
}
