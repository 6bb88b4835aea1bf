/*
 * test_outputs.c -- command output pasted into a chapter stays true.
 *
 * `make check-outputs` (part of `make test`) re-runs every `$ command` block
 * of the chapters and the README. These tests show the tool on a small page
 * in a temporary directory: it passes on a true block, fails naming the
 * command and the line when a pasted figure is edited, honours `...`, skips
 * blocks marked as wall-clock examples, and `--update` repairs a block.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#ifndef PL_OUTPUTS
#define PL_OUTPUTS "build/outputs"
#endif

static char dir[] = "/tmp/pl_outputs_XXXXXX";
static char root[PATH_MAX], tool[PATH_MAX + 32];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_not_null(getcwd(root, sizeof root));
    snprintf(tool, sizeof tool, "%s/%s", root, PL_OUTPUTS);
    cr_assert_eq(access(tool, X_OK), 0, "%s is not built", tool);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void page(const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/page.md", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Run the tool on the page; returns its status, output in out. */
static int check(const char *mode, char *out, size_t n)
{
    char cmd[2 * PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "%s %s %s %s/page.md 2>&1", tool, mode, root, dir);
    return shell_capture(cmd, out, n);
}

#define SHOW "    $ build/pipelab show --schedule gpipe --devices 2 --microbatches 2\n"
#define TRUE_OUTPUT "    # pipelab schedule\n    devices 2\n    microbatches 2\n    chunks 1\n" \
                    "    d0: F0 F1 B0 B1\n    d1: F0 F1 B0 B1\n"

Test(outputs, a_true_block_passes, .init = setup, .fini = teardown, .timeout = 20)
{
    char out[4096];
    page("Text.\n\n" SHOW TRUE_OUTPUT "\nMore text.\n");
    cr_expect_eq(check("--check", out, sizeof out), 0, "%s", out);
}

Test(outputs, an_edited_output_fails_naming_command_and_line, .init = setup, .fini = teardown,
     .timeout = 20)
{
    char out[4096];
    page("Text.\n\n" SHOW "    # pipelab schedule\n    devices 2\n    microbatches 3\n"
         "    chunks 1\n    d0: F0 F1 B0 B1\n    d1: F0 F1 B0 B1\n");
    cr_expect_eq(check("--check", out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "page.md:3: the output of `build/pipelab show --schedule gpipe") &&
              strstr(out, "chapter: microbatches 3") && strstr(out, "now:     microbatches 2"),
              "%s", out);
}

Test(outputs, dots_stand_for_lines_and_for_text, .init = setup, .fini = teardown, .timeout = 20)
{
    char out[4096];
    page(SHOW "    # pipelab schedule\n    ...\n    d1: F0 ... B1\n");
    cr_expect_eq(check("--check", out, sizeof out), 0, "%s", out);
    page(SHOW "    # pipelab schedule\n    ...\n    d1: F0 ... B7\n");
    cr_expect_eq(check("--check", out, sizeof out), 1, "%s", out);
}

Test(outputs, examples_are_not_checked_and_update_repairs, .init = setup, .fini = teardown,
     .timeout = 20)
{
    char out[4096];
    page("<!-- output: example -->\n" SHOW "    anything at all\n");
    cr_expect_eq(check("--check", out, sizeof out), 0, "%s", out);
    page(SHOW "    stale\n");
    cr_expect_eq(check("--update", out, sizeof out), 0, "%s", out);
    cr_expect_eq(check("--check", out, sizeof out), 0, "%s", out);
}

Test(outputs, files_shown_with_cat_feed_the_next_command, .init = setup, .fini = teardown,
     .timeout = 20)
{
    char out[4096];
    page("    $ cat s.txt\n    devices 1\n    microbatches 1\n    chunks 1\n    d0: F0 B0\n"
         "    $ build/pipelab check s.txt\n"
         "    s.txt: valid: p = 1, m = 1, v = 1, placement loop, 2 actions; peak in-flight 1\n");
    cr_expect_eq(check("--check", out, sizeof out), 0, "%s", out);
}
