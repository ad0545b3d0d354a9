/*
 * threads.c - the team of threads of mcrle_threads.h: POSIX, Win32 or none.
 *
 * One process-wide pool of workers, created on first use and kept asleep
 * on a condition variable between teams (creating a thread costs more than
 * decoding a large 2D map). A team run publishes (fn, ctx, n) under the
 * pool lock, wakes the workers, runs member 0 on the caller and waits until
 * the n - 1 workers it used are done. Barriers spin briefly (the members of
 * a team do equal shares of work, so they arrive close together), then
 * sleep on the team's condition variable.
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
#define LOCK_INIT(l) pthread_mutex_init((l), NULL)
#define LOCK_FREE(l) pthread_mutex_destroy(l)
#define LOCK(l) pthread_mutex_lock(l)
#define UNLOCK(l) pthread_mutex_unlock(l)
#define COND_INIT(c) pthread_cond_init((c), NULL)
#define COND_FREE(c) pthread_cond_destroy(c)
#define WAIT(c, l) pthread_cond_wait((c), (l))
#define SIGNAL(c) pthread_cond_signal(c)
#define BROADCAST(c) pthread_cond_broadcast(c)
#define YIELD() sched_yield()
static lock_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static cond_t g_work = PTHREAD_COND_INITIALIZER, g_done = PTHREAD_COND_INITIALIZER;
#elif defined(BACKEND_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>
typedef SRWLOCK lock_t;
typedef CONDITION_VARIABLE cond_t;
#define LOCK_INIT(l) InitializeSRWLock(l)
#define LOCK_FREE(l) ((void)(l))
#define LOCK(l) AcquireSRWLockExclusive(l)
#define UNLOCK(l) ReleaseSRWLockExclusive(l)
#define COND_INIT(c) InitializeConditionVariable(c)
#define COND_FREE(c) ((void)(c))
#define WAIT(c, l) SleepConditionVariableSRW((c), (l), INFINITE, 0)
#define SIGNAL(c) WakeConditionVariable(c)
#define BROADCAST(c) WakeAllConditionVariable(c)
#define YIELD() SwitchToThread()
static lock_t g_lock = SRWLOCK_INIT;
static cond_t g_work = CONDITION_VARIABLE_INIT, g_done = CONDITION_VARIABLE_INIT;
#endif

/*
 * Counters read without the lock while spinning: compilers with atomics get
 * acquire/release order; the others skip the spins and sleep at once.
 */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ATOMIC_ACQUIRE)
#define HAVE_SPIN 1
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define DEC_FETCH(p) __atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)
#elif defined(BACKEND_WIN32) && defined(_MSC_VER)
#define HAVE_SPIN 1
#define LOAD_ACQ(p) ((unsigned long)InterlockedCompareExchange((volatile LONG *)(p), 0, 0))
#define STORE_REL(p, v) ((void)InterlockedExchange((volatile LONG *)(p), (LONG)(v)))
#define DEC_FETCH(p) ((unsigned long)InterlockedDecrement((volatile LONG *)(p)))
#else
#define HAVE_SPIN 0
#define LOAD_ACQ(p) (*(p))
#define STORE_REL(p, v) (*(p) = (v))
#define DEC_FETCH(p) (--*(p))
#endif

#if defined(__SSE2__) || defined(_M_X64) || defined(_M_IX86)
#include <emmintrin.h>
#define CPU_RELAX() _mm_pause()
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__aarch64__) || defined(__arm__))
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/*
 * Spinning before sleeping. Waking a sleeping thread costs about 10 us on a
 * virtual machine, as much as a large 2D map takes to decode, so a member
 * waiting at a barrier, the caller waiting for its team, and a worker
 * waiting for the next team all poll first, for a time: barriers and the
 * end of a team up to 20 us (the members do equal shares), a worker 50 us
 * (a loop over maps calls again within that). A spinner yields now and then,
 * in case another member waits for the same core. (PAUSE alone takes from
 * 10 to 100 ns depending on the CPU, hence a clock, not a count.)
 */
#define SPIN_BARRIER_US 20
#define SPIN_WORKER_US 50

#if HAVE_SPIN
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
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (uint64_t)(c.QuadPart / (freq.QuadPart / 1000000 ? freq.QuadPart / 1000000 : 1));
}
#endif

/* Polls *p until it differs from old or budget_us pass; returns its last value. */
static unsigned long spin_while_equal(const unsigned long *p, unsigned long old, unsigned budget_us)
{
    uint64_t start = 0;
    unsigned long v = old;
    for (unsigned i = 1;; i++) {
        v = LOAD_ACQ(p);
        if (v != old) return v;
        CPU_RELAX();
        if ((i & 15) == 0) {
            uint64_t t = now_us();
            if (!start) start = t;
            else if (t - start >= budget_us) return v;
            if ((i & 127) == 0) YIELD();
        }
    }
}
#endif

struct mcrle_team {
    unsigned n;
#if !defined(BACKEND_NONE)
    lock_t lock;
    cond_t cond;
    unsigned arrived;
    unsigned long phase;   /* LONG-sized for the Win32 interlocked calls */
#endif
};

int mcrle_threads_supported(void)
{
#if defined(BACKEND_NONE)
    return 0;
#else
    return 1;
#endif
}

#if defined(BACKEND_NONE)

unsigned mcrle_team_run(unsigned n_threads, mcrle_team_fn fn, void *ctx)
{
    mcrle_team team;
    (void)n_threads;
    team.n = 1;
    fn(ctx, &team, 0, 1);
    return 1;
}

