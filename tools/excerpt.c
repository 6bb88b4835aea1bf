/*
 * excerpt -- keep the code quoted in the chapters equal to the source.
 *
 * A chapter quotes a marked region of the real source like this:
 *
 *   <!-- excerpt src/device.c device-main -->
 *   ```c
 *   ...the lines between "// [region device-main]" and
 *      "// [endregion device-main]" in src/device.c...
 *   ```
 *   <!-- end excerpt -->
 *
 *   excerpt --check  FILE.md...   exit 1 if any excerpt differs from its
 *                                 region, or names a region that is gone
 *   excerpt --update FILE.md...   rewrite every excerpt from the source
 *   excerpt --starter SRC TODO    print an exercise's starter: SRC with the
 *                                 regions TODO names replaced by its text
 *   excerpt --starter SRC TODO REGION
 *                                 the same, of region REGION of SRC alone: the
 *                                 starter of an exercise whose file is one
 *                                 region (a fragment), not a whole source
 *   excerpt --splice SRC REGION FILE
 *                                 print SRC with the body of region REGION
 *                                 replaced by FILE: a learner's fragment put
 *                                 back into the source it came from, with
 *                                 #line directives so that a compiler names
 *                                 FILE and its lines
 *
 * A TODO file holds blocks, each opened by a line "@@ top" (text inserted
 * after the source's title line, the first " * " line) or "@@ region NAME"
 * (text that replaces region NAME, markers included). Lines before the first
 * block are notes for whoever reads the file, never output. In a starter
 * every other region marker line is dropped, so the learner sees plain C.
 * Starters are thus generated from the source and cannot drift from it.
 * Regions may nest; an excerpt in a chapter leaves out the marker lines of
 * the regions inside it.
 *
 * Paths in an excerpt are relative to the directory excerpt runs in (the
 * project root).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* The text between the region markers (whole lines), or NULL. */
static char *region(const char *src, const char *name)
{
    char open[256], close[256];
    snprintf(open, sizeof open, "// [region %s]\n", name);
    snprintf(close, sizeof close, "// [endregion %s]", name);
    const char *a = strstr(src, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return NULL;
    while (b > a && b[-1] != '\n') /* back to the start of the marker's line */
        b--;
    char *out = malloc((size_t)(b - a) + 1);
    if (out) {
        memcpy(out, a, (size_t)(b - a));
        out[b - a] = '\0';
    }
    return out;
}

static int marker(const char *line, char *name, size_t n);

/* The text of region `name` as a chapter quotes it: without the marker lines
 * of the regions nested in it. */
static char *quoted(const char *src, const char *name)
{
    char *text = region(src, name), *w = text;
    char inner[128];
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
        if (!marker(p, inner, sizeof inner)) {
            memmove(w, p, n);
            w += n;
        }
        p += n;
    }
    if (w)
        *w = '\0';
    return text;
}

/* Process one chapter; returns the number of problems found. With `update`
 * the file is rewritten with fresh excerpts. */
