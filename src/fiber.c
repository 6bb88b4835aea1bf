/*
 * fiber.c -- fibers: device threads that switch in user space (chapter 01).
 *
 * Each worker is a kernel thread running a small scheduler: take the next
 * ready fiber off its queue, jump to it until the fiber jumps back --
 * because it waits, yields or is done -- and take the next. A fiber is
 * woken by putting it back on its worker's queue, from any kernel thread;
 * it never moves to another worker, so it can never run in two places.
 *
 * The jump itself: on x86-64, push the six registers the C calling
 * convention says a callee keeps, save the stack pointer, load the other
 * fiber's, pop its six and return into it -- 15 instructions. (The
 * floating-point control registers are callee-saved too, but nothing in
 * pipelab changes them, so every fiber has the same.) Elsewhere,
 * swapcontext, which also saves the signal mask (a system call) but is
 * portable. ThreadSanitizer and AddressSanitizer are told of every jump.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_STACK; the ucontext calls */
#include "fiber.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Under a sanitizer (GCC says so with __SANITIZE_*__, Clang with
 * __has_feature), every jump is announced to it. */
#if defined(__has_feature)
#define PL_HAS(f) __has_feature(f)
#else
#define PL_HAS(f) 0
#endif
#if defined(__SANITIZE_THREAD__) || PL_HAS(thread_sanitizer)
#define PL_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__SANITIZE_ADDRESS__) || PL_HAS(address_sanitizer)
#define PL_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- the jump -------------------------------------------------------- */

#if defined(__x86_64__) && defined(__ELF__)
/* A saved fiber is its stack pointer; above it, the six registers and the
 * address to return to. pl_fiber_swap(from, to) saves the running one into
 * *from and resumes `to`. */
typedef void *context;
void pl_fiber_swap(context *from, context to);
__asm__(".text\n"
        ".globl pl_fiber_swap\n"
        ".hidden pl_fiber_swap\n"
        ".type pl_fiber_swap, @function\n"
        "pl_fiber_swap:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size pl_fiber_swap, .-pl_fiber_swap\n");

static void swap(context *from, context *to)
{
    pl_fiber_swap(from, *to);
}

/* A new fiber's stack, as pl_fiber_swap will find it: six zeroed registers,
 * then `entry` to return into, then a zero return address for entry itself
 * -- placed so that entry starts with the stack aligned as after a call. */
static void prepare(context *c, char *lo, size_t size, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)(lo + size)) & ~(uintptr_t)15;
    void **sp = (void **)(top - 16);
    sp[1] = NULL;
    void (**ret)(void) = (void (**)(void))sp;
    *ret = entry;
    sp -= 6;
    for (int i = 0; i < 6; i++)
        sp[i] = NULL;
    *c = sp;
}
#define HAVE_FIBERS 1
#elif defined(__EMSCRIPTEN__)
/* WebAssembly has no stack of its own to switch (the playground runs only
 * the simulator): pl_fibers_start says no, and the runtime uses threads. */
typedef int context;
static void swap(context *from, context *to)
{
    (void)from, (void)to;
}
static void prepare(context *c, char *lo, size_t size, void (*entry)(void))
{
    (void)c, (void)lo, (void)size, (void)entry;
}
#define HAVE_FIBERS 0
#else
#include <ucontext.h>
typedef ucontext_t context;

static void swap(context *from, context *to)
{
    swapcontext(from, to);
}

static void prepare(context *c, char *lo, size_t size, void (*entry)(void))
{
    getcontext(c);
    c->uc_stack.ss_sp = lo;
    c->uc_stack.ss_size = size;
    c->uc_link = NULL;
    makecontext(c, entry, 0);
}
#define HAVE_FIBERS 1
#endif

/* ---- fibers and workers ---------------------------------------------- */

typedef struct worker worker;

struct pl_fiber {
    context ctx;          /* where it stopped */
    worker *w;            /* the worker it always runs on */
    int id;               /* i, for main(ctx, i) */
    int done;             /* its main returned */
    pl_fiber *next;       /* in its worker's queue, or in a pl_cond's list */
    char *map;            /* its stack's mapping: a guard page, then the stack */
    size_t mapped;
#ifdef PL_TSAN
    void *tsan;
#endif
#ifdef PL_ASAN
    void *fake;           /* AddressSanitizer's fake stack while it is away */
#endif
};

/* Fibers ready to run, oldest first. */
typedef struct {
    pl_fiber *head, *tail;
} queue;

/* Each worker on cache lines of its own: it writes its queue at every
 * switch, and sharing a line with the other worker's would make both
 * wait for it to cross between cores. */
