/*
 * mcrle_threads.h - a team of threads for the kernels' parallel passes.
 *
 * The kernels split a large map into independent pieces (bands of its
 * slowest axis in Fortran order: contiguous pieces of the run sequence) and
 * run one piece per thread. This shim gives them a team: mcrle_team_run()
 * calls fn(ctx, team, id, n) on n threads at once (id 0 on the caller) and
 * returns when all have returned; inside, mcrle_team_barrier() waits until
 * every member has reached it, so a pass can have phases (count, then
 * prefix, then write). Every member runs, so barriers cannot deadlock.
 *
 * Workers are created on first use and kept (they sleep on a condition
 * variable between calls), because creating threads costs tens of
 * microseconds, more than a large 2D map takes to decode. One team runs at a
 * time: a second caller that finds the workers busy runs its work alone
 * (n = 1) rather than waiting or oversubscribing the cores. After fork() the
 * child starts with no workers and creates its own on demand.
 *
 * Backends: POSIX threads, Win32 threads, or none (define MCRLE_NO_THREADS,
 * or any other platform): then every team has one member and the kernels
 * run serially, with the same results.
 *
 * This is the only module of the kernels with global state (the workers).
 */
#ifndef MCRLE_THREADS_H
#define MCRLE_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Most members of a team (the caller included); mcrle.h says the same. */
#ifndef MCRLE_MAX_THREADS
#define MCRLE_MAX_THREADS 64
#endif

typedef struct mcrle_team mcrle_team;
typedef void (*mcrle_team_fn)(void *ctx, mcrle_team *team, unsigned id, unsigned n);

/*
 * Runs fn(ctx, team, id, n) for id = 0 .. n-1 concurrently and returns n,
 * the size of the team that ran: at most n_threads (clamped to
 * 1..MCRLE_MAX_THREADS), fewer when workers cannot be created or are busy
 * with another team (then 1). fn must partition its work by (id, n).
 */
unsigned mcrle_team_run(unsigned n_threads, mcrle_team_fn fn, void *ctx);

/* Waits until all n members of the team have called it (the same number of times). */
void mcrle_team_barrier(mcrle_team *team);

/* 1 when this build has a threads backend, else 0 (teams of one). */
int mcrle_threads_supported(void);

#ifdef __cplusplus
}
#endif

#endif /* MCRLE_THREADS_H */