static int process(const char *path, int update)
{
    char *md = slurp(path);
    if (!md) {
        fprintf(stderr, "excerpt: cannot read %s\n", path);
        return 1;
    }
    /* Each excerpt is at most 64 KiB, so this bounds the rewritten file. */
    size_t cap = strlen(md) + 1 + 65536, len = 0;
    for (const char *q = md; (q = strstr(q, "<!-- excerpt ")) != NULL; q++)
        cap += 65536;
    char *out = malloc(cap);
    if (!out) {
        free(md);
        return 1;
    }
    int problems = 0, line = 1;
    const char *p = md;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
        char file[512], name[128];
        if (sscanf(p, "<!-- excerpt %511s %127s -->", file, name) == 2) {
            memcpy(out + len, p, n);
            len += n;
            const char *end = strstr(p, "<!-- end excerpt -->");
            const char *body = p + n;
            if (!end) {
                fprintf(stderr, "%s:%d: excerpt without <!-- end excerpt -->\n", path, line);
                problems++;
                break;
            }
            char *src = slurp(file), *want = src ? quoted(src, name) : NULL;
            char expect[1 << 16];
            if (!want) {
                fprintf(stderr, "%s:%d: region '%s' not found in %s\n", path, line, name, file);
                problems++;
                snprintf(expect, sizeof expect, "%.*s", (int)(end - body), body);
            } else {
                snprintf(expect, sizeof expect, "```c\n%s```\n", want);
                if (strlen(expect) != (size_t)(end - body) ||
                    memcmp(expect, body, (size_t)(end - body)) != 0) {
                    fprintf(stderr, "%s:%d: excerpt of %s [%s] differs from the source%s\n",
                            path, line, file, name, update ? " (updated)" : " (run make chapters)");
                    problems += !update;
                }
            }
            size_t e = strlen(expect);
            memcpy(out + len, expect, e);
            len += e;
            for (const char *q = p; q < end; q++)
                line += *q == '\n';
            free(want);
            free(src);
            p = end;
            continue;
        }
        memcpy(out + len, p, n);
        len += n;
        line++;
        p += n;
    }
    out[len] = '\0';
    if (update && strcmp(out, md) != 0) {
        FILE *f = fopen(path, "wb");
        if (!f || fputs(out, f) < 0) {
            fprintf(stderr, "excerpt: cannot write %s\n", path);
            problems++;
        }
        if (f)
            fclose(f);
    }
    free(out);
    free(md);
    return problems;
}

/* The text of block `head` ("@@ top", "@@ region NAME") of a TODO file:
 * every line up to the next "@@ " line. NULL if there is none. */
static char *block(const char *todo, const char *head)
{
    size_t n = strlen(head);
    for (const char *p = todo; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, head, n) && (p[n] == '\n' || p[n] == '\0')) {
            const char *a = p[n] ? p + n + 1 : p + n, *b = a;
            while (*b && strncmp(b, "@@ ", 3)) {
                const char *eol = strchr(b, '\n');
                b = eol ? eol + 1 : b + strlen(b);
            }
            char *out = malloc((size_t)(b - a) + 1);
            if (out) {
                memcpy(out, a, (size_t)(b - a));
                out[b - a] = '\0';
            }
            return out;
        }
    return NULL;
}

/* A region marker line: returns 1 for "// [region NAME]", 2 for
 * "// [endregion NAME]", 0 otherwise; NAME goes into name. */
static int marker(const char *line, char *name, size_t n)
{
    while (*line == ' ' || *line == '\t')
        line++;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "// [region %%%zu[^]]]", n - 1);
    if (sscanf(line, fmt, name) == 1)
        return 1;
    snprintf(fmt, sizeof fmt, "// [endregion %%%zu[^]]]", n - 1);
    return sscanf(line, fmt, name) == 1 ? 2 : 0;
}

/* Print `text` (lines of src_path) with the regions todo names replaced by
 * their blocks and every other marker line dropped; "@@ top" goes after the
 * first " * " line if `top` is not NULL. Counts in *used the regions
 * replaced; returns the number of problems. */
static int emit(const char *text, const char *todo, const char *top, const char *src_path,
                int *used)
{
    int problems = 0, titled = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
        char name[128], head[160];
        int kind = marker(p, name, sizeof name);
        if (kind == 1) {
            snprintf(head, sizeof head, "@@ region %s", name);
            char *block_text = block(todo, head);
            if (block_text) { /* replace the whole region, up to its end marker */
                fputs(block_text, stdout);
                free(block_text);
                (*used)++;
                char end[160];
                snprintf(end, sizeof end, "// [endregion %s]", name);
                const char *e = strstr(p, end);
                if (!e) {
                    fprintf(stderr, "%s: region '%s' has no end\n", src_path, name);
                    problems++;
                    break;
                }
                eol = strchr(e, '\n');
                p = eol ? eol + 1 : e + strlen(e);
                continue;
            }
        }
        if (!kind)
            fwrite(p, 1, n, stdout);
        if (!kind && top && !titled && !strncmp(p, " * ", 3)) {
            fputs(top, stdout);
            titled = 1;
        }
        p += n;
    }
    return problems;
}

