/*
 * mcrle_threads.h - worker threads for the kernels' parallel passes.
 *
 * The kernels split a large map into independent tasks (bands of its slowest
 * axis in Fortran order: contiguous pieces of the run sequence) and hand
 * them to mcrle_parallel_for(), which runs fn(ctx, task) for every task on
 * the calling thread and on up to n_threads - 1 workers, and returns when
 * all are done. A pass with phases (count, then place, then write) is one
 * call per phase, with the serial glue between them on the caller.
 *
 * The caller takes tasks itself, like any worker, and waits only for tasks
 * that a worker has started: a worker that is asleep, or descheduled on a
 * busy machine, never holds a pass up; at worst the caller does every task.
 * Workers are created on first use and kept; between passes they poll for
 * a short while (waking a sleeping thread costs about 10 us on a virtual
 * machine, as much as a large 2D map takes to decode), then sleep. One pass
 * runs at a time: a second caller that finds the workers busy does its
 * tasks alone rather than wait or oversubscribe the cores. After fork() the
 * child starts with no workers and creates its own on demand.
 *
 * Backends: POSIX threads, Win32 threads, or none (define MCRLE_NO_THREADS,
 * or any other platform): then the caller runs every task, with the same
 * results.
 *
 * This is the only module of the kernels with global state (the workers).
 */
#ifndef MCRLE_THREADS_H
#define MCRLE_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Most threads of one pass (the caller included); mcrle.h says the same. */
#ifndef MCRLE_MAX_THREADS
#define MCRLE_MAX_THREADS 64
#endif
/* Most tasks of one pass. */
#define MCRLE_MAX_TASKS 4096

typedef void (*mcrle_task_fn)(void *ctx, unsigned task);

/*
 * Runs fn(ctx, task) for task = 0 .. n_tasks - 1 (n_tasks <= MCRLE_MAX_TASKS),
 * each exactly once, on the calling thread and up to n_threads - 1 workers,
 * in any order and concurrently. Returns when every task has returned.
 */
void mcrle_parallel_for(unsigned n_threads, unsigned n_tasks, mcrle_task_fn fn, void *ctx);

/* 1 when this build has a threads backend, else 0 (the caller runs every task). */
int mcrle_threads_supported(void);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_THREADS_H */
