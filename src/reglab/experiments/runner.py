"""Running many trainings (settings x seeds) and keeping every finished run.

Used by ``compare`` and ``sweep``. Each run is described by a :class:`RunSpec`
(overrides of a base :class:`TrainConfig` and a seed) and produces a
:class:`RunRecord` of plain, JSON-ready figures. Runs execute in worker
processes when ``jobs > 1``; each finished record is handed to ``on_done`` in
the main process as it arrives, so a caller can append it to a log before the
next one finishes: an interrupted or failing batch loses nothing it finished.

An output folder has one writer at a time (:func:`folder_lock`, an OS lock that
dies with its process); worker processes die with the process that started
them; :class:`RunLog` reads each run once, whatever the log holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import ReglabError
from ..nn.network import Network
from ..training.health import DeadNetworkWarning
from ..training.loop import TrainConfig, resolve_engine, train
from ..training.resources import check_memory, estimate_bytes
from .folders import _HELD, FolderBusy, folder_lock  # noqa: F401 - part of the runner's interface

#: A weight counts as "near zero" below this magnitude (L1 drives weights there).
NEAR_ZERO = 1e-3


@dataclass(frozen=True)
class RunSpec:
    """One training to run: ``group`` (a setting's name), config overrides, seed, and with
    cross-validation the ``fold`` (0-based) of ``folds`` it trains on (:mod:`.cv`)."""

    group: str
    params: dict
    seed: int
    fold: int | None = None
    folds: int | None = None

    @property
    def key(self) -> str:
        """A stable identity, used to skip finished runs on ``--resume`` (unchanged without a
        fold, so that older run logs still resume)."""
        return _key(self.group, self.params, self.seed, self.fold, self.folds)

    def config(self, base: TrainConfig) -> TrainConfig:
        return dataclasses.replace(base, **self.params, seed=self.seed)


@dataclass
class RunRecord:
    """The figures of one finished run (``network`` and ``costs`` are not serialized)."""

    group: str
    params: dict
    seed: int
    train_accuracy: float
    test_accuracy: float
    dev_accuracy: float | None
    weight_norm: float
    near_zero: float
    seconds: float
    steps: int
    stop_reason: str
    history: dict
    error: str | None = None
    network: Network | None = field(default=None, repr=False)
    costs: np.ndarray | None = field(default=None, repr=False)
    fold: int | None = None
    folds: int | None = None

    @property
    def key(self) -> str:
        return _key(self.group, self.params, self.seed, self.fold, self.folds)

    @classmethod
    def failed(cls, spec: RunSpec, message: str) -> "RunRecord":
        """The record of a run that failed with ``message``."""
        return cls(spec.group, spec.params, spec.seed, None, None, None, None, None, 0.0, 0, "error",
                   {}, error=message, fold=spec.fold, folds=spec.folds)

    @property
    def gap(self) -> float | None:
        """Train minus test accuracy: how much the network overfits."""
        return None if self.error else self.train_accuracy - self.test_accuracy

    def to_json(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name not in ("network", "costs")}
        d["key"] = self.key
        return d

    @classmethod
    def from_json(cls, d: dict) -> "RunRecord":
        names = {f.name for f in dataclasses.fields(cls)} - {"network", "costs"}
        return cls(**{k: v for k, v in d.items() if k in names})


def _key(group, params, seed, fold, folds) -> str:
    key = {"group": group, "params": params, "seed": seed}
    if fold is not None:
        key.update(fold=fold, folds=folds)
    return json.dumps(key, sort_keys=True)


def run_data(spec: RunSpec, data):
    """The data ``spec`` trains on: ``data`` itself, or its fold (:func:`.cv.fold_data`)."""
    if getattr(spec, "fold", None) is None:
        return data
    from .cv import fold_data
    return fold_data(data, spec.fold, spec.folds)


def _sampled_costs(costs: np.ndarray, points: int = 200) -> dict:
    step = max(1, len(costs) // points)
    return {str(t): float(costs[t]) for t in range(0, len(costs), step)}


def execute(spec: RunSpec, data, base: TrainConfig) -> RunRecord:
    """Train one run of ``spec`` on ``data`` (a Dataset; a fold of it when ``spec.fold``
    is set, see :func:`run_data`) and measure it."""
    config = spec.config(base)
    data = run_data(spec, data)
    dev = {"X_dev": data.X_dev, "y_dev": data.y_dev} if data.has_dev else {}
    with warnings.catch_warnings():  # kept in the record's history["warnings"] instead
        warnings.simplefilter("ignore", DeadNetworkWarning)
        result = train(data.X_train, data.y_train, config, image_shape=data.image_shape,
                       symmetries=data.symmetries, dataset_name=data.name, **dev)
    net, h = result.network, result.history
    if h.stop_reason == "interrupted":
        # train() returns what it has on Ctrl-C; a truncated run must not be logged as done
        raise KeyboardInterrupt
    weights = np.concatenate([W.ravel() for W in net.weights])
    history = {"eval_steps": h.eval_steps, "train_cost": h.train_cost, "train_loss": h.train_loss,
               "train_accuracy": h.train_accuracy, "dev_cost": h.dev_cost,
               "dev_accuracy": h.dev_accuracy, "weight_norms": h.weight_norms,
               "costs": _sampled_costs(h.costs), "best_step": h.best_step, "warnings": h.warnings,
               "engine": h.engine}
    return RunRecord(
        group=spec.group, params=spec.params, seed=spec.seed,
        train_accuracy=net.accuracy(data.X_train, data.y_train),
        test_accuracy=net.accuracy(data.X_test, data.y_test),
        dev_accuracy=net.accuracy(data.X_dev, data.y_dev) if data.has_dev else None,
        weight_norm=float(np.linalg.norm(weights)),
        near_zero=float(np.mean(np.abs(weights) < NEAR_ZERO)),
        seconds=result.seconds, steps=h.stopped_at, stop_reason=h.stop_reason,
        history=history, network=net, costs=h.costs, fold=spec.fold, folds=spec.folds)


def _execute_safely(spec, data, base) -> RunRecord | tuple[RunSpec, str]:
    try:
        return execute(spec, data, base)
    except ReglabError as exc:  # a diverging run is a result, not a crash of the batch
        return spec, str(exc)


def group_key(spec: RunSpec, base: TrainConfig) -> str:
    """What runs must share to be stepped together by the engine: everything in their
    configuration but the seed and the regularization strengths (``l2``, ``l1``,
    ``keep_prob``). Runs of one group share data and architecture."""
    params = {k: v for k, v in spec.params.items() if k not in ("l2", "lambd", "l1", "keep_prob")}
    return json.dumps({"params": params, "fold": getattr(spec, "fold", None)},
                      sort_keys=True, default=str)


def group_specs(specs, base: TrainConfig) -> list[list[RunSpec]]:
    """The specs split into groups of :func:`group_key`, in first-seen order."""
    groups: dict[str, list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault(group_key(spec, base), []).append(spec)
    return list(groups.values())


def execute_many(specs, data, base: TrainConfig) -> list:
    """Run specs of one group (see :func:`group_specs`); one outcome per spec, in order:
    a RunRecord, or ``(spec, message)`` for a run that failed with a ReglabError.

    This is the unit of work handed to a worker (a local process or a cluster's);
    results equal running each spec through :func:`execute` one by one. With the fast
    engine the runs are stepped together (:func:`reglab.training.batch.run_together`):
    each runs :func:`execute` as it would alone, and their compiled chunks of steps
    go in lock-step rounds, one thread (the worker's core). A run's ``seconds`` are then
    the CPU time of its own work (see :class:`reglab.training.batch.Outcome`), not
    a wall time that would count the other runs' chunks.
    """
    specs = list(specs)
    if len(specs) <= 1 or not _all_fast(specs, base):
        results = []
        for spec in specs:
            try:
                results.append(_execute_safely(spec, data, base))
            except Exception as exc:  # a bug, not a failed run: the runs before it are kept
                exc.finished = results
                raise
        return results
    from ..training.batch import GroupInterrupted, run_together
    _prepare_engine(specs[0].config(base))  # compile or load once, not in every thread
    interrupted = False
    with warnings.catch_warnings():  # execute's own filter is not thread-safe: hold it for all
        warnings.simplefilter("ignore", DeadNetworkWarning)
        try:
            outcomes = run_together([lambda s=spec: _execute_safely(s, data, base) for spec in specs])
        except GroupInterrupted as exc:
            outcomes, interrupted = exc.outcomes, True
    results, failure = [], None
    for outcome in outcomes:
        if isinstance(outcome.error, KeyboardInterrupt) or (outcome.error is None and outcome.value is None):
            interrupted = True  # this run did not finish
            continue
        if outcome.error is not None:  # a bug, not a failed run (those are outcomes)
            failure = failure or outcome.error
            continue
        if isinstance(outcome.value, RunRecord):
            outcome.value.seconds = outcome.seconds
        results.append(outcome.value)
    if failure is not None:
        failure.finished = results  # the runs of the unit that finished are kept (run_all)
        raise failure
    if interrupted:
        raise RunsInterrupted(results)
    return results


class RunsInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`execute_many`; ``finished`` holds the outcomes of the runs
    that had finished (they are kept, as a run finished before Ctrl-C always is)."""

    def __init__(self, finished):
        super().__init__()
        self.finished = finished


def _all_fast(specs, base: TrainConfig) -> bool:
    """Whether every spec runs on the fast engine (an engine that cannot run is each
    run's own error, reported by :func:`execute`)."""
    try:
        return all(resolve_engine(s.config(base).engine) == "fast" for s in specs)
    except ReglabError:
        return False


#: Most runs stepped together in one work unit. A unit's runs end (and reach the log
#: and the progress bar) together, and a worker that dies loses its unit's finished
#: runs: small units keep progress visible and losses small; stepping more runs
#: together gains nothing measurable (docs/engine.md).
MAX_TOGETHER = 8


def work_units(specs, base: TrainConfig, jobs: int) -> list[list[RunSpec]]:
    """The groups of :func:`group_specs`, split so that ``jobs`` workers all have work.

    A group larger than its share (``ceil(len(specs) / jobs)``, at most
    :data:`MAX_TOGETHER`) is dealt round-robin into pieces: each piece mixes the
    group's settings, so the pieces take about the same time.
    """
    share = max(1, min(MAX_TOGETHER, -(-len(specs) // max(1, jobs))))
    units = []
    for group in group_specs(specs, base):
        pieces = -(-len(group) // share)
        units.extend(group[i::pieces] for i in range(pieces))
    return units


def _die_with_parent() -> None:
    """Make this worker end when the process that started it ends, however it ends."""
    if sys.platform.startswith("linux"):
        import ctypes
        try:  # PR_SET_PDEATHSIG = 1: the kernel sends SIGKILL when the parent dies, even by kill -9
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    parent = os.getppid()  # the pool's process (or its fork server), as the kernel sees it
    if parent == 1:  # already orphaned before the guard was in place
        os._exit(1)

    def watch():  # elsewhere (and as a second guard): notice being re-parented
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def worker_init(ignore_ctrl_c: bool = True):
    """Initializer of a worker process: it dies with the process that started it, holds
    none of its folder locks and uses one BLAS thread."""
    if ignore_ctrl_c:
        # Ctrl-C reaches the whole process group: only the parent decides what an
        # interruption means (run_all keeps what finished and ends the workers).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd, _ in _HELD.values():  # a forked worker must not keep its parent's folder lock alive
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()
    _die_with_parent()
    # Worker processes share the cores: one BLAS thread each avoids oversubscription.
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


_interrupted_by: int | None = None


def interrupted_by() -> int | None:
    """The signal (SIGINT, SIGTERM) that interrupted the last :func:`run_all`, or None."""
    return _interrupted_by


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a batch as Ctrl-C does (finished runs kept), not abruptly."""
    def handler(signum, frame):
        global _interrupted_by
        _interrupted_by = signum
        raise KeyboardInterrupt
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _interrupts_held():
    """Hold Ctrl-C and SIGTERM while the block runs, then raise KeyboardInterrupt if one came.

    Recording a finished run (the returned list, then ``on_done``: its model file, its
    line in ``runs.jsonl``, the progress bar) must not be cut in the middle: a signal
    landing between the two left a run in ``results.json`` that the log, and so
    ``--resume``, did not have.
    """
    global _interrupted_by
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        if signal.SIGTERM in received:
            _interrupted_by = _interrupted_by or signal.SIGTERM
        raise KeyboardInterrupt


def record_unit(outcomes, finish) -> None:
    """Hand a work unit's runs to ``finish``: ``outcomes()`` returns them (it runs the
    unit, or waits for it). When it raises, the runs the unit finished before the error
    (``exc.finished``, from :func:`execute_many`) are handed over first: a Ctrl-C or a
    bug in one run never takes the others' work with it."""
    try:
        done = outcomes()
    except BaseException as exc:
        for outcome in getattr(exc, "finished", ()):
            finish(outcome)
        raise
    for outcome in done:
        finish(outcome)


def _unit_result(future, finished: int, total: int) -> list:
    """A worker process's unit; a dead worker is a ReglabError saying what is kept."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise ReglabError(f"a worker process died (killed, or out of memory) after {finished} "
                          f"of {total} run(s) finished; those are kept") from None


def _end_workers(pool: ProcessPoolExecutor) -> None:
    # Python 3.11 has no public way to stop a running task; its processes are at hand.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _prepare_engine(base: TrainConfig) -> None:
    # Load (or compile) the fast engine once here: workers forked afterwards inherit it.
    if resolve_engine(base.engine) == "fast":
        from ..training.fast import prepare
        prepare(base.dtype)


def run_all(specs, data, base: TrainConfig, *, jobs: int = 1, on_done=None, scheduler=None) -> list:
    """Run every spec; return the records (failed runs carry ``error``).

    Parameters
    ----------
    specs : list of RunSpec
    data : Dataset
    base : TrainConfig, the configuration every spec overrides
    jobs : int, worker processes (1: in this process)
    on_done : callable ``(record) -> None``, called in this process as each run ends
    scheduler : a Dask cluster to run on instead (``distributed.Client``, address or
        scheduler file; see :mod:`reglab.experiments.distributed`); ``jobs`` is then unused

    Ctrl-C (or SIGTERM) stops the batch, ends the workers and returns the records
    finished so far; :func:`interrupted_by` then names the signal.
    """
    global _interrupted_by
    _interrupted_by = None
    records = []

    def finish(outcome):
        if isinstance(outcome, tuple):
            spec, message = outcome
            outcome = RunRecord.failed(spec, message)
        with _interrupts_held():  # a run is both returned and logged (on_done), or neither
            records.append(outcome)
            if on_done is not None:
                on_done(outcome)

    specs = list(specs)
    # The fast engine steps the runs of a group together (execute_many), in work units
    # that keep the jobs busy; the reference engine runs (and logs) one run at a time.
    together = _all_fast(specs, base)
    units = work_units(specs, base, jobs) if together else [[spec] for spec in specs]
    with _sigterm_as_interrupt():
        if scheduler is not None:  # a Dask cluster, not this machine's processes
            from .distributed import run_on_cluster
            return run_on_cluster(specs, data, base, scheduler, on_done=finish) or records
        if jobs <= 1 or len(specs) <= 1:
            try:
                for unit in units:
                    record_unit(lambda: execute_many(unit, data, base), finish)  # noqa: B023
            except KeyboardInterrupt:
                _interrupted_by = _interrupted_by or signal.SIGINT
            return records
        _prepare_engine(base)
        # One BLAS thread and one kernel thread per worker process (worker_init): jobs
        # processes never oversubscribe the cores.
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(units)), initializer=worker_init)
        try:
            pending = {pool.submit(execute_many, unit, data, base) for unit in units}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    record_unit(lambda: _unit_result(future, len(records), len(specs)),  # noqa: B023
                                finish)
        except KeyboardInterrupt:
            _interrupted_by = _interrupted_by or signal.SIGINT
            _end_workers(pool)
        except BaseException:
            _end_workers(pool)
            raise
        else:
            pool.shutdown(wait=True)
    return records


def check_resources(data, configs, jobs: int = 1) -> None:
    """Refuse (InputError with the estimate and the available memory) a batch whose largest
    run, times the runs going at once, needs more memory than the machine has available."""
    configs = list(configs)
    if not configs:
        return
    n_out = 1 if data.n_classes <= 2 else data.n_classes
    n_dev = len(data.y_dev) if data.has_dev else 0
    parts = [estimate_bytes(c, len(data.y_train), data.n_features, n_out, n_dev) for c in configs]
    check_memory(max(parts, key=lambda p: p["total"]), what="the largest run of this batch",
                 runs_at_once=max(1, min(jobs, len(configs))))


def default_jobs() -> int:
    """All the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _check_record(d) -> "RunRecord":
    """A RunRecord from one parsed log line; TypeError/ValueError when it is not one."""
    if not isinstance(d, dict):
        raise TypeError(f"a JSON {type(d).__name__}, not an object")
    record = RunRecord.from_json(d)
    if not isinstance(record.group, str) or not isinstance(record.params, dict) \
            or isinstance(record.seed, bool) or not isinstance(record.seed, int):
        raise TypeError("group, params or seed of the wrong type")
    if record.error is None:
        for name in ("train_accuracy", "test_accuracy"):
            value = getattr(record, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} is {value!r}")
    for name in ("fold", "folds"):
        value = getattr(record, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} is {value!r}")
    record.key  # noqa: B018 - params that are not JSON raise here
    return record


class RunLog:
    """``runs.jsonl``: one finished run per line, appended and flushed as it ends.

    :meth:`read` returns each run once, whatever the file holds (lines cut short
    by a kill, garbage, the same run written twice); what it had to drop is
    listed in :attr:`notes` and rewritten away.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.notes: list[str] = []

    def read(self) -> list[RunRecord]:
        """Every run of the log once: the first successful record of each run key, or the
        last failure of a run that never succeeded (a failed run is tried again on resume)."""
        self.notes = []
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        kept: dict[str, tuple[RunRecord, str]] = {}
        bad, twice = [], 0
        for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = _check_record(json.loads(line))
            except (ValueError, TypeError, AttributeError, RecursionError):
                bad.append(n)
                continue
            if record.key in kept and kept[record.key][0].error is None:
                twice += record.error is None
                continue
            kept[record.key] = (record, line)
        if bad:
            shown = ", ".join(map(str, bad[:10])) + (", ..." if len(bad) > 10 else "")
            self.notes.append(f"{self.path}: dropped {len(bad)} line(s) that are not complete run "
                              f"records (line {shown}: cut short or damaged)")
        if twice:
            self.notes.append(f"{self.path}: {twice} run(s) were recorded more than once; each is "
                              f"counted once")
        good = "".join(line + "\n" for _, line in kept.values())
        if good.encode() != raw:
            self._replace(good)
        return [record for record, _ in kept.values()]

    def _replace(self, text: str) -> None:
        from ..io import write_whole

        write_whole(self.path, lambda f: Path(f).write_text(text))

    def append(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.path.open("a") as f:
                f.write(json.dumps(record.to_json()) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:  # a full disk: name the file, and say the earlier runs are safe
            raise OSError(exc.errno, f"{exc.strerror} (the runs logged before this one are kept; "
                                     f"a line cut short is dropped on --resume)", str(self.path)) from None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
