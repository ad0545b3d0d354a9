/*
 * threads.c - the workers of mcrle_threads.h: POSIX threads, Win32 threads,
 * or none.
 *
 * One process-wide pool of workers, created on first use and kept. A pass
 * is published in one 64-bit word: its generation, how many threads may
 * take part, how many tasks it has and the next task to take. Taking a task
 * is one compare-and-swap on that word, by the caller or any worker; the
 * task's function and context (g_job) are written before the word and read
 * after a task was taken, and cannot change before that task is done,
 * because the caller waits for every task before it returns and a new pass
 * can start. So a worker that wakes late finds the pass taken and touches
 * nothing of it.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   /* pthreads and sched_yield under -std=c99 */
#endif
#include <stddef.h>
#include <stdint.h>
#include "mcrle_threads.h"

#if defined(MCRLE_NO_THREADS)
#define BACKEND_NONE 1
#elif defined(_WIN32)
#define BACKEND_WIN32 1
#elif defined(__unix__) || defined(__APPLE__) || defined(__HAIKU__)
#define BACKEND_POSIX 1
#else
#define BACKEND_NONE 1
#endif

/* ---- lock, condition variable, thread start, atomics: one small layer per backend ---- */

#if defined(BACKEND_POSIX)
#include <pthread.h>
#include <sched.h>
typedef pthread_mutex_t lock_t;
typedef pthread_cond_t cond_t;
#define LOCK(l) pthread_mutex_lock(l)
#define UNLOCK(l) pthread_mutex_unlock(l)
#define COND_INIT(c) pthread_cond_init((c), NULL)
#define WAIT(c, l) pthread_cond_wait((c), (l))
#define SIGNAL(c) pthread_cond_signal(c)
#define BROADCAST(c) pthread_cond_broadcast(c)
#define YIELD() sched_yield()
static lock_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static cond_t g_work = PTHREAD_COND_INITIALIZER, g_done_cond = PTHREAD_COND_INITIALIZER;
#elif defined(BACKEND_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>
typedef SRWLOCK lock_t;
typedef CONDITION_VARIABLE cond_t;
#define LOCK(l) AcquireSRWLockExclusive(l)
#define UNLOCK(l) ReleaseSRWLockExclusive(l)
#define COND_INIT(c) InitializeConditionVariable(c)
#define WAIT(c, l) SleepConditionVariableSRW((c), (l), INFINITE, 0)
#define SIGNAL(c) WakeConditionVariable(c)
#define BROADCAST(c) WakeAllConditionVariable(c)
#define YIELD() SwitchToThread()
static lock_t g_lock = SRWLOCK_INIT;
static cond_t g_work = CONDITION_VARIABLE_INIT, g_done_cond = CONDITION_VARIABLE_INIT;
#endif

/*
 * Atomics: acquire/release loads and stores, compare-and-swap of the 64-bit
 * word, increment of the done count. Without them (other compilers) the
 * caller runs every task itself.
 */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ATOMIC_ACQUIRE)
#define HAVE_ATOMICS 1
#define LOAD64(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define CAS64(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define LOAD32(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define INC32(p) __atomic_add_fetch((p), 1, __ATOMIC_ACQ_REL)
typedef uint64_t word_t;
typedef unsigned count_t;
#elif defined(BACKEND_WIN32) && defined(_MSC_VER)
#define HAVE_ATOMICS 1
typedef volatile LONG64 word_t;
typedef volatile LONG count_t;
#define LOAD64(p) ((uint64_t)InterlockedCompareExchange64((p), 0, 0))
#define STORE64(p, v) ((void)InterlockedExchange64((p), (LONG64)(v)))
static int cas64(word_t *p, uint64_t *expected, uint64_t desired)
{
    LONG64 old = InterlockedCompareExchange64(p, (LONG64)desired, (LONG64)*expected);
    if ((uint64_t)old == *expected) return 1;
    *expected = (uint64_t)old;
    return 0;
}
#define CAS64(p, expected, desired) cas64((p), (expected), (desired))
#define LOAD32(p) ((unsigned)InterlockedCompareExchange((p), 0, 0))
#define STORE32(p, v) ((void)InterlockedExchange((p), (LONG)(v)))
#define INC32(p) ((unsigned)InterlockedIncrement(p))
#else
#define HAVE_ATOMICS 0
#endif