void mcrle_team_barrier(mcrle_team *team)
{
    (void)team;
}

#else

void mcrle_team_barrier(mcrle_team *team)
{
    if (team->n <= 1) return;
    LOCK(&team->lock);
    unsigned long phase = team->phase;
    if (++team->arrived == team->n) {   /* the last one in releases the others */
        team->arrived = 0;
        STORE_REL(&team->phase, phase + 1);
        BROADCAST(&team->cond);
        UNLOCK(&team->lock);
        return;
    }
    UNLOCK(&team->lock);
#if HAVE_SPIN
    if (spin_while_equal(&team->phase, phase, SPIN_BARRIER_US) != phase) return;
#endif
    LOCK(&team->lock);
    while (team->phase == phase) WAIT(&team->cond, &team->lock);
    UNLOCK(&team->lock);
}

/*
 * The pool: workers 1 .. g_workers; the job they run, published before the
 * generation count moves (release), read after it is seen (acquire); how
 * many of them sleep (then the caller wakes them); whether a team holds them.
 */
static unsigned g_workers;
static unsigned long g_generation;   /* teams started so far, then the team's size (7 bits) */
#define GEN_SIZE_BITS 7
#define GEN_SIZE_MASK ((1ul << GEN_SIZE_BITS) - 1)
static unsigned long g_born[MCRLE_MAX_THREADS];   /* the generation each worker was started in */
static unsigned g_sleepers;
static int g_busy, g_caller_waits;
static struct {
    mcrle_team_fn fn;
    void *ctx;
    mcrle_team *team;
    unsigned n;
} g_job;
static unsigned long g_pending;   /* workers of the current team still running */

static void worker_loop(unsigned id)
{
    unsigned long seen = g_born[id];   /* the team that started it is the next one */
    for (;;) {
        unsigned long gen = LOAD_ACQ(&g_generation);
#if HAVE_SPIN
        if (gen == seen) gen = spin_while_equal(&g_generation, seen, SPIN_WORKER_US);
#endif
        if (gen == seen) {
            LOCK(&g_lock);
            g_sleepers++;
            while ((gen = g_generation) == seen) WAIT(&g_work, &g_lock);
            g_sleepers--;
            UNLOCK(&g_lock);
        }
        seen = gen;
        /*
         * The team size travels in the generation word: a worker outside the
         * team must not read the job, which the next team may be rewriting
         * (the caller waits only for the members).
         */
        if (id >= (unsigned)(gen & GEN_SIZE_MASK)) continue;
        g_job.fn(g_job.ctx, g_job.team, id, g_job.n);
        if (DEC_FETCH(&g_pending) == 0) {
            LOCK(&g_lock);
            if (g_caller_waits) SIGNAL(&g_done);
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

static int start_worker(unsigned id)
{
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return 0;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&t, &attr, worker_main, (void *)(uintptr_t)id) == 0;
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
    g_pending = 0;
    UNLOCK(&g_lock);
    COND_INIT(&g_work);
    COND_INIT(&g_done);
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

static int start_worker(unsigned id)
{
    uintptr_t h = _beginthreadex(NULL, 0, worker_main, (void *)(uintptr_t)id, 0, NULL);
    if (h == 0) return 0;
    CloseHandle((HANDLE)h);
    return 1;
}

static void once_per_process(void) {}
#endif

unsigned mcrle_team_run(unsigned n_threads, mcrle_team_fn fn, void *ctx)
{
    mcrle_team team;
    unsigned n = n_threads < 1 ? 1 : n_threads > MCRLE_MAX_THREADS ? MCRLE_MAX_THREADS : n_threads;
    team.n = 1;
    if (n > 1) {
        LOCK(&g_lock);
        once_per_process();
        if (g_busy) {
            n = 1;   /* another team holds the workers: run alone */
        } else {
            while (g_workers < n - 1) {
                g_born[g_workers + 1] = g_generation;
                if (!start_worker(g_workers + 1)) break;
                g_workers++;
            }
            if (n > g_workers + 1) n = g_workers + 1;
        }
        if (n > 1) {
            team.n = n;
            LOCK_INIT(&team.lock);
            COND_INIT(&team.cond);
            team.arrived = 0;
            team.phase = 0;
            g_busy = 1;
            g_job.fn = fn;
            g_job.ctx = ctx;
            g_job.team = &team;
            g_job.n = n;
            STORE_REL(&g_pending, (unsigned long)(n - 1));
            STORE_REL(&g_generation, ((g_generation >> GEN_SIZE_BITS) + 1) << GEN_SIZE_BITS | n);
            if (g_sleepers) BROADCAST(&g_work);
        }
        UNLOCK(&g_lock);
    }
    fn(ctx, &team, 0, n);
    if (n > 1) {
#if HAVE_SPIN
        if (LOAD_ACQ(&g_pending)) spin_while_equal(&g_pending, LOAD_ACQ(&g_pending), SPIN_BARRIER_US);
#endif
        LOCK(&g_lock);
        g_caller_waits = 1;
        while (LOAD_ACQ(&g_pending)) WAIT(&g_done, &g_lock);
        g_caller_waits = 0;
        g_busy = 0;
        UNLOCK(&g_lock);
        COND_FREE(&team.cond);
        LOCK_FREE(&team.lock);
    }
    return n;
}

#endif
