"""Many trainings stepped together: lock-step chunks between evaluations.

:func:`run_together` runs several trainings (any callables that call
:func:`reglab.training.loop.train`, e.g. the runner's ``execute``) as a group.
Each training runs its own Python code (set-up, evaluations, early stopping,
callbacks, records) in its own thread, exactly as it would alone; the fast
engine hands every compiled chunk of steps (the steps between two evaluations)
to the group through :func:`call_kernel`. When every live training of the group
is waiting with its next chunk, the group runs the whole round, one compiled
call per training, on ``threads`` threads (the kernels release the GIL), and
lets them all go on to their evaluations. A training that stops (completed,
early stopping, a callback, a divergence) leaves the group; the next round
holds the others. So the runs advance in lock-step, and each run's numbers are
those it computes alone: the same chunks, the same random streams, the same
evaluations, in the same order for that run.

Only one thread runs Python at a time between rounds (the GIL), and the
trainings share nothing but the data arrays they read.

Threads and cores: ``threads`` compiled calls run at once, each with one BLAS
thread (:func:`run_together` limits BLAS to one thread when ``threads > 1``).
The runner uses ``threads=1`` inside each of its ``jobs`` worker processes, so
the cores are never oversubscribed: either processes or threads, never both.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()


def call_kernel(fn, *args):
    """Run one compiled chunk ``fn(*args)``: at once, or in the round of this thread's group."""
    group = getattr(_local, "group", None)
    if group is None:
        return fn(*args)
    return group.submit(fn, args)


class _LockStep:
    """The rounds of a group: collect one chunk from every live run, run them, release them."""

    def __init__(self, n_runs: int, pool: ThreadPoolExecutor | None):
        self.cond = threading.Condition()
        self.live = n_runs
        self.waiting: list = []
        self.round = 0
        self.stopped = False
        self.pool = pool

    def submit(self, fn, args):
        slot = {"fn": fn, "args": args, "result": None, "error": None, "cpu": 0.0}
        with self.cond:
            if self.stopped:
                raise KeyboardInterrupt
            self.waiting.append(slot)
            mine = self.round
            if len(self.waiting) >= self.live:
                self._run_round()
            while self.round == mine and not self.stopped:
                self.cond.wait()
        _local.own_chunks = getattr(_local, "own_chunks", 0.0) + slot["cpu"]
        if slot["error"] is not None:
            raise slot["error"]
        if self.round == mine:  # stopped before the round ran
            raise KeyboardInterrupt
        return slot["result"]

    def leave(self) -> None:
        with self.cond:
            self.live -= 1
            if self.waiting and len(self.waiting) >= self.live:
                self._run_round()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def _run_round(self) -> None:
        # Called with the lock held; every other live run is waiting on the condition.
        batch, self.waiting = self.waiting, []
        if self.pool is None or len(batch) == 1:
            for slot in batch:
                _run_slot(slot)
        else:
            list(self.pool.map(_run_slot, batch))
        self.round += 1
        self.cond.notify_all()


def _run_slot(slot) -> None:
    start = time.thread_time()
    try:
        slot["result"] = slot["fn"](*slot["args"])
    except BaseException as exc:  # handed back to the run's own thread
        slot["error"] = exc
    slot["cpu"] = time.thread_time() - start
    # CPU this thread spent on a chunk (its own or another run's): see Outcome.seconds
    _local.ran_chunks = getattr(_local, "ran_chunks", 0.0) + slot["cpu"]


class GroupInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_together`; ``outcomes`` as far as the runs got."""

    def __init__(self, outcomes):
        super().__init__()
        self.outcomes = outcomes


class Outcome:
    """What one callable of :func:`run_together` gave: ``value`` or ``error``, and
    ``seconds``, the CPU time of its own work: its thread's CPU time, less the
    chunks of other runs that thread ran, plus its own chunks run by other
    threads. (Its wall time would count the other runs' chunks and evaluations.)"""

    __slots__ = ("value", "error", "seconds")

    def __init__(self):
        self.value = self.error = None
        self.seconds = 0.0


def run_together(functions, *, threads: int = 1) -> list[Outcome]:
    """Call every function of ``functions`` (no arguments) as one lock-step group.

    Parameters
    ----------
    functions : list of callables, each running one training (or none)
    threads : int >= 1, compiled chunks run at once (1: one after the other)

    Returns
    -------
    list of Outcome, in the order of ``functions``

    Ctrl-C (KeyboardInterrupt in the calling thread) stops every run at its next
    chunk (each ``train`` then returns as interrupted); :class:`GroupInterrupted`
    is raised then, with the outcomes (those of runs that had finished hold their
    value).
    """
    functions = list(functions)
    outcomes = [Outcome() for _ in functions]
    if not functions:
        return outcomes
    pool = ThreadPoolExecutor(threads) if threads > 1 and len(functions) > 1 else None
    group = _LockStep(len(functions), pool)

    def work(i: int) -> None:
        _local.group, _local.own_chunks, _local.ran_chunks = group, 0.0, 0.0
        start = time.thread_time()
        try:
            outcomes[i].value = functions[i]()
        except BaseException as exc:
            outcomes[i].error = exc
            if isinstance(exc, KeyboardInterrupt):  # an interruption stops the whole group
                group.stop()
        finally:
            _local.group = None
            outcomes[i].seconds = (time.thread_time() - start - _local.ran_chunks
                                   + _local.own_chunks)
            group.leave()

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(functions))]
    limits = _one_blas_thread() if pool is not None else None
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    except KeyboardInterrupt:
        group.stop()
        for w in workers:
            w.join()
        raise GroupInterrupted(outcomes) from None
    finally:
        if pool is not None:
            pool.shutdown()
        if limits is not None:
            limits.restore_original_limits()
    return outcomes


def _one_blas_thread():
    from threadpoolctl import threadpool_limits
    return threadpool_limits(1)
