"""The worker pool: an ordered, chunked map over processes (``-j``)."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

from ._console import UsageError


def resolve_jobs(jobs: int) -> int:
    if jobs < 0:
        raise UsageError(f"-j must be 0 (all cores) or a positive number, got {jobs}")
    if jobs == 0:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else (os.cpu_count() or 1))
    return jobs


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


class Pool:
    """Ordered, chunked map over worker processes (or in-process for -j 1).

    ``run`` yields each task's result in task order, so output is the same
    for any -j. At most ``IN_FLIGHT * jobs`` chunks (of at most 16 tasks) are
    submitted ahead of the one being yielded, so memory is bounded however
    many tasks there are. Leaving the ``with`` block early (--fail-fast, an
    error, Ctrl-C) cancels the chunks that have not started.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

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
        if self.jobs <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(task, *args)
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
