/*
 * outputs -- keep the command output pasted into the chapters true.
 *
 * A chapter shows what a command prints as an indented block:
 *
 *       $ build/pipelab show --schedule naive --devices 2
 *       # pipelab schedule
 *       ...
 *
 * Every such block is re-run and compared, line by line, with what the
 * command prints now:
 *
 *   - `$ cat NAME` followed by lines defines a file NAME for the commands
 *     after it (it is written, not run);
 *   - `$ make TARGET` runs make quietly in the project; other commands run
 *     in a scratch directory where `build/` is the project's build;
 *   - a line that is just `...` stands for any number of lines, and `...`
 *     inside a line for any text, so a chapter may show the part it talks
 *     about;
 *   - a block preceded by the line `<!-- output: example -->` is a wall-clock
 *     example from one machine and is not checked.
 *
 *   outputs --check  ROOT FILE.md...   exit 1 if a pasted output differs
 *   outputs --update ROOT FILE.md...   rewrite the blocks without `...`
 *
 * ROOT is the project directory. The build directory is ROOT/build, or
 * $PL_BUILD (an absolute path) when set: `build/` in a command means it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_LINES = 4096 };

typedef struct {
    char *line[MAX_LINES];
    int n;
} lines;

static void lines_free(lines *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->line[i]);
    l->n = 0;
}

static void lines_add(lines *l, const char *s, size_t len)
{
    if (l->n == MAX_LINES)
        return;
    char *c = malloc(len + 1);
    if (!c)
        return;
    memcpy(c, s, len);
    c[len] = '\0';
    l->line[l->n++] = c;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Split text into lines (without their '\n'). */
static void split(const char *text, lines *out)
{
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        lines_add(out, p, n);
        p += n + (eol != NULL);
    }
}

/* Does `got` match `want`, where "..." in want stands for any text? */
static int line_matches(const char *want, const char *got)
{
    const char *dots = strstr(want, "...");
    if (!dots)
        return strcmp(want, got) == 0;
    size_t head = (size_t)(dots - want);
    if (strncmp(want, got, head) != 0)
        return 0;
    for (const char *g = got + head; ; g++) {
        if (line_matches(dots + 3, g))
            return 1;
        if (!*g)
            return 0;
    }
}

/* Do the lines got[j..] match want[i..]? A line "..." matches any run. */
static int block_matches(const lines *want, int i, const lines *got, int j)
{
    if (i == want->n)
        return j == got->n;
    if (!strcmp(want->line[i], "...")) {
        for (int k = j; k <= got->n; k++)
            if (block_matches(want, i + 1, got, k))
                return 1;
        return 0;
    }
    return j < got->n && line_matches(want->line[i], got->line[j]) &&
           block_matches(want, i + 1, got, j + 1);
}

#define MAKE_QUIET "make -s --no-print-directory"

/* Run one command, capturing stdout and stderr together. A pasted `make`
 * runs inside the make that runs this check (with its variables: the
 * sanitizers' build too), which shares its jobserver: the Makefile marks
 * the rules that run this tool with '+'. */
static void run(const char *root, const char *dir, const char *cmd, lines *out)
{
    char shell[8192];
    const char *build = getenv("PL_BUILD");
    if (!strncmp(cmd, "make ", 5) && build)
        snprintf(shell, sizeof shell, "cd '%s' && " MAKE_QUIET " BUILD='%s' %s 2>&1", root, build,
                 cmd + 5);
    else if (!strncmp(cmd, "make ", 5))
        snprintf(shell, sizeof shell, "cd '%s' && " MAKE_QUIET " %s 2>&1", root, cmd + 5);
    else
        snprintf(shell, sizeof shell, "cd '%s' && NO_COLOR=1 %s 2>&1", dir, cmd);
    FILE *p = popen(shell, "r");
    if (!p)
        return;
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, p);
    buf[len] = '\0';
    pclose(p);
    split(buf, out);
}

typedef struct {
    const char *root;
    char dir[256];
    const char *path;
    int update;
    int problems;
} checker;