#if defined(__SSE2__) || defined(_M_X64) || defined(_M_IX86)
#include <emmintrin.h>
#define CPU_RELAX() _mm_pause()
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__aarch64__) || defined(__arm__))
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

int mcrle_threads_supported(void)
{
#if defined(BACKEND_NONE) || !HAVE_ATOMICS
    return 0;
#else
    return 1;
#endif
}

#if defined(BACKEND_NONE) || !HAVE_ATOMICS

void mcrle_parallel_for(unsigned n_threads, unsigned n_tasks, mcrle_task_fn fn, void *ctx)
{
    (void)n_threads;
    for (unsigned t = 0; t < n_tasks; t++) fn(ctx, t);
}

#else

/*
 * Polling before sleeping, by a clock (PAUSE alone takes 10 to 100 ns
 * depending on the CPU): a worker after its last task 50 us, in case the
 * next pass comes (the next phase of the same kernel, or the next map of a
 * loop); the caller waiting for tasks that workers have started, 100 us.
 * A poller yields now and then, in case the thread it waits for is queued
 * on the same core.
 */
#define SPIN_WORKER_US 50
#define SPIN_CALLER_US 100

#if defined(BACKEND_POSIX)
#include <time.h>
static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}
#else
static uint64_t now_us(void)
{
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    return (uint64_t)(c.QuadPart / (f.QuadPart >= 1000000 ? f.QuadPart / 1000000 : 1));
}
#endif

/* The pass word: generation (24 bits), threads (8), tasks (16), next task (16). */
#define W_GEN(w) ((unsigned long)((w) >> 40))
#define W_THREADS(w) ((unsigned)(((w) >> 32) & 0xffu))
#define W_TASKS(w) ((unsigned)(((w) >> 16) & 0xffffu))
#define W_NEXT(w) ((unsigned)((w) & 0xffffu))

static word_t g_word;
static struct {
    mcrle_task_fn fn;
    void *ctx;
} g_job;
static count_t g_done;             /* tasks of the current pass finished */
static unsigned g_workers;         /* started: ranks 1 .. g_workers */
static unsigned g_sleepers;        /* workers asleep on g_work */
static int g_busy, g_caller_waits;
static unsigned long g_born[MCRLE_MAX_THREADS];   /* the generation each worker saw at start */

/* Takes the next task of the pass for a thread of this rank (0: the caller); -1 if none. */
static int take_task(unsigned rank, uint64_t *word)
{
    uint64_t w = LOAD64(&g_word);
    for (;;) {
        if (rank >= W_THREADS(w) || W_NEXT(w) >= W_TASKS(w)) { *word = w; return -1; }
        if (CAS64(&g_word, &w, w + 1)) { *word = w; return (int)W_NEXT(w); }
    }
}

static void run_task(unsigned task, unsigned n_tasks)
{
    g_job.fn(g_job.ctx, task);
    if (INC32(&g_done) == n_tasks) {
        LOCK(&g_lock);
        if (g_caller_waits) SIGNAL(&g_done_cond);
        UNLOCK(&g_lock);
    }
}

static void worker_loop(unsigned rank)
{
    unsigned long seen = g_born[rank];
    for (;;) {
        uint64_t w;
        int t = take_task(rank, &w);
        if (t >= 0) { run_task((unsigned)t, W_TASKS(w)); continue; }
        if (W_GEN(w) != seen) { seen = W_GEN(w); continue; }   /* a new pass, already taken */
        /* nothing to do: poll for the next pass a while, then sleep */
        uint64_t start = now_us();
        for (unsigned i = 1; W_GEN(LOAD64(&g_word)) == seen; i++) {
            CPU_RELAX();
            if ((i & 15) == 0 && now_us() - start >= SPIN_WORKER_US) break;
            if ((i & 255) == 0) YIELD();
        }
        if (W_GEN(LOAD64(&g_word)) == seen) {
            LOCK(&g_lock);
            g_sleepers++;
            while (W_GEN(LOAD64(&g_word)) == seen) WAIT(&g_work, &g_lock);
            g_sleepers--;
            UNLOCK(&g_lock);
        }
    }
}

