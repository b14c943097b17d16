"""Running many trainings (settings x seeds) and keeping every finished run.

Used by ``compare`` and ``sweep``. Each run is described by a :class:`RunSpec`
(overrides of a base :class:`TrainConfig` and a seed) and produces a
:class:`RunRecord` of plain, JSON-ready figures. Runs execute in worker
processes when ``jobs > 1``; each finished record is handed to ``on_done`` in
the main process as it arrives, so a caller can append it to a log before the
next one finishes: an interrupted or failing batch loses nothing it finished.
"""

from __future__ import annotations

import dataclasses
import json
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import ReglabError
from ..nn.network import Network
from ..training.loop import TrainConfig, resolve_engine, train

#: A weight counts as "near zero" below this magnitude (L1 drives weights there).
NEAR_ZERO = 1e-3


@dataclass(frozen=True)
class RunSpec:
    """One training to run: ``group`` (a setting's name), config overrides, seed."""

    group: str
    params: dict
    seed: int

    @property
    def key(self) -> str:
        """A stable identity, used to skip finished runs on ``--resume``."""
        return json.dumps({"group": self.group, "params": self.params, "seed": self.seed},
                          sort_keys=True)

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

    @property
    def key(self) -> str:
        return RunSpec(self.group, self.params, self.seed).key

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


def _sampled_costs(costs: np.ndarray, points: int = 200) -> dict:
    step = max(1, len(costs) // points)
    return {str(t): float(costs[t]) for t in range(0, len(costs), step)}


def execute(spec: RunSpec, data, base: TrainConfig) -> RunRecord:
    """Train one run of ``spec`` on ``data`` (a Dataset) and measure it."""
    config = spec.config(base)
    dev = {"X_dev": data.X_dev, "y_dev": data.y_dev} if data.has_dev else {}
    result = train(data.X_train, data.y_train, config, image_shape=data.image_shape,
                   symmetries=data.symmetries, dataset_name=data.name, **dev)
    net, h = result.network, result.history
    if h.stop_reason == "interrupted":
        # train() returns what it has on Ctrl-C; a truncated run must not be logged as done
        raise KeyboardInterrupt
    weights = np.concatenate([W.ravel() for W in net.weights])
    history = {"eval_steps": h.eval_steps, "train_cost": h.train_cost,
               "train_accuracy": h.train_accuracy, "dev_cost": h.dev_cost,
               "dev_accuracy": h.dev_accuracy, "weight_norms": h.weight_norms,
               "costs": _sampled_costs(h.costs), "best_step": h.best_step, "engine": h.engine}
    return RunRecord(
        group=spec.group, params=spec.params, seed=spec.seed,
        train_accuracy=net.accuracy(data.X_train, data.y_train),
        test_accuracy=net.accuracy(data.X_test, data.y_test),
        dev_accuracy=net.accuracy(data.X_dev, data.y_dev) if data.has_dev else None,
        weight_norm=float(np.linalg.norm(weights)),
        near_zero=float(np.mean(np.abs(weights) < NEAR_ZERO)),
        seconds=result.seconds, steps=h.stopped_at, stop_reason=h.stop_reason,
        history=history, network=net, costs=h.costs)


def _execute_safely(spec, data, base) -> RunRecord | tuple[RunSpec, str]:
    try:
        return execute(spec, data, base)
    except ReglabError as exc:  # a diverging run is a result, not a crash of the batch
        return spec, str(exc)


def _one_thread():
    # Worker processes share the cores: one BLAS thread each avoids oversubscription.
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


def _prepare_engine(base: TrainConfig) -> None:
    # Load (or compile) the fast engine once here: workers forked afterwards inherit it.
    if resolve_engine(base.engine) == "fast":
        from ..training.fast import prepare
        prepare(base.dtype)


def run_all(specs, data, base: TrainConfig, *, jobs: int = 1, on_done=None) -> list:
    """Run every spec; return the records (failed runs carry ``error``).

    Parameters
    ----------
    specs : list of RunSpec
    data : Dataset
    base : TrainConfig, the configuration every spec overrides
    jobs : int, worker processes (1: in this process)
    on_done : callable ``(record) -> None``, called in this process as each run ends

    Ctrl-C stops scheduling and returns the records finished so far.
    """
    records = []

    def finish(outcome):
        if isinstance(outcome, tuple):
            spec, message = outcome
            outcome = RunRecord(spec.group, spec.params, spec.seed, None, None, None, None, None,
                                0.0, 0, "error", {}, error=message)
        records.append(outcome)
        if on_done is not None:
            on_done(outcome)

    if jobs <= 1 or len(specs) <= 1:
        try:
            for spec in specs:
                finish(_execute_safely(spec, data, base))
        except KeyboardInterrupt:
            pass
        return records
    _prepare_engine(base)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(specs)), initializer=_one_thread)
    pending = {pool.submit(_execute_safely, spec, data, base) for spec in specs}
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finish(future.result())
    except KeyboardInterrupt:
        for future in pending:
            future.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return records


def default_jobs() -> int:
    """All the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class RunLog:
    """``runs.jsonl``: one finished run per line, appended and flushed as it ends."""

    def __init__(self, path):
        self.path = Path(path)

    def read(self) -> list[RunRecord]:
        """Every complete line; a line cut short by a kill is dropped (and rewritten away)."""
        if not self.path.exists():
            return []
        records, good_lines, dropped = [], [], False
        for line in self.path.read_text().splitlines():
            try:
                records.append(RunRecord.from_json(json.loads(line)))
                good_lines.append(line)
            except (json.JSONDecodeError, TypeError):
                dropped = True
        if dropped:
            self.path.write_text("".join(line + "\n" for line in good_lines))
        return records

    def append(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record.to_json()) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
