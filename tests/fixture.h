/*
 * fixture.h -- a directory of files a command must leave as they were, for
 * the reliability suites: a schedule file, an old trace, an old picture, a
 * bystander, schedule files of every kind of trouble (out of order, a
 * syntax error, a deadlock, a byte-order mark and CRLF, a name that is not
 * text, an empty file), a FIFO, a sparse file too large to be a schedule
 * and a subdirectory. Arguments name them by code: "@S" is the schedule,
 * "@D/..." a path in the directory.
 */
#ifndef PL_TEST_FIXTURE_H
#define PL_TEST_FIXTURE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ the fixture */

static const char schedule_text[] =
    "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B0 B1\nd1: F0 B0 F1 B1\n";

/* The files every case starts with: name, contents. A name with control
 * characters and bytes that are not UTF-8 stands for any name a user may
 * give; sparse.txt is larger than a schedule file may be (written sparse). */
static const struct {
    const char *code, *name, *text;
} files[] = {
    {"@S", "sched.txt", schedule_text},
    {"@T", "trace.json", "an old trace\n"},
    {"@V", "plot.svg", "an old picture\n"},
    {"@K", "keep.txt", "a bystander\n"},
    {"@O", "order.txt", /* valid, but d0 adds B1 before B0 */
     "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B1 B0\nd1: F0 B0 F1 B1\n"},
    {"@B", "bad.txt", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 F1 B0 B1\nd1: F0 X0\n"},
    {"@L", "deadlock.txt", "devices 2\nmicrobatches 2\nchunks 1\nd0: F0 B0 F1 B1\n"
                           "d1: F1 B1 F0 B0\n"},
    {"@M", "bom.txt", "\xef\xbb\xbf# with a byte-order mark and CRLF\r\ndevices 2\r\n"
                      "microbatches 2\r\nchunks 1\r\nd0: F0 F1 B0 B1\r\nd1: F0 B0 F1 B1\r\n"},
    {"@W", "s\x01\x1b[31m\xff\xfe<&>\"'.txt", schedule_text},
    {"@E", "empty.txt", ""},
};
enum { N_FILES = sizeof files / sizeof files[0] };

typedef struct {
    char dir[64];
    char path[N_FILES][512];
} fixture;

static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

static inline void make_fixture(fixture *fx)
{
    snprintf(fx->dir, sizeof fx->dir, "/tmp/pipelab-reliability-XXXXXX");
    cr_assert_not_null(mkdtemp(fx->dir));
    for (int i = 0; i < N_FILES; i++) {
        snprintf(fx->path[i], sizeof fx->path[i], "%s/%s", fx->dir, files[i].name);
        write_file(fx->path[i], files[i].text);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/fifo", fx->dir);
    cr_assert_eq(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/sparse.txt", fx->dir);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(ftruncate(fileno(f), 300L << 20), 0); /* 300 MiB of holes */
    fclose(f);
    snprintf(p, sizeof p, "%s/subdir", fx->dir);
    cr_assert_eq(mkdir(p, 0700), 0);
}

static inline void remove_fixture(fixture *fx)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    cr_assert_eq(system(cmd), 0);
}

/* Read a whole file (NULL if it cannot be read); free it. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *more = realloc(buf, 2 * cap + 1);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* 1 if path holds exactly `text`. */
static inline int holds(const char *path, const char *text)
{
    size_t n;
    char *got = slurp(path, &n);
    int same = got && n == strlen(text) && memcmp(got, text, n) == 0;
    free(got);
    return same;
}

/* The names in dir that look like a temporary output ("...pipelab-XXXXXX"). */
static inline int temporaries(const char *dir, char *names, size_t n)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int count = 0;
    names[0] = '\0';
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strstr(e->d_name, ".pipelab-")) {
            count++;
            strncat(names, e->d_name, n - strlen(names) - 1);
        }
    closedir(d);
    return count;
}

/* An argument with a fixture code ("@S", or "@D" for the directory) at its
 * start, expanded: "@D/subdir/x.json" -> "/tmp/.../subdir/x.json". */
static inline void expand(const fixture *fx, const char *arg, char *out, size_t n)
{
    if (arg[0] == '@' && arg[1] == 'D') {
        snprintf(out, n, "%s%s", fx->dir, arg + 2);
        return;
    }
    for (int i = 0; arg[0] == '@' && i < N_FILES; i++)
        if (!strncmp(arg, files[i].code, 2)) {
            snprintf(out, n, "%s%s", fx->path[i], arg + 2);
            return;
        }
    snprintf(out, n, "%s", arg);
}

#endif