/* Print the starter made from src and todo -- of region `only` alone if it is
 * not NULL; returns the number of problems. */
static int starter(const char *src_path, const char *todo_path, const char *only)
{
    char *src = slurp(src_path), *todo = slurp(todo_path);
    int problems = 0, used = 0, wanted = 0;
    if (!src || !todo) {
        fprintf(stderr, "excerpt: cannot read %s\n", src ? todo_path : src_path);
        free(src);
        free(todo);
        return 1;
    }
    for (const char *p = todo; (p = strstr(p, "@@ region ")) != NULL; p++)
        wanted += p == todo || p[-1] == '\n';
    char *top = only ? NULL : block(todo, "@@ top");
    char *text = only ? region(src, only) : src;
    if (!text) {
        fprintf(stderr, "%s: no region '%s'\n", src_path, only);
        problems++;
    } else {
        problems += emit(text, todo, top, src_path, &used);
        if (used != wanted) {
            fprintf(stderr, "%s: %d of the %d regions %s replaces are not in %s%s%s\n",
                    todo_path, wanted - used, wanted, todo_path, src_path,
                    only ? " region " : "", only ? only : "");
            problems++;
        }
    }
    if (only)
        free(text);
    free(top);
    free(src);
    free(todo);
    return problems;
}

/* Print src with the body of region `name` replaced by the text of `with`
 * (the marker lines stay); returns the number of problems. */
static int splice(const char *src_path, const char *name, const char *with_path)
{
    char *src = slurp(src_path), *with = slurp(with_path);
    char open[256], close[256];
    snprintf(open, sizeof open, "// [region %s]\n", name);
    snprintf(close, sizeof close, "// [endregion %s]", name);
    const char *a = src ? strstr(src, open) : NULL, *b = a ? strstr(a, close) : NULL;
    if (!src || !with || !b) {
        if (!src || !with)
            fprintf(stderr, "excerpt: cannot read %s\n", src ? with_path : src_path);
        else
            fprintf(stderr, "%s: no region '%s'\n", src_path, name);
        free(src);
        free(with);
        return 1;
    }
    a += strlen(open);
    while (b > a && b[-1] != '\n') /* the end marker's line stays whole */
        b--;
    int line = 1; /* of the end marker, in src */
    for (const char *q = src; q < b; q++)
        line += *q == '\n';
    /* #line: a compiler's messages name the learner's file and its lines. */
    fwrite(src, 1, (size_t)(a - src), stdout);
    printf("#line 1 \"%s\"\n", with_path);
    fputs(with, stdout);
    if (*with && with[strlen(with) - 1] != '\n')
        fputc('\n', stdout);
    printf("#line %d \"%s\"\n", line, src_path);
    fputs(b, stdout);
    free(src);
    free(with);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "--starter"))
        return starter(argv[2], argv[3], argc == 5 ? argv[4] : NULL) ? 1 : 0;
    if (argc == 5 && !strcmp(argv[1], "--splice"))
        return splice(argv[2], argv[3], argv[4]) ? 1 : 0;
    if (argc < 2 || (strcmp(argv[1], "--check") && strcmp(argv[1], "--update"))) {
        fprintf(stderr, "usage: excerpt --check|--update FILE.md...\n"
                        "       excerpt --starter SRC TODO [REGION]\n"
                        "       excerpt --splice SRC REGION FILE\n");
        return 2;
    }
    int update = !strcmp(argv[1], "--update"), problems = 0;
    for (int i = 2; i < argc; i++)
        problems += process(argv[i], update);
    return problems ? 1 : 0;
}
