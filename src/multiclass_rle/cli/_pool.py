"""The worker pool: an ordered, chunked map over processes (``-j``), or over threads
of this process (``--threads``, the default: the kernels release the GIL)."""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

from ._console import UsageError


def _cores() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def resolve_jobs(jobs: int) -> int:
    if jobs < 0:
        raise UsageError(f"-j must be 0 (all cores) or a positive number, got {jobs}")
    return _cores() if jobs == 0 else jobs


def resolve_threads(threads: int, jobs: int) -> int:
    """Threads of one process: all cores by default (0), one per process with -j N > 1."""
    if threads < 0:
        raise UsageError(f"--threads must be 0 (all cores) or a positive number, got {threads}")
    if jobs > 1:
        return 1   # the processes share the cores already
    return _cores() if threads == 0 else threads


#: Chunks submitted and not yet yielded, per worker: enough to keep every worker
#: busy while the main process writes, few enough that memory does not grow
#: with the number of tasks (results wait in memory until yielded in order).
IN_FLIGHT = 3


def _run_chunk(fn: Callable[..., Any], args: tuple[Any, ...], chunk: list[Any]) -> list[Any]:
    return [fn(task, *args) for task in chunk]


def _mp_context() -> Any:
    # fork starts workers at once with everything already imported (Linux);
    # elsewhere the platform default (spawn) is the safe choice.
    import multiprocessing   # here: a run with -j 1 never pays for importing it

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


#: Seconds ``_DaemonThreads.shutdown`` waits for the tasks still running.
JOIN_SECONDS = 5.0


class _DaemonThreads:
    """A few daemon threads running submitted calls.

    ``shutdown`` lets the running tasks finish (the ones not started are
    cancelled): a daemon thread still inside a task when the interpreter
    exits is stopped where it next takes the GIL, which aborts the process
    ("terminate called without an active exception") when that is inside C++
    code such as numpy's; --fail-fast and errors leave the pool early. The
    wait is bounded, and the threads are daemons, so a task blocked for good
    (a read from a named pipe that never comes) cannot keep Ctrl-C from
    ending the command.
    """

    def __init__(self, n: int) -> None:
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._n = n
        self._threads = [threading.Thread(target=self._work, daemon=True, name="mcrle")
                         for _ in range(n)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller, in task order
                fut.set_exception(exc)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        from concurrent.futures import Future

        fut: Future[Any] = Future()
        self._q.put((fut, fn, args))
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        if cancel_futures:   # the tasks no thread has taken yet
            while True:
                try:
                    item = self._q.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in range(self._n):
            self._q.put(None)
        if wait:
            import time

            deadline = time.monotonic() + JOIN_SECONDS
            for t in self._threads:
                t.join(max(0.0, deadline - time.monotonic()))


class Pool:
    """Ordered, chunked map over worker processes (-j N), or over threads of this
    process (-j 1, the default: ``threads`` of them).

    ``run`` yields each task's result in task order, so output is the same
    for any -j and --threads. Over processes, at most ``IN_FLIGHT * jobs``
    chunks (of at most 16 tasks) are submitted ahead of the one being
    yielded, so memory is bounded however many tasks there are; over threads,
    ``4 * threads`` tasks. Leaving the ``with`` block early (--fail-fast, an
    error, Ctrl-C) cancels the tasks that have not started. Threads work
    because the heavy parts of a task (zlib, the PNG row filters, the codec's
    kernels) release the GIL; they start at once and send nothing between
    processes.
    """

    def __init__(self, jobs: int, threads: int = 1) -> None:
        self.jobs = jobs
        self.threads = threads
        self.executor: ProcessPoolExecutor | _DaemonThreads | None = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.executor is not None:
            # Always wait (for the chunks already running; the others are
            # cancelled): left running, the executor's manager thread closes
            # its wake-up pipe while the interpreter's exit handler writes to
            # it, a race of CPython 3.11's concurrent.futures that prints
            # "OSError: Bad file descriptor" at exit after --fail-fast.
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def run(self, fn: Callable[..., Any], tasks: Sequence[Any], args: tuple[Any, ...] = (),
            *, weights: Sequence[int] | None = None) -> Iterator[Any]:
        if (self.jobs <= 1 and self.threads <= 1) or len(tasks) <= 1:
            for task in tasks:
                yield fn(task, *args)
            return
        if self.jobs <= 1:   # threads: a window of tasks ahead, results in order
            self.executor = _DaemonThreads(min(self.threads, len(tasks)))
            waiting: deque[Future[Any]] = deque()
            try:
                for task in tasks:
                    waiting.append(self.executor.submit(fn, task, *args))
                    if len(waiting) >= 4 * self.threads:
                        yield waiting.popleft().result()
                while waiting:
                    yield waiting.popleft().result()
            finally:   # left early: the tasks not started are dropped
                for fut in waiting:
                    fut.cancel()
            return
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=min(self.jobs, len(tasks)),
                                            mp_context=_mp_context())
        pending: deque[Future[list[Any]]] = deque()
        chunks = _chunks(tasks, self.jobs, weights)
        limit = IN_FLIGHT * self.jobs
        for chunk in chunks:
            pending.append(self.executor.submit(_run_chunk, fn, args, chunk))
            if len(pending) >= limit:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _chunks(tasks: Sequence[Any], jobs: int, weights: Sequence[int] | None
            ) -> Iterable[list[Any]]:
    """Consecutive chunks, large first and small at the end (guided scheduling).

    A chunk holds about 1/(4*jobs) of the weight still left (at most 16
    tasks), so workers get few messages early and finish together.
    """
    n = len(tasks)
    if weights is None:
        weights = [1] * n
    left = float(sum(weights)) or 1.0
    mean = left / n if n else 1.0
    chunk: list[Any] = []
    acc = 0.0
    target = max(left / (4 * jobs), mean)
    for task, w in zip(tasks, weights):
        chunk.append(task)
        acc += w
        if acc >= target or len(chunk) >= 16:
            yield chunk
            left -= acc
            chunk, acc = [], 0.0
            target = max(left / (4 * jobs), mean)
    if chunk:
        yield chunk