#if defined(BACKEND_POSIX)
static void *worker_main(void *arg)
{
    worker_loop((unsigned)(uintptr_t)arg);
    return NULL;
}

static int start_worker(unsigned rank)
{
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return 0;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&t, &attr, worker_main, (void *)(uintptr_t)rank) == 0;
    pthread_attr_destroy(&attr);
    return ok;
}

/* fork(): the child has none of the parent's workers; it starts its own when it needs them. */
static void fork_prepare(void) { LOCK(&g_lock); }
static void fork_parent(void) { UNLOCK(&g_lock); }
static void fork_child(void)
{
    g_workers = 0;
    g_busy = 0;
    g_sleepers = 0;
    g_caller_waits = 0;
    STORE64(&g_word, (uint64_t)(W_GEN(LOAD64(&g_word)) + 1) << 40);   /* no pass */
    UNLOCK(&g_lock);
    COND_INIT(&g_work);
    COND_INIT(&g_done_cond);
}

static int g_atfork;
static void once_per_process(void)
{
    if (!g_atfork) g_atfork = pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
}
#else /* BACKEND_WIN32 */
static unsigned __stdcall worker_main(void *arg)
{
    worker_loop((unsigned)(uintptr_t)arg);
    return 0;
}

static int start_worker(unsigned rank)
{
    uintptr_t h = _beginthreadex(NULL, 0, worker_main, (void *)(uintptr_t)rank, 0, NULL);
    if (h == 0) return 0;
    CloseHandle((HANDLE)h);
    return 1;
}

static void once_per_process(void) {}
#endif

void mcrle_parallel_for(unsigned n_threads, unsigned n_tasks, mcrle_task_fn fn, void *ctx)
{
    unsigned n = n_threads > MCRLE_MAX_THREADS ? MCRLE_MAX_THREADS : n_threads;
    if (n > n_tasks) n = n_tasks;
    int published = 0;
    if (n > 1 && n_tasks <= MCRLE_MAX_TASKS) {
        LOCK(&g_lock);
        once_per_process();
        if (!g_busy) {   /* else another pass holds the workers: run alone */
            while (g_workers < n - 1) {
                g_born[g_workers + 1] = W_GEN(LOAD64(&g_word));
                if (!start_worker(g_workers + 1)) break;
                g_workers++;
            }
            if (n > g_workers + 1) n = g_workers + 1;
            if (n > 1) {
                g_busy = 1;
                g_job.fn = fn;
                g_job.ctx = ctx;
                STORE32(&g_done, 0);
                uint64_t gen = (W_GEN(LOAD64(&g_word)) + 1) & 0xffffffu;
                STORE64(&g_word, gen << 40 | (uint64_t)n << 32 | (uint64_t)n_tasks << 16);
                if (g_sleepers) BROADCAST(&g_work);
                published = 1;
            }
        }
        UNLOCK(&g_lock);
    }
    if (!published) {
        for (unsigned t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    uint64_t w;
    int t;
    while ((t = take_task(0, &w)) >= 0) run_task((unsigned)t, n_tasks);
    /* every task is taken: wait for those that workers still run */
    if (LOAD32(&g_done) != n_tasks) {
        uint64_t start = now_us();
        for (unsigned i = 1; LOAD32(&g_done) != n_tasks; i++) {
            CPU_RELAX();
            if ((i & 15) == 0 && now_us() - start >= SPIN_CALLER_US) break;
            if ((i & 255) == 0) YIELD();
        }
        LOCK(&g_lock);
        g_caller_waits = 1;
        while (LOAD32(&g_done) != n_tasks) WAIT(&g_done_cond, &g_lock);
        g_caller_waits = 0;
        UNLOCK(&g_lock);
    }
    LOCK(&g_lock);
    g_busy = 0;
    UNLOCK(&g_lock);
}

#endif
