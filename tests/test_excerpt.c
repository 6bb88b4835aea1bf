/*
 * test_excerpt.c -- code quoted in the chapters stays equal to the source.
 *
 * `make check-chapters` runs `excerpt --check` on every chapter. These tests
 * show it on a small fake project in a temporary directory: it passes when
 * the excerpt equals its region, fails naming the region when the region is
 * edited without regenerating the chapter, fails when the region is gone,
 * and `excerpt --update` (make chapters) repairs the chapter.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#ifndef PL_EXCERPT
#define PL_EXCERPT "build/excerpt"
#endif

static char dir[] = "/tmp/pl_excerpt_XXXXXX";

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *name)
{
    static char text[8192];
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The tool's absolute path: the tests run it from another directory. */
static void tool_path(char *out, size_t n)
{
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    if (PL_EXCERPT[0] == '/')
        snprintf(out, n, "%s", PL_EXCERPT);
    else
        snprintf(out, n, "%s/%s", cwd, PL_EXCERPT);
    cr_assert_eq(access(out, X_OK), 0, "%s is not built", out);
}

/* Run excerpt MODE chapter.md in the fake project; stderr into err. */
static int excerpt(const char *mode, char *err, size_t errlen)
{
    char tool[2 * PATH_MAX], cmd[2 * PATH_MAX + 512];
    tool_path(tool, sizeof tool);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s chapter.md 2>&1", dir, tool, mode);
    return shell_capture(cmd, err, errlen);
}

static const char source[] =
    "int before;\n"
    "// [region add]\n"
    "static int add(int a, int b)\n"
    "{\n"
    "    return a + b;\n"
    "}\n"
    "// [endregion add]\n"
    "int after;\n";

static const char chapter[] =
    "# A chapter\n\n"
    "The code:\n\n"
    "<!-- excerpt src/demo.c add -->\n"
    "```c\n"
    "static int add(int a, int b)\n"
    "{\n"
    "    return a + b;\n"
    "}\n"
    "```\n"
    "<!-- end excerpt -->\n\n"
    "The end.\n";