struct worker {
    _Alignas(128) pthread_t thread;
    queue mine;           /* woken by its own fibers: no lock, only it touches it */
    pthread_mutex_t mu;   /* guards what follows */
    pthread_cond_t cv;    /* signalled when a fiber is queued to an idle worker */
    queue theirs;         /* woken from other kernel threads */
    int idle;             /* 1 while it waits for a fiber to be queued */
    int quit;             /* 1: stop before running anything (a failed start) */
    atomic_int waiting;   /* 1 while `theirs` may hold fibers (read without the lock) */
    int live;             /* its fibers not done (only the worker touches it) */
    context ctx;          /* the scheduler, while a fiber runs */
    pl_fibers *set;
#ifdef PL_TSAN
    void *tsan;
#endif
#ifdef PL_ASAN
    void *fake;
    const void *stack;    /* the kernel thread's own stack */
    size_t stack_size;
#endif
};

struct pl_fibers {
    int n, workers;
    pl_fiber *fiber;
    worker *worker;
    void (*main)(void *ctx, int i);
    void *ctx;
};

/* The fiber running on this kernel thread, or NULL outside fibers. Fibers
 * never move between threads, so a fiber always reads its own worker's. */
static _Thread_local pl_fiber *self;

/* Jump from the scheduler into f, until it jumps back. */
static void enter(worker *w, pl_fiber *f)
{
    self = f;
#ifdef PL_TSAN
    __tsan_switch_to_fiber(f->tsan, 0);
#endif
#ifdef PL_ASAN
    size_t page = (size_t)getpagesize();
    __sanitizer_start_switch_fiber(&w->fake, f->map + page, f->mapped - page);
#endif
    swap(&w->ctx, &f->ctx);
#ifdef PL_ASAN
    __sanitizer_finish_switch_fiber(w->fake, NULL, NULL);
#endif
    self = NULL;
}

/* Jump from fiber f back to its scheduler (for good if it is done). */
static void leave(pl_fiber *f)
{
    worker *w = f->w;
#ifdef PL_TSAN
    __tsan_switch_to_fiber(w->tsan, 0);
#endif
#ifdef PL_ASAN
    __sanitizer_start_switch_fiber(f->done ? NULL : &f->fake, w->stack, w->stack_size);
#endif
    swap(&f->ctx, &w->ctx);
#ifdef PL_ASAN
    __sanitizer_finish_switch_fiber(f->fake, NULL, NULL);
#endif
}

/* Where every fiber starts: run its main, then leave for good. */
static void boot(void)
{
    pl_fiber *f = self;
#ifdef PL_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->w->stack, &f->w->stack_size);
#endif
    f->w->set->main(f->w->set->ctx, f->id);
    f->done = 1;
    leave(f);
    abort(); /* a finished fiber is never resumed */
}

static void push(queue *q, pl_fiber *f)
{
    f->next = NULL;
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
}

/* Move every fiber of `from` to the end of `to`. */
static void splice(queue *to, queue *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    *from = (queue){NULL, NULL};
}

/* Queue f to run on its worker; from any kernel thread. f must be off its
 * thread (waiting) or be the caller. Between fibers of one worker -- most
 * messages, the blocks being contiguous -- it takes no lock. */
static void ready(pl_fiber *f)
{
    worker *w = f->w;
    if (self && self->w == w) {
        push(&w->mine, f);
        return;
    }
    pthread_mutex_lock(&w->mu);
    push(&w->theirs, f);
    atomic_store_explicit(&w->waiting, 1, memory_order_relaxed);
    int wake = w->idle;
    pthread_mutex_unlock(&w->mu);
    if (wake)
        pthread_cond_signal(&w->cv);
}

/* The next fiber to run, waiting for one if none is ready; NULL once every
 * fiber of the worker is done. Fibers other threads woke join the end of
 * the queue as soon as they are seen: none waits behind a busy worker. */
static pl_fiber *next(worker *w)
{
    if (!w->mine.head || atomic_load_explicit(&w->waiting, memory_order_relaxed)) {
        pthread_mutex_lock(&w->mu);
        while (!w->mine.head && !w->theirs.head && w->live > 0 && !w->quit) {
            w->idle = 1;
            pthread_cond_wait(&w->cv, &w->mu);
        }
        w->idle = 0;
        splice(&w->mine, &w->theirs);
        atomic_store_explicit(&w->waiting, 0, memory_order_relaxed);
        if (w->quit)
            w->mine = (queue){NULL, NULL};
        pthread_mutex_unlock(&w->mu);
    }
    pl_fiber *f = w->mine.head;
    if (f && !(w->mine.head = f->next))
        w->mine.tail = NULL;
    return f;
}

/* The scheduler: run ready fibers until every fiber of this worker is done. */
static void *schedule(void *arg)
{
    worker *w = arg;
#ifdef PL_TSAN
    w->tsan = __tsan_get_current_fiber();
#endif
    for (pl_fiber *f; (f = next(w)) != NULL;) {
        enter(w, f);
        w->live -= f->done;
    }
    return NULL;
}

void pl_fiber_yield(void)
{
    pl_fiber *f = self;
    if (!f)
        return;
    ready(f);
    leave(f);
}

/* ---- starting and joining -------------------------------------------- */

