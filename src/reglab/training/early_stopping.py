"""Early stopping: stop when a monitored quantity stops improving.

The direction of each quantity is fixed by :data:`MONITORS`, never guessed:

============== ========= ==================================================
monitor        direction improvement (``best`` = best value so far)
============== ========= ==================================================
dev_cost       min       ``value < best - min_delta``
dev_accuracy   max       ``value > best + min_delta``
train_cost     min       ``value < best - min_delta``
train_accuracy max       ``value > best + min_delta``
============== ========= ==================================================

:class:`EarlyStopping` consumes the evaluations of a run one at a time (the
trainer calls it every ``record_every`` steps); :func:`replay`,
:func:`replay_grid` and :func:`replay_history` run the same object over a logged
history, so "where would it have stopped" and real stopping cannot disagree.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .._validation import InputError, check_choice, check_float, check_int, describe

MONITORS: dict[str, str] = {"dev_cost": "min", "dev_accuracy": "max",
                            "train_cost": "min", "train_accuracy": "max"}


class EarlyStopping:
    """Stop training after ``patience`` evaluations without improvement.

    Parameters
    ----------
    monitor : {"dev_cost", "dev_accuracy", "train_cost", "train_accuracy"}
        Quantity watched; its direction comes from :data:`MONITORS`.
    patience : int >= 1
        Consecutive non-improving evaluations tolerated; training stops when
        ``wait >= patience``.
    min_delta : float >= 0
        Smallest change, in the monitor's direction, that counts as an
        improvement (``value < best - min_delta`` for "min", ``value > best +
        min_delta`` for "max"); an equal value never improves.
    start_from : int >= 0
        Evaluations at steps ``< start_from`` are ignored (no best, no patience used).
    restore_best : bool
        Whether the trainer puts back the weights of ``best_step`` at the end of
        training, whether it stopped early or ran to completion.

    Attributes
    ----------
    improved : bool
        The last evaluation became the new best (the trainer snapshots weights).
    best_step, best_value : int or None, float or None
        The best evaluation so far. The first non-NaN evaluation at or after
        ``start_from`` always becomes the best; NaN never improves.
    wait : int
        Non-improving evaluations since the best (or since ``start_from``, before one).
    stopped_step : int or None
        Step of the evaluation that stopped training, None until then.
    """

    def __init__(self, monitor: str = "dev_cost", patience: int = 5, min_delta: float = 0.0,
                 start_from: int = 0, restore_best: bool = True):
        self.monitor = check_choice(monitor, "monitor", MONITORS)
        self.patience = check_int(patience, "patience", low=1)
        self.min_delta = check_float(min_delta, "min_delta", low=0)
        self.start_from = check_int(start_from, "start_from", low=0)
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best must be True or False, got {describe(restore_best)}")
        self.restore_best = restore_best
        self.reset()

    @property
    def mode(self) -> str:
        """``"min"`` or ``"max"``, from :data:`MONITORS`."""
        return MONITORS[self.monitor]

    @property
    def needs_dev(self) -> bool:
        """Whether the monitor is measured on the dev set (the trainer checks one is given)."""
        return self.monitor.startswith("dev_")

    def reset(self) -> None:
        """Forget every evaluation, ready for a new run."""
        self.improved, self.wait = False, 0
        self.best_step = self.best_value = self.stopped_step = self.last_step = None

    def _is_improvement(self, value: float) -> bool:
        if math.isnan(value) or self.best_value is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, step: int, value: float) -> bool:
        """Consume the evaluation ``value`` taken at ``step`` (steps increasing from
        call to call) and update the attributes; True means stop training now."""
        step = check_int(step, "step", low=0)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"value must be a real number, got {describe(value)}")
        value = float(value)
        if self.stopped_step is not None:
            raise InputError(f"update() called after stopping at step {self.stopped_step}; "
                             "call reset() before reusing this EarlyStopping")
        if self.last_step is not None and step <= self.last_step:
            raise InputError(f"step must be greater than the previous step {self.last_step}, got {step}")
        self.last_step = step
        self.improved = False
        if step < self.start_from:
            return False
        if self._is_improvement(value):
            self.improved = True
            self.best_step, self.best_value, self.wait = step, value, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_step = step
        return self.stopped_step is not None

    def reason(self) -> str:
        """One sentence saying why training stopped, or ``"not stopped"``."""
        if self.stopped_step is None:
            return "not stopped"
        n = f"{self.patience} evaluation{'s' * (self.patience != 1)}"
        if self.best_step is None:
            return (f"{self.monitor} had no usable (non-NaN) value in {n}; "
                    f"stopped at step {self.stopped_step}")
        return (f"{self.monitor} did not improve by more than {self.min_delta:g} for {n} after its "
                f"best {self.best_value:.4g} at step {self.best_step}; stopped at step {self.stopped_step}")

    def get_config(self) -> dict:
        """Constructor arguments: ``EarlyStopping(**es.get_config())`` is equivalent."""
        return {"monitor": self.monitor, "patience": self.patience, "min_delta": self.min_delta,
                "start_from": self.start_from, "restore_best": self.restore_best}

    def __repr__(self) -> str:
        return "EarlyStopping(" + ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


@dataclass(frozen=True)
class ReplayResult:
    """Where early stopping would have stopped a logged run.

    ``stopped_at`` is the stopping step (None: it would not have stopped);
    ``evaluations_used`` counts the logged evaluations read up to and including
    that one (all of them when it would not have stopped).
    """

    stopped_at: int | None
    best_step: int | None
    best_value: float | None
    evaluations_used: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReplayRow(ReplayResult):
    """One row of :func:`replay_grid`: a :class:`ReplayResult` and its setting."""

    patience: int
    min_delta: float


def _check_series(steps, values) -> tuple[list[int], np.ndarray]:
    if not isinstance(steps, (Sequence, np.ndarray)) or isinstance(steps, str):
        raise TypeError(f"steps must be a sequence of integers, got {describe(steps)}")
    steps = [check_int(s, f"steps[{i}]", low=0) for i, s in enumerate(steps)]
    try:
        vals = np.asarray(values, dtype=np.float64)  # None (JSON null) reads as NaN
    except (TypeError, ValueError):
        raise InputError(f"values must be a 1-D sequence of numbers, got {describe(values)}") from None
    if vals.ndim != 1:
        raise InputError(f"values must be a 1-D sequence of numbers, got shape {vals.shape}")
    if len(steps) != len(vals):
        raise InputError(f"steps and values must have the same length, "
                         f"got {len(steps)} steps and {len(vals)} values")
    if not steps:
        raise InputError("values must hold at least one evaluation, got none")
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise InputError(f"steps must be strictly increasing, got {steps[i]} after "
                             f"{steps[i - 1]} at position {i}")
    return steps, vals


def _run(es: EarlyStopping, steps: list[int], vals: np.ndarray) -> ReplayResult:
    # next() stops at the first evaluation whose update() says stop
    used = next((i + 1 for i, (step, value) in enumerate(zip(steps, vals))
                 if es.update(step, float(value))), len(steps))
    return ReplayResult(es.stopped_step, es.best_step, es.best_value, used, es.reason())


def replay(steps, values, *, monitor: str = "dev_cost", patience: int = 5,
           min_delta: float = 0.0, start_from: int = 0) -> ReplayResult:
    """Run :class:`EarlyStopping` over a logged history, without retraining.

    ``steps`` (shape ``(n,)``, strictly increasing ints) and ``values`` (shape
    ``(n,)``, the monitored value at each step) come from a run's log; the other
    arguments are those of :class:`EarlyStopping`.
    """
    es = EarlyStopping(monitor, patience, min_delta, start_from)
    return _run(es, *_check_series(steps, values))


def replay_grid(steps, values, *, monitor: str, patiences, min_deltas,
                start_from: int = 0) -> list[ReplayRow]:
    """Replay every ``(patience, min_delta)`` pair: ``len(patiences) * len(min_deltas)``
    :class:`ReplayRow` rows, patience-major (all min_deltas of the first patience first)."""
    for name, seq in (("patiences", patiences), ("min_deltas", min_deltas)):
        if isinstance(seq, str) or not isinstance(seq, (Sequence, np.ndarray)) or len(seq) == 0:
            raise InputError(f"{name} must be a non-empty sequence, got {describe(seq)}")
    pats = [check_int(p, f"patiences[{i}]", low=1) for i, p in enumerate(patiences)]
    deltas = [check_float(d, f"min_deltas[{i}]", low=0) for i, d in enumerate(min_deltas)]
    series = _check_series(steps, values)
    rows = []
    for p in pats:
        for d in deltas:
            r = _run(EarlyStopping(monitor, p, d, start_from), *series)
            rows.append(ReplayRow(**asdict(r), patience=p, min_delta=d))
    return rows


def replay_history(history, *, monitor: str = "dev_cost", patience: int = 5,
                   min_delta: float = 0.0, start_from: int = 0) -> ReplayResult:
    """:func:`replay` on a :class:`~reglab.training.loop.History` or its dict form (JSON).

    Uses ``history.eval_steps`` and the list named by ``monitor``.
    """
    check_choice(monitor, "monitor", MONITORS)
    if isinstance(history, Mapping):
        steps, values = history.get("eval_steps"), history.get(monitor)
    elif hasattr(history, "eval_steps"):
        steps, values = history.eval_steps, getattr(history, monitor, None)
    else:
        raise TypeError(f"history must be a reglab History or a dict with its keys, "
                        f"got {describe(history)}")
    if steps is None:
        raise InputError("history must have an 'eval_steps' list, got none")  # dict without the key
    if values is None or len(values) == 0:
        need = "needs a dev set" if monitor.startswith("dev_") else "cannot be replayed"
        raise InputError(f"monitor {monitor!r} {need}: the history has no {monitor} values")
    return replay(steps, values, monitor=monitor, patience=patience, min_delta=min_delta,
                  start_from=start_from)