static void project(void)
{
    cr_assert_not_null(mkdtemp(dir));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/src", dir);
    cr_assert_eq(system(cmd), 0);
    put("src/demo.c", source);
    put("chapter.md", chapter);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(excerpt, .init = project, .fini = cleanup, .timeout = 30);

Test(excerpt, passes_when_the_excerpt_equals_its_region)
{
    char err[4096];
    cr_expect_eq(excerpt("--check", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(err, "");
}

Test(excerpt, fails_naming_the_region_when_the_source_changes)
{
    char err[4096], *edited = strdup(source);
    char *plus = strstr(edited, "a + b");
    plus[2] = '-'; /* a - b: the region changed, the chapter did not */
    put("src/demo.c", edited);
    free(edited);
    cr_expect_eq(excerpt("--check", err, sizeof err), 1);
    cr_expect_not_null(strstr(err, "chapter.md:5: excerpt of src/demo.c [add] differs"),
                       "%s", err);
}

Test(excerpt, fails_when_the_region_is_gone)
{
    char err[4096];
    put("src/demo.c", "int before;\nstatic int add(int a, int b) { return a + b; }\n");
    cr_expect_eq(excerpt("--check", err, sizeof err), 1);
    cr_expect_not_null(strstr(err, "region 'add' not found in src/demo.c"), "%s", err);
}

Test(excerpt, fails_when_the_file_is_gone)
{
    char err[4096], path[256];
    snprintf(path, sizeof path, "%s/src/demo.c", dir);
    cr_assert_eq(remove(path), 0);
    cr_expect_eq(excerpt("--check", err, sizeof err), 1);
    cr_expect_not_null(strstr(err, "not found in src/demo.c"), "%s", err);
}

Test(excerpt, update_regenerates_the_chapter)
{
    char err[4096], *edited = strdup(source);
    strstr(edited, "a + b")[2] = '*';
    put("src/demo.c", edited);
    free(edited);
    cr_expect_eq(excerpt("--update", err, sizeof err), 0, "%s", err);
    cr_expect_eq(excerpt("--check", err, sizeof err), 0, "%s", err);
    const char *md = get("chapter.md");
    cr_expect_not_null(strstr(md, "```c\nstatic int add(int a, int b)\n{\n    return a * b;\n}\n```\n"
                                  "<!-- end excerpt -->\n\nThe end.\n"), "%s", md);
    cr_expect_eq(strncmp(md, "# A chapter\n\nThe code:\n\n", 24), 0, "prose untouched");
}

/* The real chapters: what `make check-chapters` checks, from the project root. */
Test(chapters, every_excerpt_matches_its_source, .timeout = 30)
{
    glob_t g;
    if (glob("chapters/*/README.md", 0, NULL, &g) != 0)
        cr_skip_test("no chapter has a README yet");
    char tool[2 * PATH_MAX], cmd[3 * PATH_MAX];
    tool_path(tool, sizeof tool);
    int n = snprintf(cmd, sizeof cmd, "%s --check", tool);
    for (size_t i = 0; i < g.gl_pathc && n < (int)sizeof cmd - 256; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", g.gl_pathv[i]);
    globfree(&g);
    cr_expect_eq(system(cmd), 0, "a chapter's excerpt differs from src/ (run make chapters)");
}

/* Exercises: a starter of one region (a fragment), and the fragment put back. */
static const char nested[] =
    "int before;\n"
    "// [region outer]\n"
    "static int twice(int a)\n"
    "{\n"
    "    // [region body]\n"
    "    return 2 * a;\n"
    "    // [endregion body]\n"
    "}\n"
    "// [endregion outer]\n"
    "int after;\n";

/* Run the excerpt tool with `args` in the fake project; stdout into out. */
static int excerpt_args(const char *args, char *out, size_t n)
{
    char tool[2 * PATH_MAX], cmd[2 * PATH_MAX + 512];
    tool_path(tool, sizeof tool);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s", dir, tool, args);
    return shell_capture(cmd, out, n);
}

Test(excerpt, a_fragment_starter_is_its_region_with_the_todo_inside)
{
    char out[4096];
    put("src/demo.c", nested);
    put("ex.todo", "notes before the first block are never output\n"
                   "@@ region body\n    return 0; /* TODO */\n");
    cr_expect_eq(excerpt_args("--starter src/demo.c ex.todo outer", out, sizeof out), 0);
    cr_expect_str_eq(out, "static int twice(int a)\n{\n    return 0; /* TODO */\n}\n");
    cr_expect_eq(excerpt_args("--starter src/demo.c /dev/null outer", out, sizeof out), 0);
    cr_expect_str_eq(out, "static int twice(int a)\n{\n    return 2 * a;\n}\n",
                     "the reference's fragment: inner markers dropped");
}

Test(excerpt, a_spliced_fragment_replaces_its_region_and_keeps_its_lines)
{
    char out[4096];
    put("src/demo.c", nested);
    put("mine.c", "static int twice(int a)\n{\n    return a + a;\n}\n");
    cr_expect_eq(excerpt_args("--splice src/demo.c outer mine.c", out, sizeof out), 0);
    cr_expect_str_eq(out, "int before;\n// [region outer]\n#line 1 \"mine.c\"\n"
                          "static int twice(int a)\n{\n    return a + a;\n}\n"
                          "#line 9 \"src/demo.c\"\n// [endregion outer]\nint after;\n");
    cr_expect_neq(excerpt_args("--splice src/demo.c nowhere mine.c 2>/dev/null", out, sizeof out),
                  0, "an unknown region fails");
}

Test(excerpt, a_quoted_region_leaves_out_the_markers_of_regions_inside_it)
{
    char err[4096];
    put("src/demo.c", nested);
    put("chapter.md", "<!-- excerpt src/demo.c outer -->\n<!-- end excerpt -->\n");
    cr_expect_eq(excerpt("--update", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(get("chapter.md"), "<!-- excerpt src/demo.c outer -->\n```c\n"
                                         "static int twice(int a)\n{\n    return 2 * a;\n}\n"
                                         "```\n<!-- end excerpt -->\n");
}