/* Check (or rewrite into `out`) one block of indented lines block[0..n). */
static void block(checker *c, const lines *b, int first_line, int example, FILE *out)
{
    for (int i = 0; i < b->n;) {
        const char *cmd = b->line[i] + 2; /* past "$ " */
        lines want = {{0}, 0}, got = {{0}, 0};
        int j = i + 1;
        while (j < b->n && strncmp(b->line[j], "$ ", 2))
            lines_add(&want, b->line[j], strlen(b->line[j])), j++;
        int blanks = 0; /* blank lines before the next command: kept as they are */
        while (want.n > 0 && want.line[want.n - 1][0] == '\0')
            free(want.line[--want.n]), blanks++;
        if (out)
            fprintf(out, "    $ %s\n", cmd);
        if (!strncmp(cmd, "cat ", 4)) { /* a file the next commands read */
            char path[512];
            snprintf(path, sizeof path, "%s/%s", c->dir, cmd + 4);
            FILE *f = fopen(path, "w");
            for (int k = 0; f && k < want.n; k++)
                fprintf(f, "%s\n", want.line[k]);
            if (f)
                fclose(f);
        }
        int keep = example || !strncmp(cmd, "cat ", 4);
        if (!keep)
            run(c->root, c->dir, cmd, &got);
        int same = keep || block_matches(&want, 0, &got, 0);
        int elided = 0;
        for (int k = 0; k < want.n; k++)
            elided |= strstr(want.line[k], "...") != NULL;
        if (!same && !(c->update && !elided)) {
            c->problems++;
            int k = 0;
            while (k < want.n && k < got.n && line_matches(want.line[k], got.line[k]))
                k++;
            fprintf(stderr, "%s:%d: the output of `%s` differs from what the chapter shows\n"
                    "  chapter: %s\n  now:     %s\n", c->path, first_line + i, cmd,
                    k < want.n ? want.line[k] : "(end)", k < got.n ? got.line[k] : "(end)");
        } else if (!same) {
            fprintf(stderr, "%s:%d: updated the output of `%s`\n", c->path, first_line + i, cmd);
        }
        const lines *shown = same || elided ? &want : &got;
        for (int k = 0; out && k < shown->n; k++)
            fprintf(out, shown->line[k][0] ? "    %s\n" : "\n", shown->line[k]);
        for (int k = 0; out && k < blanks; k++)
            fputc('\n', out);
        lines_free(&want);
        lines_free(&got);
        i = j;
    }
}

static int process(checker *c, const char *path)
{
    char *md = slurp(path);
    lines all = {{0}, 0};
    if (!md) {
        fprintf(stderr, "outputs: cannot read %s\n", path);
        return 1;
    }
    split(md, &all);
    c->path = path;
    c->problems = 0;
    snprintf(c->dir, sizeof c->dir, "/tmp/pipelab-outputs-XXXXXX");
    if (!mkdtemp(c->dir)) {
        fprintf(stderr, "outputs: cannot make a scratch directory\n");
        return 1;
    }
    char link[512], target[512];
    snprintf(link, sizeof link, "%s/build", c->dir);
    if (getenv("PL_BUILD"))
        snprintf(target, sizeof target, "%s", getenv("PL_BUILD"));
    else
        snprintf(target, sizeof target, "%s/build", c->root);
    if (symlink(target, link) != 0)
        fprintf(stderr, "outputs: cannot link %s\n", link);
    char *text = NULL;
    size_t len = 0;
    FILE *out = c->update ? open_memstream(&text, &len) : NULL;
    for (int i = 0; i < all.n;) {
        if (strncmp(all.line[i], "    $ ", 6)) {
            if (out)
                fprintf(out, "%s\n", all.line[i]);
            i++;
            continue;
        }
        int example = 0;
        for (int k = i - 1; k >= 0 && k >= i - 2; k--)
            example |= strstr(all.line[k], "<!-- output: example -->") != NULL;
        lines b = {{0}, 0};
        int j = i;
        /* The block: indented lines, and blank lines followed by indented ones. */
        while (j < all.n && (!strncmp(all.line[j], "    ", 4) ||
                             (all.line[j][0] == '\0' && j + 1 < all.n &&
                              !strncmp(all.line[j + 1], "    ", 4)))) {
            const char *l = all.line[j][0] ? all.line[j] + 4 : "";
            lines_add(&b, l, strlen(l));
            j++;
        }
        block(c, &b, i + 1, example, out);
        lines_free(&b);
        i = j;
    }
    if (out) {
        fclose(out);
        if (strcmp(text, md) != 0) {
            FILE *f = fopen(path, "wb");
            if (!f || fputs(text, f) < 0) {
                fprintf(stderr, "outputs: cannot write %s\n", path);
                c->problems++;
            }
            if (f)
                fclose(f);
        }
        free(text);
    }
    char rm[512];
    snprintf(rm, sizeof rm, "rm -rf '%s'", c->dir);
    if (system(rm) != 0)
        fprintf(stderr, "outputs: cannot remove %s\n", c->dir);
    lines_free(&all);
    free(md);
    return c->problems;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "--check") && strcmp(argv[1], "--update"))) {
        fprintf(stderr, "usage: outputs --check|--update ROOT FILE.md...\n");
        return 2;
    }
    checker c = {argv[2], "", NULL, !strcmp(argv[1], "--update"), 0};
    int problems = 0;
    for (int i = 3; i < argc; i++)
        problems += process(&c, argv[i]);
    return problems ? 1 : 0;
}