static void free_set(pl_fibers *fs)
{
    for (int i = 0; fs->fiber && i < fs->n; i++) {
        pl_fiber *f = &fs->fiber[i];
        if (f->map)
            munmap(f->map, f->mapped);
#ifdef PL_TSAN
        if (f->tsan)
            __tsan_destroy_fiber(f->tsan);
#endif
    }
    for (int k = 0; fs->worker && k < fs->workers; k++) {
        pthread_mutex_destroy(&fs->worker[k].mu);
        pthread_cond_destroy(&fs->worker[k].cv);
    }
    free(fs->fiber);
    free(fs->worker);
    free(fs);
}

/* A stack of `bytes` above a guard page that no overflow can write past. */
static int map_stack(pl_fiber *f, size_t bytes)
{
    size_t page = (size_t)getpagesize();
    f->mapped = page + (bytes + page - 1) / page * page;
    f->map = mmap(NULL, f->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                  -1, 0);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return -1;
    }
    return mprotect(f->map, page, PROT_NONE);
}

pl_fibers *pl_fibers_start(int n, int workers, size_t stack_bytes,
                           void (*main)(void *ctx, int i), void *ctx)
{
    if (workers > n)
        workers = n;
    if (workers < 1 || !HAVE_FIBERS)
        return NULL;
    pl_fibers *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    *fs = (pl_fibers){n, workers, calloc((size_t)n, sizeof *fs->fiber),
                      aligned_alloc(_Alignof(worker), (size_t)workers * sizeof(worker)), main,
                      ctx};
    if (!fs->fiber || !fs->worker) {
        free(fs->fiber);
        free(fs->worker);
        free(fs);
        return NULL;
    }
    memset(fs->worker, 0, (size_t)workers * sizeof(worker));
    for (int k = 0; k < workers; k++) {
        fs->worker[k].set = fs;
        pthread_mutex_init(&fs->worker[k].mu, NULL);
        pthread_cond_init(&fs->worker[k].cv, NULL);
    }
    size_t page = (size_t)getpagesize();
    for (int i = 0; i < n; i++) {
        pl_fiber *f = &fs->fiber[i];
        f->id = i;
        f->w = &fs->worker[(long)i * workers / n];
        f->w->live++;
        if (map_stack(f, stack_bytes)) {
            free_set(fs);
            return NULL;
        }
        prepare(&f->ctx, f->map + page, f->mapped - page, boot);
#ifdef PL_TSAN
        f->tsan = __tsan_create_fiber(0);
#endif
    }
    int started = 0;
    while (started < workers &&
           pthread_create(&fs->worker[started].thread, NULL, schedule, &fs->worker[started]) == 0)
        started++;
    if (started < workers) { /* stop those that started, before any fiber ran */
        for (int k = 0; k < started; k++) {
            pthread_mutex_lock(&fs->worker[k].mu);
            fs->worker[k].quit = 1;
            pthread_mutex_unlock(&fs->worker[k].mu);
            pthread_cond_signal(&fs->worker[k].cv);
            pthread_join(fs->worker[k].thread, NULL);
        }
        free_set(fs);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        ready(&fs->fiber[i]);
    return fs;
}

void pl_fibers_join(pl_fibers *fs)
{
    for (int k = 0; k < fs->workers; k++)
        pthread_join(fs->worker[k].thread, NULL);
    free_set(fs);
}

/* ---- the condition both kinds of thread wait on ----------------------- */

void pl_cond_init(pl_cond *c)
{
    pthread_cond_init(&c->cv, NULL);
    c->fibers = NULL;
}

void pl_cond_destroy(pl_cond *c)
{
    pthread_cond_destroy(&c->cv);
}

// [region fiber-wait]
void pl_cond_wait(pl_cond *c, pthread_mutex_t *mu)
{
    pl_fiber *f = self;
    if (!f) {
        pthread_cond_wait(&c->cv, mu);
        return;
    }
    /* On the list, a waker may take it and queue it to its worker at once,
     * even from another thread, before it has left: only that worker ever
     * resumes it, and only once it has left. */
    f->next = c->fibers;
    c->fibers = f;
    pthread_mutex_unlock(mu);
    leave(f);
    pthread_mutex_lock(mu);
}
// [endregion fiber-wait]

pl_wakeup pl_cond_take(pl_cond *c, int all)
{
    pl_wakeup w = {c, c->fibers, all};
    if (!w.fibers)
        return w;
    if (all) {
        c->fibers = NULL;
    } else {
        c->fibers = w.fibers->next;
        w.fibers->next = NULL;
    }
    return w;
}

void pl_cond_wake(pl_wakeup w)
{
    if (!w.cond)
        return;
    if (!w.fibers) {
        if (w.all)
            pthread_cond_broadcast(&w.cond->cv);
        else
            pthread_cond_signal(&w.cond->cv);
        return;
    }
    for (pl_fiber *f = w.fibers, *next; f; f = next) {
        next = f->next;
        ready(f);
    }
}
